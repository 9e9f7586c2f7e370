//! MountainCar-v0: Gymnasium's `MountainCarEnv` (Moore 1990) with its `TimeLimit` of 200
//! steps.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::classic::{ClassicEnv, Physics};
use crate::Space;

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
pub type MountainCar = ClassicEnv<MountainCarPhysics>;

/// The [`Physics`] of [`MountainCar`].
#[derive(Clone, Copy, Debug)]
pub struct MountainCarPhysics;

/// The height of the track at `position`.
pub fn height(position: f64) -> f64 {
    (3.0 * position).sin() * 0.45 + 0.55
}

impl Physics for MountainCarPhysics {
    type State = [f64; 2];
    const NAME: &'static str = "MountainCar-v0";
    const ACTIONS: usize = 3;
    const MAX_EPISODE_STEPS: u32 = MAX_EPISODE_STEPS;
    const REWARD_THRESHOLD: f64 = -110.0;

    fn observation_space() -> Space {
        Space::bounded(
            &[MIN_POSITION as f32, -MAX_SPEED as f32],
            &[MAX_POSITION as f32, MAX_SPEED as f32],
        )
    }

    fn start(rng: &mut ChaCha8Rng) -> [f64; 2] {
        [rng.random_range(-0.6..-0.4), 0.0]
    }

    fn dynamics(state: [f64; 2], action: usize) -> [f64; 2] {
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

    /// At the flag, not rolling back.
    fn is_terminal(state: [f64; 2]) -> bool {
        state[0] >= GOAL_POSITION && state[1] >= 0.0
    }

    /// −1 for every step.
    fn reward(_terminal: bool) -> f64 {
        -1.0
    }

    fn observe(state: [f64; 2]) -> Vec<f32> {
        state.iter().map(|&v| v as f32).collect()
    }
}
