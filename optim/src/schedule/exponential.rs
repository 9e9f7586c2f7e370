//! [`ExponentialLr`]: decay by a factor every step (PyTorch's `ExponentialLR`).

use super::LrSchedule;
use crate::OptimError;
use crate::error::non_negative;

/// PyTorch's `ExponentialLR`: `lr(t) = base_lr · γ^t`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// Decays `base_lr` by `gamma` every step.
    ///
    /// # Errors
    /// If `base_lr` or `gamma` is negative or not finite.
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self, OptimError> {
        non_negative("ExponentialLr", "base_lr", base_lr)?;
        non_negative("ExponentialLr", "gamma", gamma)?;
        Ok(ExponentialLr { base_lr, gamma })
    }
}

impl LrSchedule for ExponentialLr {
    fn lr(&self, t: u64) -> f64 {
        self.base_lr * self.gamma.powf(t as f64)
    }
}
