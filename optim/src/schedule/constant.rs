//! [`ConstantLr`]: the same rate at every step.

use super::LrSchedule;
use crate::OptimError;
use crate::error::non_negative;

/// A constant rate: `lr(t) = lr`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantLr {
    lr: f64,
}

impl ConstantLr {
    /// The rate `lr` at every step.
    ///
    /// # Errors
    /// If `lr` is negative or not finite.
    pub fn new(lr: f64) -> Result<Self, OptimError> {
        non_negative("ConstantLr", "lr", lr)?;
        Ok(ConstantLr { lr })
    }
}

impl LrSchedule for ConstantLr {
    fn lr(&self, _t: u64) -> f64 {
        self.lr
    }
}
