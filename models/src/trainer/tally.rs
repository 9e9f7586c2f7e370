//! [`Tally`]: the running means of an epoch or an evaluation pass.

use std::collections::BTreeMap;

use strata_datasets::Batch;

use crate::step::StepOutput;

/// Sums of what the steps of one pass measured, weighted by batch size: the mean loss, the
/// error rate of the classified examples, and the mean of every named metric.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    loss_sum: f64,
    /// Examples counted.
    pub(crate) seen: usize,
    correct: usize,
    classified: usize,
    /// Per metric: the weighted sum and the examples it covers, in first-seen order.
    metrics: Vec<(&'static str, f64, usize)>,
}

impl Tally {
    /// Adds one step's output on `batch`.
    pub(crate) fn add(&mut self, batch: &Batch, out: &StepOutput) {
        let n = batch.len();
        self.loss_sum += out.loss * n as f64;
        self.seen += n;
        if !out.predictions.is_empty() {
            self.classified += out.predictions.len();
            self.correct += out
                .predictions
                .iter()
                .zip(&batch.labels)
                .filter(|(p, l)| p == l)
                .count();
        }
        for &(name, value) in &out.metrics {
            match self.metrics.iter_mut().find(|(m, _, _)| *m == name) {
                Some((_, sum, count)) => {
                    *sum += value * n as f64;
                    *count += n;
                }
                None => self.metrics.push((name, value * n as f64, n)),
            }
        }
    }

    /// Mean loss per example.
    pub(crate) fn loss(&self) -> f64 {
        self.loss_sum / self.seen.max(1) as f64
    }

    /// Fraction of the classified examples whose prediction missed, if any was classified.
    pub(crate) fn error(&self) -> Option<f64> {
        (self.classified > 0).then(|| 1.0 - self.correct as f64 / self.classified as f64)
    }

    /// The metric means, each name prefixed with `prefix`.
    pub(crate) fn metrics(&self, prefix: &str) -> BTreeMap<String, f64> {
        self.metrics
            .iter()
            .map(|(name, sum, count)| (format!("{prefix}{name}"), sum / (*count).max(1) as f64))
            .collect()
    }

    /// A short summary for a progress bar: `loss 0.1234  acc 97.10%`.
    pub(crate) fn summary(&self) -> String {
        match self.error() {
            Some(e) => format!("loss {:.4}  acc {:.2}%", self.loss(), 100.0 * (1.0 - e)),
            None => format!("loss {:.4}", self.loss()),
        }
    }
}
