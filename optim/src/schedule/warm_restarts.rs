//! [`CosineAnnealingWarmRestarts`]: cosine annealing restarted every cycle, cycles growing by
//! a factor (SGDR; PyTorch's `CosineAnnealingWarmRestarts`).

use super::LrSchedule;
use crate::OptimError;
use crate::error::{at_least_one, non_negative};

const OWNER: &str = "CosineAnnealingWarmRestarts";

/// PyTorch's `CosineAnnealingWarmRestarts` (SGDR, Loshchilov & Hutter 2017): a cosine from
/// `base_lr` down towards η_min over a cycle of T_i steps, then a restart at `base_lr`; the
/// first cycle is T_0 steps long and each next one T_mult times longer.
///
/// ```text
/// T_i   = T_0 · T_multⁱ                       the length of cycle i = 0, 1, 2, …
/// T_cur = t − (T_0 + T_0·T_mult + … + T_{i−1})   steps since the last restart, 0 ≤ T_cur < T_i
/// lr(t) = η_min + (base_lr − η_min) · (1 + cos(π·T_cur / T_i)) / 2
/// ```
///
/// Defaults (PyTorch's): `T_mult = 1` (every cycle T_0 steps), `η_min = 0`. The cycle is
/// found in integers, as PyTorch's `step()` does when called once per step.
///
/// ```
/// use strata_optim::{CosineAnnealingWarmRestarts, LrSchedule};
///
/// let s = CosineAnnealingWarmRestarts::new(0.1, 2).unwrap().with_t_mult(2).unwrap();
/// // Cycles of 2, 4, 8, … steps: restarts at t = 2 and t = 6.
/// assert_eq!([s.lr(0), s.lr(2), s.lr(6)], [0.1, 0.1, 0.1]);
/// assert!((s.lr(1) - 0.05).abs() < 1e-15 && (s.lr(4) - 0.05).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingWarmRestarts {
    base_lr: f64,
    t_0: u64,
    t_mult: u64,
    eta_min: f64,
}

impl CosineAnnealingWarmRestarts {
    /// Cosine cycles from `base_lr` (PyTorch's `base_lrs`, the initial rate), the first `t_0`
    /// steps long (PyTorch's `T_0`), with PyTorch's defaults `T_mult = 1`, `η_min = 0`.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `base_lr` is negative or not finite, or `t_0`
    /// is 0.
    pub fn new(base_lr: f64, t_0: u64) -> Result<Self, OptimError> {
        non_negative(OWNER, "base_lr", base_lr)?;
        at_least_one(OWNER, "t_0", t_0)?;
        Ok(CosineAnnealingWarmRestarts {
            base_lr,
            t_0,
            t_mult: 1,
            eta_min: 0.0,
        })
    }

    /// Sets the factor T_mult by which each cycle is longer than the one before (PyTorch's
    /// `T_mult`, default 1).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `t_mult` is 0.
    pub fn with_t_mult(mut self, t_mult: u64) -> Result<Self, OptimError> {
        at_least_one(OWNER, "t_mult", t_mult)?;
        self.t_mult = t_mult;
        Ok(self)
    }

    /// Sets the floor η_min the cosine falls towards (PyTorch's `eta_min`, default 0).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `eta_min` is negative or not finite.
    pub fn with_eta_min(mut self, eta_min: f64) -> Result<Self, OptimError> {
        non_negative(OWNER, "eta_min", eta_min)?;
        self.eta_min = eta_min;
        Ok(self)
    }

    /// The position of step `t` in its cycle: (T_cur, T_i).
    fn cycle_position(&self, t: u64) -> (u64, u64) {
        if self.t_mult == 1 {
            return (t % self.t_0, self.t_0);
        }
        let (mut t_cur, mut t_i) = (t, self.t_0);
        while t_cur >= t_i {
            t_cur -= t_i;
            match t_i.checked_mul(self.t_mult) {
                Some(next) => t_i = next,
                // Past u64::MAX ≥ t_cur: the cycle holds every remaining step.
                None => return (t_cur, u64::MAX),
            }
        }
        (t_cur, t_i)
    }
}

impl LrSchedule for CosineAnnealingWarmRestarts {
    fn lr(&self, t: u64) -> f64 {
        let (t_cur, t_i) = self.cycle_position(t);
        let phase = std::f64::consts::PI * t_cur as f64 / t_i as f64;
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}
