//! Acrobot-v1: Gymnasium's `AcrobotEnv` (Sutton 1996; the "book" dynamics of Sutton & Barto)
//! with its `TimeLimit` of 500 steps.

use std::f64::consts::PI;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::classic::{ClassicEnv, Physics};
use crate::Space;

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
pub type Acrobot = ClassicEnv<AcrobotPhysics>;

/// The [`Physics`] of [`Acrobot`].
#[derive(Clone, Copy, Debug)]
pub struct AcrobotPhysics;

impl Physics for AcrobotPhysics {
    type State = [f64; 4];
    const NAME: &'static str = "Acrobot-v1";
    const ACTIONS: usize = 3;
    const MAX_EPISODE_STEPS: u32 = MAX_EPISODE_STEPS;
    const REWARD_THRESHOLD: f64 = -100.0;

    fn observation_space() -> Space {
        let high = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        Space::bounded(&high.map(|h| -h), &high)
    }

    /// Uniform on `[−0.1, 0.1)`, rounded to `f32` as Gymnasium does.
    fn start(rng: &mut ChaCha8Rng) -> [f64; 4] {
        std::array::from_fn(|_| rng.random_range(-0.1f64..0.1) as f32 as f64)
    }

    fn dynamics(state: [f64; 4], action: usize) -> [f64; 4] {
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

    /// The free end more than one link length above the pivot.
    fn is_terminal(state: [f64; 4]) -> bool {
        -state[0].cos() - (state[1] + state[0]).cos() > 1.0
    }

    /// −1 per step, 0 on the terminating one.
    fn reward(terminal: bool) -> f64 {
        if terminal { 0.0 } else { -1.0 }
    }

    fn observe(state: [f64; 4]) -> Vec<f32> {
        let [t1, t2, d1, d2] = state;
        [t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2]
            .iter()
            .map(|&v| v as f32)
            .collect()
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
