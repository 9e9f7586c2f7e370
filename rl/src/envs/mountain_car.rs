//! MountainCar-v0: Gymnasium's `MountainCarEnv` (Moore 1990) with its `TimeLimit` of 200
//! steps.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::env::{EpisodeClock, check_finite};
use crate::{Env, EnvError, Space, Transition};

/// The left end of the track.
pub const MIN_POSITION: f64 = -1.2;
/// The right end of the track.
pub const MAX_POSITION: f64 = 0.6;
/// The speed limit, either way.
pub const MAX_SPEED: f64 = 0.07;
/// The flag: reaching it with velocity ≥ 0 ends the episode.
pub const GOAL_POSITION: f64 = 0.5;
/// The engine's acceleration per unit of action.
pub const FORCE: f64 = 0.001;
/// The gravity term's scale.
pub const GRAVITY: f64 = 0.0025;
/// MountainCar-v0's time limit.
pub const MAX_EPISODE_STEPS: u32 = 200;

/// A car in a valley that must rock back and forth to reach the flag on the right hill: state
/// `[position, velocity]`; actions 0 (accelerate left), 1 (none), 2 (right); reward −1 per
/// step; terminated at `position ≥ 0.5` with `velocity ≥ 0`, truncated at 200 steps. `reset`
/// draws the position uniformly from `[−0.6, −0.4)` with velocity 0. The hill's height is
/// `0.45 sin(3x) + 0.55`.
///
/// ```text
/// v ← clip(v + (a − 1)·0.001 − 0.0025 cos(3x), −0.07, 0.07)
/// x ← clip(x + v, −1.2, 0.6);  v ← 0 if x = −1.2 and v < 0
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MountainCar {
    state: [f64; 2],
    clock: EpisodeClock,
    rng: ChaCha8Rng,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCar {
    /// MountainCar-v0, its random stream seeded with 0 until `reset(Some(seed))`.
    pub fn new() -> Self {
        MountainCar {
            state: [0.0; 2],
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

    /// The state `[position, velocity]`.
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    /// Starts an episode at the given state `[position, velocity]`.
    ///
    /// # Errors
    /// [`EnvError::StateSize`] or [`EnvError::NonFiniteObservation`].
    pub fn set_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
        let state: [f64; 2] = state.try_into().map_err(|_| EnvError::StateSize {
            env: "MountainCar-v0",
            expected: 2,
            got: state.len(),
        })?;
        check_finite("MountainCar-v0", &state)?;
        self.state = state;
        self.clock.reset();
        Ok(())
    }

    /// The state after one step with `action` from `state` (the dynamics alone).
    pub fn dynamics(state: [f64; 2], action: usize) -> [f64; 2] {
        let [position, velocity] = state;
        let velocity =
            (velocity + (action as f64 - 1.0) * FORCE + (3.0 * position).cos() * -GRAVITY)
                .clamp(-MAX_SPEED, MAX_SPEED);
        let position = (position + velocity).clamp(MIN_POSITION, MAX_POSITION);
        let velocity = if position == MIN_POSITION && velocity < 0.0 {
            0.0
        } else {
            velocity
        };
        [position, velocity]
    }

    /// Whether a state is terminal: at the flag, not rolling back.
    pub fn is_terminal(state: [f64; 2]) -> bool {
        state[0] >= GOAL_POSITION && state[1] >= 0.0
    }

    /// The height of the track at `position`.
    pub fn height(position: f64) -> f64 {
        (3.0 * position).sin() * 0.45 + 0.55
    }
}

impl Env for MountainCar {
    fn name(&self) -> &'static str {
        "MountainCar-v0"
    }

    fn observation_space(&self) -> Space {
        Space::bounded(
            &[MIN_POSITION as f32, -MAX_SPEED as f32],
            &[MAX_POSITION as f32, MAX_SPEED as f32],
        )
    }

    fn action_space(&self) -> Space {
        Space::Discrete(3)
    }

    fn reset(&mut self, seed: Option<u64>) -> Vec<f32> {
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        self.state = [self.rng.random_range(-0.6..-0.4), 0.0];
        self.clock.reset();
        self.observation()
    }

    fn step(&mut self, action: usize) -> Result<Transition, EnvError> {
        self.clock.check(self.name(), action, 3)?;
        let next = Self::dynamics(self.state, action);
        check_finite(self.name(), &next)?;
        self.state = next;
        let (terminated, truncated) = self.clock.tick(Self::is_terminal(next));
        Ok(Transition {
            observation: self.observation(),
            reward: -1.0,
            terminated,
            truncated,
        })
    }

    fn reward_threshold(&self) -> Option<f64> {
        Some(-110.0)
    }

    fn elapsed_steps(&self) -> u32 {
        self.clock.steps
    }

    fn observation(&self) -> Vec<f32> {
        self.state.iter().map(|&v| v as f32).collect()
    }
}
