//! [`EarlyStopping`]: stop training when a validation metric has stopped improving.

use serde::{Deserialize, Serialize};

use crate::error::non_negative;
use crate::{Mode, OptimError};

/// What [`EarlyStopping::update`] concluded about an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The metric is the best so far (save a checkpoint).
    Improved,
    /// No improvement, but patience is not exhausted yet.
    NoImprovement {
        /// Consecutive epochs without improvement, this one included.
        epochs_without_improvement: u64,
    },
    /// Patience is exhausted: stop training (and restore the best epoch's weights).
    Stop,
}

impl Verdict {
    /// Whether training should stop.
    pub fn should_stop(self) -> bool {
        self == Verdict::Stop
    }

    /// Whether this epoch is the best so far.
    pub fn improved(self) -> bool {
        self == Verdict::Improved
    }
}

/// The serializable state of an [`EarlyStopping`] rule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStoppingState {
    /// The best metric so far and the epoch it was reached at.
    pub best: Option<(u64, f64)>,
    /// Consecutive epochs without improvement.
    pub wait: u64,
    /// Whether the rule has told training to stop.
    pub stopped: bool,
}

/// Early stopping on a validation metric with patience.
///
/// An epoch improves on the best metric b so far when its metric a satisfies
/// `a < b − min_delta` ([`Mode::Min`]) or `a > b + min_delta` ([`Mode::Max`]); the first
/// (non-NaN) metric always improves, a NaN never does. After `patience` consecutive epochs
/// without improvement the verdict is [`Verdict::Stop`] (with `patience = 0`, the first epoch
/// that does not improve stops).
///
/// ```
/// use strata_optim::{EarlyStopping, Mode};
///
/// let mut stop = EarlyStopping::new(Mode::Min, 2, 0.0).unwrap();
/// let losses = [1.0, 0.8, 0.85, 0.9, 0.7];
/// let mut last = 0;
/// for (epoch, &loss) in losses.iter().enumerate() {
///     last = epoch;
///     if stop.update(epoch as u64, loss).should_stop() {
///         break;
///     }
/// }
/// assert_eq!(last, 3);
/// assert_eq!(stop.best_epoch(), Some(1));
/// assert_eq!(stop.best_metric(), Some(0.8));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    mode: Mode,
    patience: u64,
    min_delta: f64,
    state: EarlyStoppingState,
}

impl EarlyStopping {
    /// Watches a metric in `mode`, stopping after `patience` epochs without an improvement
    /// larger than `min_delta`.
    ///
    /// # Errors
    /// If `min_delta` is negative or not finite.
    pub fn new(mode: Mode, patience: u64, min_delta: f64) -> Result<Self, OptimError> {
        non_negative("EarlyStopping", "min_delta", min_delta)?;
        Ok(EarlyStopping {
            mode,
            patience,
            min_delta,
            state: EarlyStoppingState {
                best: None,
                wait: 0,
                stopped: false,
            },
        })
    }

    /// Records `metric` for `epoch` and says whether to go on. Once it has said
    /// [`Verdict::Stop`] it keeps saying so.
    pub fn update(&mut self, epoch: u64, metric: f64) -> Verdict {
        if self.state.stopped {
            return Verdict::Stop;
        }
        let improved = match self.state.best {
            None => !metric.is_nan(),
            Some((_, best)) => match self.mode {
                Mode::Min => metric < best - self.min_delta,
                Mode::Max => metric > best + self.min_delta,
            },
        };
        if improved {
            self.state.best = Some((epoch, metric));
            self.state.wait = 0;
            return Verdict::Improved;
        }
        self.state.wait += 1;
        if self.state.wait >= self.patience {
            self.state.stopped = true;
            Verdict::Stop
        } else {
            Verdict::NoImprovement {
                epochs_without_improvement: self.state.wait,
            }
        }
    }

    /// Whether the rule has said [`Verdict::Stop`].
    pub fn should_stop(&self) -> bool {
        self.state.stopped
    }

    /// The epoch with the best metric so far.
    pub fn best_epoch(&self) -> Option<u64> {
        self.state.best.map(|(e, _)| e)
    }

    /// The best metric so far.
    pub fn best_metric(&self) -> Option<f64> {
        self.state.best.map(|(_, m)| m)
    }

    /// Consecutive epochs without improvement so far.
    pub fn epochs_without_improvement(&self) -> u64 {
        self.state.wait
    }

    /// The state to save.
    pub fn state(&self) -> EarlyStoppingState {
        self.state
    }

    /// Restores a saved state.
    ///
    /// # Errors
    /// [`OptimError::InvalidState`] if the state's best metric is NaN.
    pub fn load_state(&mut self, state: &EarlyStoppingState) -> Result<(), OptimError> {
        if let Some((_, m)) = state.best
            && m.is_nan()
        {
            return Err(OptimError::InvalidState {
                owner: "EarlyStopping",
                reason: "the best metric is NaN".to_string(),
            });
        }
        self.state = *state;
        Ok(())
    }
}
