//! [`ClassicEnv`]: the environment machinery the three tasks share — the state, the episode
//! clock, the seeded random stream, `reset`, `step`, `set_state` — around a [`Physics`], which
//! holds what differs: constants, the start distribution, the dynamics, termination, reward and
//! observation.

use std::fmt::Debug;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::env::{EpisodeClock, check_finite};
use crate::{Env, EnvError, Space, Transition};

/// What one classic-control task defines.
pub trait Physics {
    /// The physical state, e.g. `[f64; 4]`.
    type State: Copy
        + Debug
        + PartialEq
        + AsRef<[f64]>
        + for<'a> TryFrom<&'a [f64]>
        + Serialize
        + DeserializeOwned;
    /// Gymnasium's id, e.g. `"CartPole-v1"`.
    const NAME: &'static str;
    /// The number of actions.
    const ACTIONS: usize;
    /// Gymnasium's `max_episode_steps`.
    const MAX_EPISODE_STEPS: u32;
    /// Gymnasium's `reward_threshold`.
    const REWARD_THRESHOLD: f64;

    /// The observation space.
    fn observation_space() -> Space;
    /// A start state drawn as Gymnasium's `reset` draws it.
    fn start(rng: &mut ChaCha8Rng) -> Self::State;
    /// The state after one step with `action`.
    fn dynamics(state: Self::State, action: usize) -> Self::State;
    /// Whether `state` ends the episode.
    fn is_terminal(state: Self::State) -> bool;
    /// The reward of the step that reached `state`.
    fn reward(terminal: bool) -> f64;
    /// What the agent sees of `state`.
    fn observe(state: Self::State) -> Vec<f32>;
}

/// An environment made of a [`Physics`]: its state, an [`EpisodeClock`] with the task's time
/// limit, and its own random stream, seeded with 0 until `reset(Some(seed))`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct ClassicEnv<P: Physics> {
    state: P::State,
    clock: EpisodeClock,
    rng: ChaCha8Rng,
}

impl<P: Physics> Default for ClassicEnv<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Physics> ClassicEnv<P> {
    /// The task with Gymnasium's time limit, its random stream seeded with 0.
    pub fn new() -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let state = P::start(&mut rng);
        ClassicEnv {
            state,
            clock: EpisodeClock::new(P::MAX_EPISODE_STEPS),
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

    /// The physical state.
    pub fn state(&self) -> P::State {
        self.state
    }

    /// Starts an episode at the given physical state (for tests and demonstrations).
    ///
    /// # Errors
    /// [`EnvError::StateSize`] or [`EnvError::NonFiniteObservation`].
    pub fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        let expected = self.state.as_ref().len();
        let parsed = P::State::try_from(state).map_err(|_| EnvError::StateSize {
            env: P::NAME,
            expected,
            got: state.len(),
        })?;
        check_finite(P::NAME, parsed.as_ref())?;
        self.state = parsed;
        self.clock.reset();
        Ok(())
    }
}

impl<P: Physics> Env for ClassicEnv<P> {
    fn name(&self) -> &'static str {
        P::NAME
    }

    fn observation_space(&self) -> Space {
        P::observation_space()
    }

    fn action_space(&self) -> Space {
        Space::Discrete(P::ACTIONS)
    }

    fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        self.state = P::start(&mut self.rng);
        self.clock.reset();
        self.observation()
    }

    fn step(&mut self, action: usize) -> Result<Transition, EnvError> {
        self.clock.check(P::NAME, action, P::ACTIONS)?;
        let next = P::dynamics(self.state, action);
        check_finite(P::NAME, next.as_ref())?;
        self.state = next;
        let terminal = P::is_terminal(next);
        let (terminated, truncated) = self.clock.tick(terminal);
        Ok(Transition {
            observation: self.observation(),
            reward: P::reward(terminal),
            terminated,
            truncated,
        })
    }

    fn reward_threshold(&self) -> Option<f64> {
        Some(P::REWARD_THRESHOLD)
    }

    fn elapsed_steps(&self) -> u32 {
        self.clock.steps
    }

    fn observation(&self) -> Vec<f32> {
        P::observe(self.state)
    }
}
