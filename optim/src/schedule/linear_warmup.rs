//! [`LinearWarmup`]: a linear ramp in front of another schedule.

use super::LrSchedule;
use crate::OptimError;

/// Linear warm-up in front of another schedule, as PyTorch's
/// `SequentialLR([LinearLR(start_factor, 1.0, w), inner], milestones=[w])`:
///
/// ```text
/// lr(t) = inner.lr(0) · (s + (1 − s)·t / w)     for t < w
/// lr(t) = inner.lr(t − w)                       for t ≥ w
/// ```
///
/// with s the start factor and w the warm-up length.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    warmup: u64,
    start_factor: f64,
    inner: S,
}

impl<S: LrSchedule> LinearWarmup<S> {
    /// Ramps linearly from `start_factor · inner.lr(0)` to `inner.lr(0)` over `warmup` steps,
    /// then follows `inner` (shifted by `warmup`).
    ///
    /// # Errors
    /// If `start_factor` is not in (0, 1].
    pub fn new(warmup: u64, start_factor: f64, inner: S) -> Result<Self, OptimError> {
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(OptimError::InvalidHyperParameter {
                owner: "LinearWarmup",
                name: "start_factor",
                value: start_factor,
                expected: "in (0, 1]",
            });
        }
        Ok(LinearWarmup {
            warmup,
            start_factor,
            inner,
        })
    }

    /// The schedule followed after the warm-up.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn lr(&self, t: u64) -> f64 {
        if t < self.warmup {
            let s = self.start_factor;
            self.inner.lr(0) * (s + (1.0 - s) * t as f64 / self.warmup as f64)
        } else {
            self.inner.lr(t - self.warmup)
        }
    }
}
