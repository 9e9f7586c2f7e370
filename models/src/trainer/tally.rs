//! [`Tally`]: the running means of an epoch or an evaluation pass.

use std::collections::BTreeMap;

use strata_datasets::Batch;
use strata_distributed::Communicator;

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

    /// Sums every figure over the ranks of `comm` (collective; every rank must have recorded
    /// the same metrics, which every rank with at least one example has).
    pub(crate) fn all_reduce(&mut self, comm: &dyn Communicator) {
        if comm.size() == 1 {
            return;
        }
        let mut flat = vec![
            self.loss_sum,
            self.seen as f64,
            self.correct as f64,
            self.classified as f64,
        ];
        for (_, sum, count) in &self.metrics {
            flat.extend([*sum, *count as f64]);
        }
        comm.all_reduce_sum_f64(&mut flat);
        self.loss_sum = flat[0];
        self.seen = flat[1] as usize;
        self.correct = flat[2] as usize;
        self.classified = flat[3] as usize;
        for (m, pair) in self.metrics.iter_mut().zip(flat[4..].chunks_exact(2)) {
            m.1 = pair[0];
            m.2 = pair[1] as usize;
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
