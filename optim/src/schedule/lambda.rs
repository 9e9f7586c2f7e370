//! [`LambdaLr`]: the base rate times a factor given by a function of the step (PyTorch's
//! `LambdaLR`).

use std::fmt;

use super::LrSchedule;
use crate::OptimError;
use crate::error::non_negative;

/// PyTorch's `LambdaLR`: the base rate times a factor computed by a function of the step,
///
/// ```text
/// lr(t) = base_lr · f(t)
/// ```
///
/// `f` is any `Fn(u64) -> f64` (a closure, a function); it is not checked, but a
/// [`super::Scheduler`] driving an optimizer panics on a negative or non-finite rate, as
/// [`crate::Optimizer::set_learning_rate`] does.
///
/// ```
/// use strata_optim::{LambdaLr, LrSchedule};
///
/// // Inverse square-root decay after 4 steps of linear warm-up.
/// let warmup_then_inv_sqrt = |t: u64| {
///     let n = (t + 1) as f64;
///     if t < 4 { n / 4.0 } else { (4.0 / n).sqrt() }
/// };
/// let s = LambdaLr::new(0.1, warmup_then_inv_sqrt).unwrap();
/// assert_eq!(s.lr(0), 0.025);
/// assert_eq!(s.lr(3), 0.1);
/// assert_eq!(s.lr(15), 0.05);
/// ```
///
/// PyTorch saves a lambda's attributes only when it is a callable object; here the function is
/// part of the schedule's type and, like every schedule, is rebuilt by the program (a
/// [`super::Scheduler`] saves only its step count).
#[derive(Clone)]
pub struct LambdaLr<F> {
    base_lr: f64,
    f: F,
}

impl<F: Fn(u64) -> f64> LambdaLr<F> {
    /// The rate `base_lr · f(t)`: `base_lr` is the initial rate (PyTorch's `base_lrs`, the
    /// optimizer's rate when the scheduler is made), `f` the factor at step t.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if `base_lr` is negative or not finite.
    pub fn new(base_lr: f64, f: F) -> Result<Self, OptimError> {
        non_negative("LambdaLr", "base_lr", base_lr)?;
        Ok(LambdaLr { base_lr, f })
    }

    /// The base rate.
    pub fn base_lr(&self) -> f64 {
        self.base_lr
    }
}

impl<F: Fn(u64) -> f64> LrSchedule for LambdaLr<F> {
    fn lr(&self, t: u64) -> f64 {
        self.base_lr * (self.f)(t)
    }
}

impl<F> fmt::Debug for LambdaLr<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaLr")
            .field("base_lr", &self.base_lr)
            .finish_non_exhaustive()
    }
}
