//! [`CosineAnnealingLr`]: a half cosine from the base rate down to a floor (PyTorch's
//! `CosineAnnealingLR`).

use super::LrSchedule;
use crate::OptimError;
use crate::error::{at_least_one, non_negative};

/// PyTorch's `CosineAnnealingLR` in its closed form:
/// `lr(t) = η_min + (base_lr − η_min) · (1 + cos(π·t / T_max)) / 2`.
///
/// The rate reaches η_min at t = T_max and, past it, rises again along the same cosine
/// (as PyTorch's closed form does; restart-free).
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Anneals from `base_lr` to `eta_min` over `t_max` steps.
    ///
    /// # Errors
    /// If `base_lr` or `eta_min` is negative or not finite, or `t_max` is 0.
    pub fn new(base_lr: f64, t_max: u64, eta_min: f64) -> Result<Self, OptimError> {
        non_negative("CosineAnnealingLr", "base_lr", base_lr)?;
        non_negative("CosineAnnealingLr", "eta_min", eta_min)?;
        at_least_one("CosineAnnealingLr", "t_max", t_max)?;
        Ok(CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        })
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr(&self, t: u64) -> f64 {
        let phase = std::f64::consts::PI * t as f64 / self.t_max as f64;
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}
