//! CartPole-v1: Gymnasium's `CartPoleEnv` (Barto, Sutton & Anderson 1983) with its
//! `TimeLimit` of 500 steps.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::classic::{ClassicEnv, Physics};
use crate::Space;

/// Gravity, m/s².
pub const GRAVITY: f64 = 9.8;
/// Mass of the cart, kg.
pub const MASS_CART: f64 = 1.0;
/// Mass of the pole, kg.
pub const MASS_POLE: f64 = 0.1;
/// Half the pole's length, m.
pub const HALF_POLE_LENGTH: f64 = 0.5;
/// The force of a push, N.
pub const FORCE: f64 = 10.0;
/// Seconds between state updates (explicit Euler).
pub const TAU: f64 = 0.02;
/// The episode terminates when the pole leans further than this, radians (12°).
pub const THETA_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
/// The episode terminates when the cart is further than this from the centre, m.
pub const X_LIMIT: f64 = 2.4;
/// CartPole-v1's time limit.
pub const MAX_EPISODE_STEPS: u32 = 500;

/// The cart-pole: state `[x, ẋ, θ, θ̇]` (cart position and velocity, pole angle from upright
/// and its angular velocity); action 0 pushes the cart left, 1 right, with 10 N; reward 1 for
/// every step, the terminating one included; terminated when `|x| > 2.4` or `|θ| > 12°`,
/// truncated at 500 steps. `reset` draws every state component uniformly from
/// `[−0.05, 0.05)`.
///
/// One step (explicit Euler with `τ = 0.02`, `F = ±10`, `m_p l = 0.05`, `M = 1.1`):
///
/// ```text
/// temp = (F + m_p l θ̇² sin θ) / M
/// θ̈ = (g sin θ − cos θ · temp) / (l (4/3 − m_p cos²θ / M))
/// ẍ = temp − m_p l θ̈ cos θ / M
/// x += τ ẋ;  ẋ += τ ẍ;  θ += τ θ̇;  θ̇ += τ θ̈
/// ```
pub type CartPole = ClassicEnv<CartPolePhysics>;

/// The [`Physics`] of [`CartPole`].
#[derive(Clone, Copy, Debug)]
pub struct CartPolePhysics;

impl Physics for CartPolePhysics {
    type State = [f64; 4];
    const NAME: &'static str = "CartPole-v1";
    const ACTIONS: usize = 2;
    const MAX_EPISODE_STEPS: u32 = MAX_EPISODE_STEPS;
    const REWARD_THRESHOLD: f64 = 475.0;

    fn observation_space() -> Space {
        let high = [
            (X_LIMIT * 2.0) as f32,
            f32::INFINITY,
            (THETA_LIMIT * 2.0) as f32,
            f32::INFINITY,
        ];
        Space::bounded(&high.map(|h| -h), &high)
    }

    fn start(rng: &mut ChaCha8Rng) -> [f64; 4] {
        std::array::from_fn(|_| rng.random_range(-0.05..0.05))
    }

    fn dynamics(state: [f64; 4], action: usize) -> [f64; 4] {
        let [x, x_dot, theta, theta_dot] = state;
        let total_mass = MASS_POLE + MASS_CART;
        let polemass_length = MASS_POLE * HALF_POLE_LENGTH;
        let force = if action == 1 { FORCE } else { -FORCE };
        let (sin, cos) = theta.sin_cos();
        let temp = (force + polemass_length * theta_dot * theta_dot * sin) / total_mass;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (HALF_POLE_LENGTH * (4.0 / 3.0 - MASS_POLE * cos * cos / total_mass));
        let x_acc = temp - polemass_length * theta_acc * cos / total_mass;
        [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ]
    }

    /// The cart left `[−2.4, 2.4]` or the pole `[−12°, 12°]`.
    fn is_terminal(state: [f64; 4]) -> bool {
        state[0] < -X_LIMIT
            || state[0] > X_LIMIT
            || state[2] < -THETA_LIMIT
            || state[2] > THETA_LIMIT
    }

    /// 1 for every step, the terminating one included.
    fn reward(_terminal: bool) -> f64 {
        1.0
    }

    fn observe(state: [f64; 4]) -> Vec<f32> {
        state.iter().map(|&v| v as f32).collect()
    }
}
