//! [`ReduceLrOnPlateau`]: cut the rate when a watched metric stops improving (PyTorch's
//! `ReduceLROnPlateau`).

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::error::non_negative;
use crate::{OptimError, Optimizer};

/// Whether a watched metric should go down (a loss) or up (an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// How [`ReduceLrOnPlateau`] decides that a metric improved on the best so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdMode {
    /// Better than `best · (1 ∓ threshold)` (− in `Min` mode, + in `Max` mode).
    Rel,
    /// Better than `best ∓ threshold`.
    Abs,
}

/// The serializable state of a [`ReduceLrOnPlateau`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The best metric so far (`None` before the first).
    pub best: Option<f64>,
    /// Consecutive epochs without improvement.
    pub num_bad_epochs: u64,
    /// Epochs of cool-down left.
    pub cooldown_counter: u64,
    /// Number of `step` calls so far (PyTorch's `last_epoch`).
    pub last_epoch: u64,
}

/// PyTorch's `ReduceLROnPlateau`: multiplies the learning rate by `factor` when the metric
/// has not improved for more than `patience` epochs, then waits `cooldown` epochs before
/// counting again. Per call of [`ReduceLrOnPlateau::step`] with metric a:
///
/// ```text
/// better(a) = a < best·(1 − threshold)   (Min, Rel)     a > best·(1 + threshold)   (Max, Rel)
///             a < best − threshold       (Min, Abs)     a > best + threshold       (Max, Abs)
/// if better(a): best ← a, bad ← 0   else bad ← bad + 1
/// if cooldown_counter > 0: cooldown_counter ← cooldown_counter − 1, bad ← 0
/// if bad > patience:
///     new ← max(lr·factor, min_lr);  lr ← new if lr − new > eps
///     cooldown_counter ← cooldown,  bad ← 0
/// ```
///
/// Defaults (PyTorch's): `factor = 0.1`, `patience = 10`, `threshold = 1e-4` relative,
/// `cooldown = 0`, `min_lr = 0`, `eps = 1e-8`. A NaN metric is never better.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    mode: Mode,
    factor: f64,
    patience: u64,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: u64,
    min_lr: f64,
    eps: f64,
    state: PlateauState,
}

impl ReduceLrOnPlateau {
    /// Watches a metric in `mode`, with PyTorch's defaults.
    pub fn new(mode: Mode) -> Self {
        ReduceLrOnPlateau {
            mode,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            state: PlateauState {
                best: None,
                num_bad_epochs: 0,
                cooldown_counter: 0,
                last_epoch: 0,
            },
        }
    }

    /// Sets the factor the rate is multiplied by.
    ///
    /// # Errors
    /// If `factor` is not in [0, 1).
    pub fn with_factor(mut self, factor: f64) -> Result<Self, OptimError> {
        crate::error::unit_half_open("ReduceLrOnPlateau", "factor", factor)?;
        self.factor = factor;
        Ok(self)
    }

    /// Sets how many epochs without improvement are tolerated.
    pub fn with_patience(mut self, patience: u64) -> Self {
        self.patience = patience;
        self
    }

    /// Sets the improvement threshold and how it is applied.
    ///
    /// # Errors
    /// If `threshold` is negative or not finite.
    pub fn with_threshold(
        mut self,
        threshold: f64,
        mode: ThresholdMode,
    ) -> Result<Self, OptimError> {
        non_negative("ReduceLrOnPlateau", "threshold", threshold)?;
        self.threshold = threshold;
        self.threshold_mode = mode;
        Ok(self)
    }

    /// Sets the number of epochs to wait after a reduction before counting bad epochs again.
    pub fn with_cooldown(mut self, cooldown: u64) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets the floor of the learning rate.
    ///
    /// # Errors
    /// If `min_lr` is negative or not finite.
    pub fn with_min_lr(mut self, min_lr: f64) -> Result<Self, OptimError> {
        non_negative("ReduceLrOnPlateau", "min_lr", min_lr)?;
        self.min_lr = min_lr;
        Ok(self)
    }

    /// Sets the smallest change of rate worth applying.
    ///
    /// # Errors
    /// If `eps` is negative or not finite.
    pub fn with_eps(mut self, eps: f64) -> Result<Self, OptimError> {
        non_negative("ReduceLrOnPlateau", "eps", eps)?;
        self.eps = eps;
        Ok(self)
    }

    fn is_better(&self, a: f64) -> bool {
        let Some(best) = self.state.best else {
            // PyTorch starts from best = ±∞: every comparable value is better.
            return match self.mode {
                Mode::Min => a < f64::INFINITY,
                Mode::Max => a > f64::NEG_INFINITY,
            };
        };
        match (self.mode, self.threshold_mode) {
            (Mode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (Mode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (Mode::Max, ThresholdMode::Rel) => a > best * (1.0 + self.threshold),
            (Mode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// Records this epoch's `metric` and, on a plateau, lowers `opt`'s learning rate. Returns
    /// the learning rate after the call.
    pub fn step<T: Element>(&mut self, metric: f64, opt: &mut (impl Optimizer<T> + ?Sized)) -> f64 {
        self.state.last_epoch += 1;
        if self.is_better(metric) {
            self.state.best = Some(metric);
            self.state.num_bad_epochs = 0;
        } else {
            self.state.num_bad_epochs += 1;
        }
        if self.state.cooldown_counter > 0 {
            self.state.cooldown_counter -= 1;
            self.state.num_bad_epochs = 0;
        }
        if self.state.num_bad_epochs > self.patience {
            let old = opt.learning_rate();
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                opt.set_learning_rate(new);
            }
            self.state.cooldown_counter = self.cooldown;
            self.state.num_bad_epochs = 0;
        }
        opt.learning_rate()
    }

    /// The best metric so far.
    pub fn best(&self) -> Option<f64> {
        self.state.best
    }

    /// Consecutive epochs without improvement so far.
    pub fn num_bad_epochs(&self) -> u64 {
        self.state.num_bad_epochs
    }

    /// Whether a cool-down is running.
    pub fn in_cooldown(&self) -> bool {
        self.state.cooldown_counter > 0
    }

    /// The state to save.
    pub fn state(&self) -> PlateauState {
        self.state
    }

    /// Restores a saved state.
    ///
    /// # Errors
    /// [`OptimError::InvalidState`] if the cool-down counter exceeds the configured cool-down.
    pub fn load_state(&mut self, state: &PlateauState) -> Result<(), OptimError> {
        if state.cooldown_counter > self.cooldown {
            return Err(OptimError::InvalidState {
                owner: "ReduceLrOnPlateau",
                reason: format!(
                    "cooldown_counter {} exceeds the configured cooldown {}",
                    state.cooldown_counter, self.cooldown
                ),
            });
        }
        self.state = *state;
        Ok(())
    }
}
