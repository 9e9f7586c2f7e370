//! What the loop prints: a live progress bar on a terminal and one line per epoch.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Instant;

use crate::history::EpochMetrics;
use crate::trainer::tally::Tally;

/// The progress display of one epoch: a bar on a terminal (when verbose), nothing otherwise.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    batches: usize,
}

impl Progress {
    /// Starts the display of an epoch of `batches` batches, labelled `label`
    /// (`"epoch 3/10"`).
    pub(crate) fn start(verbose: bool, label: &str, batches: usize) -> Self {
        let bar = (verbose && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(batches as u64);
            let style = indicatif::ProgressStyle::with_template(&format!(
                "{label} [{{bar:30}}] {{pos}}/{{len}} {{msg}} eta {{eta}}"
            ))
            .expect("valid template")
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            start: Instant::now(),
            batches,
        }
    }

    /// Seconds since the epoch started.
    pub(crate) fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Marks batch `b` (0-based) done, refreshing the message every ten batches.
    pub(crate) fn batch_done(&self, b: usize, tally: &Tally) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if b.is_multiple_of(10) || b + 1 == self.batches {
                let rate = tally.seen as f64 / self.seconds().max(1e-9);
                bar.set_message(format!("{}  {rate:.0} ex/s", tally.summary()));
            }
        }
    }

    /// Clears the bar at the end of the epoch.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }

    /// Leaves the bar as it is (training stopped with an error).
    pub(crate) fn abandon(self) {
        if let Some(bar) = self.bar {
            bar.abandon();
        }
    }
}

/// The line printed after an epoch:
/// `epoch 3/10: loss 0.1234  train error 2.10%  val loss …  1.52s  39000 ex/s  lr 0.1`.
pub(crate) fn epoch_line(label: &str, m: &EpochMetrics) -> String {
    let mut line = format!("{label}: loss {:.4}", m.train_loss);
    if let Some(e) = m.train_error {
        let _ = write!(line, "  train error {:.2}%", 100.0 * e);
    }
    if let Some(l) = m.val_loss {
        let _ = write!(line, "  val loss {l:.4}");
    }
    if let Some(e) = m.val_error {
        let _ = write!(line, "  val error {:.2}%", 100.0 * e);
    }
    for (name, value) in &m.metrics {
        let _ = write!(line, "  {name} {value:.4}");
    }
    let _ = write!(
        line,
        "  {:.2}s  {:.0} ex/s  lr {}",
        m.seconds, m.examples_per_second, m.learning_rate
    );
    line
}
