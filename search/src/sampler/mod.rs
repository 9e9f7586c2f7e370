//! Samplers: where the next trial's configuration comes from.

mod random;
mod tpe;

pub use random::RandomSampler;
pub use tpe::TpeSampler;

use rand::Rng;

use crate::space::{Config, Domain, Space, Value};
use crate::trial::Trial;

/// Chooses configurations.
pub trait Sampler: Send {
    /// The configuration of trial `id`, given the trials that have ended (in the order they
    /// ended). It holds exactly the dimensions active in it.
    fn sample(&mut self, space: &Space, history: &[Trial], id: usize) -> Config;
}

impl<S: Sampler + ?Sized> Sampler for Box<S> {
    fn sample(&mut self, space: &Space, history: &[Trial], id: usize) -> Config {
        (**self).sample(space, history, id)
    }
}

/// The stream of trial `id` under `seed` (splitmix64 of the pair), so a trial's draws do not
/// depend on how many draws earlier trials made.
pub(crate) fn trial_rng(seed: u64, id: usize) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let mut z = seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    rand::rngs::StdRng::seed_from_u64(z ^ (z >> 31))
}

/// A uniform draw from `domain` (on its scale).
pub(crate) fn uniform(domain: &Domain, rng: &mut impl Rng) -> Value {
    match domain {
        Domain::Int { .. } | Domain::Float { .. } => {
            let (a, b) = bounds(domain);
            from_internal(domain, rng.random_range(a..=b))
        }
        Domain::Categorical { choices } => {
            Value::Choice(choices[rng.random_range(0..choices.len())].clone())
        }
    }
}

/// The interval a numeric dimension is modelled on: `ln x` on a log scale, and integers
/// widened by ½ on each side so every integer gets an equal share.
pub(crate) fn bounds(domain: &Domain) -> (f64, f64) {
    match *domain {
        Domain::Int { low, high, log } => {
            let (a, b) = (low as f64 - 0.5, high as f64 + 0.5);
            if log { (a.ln(), b.ln()) } else { (a, b) }
        }
        Domain::Float { low, high, log } => {
            if log {
                (low.ln(), high.ln())
            } else {
                (low, high)
            }
        }
        Domain::Categorical { .. } => (0.0, 0.0),
    }
}

/// A value of a numeric dimension at `u` on its modelled interval (rounded and clamped).
pub(crate) fn from_internal(domain: &Domain, u: f64) -> Value {
    match *domain {
        Domain::Int { low, high, log } => {
            let x = if log { u.exp() } else { u };
            Value::Int((x.round() as i64).clamp(low, high))
        }
        Domain::Float { low, high, log } => {
            let x = if log { u.exp() } else { u };
            Value::Float(x.clamp(low, high))
        }
        Domain::Categorical { .. } => unreachable!("categorical dimensions have no interval"),
    }
}

/// A numeric value on its modelled interval.
pub(crate) fn to_internal(domain: &Domain, value: &Value) -> Option<f64> {
    let log = matches!(
        domain,
        Domain::Int { log: true, .. } | Domain::Float { log: true, .. }
    );
    let x = match value {
        Value::Int(v) => *v as f64,
        Value::Float(v) => *v,
        Value::Choice(_) => return None,
    };
    Some(if log { x.ln() } else { x })
}
