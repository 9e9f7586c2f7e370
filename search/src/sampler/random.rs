//! Random search.

use crate::space::{Config, Space};
use crate::trial::Trial;

use super::{Sampler, trial_rng, uniform};

/// Draws every active dimension uniformly on its scale, independently of the history. Trial
/// `id`'s configuration depends only on the seed and `id`.
#[derive(Clone, Debug)]
pub struct RandomSampler {
    seed: u64,
}

impl RandomSampler {
    /// A sampler seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        RandomSampler { seed }
    }
}

impl Sampler for RandomSampler {
    fn sample(&mut self, space: &Space, _history: &[Trial], id: usize) -> Config {
        let mut rng = trial_rng(self.seed, id);
        let mut config = Config::new();
        for d in space.dimensions() {
            if space.is_active(d, &config) {
                let v = uniform(&d.domain, &mut rng);
                config.insert(d.name.clone(), v);
            }
        }
        config
    }
}
