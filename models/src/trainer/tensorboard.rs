//! The training loop's TensorBoard log ([`TrainerConfig::tensorboard_dir`]): what is logged,
//! at which step, and how a resumed run continues the same log.
//!
//! | tags | step | when |
//! |------|------|------|
//! | `step/loss`, `step/error`, `step/grad_norm`, `step/learning_rate` | optimizer steps | every `step_scalars_every` steps |
//! | `train/loss`, `train/error`, `train/<metric>`, `val/loss`, `val/error`, `val/<metric>`, `epoch/learning_rate`, `epoch/examples_per_second`, `epoch/seconds`, `epoch/grad_norm`, `epoch/stage` | epochs (1-based, over the run) | every epoch |
//! | `params/<name>`, `grads/<name>` (histograms; the gradient of the epoch's last step) | epochs | every `histogram_every` epochs |
//! | images from [`Trainer::with_images`](crate::Trainer::with_images) | epochs | every epoch |
//! | `config` (text), the HParams plugin's summaries | 0 | once per `fit` |
//!
//! The optimizer step of batch `b` (0-based) of epoch `e` (0-based, over the run) is
//! `e · batches_per_epoch + b + 1`: the number of steps taken in a run whose batch size does
//! not change.

use std::path::Path;

use strata_autograd::{Grads, Param};
use strata_tensorboard::{HParams, Image, RunStatus, SummaryWriter, TensorBoardError, trim_run};

use crate::TrainError;
use crate::history::EpochMetrics;
use crate::trainer::TrainerConfig;

/// The open log of a run, written by rank 0 only.
pub(crate) struct TensorBoardLog {
    writer: SummaryWriter,
    /// Sum of the gradient norms of the current epoch's steps, and their number.
    grad_norms: (f64, usize),
}

fn io(e: TensorBoardError) -> TrainError {
    TrainError::Io(e.to_string())
}

impl TensorBoardLog {
    /// Opens the log in `dir` for a run that has completed `epochs_done` epochs and
    /// `steps_done` optimizer steps: values of later epochs and steps (and the previous
    /// configuration and hyper-parameters) are trimmed from the folder's event files — all of
    /// them for a fresh run, as a fresh run rewrites `history.csv` — and a new event file is
    /// started. Logs (a `log` info message) how many values were trimmed after a crash.
    pub(crate) fn open(
        dir: &Path,
        epochs_done: usize,
        steps_done: u64,
    ) -> Result<Self, TrainError> {
        let (epochs, steps) = (epochs_done as i64, steps_done as i64);
        // Values of epochs and steps after the checkpoint (the run's own settings, logged
        // again at the start, are not counted).
        let removed = std::cell::Cell::new(0usize);
        trim_run(dir, |tag, step| {
            let keep = if tag.starts_with("_hparams_/") || tag == "config" {
                return false;
            } else if tag.starts_with("step/") {
                step <= steps
            } else {
                step <= epochs
            };
            removed.set(removed.get() + usize::from(!keep));
            keep
        })
        .map_err(io)?;
        let removed = removed.get();
        if removed > 0 && epochs_done > 0 {
            log::info!(
                "tensorboard: removed {removed} values logged after epoch {epochs_done} from {}",
                dir.display()
            );
        }
        Ok(TensorBoardLog {
            writer: SummaryWriter::create(dir).map_err(io)?,
            grad_norms: (0.0, 0),
        })
    }

    /// Logs the configuration as text and the hyper-parameters for the HParams dashboard.
    pub(crate) fn start(
        &mut self,
        config: &TrainerConfig,
        hparams: &HParams,
    ) -> Result<(), TrainError> {
        let json = serde_json::to_string_pretty(config).unwrap_or_default();
        let mut text = String::from("| hyper-parameter | value |\n|---|---|\n");
        for (name, value) in hparams.values() {
            text.push_str(&format!("| {name} | {value:?} |\n"));
        }
        text.push_str(&format!("\n```json\n{json}\n```\n"));
        self.writer.add_text("config", &text, 0).map_err(io)?;
        self.writer.add_hparams(hparams).map_err(io)
    }

    /// Records one step's gradient norm for the epoch mean, and logs the step's scalars when
    /// `due`.
    pub(crate) fn step(
        &mut self,
        step: u64,
        due: bool,
        loss: f64,
        error: Option<f64>,
        grad_norm: f64,
        learning_rate: f64,
    ) -> Result<(), TrainError> {
        self.grad_norms.0 += grad_norm;
        self.grad_norms.1 += 1;
        if !due {
            return Ok(());
        }
        let mut values = vec![
            ("step/loss", loss),
            ("step/grad_norm", grad_norm),
            ("step/learning_rate", learning_rate),
        ];
        if let Some(e) = error {
            values.push(("step/error", e));
        }
        self.writer.add_scalars(step as i64, &values).map_err(io)
    }

    /// Logs an epoch's figures at step `m.epoch`.
    pub(crate) fn epoch(&mut self, m: &EpochMetrics) -> Result<(), TrainError> {
        let mut values: Vec<(String, f64)> = vec![
            ("train/loss".into(), m.train_loss),
            ("epoch/learning_rate".into(), m.learning_rate),
            ("epoch/examples_per_second".into(), m.examples_per_second),
            ("epoch/seconds".into(), m.seconds),
        ];
        let (sum, n) = std::mem::take(&mut self.grad_norms);
        if n > 0 {
            values.push(("epoch/grad_norm".into(), sum / n as f64));
        }
        let optional = [
            ("train/error", m.train_error),
            ("val/loss", m.val_loss),
            ("val/error", m.val_error),
            ("epoch/stage", m.stage.map(|s| s as f64)),
        ];
        values.extend(
            optional
                .iter()
                .filter_map(|(t, v)| v.map(|v| (t.to_string(), v))),
        );
        for (name, &v) in &m.metrics {
            let tag = match name.strip_prefix("val_") {
                Some(rest) => format!("val/{rest}"),
                None => format!("train/{name}"),
            };
            values.push((tag, v));
        }
        let refs: Vec<(&str, f64)> = values.iter().map(|(t, v)| (t.as_str(), *v)).collect();
        self.writer.add_scalars(m.epoch as i64, &refs).map_err(io)
    }

    /// Logs histograms of every parameter and of its gradient in `grads` at `epoch`.
    pub(crate) fn histograms(
        &mut self,
        epoch: usize,
        params: &[(String, &Param)],
        grads: &Grads,
    ) -> Result<(), TrainError> {
        for (name, p) in params {
            let values = p.value().to_vec();
            self.writer
                .add_histogram(
                    &format!("params/{name}"),
                    values.iter().map(|&x| f64::from(x)),
                    epoch as i64,
                )
                .map_err(io)?;
            if let Some(g) = grads.get(p) {
                let values = g.to_vec();
                self.writer
                    .add_histogram(
                        &format!("grads/{name}"),
                        values.iter().map(|&x| f64::from(x)),
                        epoch as i64,
                    )
                    .map_err(io)?;
            }
        }
        Ok(())
    }

    /// Logs `images` at `epoch`.
    pub(crate) fn images(
        &mut self,
        epoch: usize,
        images: &[(String, Image)],
    ) -> Result<(), TrainError> {
        for (tag, image) in images {
            self.writer
                .add_image(tag, image, epoch as i64)
                .map_err(io)?;
        }
        Ok(())
    }

    /// Writes everything buffered and syncs the file (after every epoch, so TensorBoard shows
    /// it and a crash loses nothing of a completed epoch).
    pub(crate) fn flush(&mut self) -> Result<(), TrainError> {
        self.writer.flush().map_err(io)
    }

    /// Records how `fit` ended and flushes.
    pub(crate) fn finish(&mut self, status: RunStatus) -> Result<(), TrainError> {
        self.writer.end_run(status).map_err(io)?;
        self.flush()
    }
}
