//! Acrobot-v1: Gymnasium's `AcrobotEnv` (Sutton 1996; the "book" dynamics of Sutton & Barto)
//! with its `TimeLimit` of 500 steps.

use std::f64::consts::PI;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::env::{EpisodeClock, check_finite};
use crate::{Env, EnvError, Space, Transition};

/// Seconds per step (one fourth-order Runge–Kutta step).
pub const DT: f64 = 0.2;
/// Length of the first link, m.
pub const LINK_LENGTH_1: f64 = 1.0;
/// Mass of each link, kg.
pub const LINK_MASS: f64 = 1.0;
/// Position of each link's centre of mass along it, m.
pub const LINK_COM: f64 = 0.5;
/// Moment of inertia of each link.
pub const LINK_MOI: f64 = 1.0;
/// Gravity, m/s².
pub const GRAVITY: f64 = 9.8;
/// The first joint's speed limit, rad/s.
pub const MAX_VEL_1: f64 = 4.0 * PI;
/// The second joint's speed limit, rad/s.
pub const MAX_VEL_2: f64 = 9.0 * PI;
/// The torque of actions 0, 1 and 2.
pub const TORQUES: [f64; 3] = [-1.0, 0.0, 1.0];
/// Acrobot-v1's time limit.
pub const MAX_EPISODE_STEPS: u32 = 500;

/// Two links hanging from a pivot, the joint between them actuated: state `[θ₁, θ₂, θ̇₁, θ̇₂]`
/// (θ₁ from straight down, θ₂ relative to the first link); observation
/// `[cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂]`; actions apply torque −1, 0 or +1 at the joint;
/// reward −1 per step and 0 on the terminating one; terminated when the free end rises more
/// than one link above the pivot (`−cos θ₁ − cos(θ₁ + θ₂) > 1`), truncated at 500 steps.
/// `reset` draws every component uniformly from `[−0.1, 0.1)`, rounded to `f32` as
/// Gymnasium does. A step integrates the equations of motion with one RK4 step of 0.2 s, then
/// wraps the angles into `[−π, π]` and clips the velocities to `±4π` and `±9π`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Acrobot {
    state: [f64; 4],
    clock: EpisodeClock,
    rng: ChaCha8Rng,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

impl Acrobot {
    /// Acrobot-v1, its random stream seeded with 0 until `reset(Some(seed))`.
    pub fn new() -> Self {
        Acrobot {
            state: [0.0; 4],
            clock: EpisodeClock::new(MAX_EPISODE_STEPS),
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }

    /// Changes the time limit (Gymnasium's `max_episode_steps`).
    ///
    /// # Panics
    /// If `steps` is 0.
    pub fn with_max_episode_steps(mut self, steps: u32) -> Self {
        self.clock = EpisodeClock::new(steps);
        self
    }

    /// The state `[θ₁, θ₂, θ̇₁, θ̇₂]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Starts an episode at the given state `[θ₁, θ₂, θ̇₁, θ̇₂]`.
    ///
    /// # Errors
    /// [`EnvError::StateSize`] or [`EnvError::NonFiniteObservation`].
    pub fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        let state: [f64; 4] = state.try_into().map_err(|_| EnvError::StateSize {
            env: "Acrobot-v1",
            expected: 4,
            got: state.len(),
        })?;
        check_finite("Acrobot-v1", &state)?;
        self.state = state;
        self.clock.reset();
        Ok(())
    }

    /// The state after one step with `action` from `state` (the dynamics alone).
    pub fn dynamics(state: [f64; 4], action: usize) -> [f64; 4] {
        let torque = TORQUES[action];
        let f = |s: [f64; 4]| derivatives(s, torque);
        let add = |s: [f64; 4], k: [f64; 4], h: f64| std::array::from_fn(|i| s[i] + h * k[i]);
        let k1 = f(state);
        let k2 = f(add(state, k1, DT / 2.0));
        let k3 = f(add(state, k2, DT / 2.0));
        let k4 = f(add(state, k3, DT));
        let mut next: [f64; 4] = std::array::from_fn(|i| {
            state[i] + DT / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
        });
        next[0] = wrap(next[0]);
        next[1] = wrap(next[1]);
        next[2] = next[2].clamp(-MAX_VEL_1, MAX_VEL_1);
        next[3] = next[3].clamp(-MAX_VEL_2, MAX_VEL_2);
        next
    }

    /// Whether a state is terminal: the free end more than one link length above the pivot.
    pub fn is_terminal(state: [f64; 4]) -> bool {
        -state[0].cos() - (state[1] + state[0]).cos() > 1.0
    }
}

/// `d/dt [θ₁, θ₂, θ̇₁, θ̇₂]` under `torque` at the joint (the "book" equations).
fn derivatives(s: [f64; 4], torque: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2, g) = (
        LINK_MASS,
        LINK_MASS,
        LINK_LENGTH_1,
        LINK_COM,
        LINK_COM,
        LINK_MOI,
        LINK_MOI,
        GRAVITY,
    );
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 =
        (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * theta2.sin() - phi2)
            / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// `x` shifted by multiples of 2π into `[−π, π]` (Gymnasium's `wrap`).
fn wrap(mut x: f64) -> f64 {
    while x > PI {
        x -= 2.0 * PI;
    }
    while x < -PI {
        x += 2.0 * PI;
    }
    x
}

impl Env for Acrobot {
    fn name(&self) -> &'static str {
        "Acrobot-v1"
    }

    fn observation_space(&self) -> Space {
        let high = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        Space::bounded(&high.map(|h| -h), &high)
    }

    fn action_space(&self) -> Space {
        Space::Discrete(3)
    }

    fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        self.state = std::array::from_fn(|_| self.rng.random_range(-0.1f64..0.1) as f32 as f64);
        self.clock.reset();
        self.observation()
    }

    fn step(&mut self, action: usize) -> Result<Transition, EnvError> {
        self.clock.check(self.name(), action, 3)?;
        let next = Self::dynamics(self.state, action);
        check_finite(self.name(), &next)?;
        self.state = next;
        let terminal = Self::is_terminal(next);
        let (terminated, truncated) = self.clock.tick(terminal);
        let reward = if terminal { 0.0 } else { -1.0 };
        Ok(Transition {
            observation: self.observation(),
            reward,
            terminated,
            truncated,
        })
    }

    fn reward_threshold(&self) -> Option<f64> {
        Some(-100.0)
    }

    fn elapsed_steps(&self) -> u32 {
        self.clock.steps
    }

    fn observation(&self) -> Vec<f32> {
        let [t1, t2, d1, d2] = self.state;
        [t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2]
            .iter()
            .map(|&v| v as f32)
            .collect()
    }
}
