//! [`StepLr`]: decay by a factor every fixed number of steps (PyTorch's `StepLR`).

use super::LrSchedule;
use crate::OptimError;
use crate::error::{at_least_one, non_negative};

/// PyTorch's `StepLR`: decay by γ every `step_size` steps,
/// `lr(t) = base_lr · γ^⌊t / step_size⌋`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLr {
    base_lr: f64,
    step_size: u64,
    gamma: f64,
}

impl StepLr {
    /// Decays `base_lr` by `gamma` every `step_size` steps.
    ///
    /// # Errors
    /// If `base_lr` or `gamma` is negative or not finite, or `step_size` is 0.
    pub fn new(base_lr: f64, step_size: u64, gamma: f64) -> Result<Self, OptimError> {
        non_negative("StepLr", "base_lr", base_lr)?;
        non_negative("StepLr", "gamma", gamma)?;
        at_least_one("StepLr", "step_size", step_size)?;
        Ok(StepLr {
            base_lr,
            step_size,
            gamma,
        })
    }
}

impl LrSchedule for StepLr {
    fn lr(&self, t: u64) -> f64 {
        self.base_lr * self.gamma.powf((t / self.step_size) as f64)
    }
}
