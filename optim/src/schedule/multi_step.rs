//! [`MultiStepLr`]: decay by a factor at each milestone (PyTorch's `MultiStepLR`).

use super::LrSchedule;
use crate::OptimError;
use crate::error::non_negative;

/// PyTorch's `MultiStepLR`: decay by γ at each milestone,
/// `lr(t) = base_lr · γ^(number of milestones ≤ t)` (a milestone listed twice counts twice).
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStepLr {
    base_lr: f64,
    milestones: Vec<u64>,
    gamma: f64,
}

impl MultiStepLr {
    /// Decays `base_lr` by `gamma` at each of `milestones` (in any order).
    ///
    /// # Errors
    /// If `base_lr` or `gamma` is negative or not finite.
    pub fn new(base_lr: f64, milestones: &[u64], gamma: f64) -> Result<Self, OptimError> {
        non_negative("MultiStepLr", "base_lr", base_lr)?;
        non_negative("MultiStepLr", "gamma", gamma)?;
        let mut milestones = milestones.to_vec();
        milestones.sort_unstable();
        Ok(MultiStepLr {
            base_lr,
            milestones,
            gamma,
        })
    }
}

impl LrSchedule for MultiStepLr {
    fn lr(&self, t: u64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= t);
        self.base_lr * self.gamma.powf(passed as f64)
    }
}
