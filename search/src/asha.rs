//! Asynchronous successive halving (ASHA, Li et al. 2018): stop a trial between epochs when
//! its validation value is not among the best at a rung.

use serde::{Deserialize, Serialize};

/// Rungs at `min_resource·ηᵏ` epochs (below `max_resource`). A trial reaching a rung is
/// compared with every value recorded at that rung so far, itself included (`n` values): it
/// continues if its value is at most the `⌊n/η⌋`-th smallest (the smallest while `n < η`), as
/// Optuna's `SuccessiveHalvingPruner` does — about one trial in `η` passes each rung. Lower
/// values are better.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Asha {
    /// Epochs of the first rung.
    pub min_resource: usize,
    /// The reduction factor η (≥ 2).
    pub reduction_factor: usize,
    /// Epochs of a complete trial: no rung at or beyond it.
    pub max_resource: usize,
}

impl Asha {
    /// Rungs from `min_resource` epochs, η = `reduction_factor`, trials of `max_resource`
    /// epochs.
    ///
    /// # Panics
    /// If `min_resource` is 0 or `reduction_factor` < 2.
    pub fn new(min_resource: usize, reduction_factor: usize, max_resource: usize) -> Self {
        assert!(
            min_resource > 0 && reduction_factor >= 2,
            "Asha::new: min_resource {min_resource} must be ≥ 1 and reduction_factor {reduction_factor} ≥ 2"
        );
        Asha {
            min_resource,
            reduction_factor,
            max_resource,
        }
    }

    /// The rung whose resource is exactly `epoch` epochs, if any.
    pub fn rung(&self, epoch: usize) -> Option<usize> {
        let mut resource = self.min_resource;
        let mut k = 0;
        while resource < self.max_resource {
            if resource == epoch {
                return Some(k);
            }
            resource = resource.saturating_mul(self.reduction_factor);
            k += 1;
        }
        None
    }

    /// The epochs of every rung.
    pub fn rung_epochs(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut resource = self.min_resource;
        while resource < self.max_resource {
            out.push(resource);
            resource = resource.saturating_mul(self.reduction_factor);
        }
        out
    }

    /// Whether a trial with `value` continues past a rung where `recorded` holds every value
    /// recorded there (this one included).
    pub fn promotes(&self, value: f64, recorded: &[f64]) -> bool {
        if !value.is_finite() {
            return false;
        }
        let mut sorted: Vec<f64> = recorded.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let k = (sorted.len() / self.reduction_factor).saturating_sub(1);
        sorted.get(k).is_none_or(|&threshold| value <= threshold)
    }
}
