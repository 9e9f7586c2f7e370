//! The classic-control environments, each with Gymnasium's exact dynamics, constants,
//! termination rules and time limits, and [`ClassicControl`], any one of them chosen at run
//! time (`--env cartpole|acrobot|mountaincar`).

pub mod acrobot;
pub mod cartpole;
mod classic;
pub mod mountain_car;

use serde::{Deserialize, Serialize};

pub use acrobot::{Acrobot, AcrobotPhysics};
pub use cartpole::{CartPole, CartPolePhysics};
pub use classic::{ClassicEnv, Physics};
pub use mountain_car::{MountainCar, MountainCarPhysics};

use crate::{Env, EnvError, Space, Transition};

/// One of the three classic-control environments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ClassicControl {
    /// CartPole-v1.
    CartPole(CartPole),
    /// Acrobot-v1.
    Acrobot(Acrobot),
    /// MountainCar-v0.
    MountainCar(MountainCar),
}

impl ClassicControl {
    /// The environment named `name`: `cartpole`, `acrobot` or `mountaincar` (or its Gymnasium
    /// id, `CartPole-v1`, `Acrobot-v1`, `MountainCar-v0`; case is ignored).
    ///
    /// # Errors
    /// A message listing the known names.
    pub fn from_name(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "cartpole" | "cartpole-v1" => Ok(ClassicControl::CartPole(CartPole::new())),
            "acrobot" | "acrobot-v1" => Ok(ClassicControl::Acrobot(Acrobot::new())),
            "mountaincar" | "mountain-car" | "mountaincar-v0" => {
                Ok(ClassicControl::MountainCar(MountainCar::new()))
            }
            _ => Err(format!(
                "unknown environment {name:?}: expected cartpole, acrobot or mountaincar"
            )),
        }
    }

    /// The physical state (CartPole `[x, ẋ, θ, θ̇]`, Acrobot `[θ₁, θ₂, θ̇₁, θ̇₂]`, MountainCar
    /// `[position, velocity]`).
    pub fn state(&self) -> Vec<f64> {
        match self {
            ClassicControl::CartPole(e) => e.state().to_vec(),
            ClassicControl::Acrobot(e) => e.state().to_vec(),
            ClassicControl::MountainCar(e) => e.state().to_vec(),
        }
    }

    /// Starts an episode at the given physical state.
    ///
    /// # Errors
    /// [`EnvError::StateSize`] or [`EnvError::NonFiniteObservation`].
    pub fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        match self {
            ClassicControl::CartPole(e) => e.set_state(state),
            ClassicControl::Acrobot(e) => e.set_state(state),
            ClassicControl::MountainCar(e) => e.set_state(state),
        }
    }

    /// The environment as a trait object.
    pub fn inner(&self) -> &dyn Env {
        match self {
            ClassicControl::CartPole(e) => e,
            ClassicControl::Acrobot(e) => e,
            ClassicControl::MountainCar(e) => e,
        }
    }

    /// The environment as a mutable trait object.
    pub fn inner_mut(&mut self) -> &mut dyn Env {
        match self {
            ClassicControl::CartPole(e) => e,
            ClassicControl::Acrobot(e) => e,
            ClassicControl::MountainCar(e) => e,
        }
    }
}

impl Env for ClassicControl {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
    fn observation_space(&self) -> Space {
        self.inner().observation_space()
    }
    fn action_space(&self) -> Space {
        self.inner().action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        self.inner_mut().reset(seed)
    }
    fn step(&mut self, action: usize) -> Result<Transition, EnvError> {
        self.inner_mut().step(action)
    }
    fn reward_threshold(&self) -> Option<f64> {
        self.inner().reward_threshold()
    }
    fn elapsed_steps(&self) -> u32 {
        self.inner().elapsed_steps()
    }
    fn observation(&self) -> Vec<f32> {
        self.inner().observation()
    }
}
