//! [`TrainerConfig`]: the settings of the training loop.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// Settings of a [`Trainer`](crate::Trainer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainerConfig {
    /// Passes over the training set (per stage, for a multi-stage step such as a layer-wise
    /// schedule: each layer gets `epochs` epochs).
    pub epochs: usize,
    /// Examples per optimizer step.
    pub batch_size: usize,
    /// Seed of the example order and of every random stream of the model (epoch `e`, counted
    /// over the whole run, uses streams derived from `(seed, e)`, so a resumed run repeats an
    /// uninterrupted one).
    pub seed: u64,
    /// Drop the last incomplete batch of each epoch.
    pub drop_last: bool,
    /// How inputs reach the model: as the dataset shapes them (`[N, 1, 28, 28]`) or flattened
    /// (`[N, 784]`).
    pub flatten_inputs: bool,
    /// Rescale gradients whose global L2 norm exceeds this.
    pub clip_grad_norm: Option<f64>,
    /// Stop (the current stage) when the validation error — or the validation loss, for a
    /// learner without an error rate — has not improved for this many epochs.
    pub early_stopping_patience: Option<u64>,
    /// Where to write `last.ckpt` (every `checkpoint_every` epochs and at the end) and
    /// `best.ckpt` (lowest validation error, or loss, within the stage).
    pub checkpoint_dir: Option<PathBuf>,
    /// Epochs between periodic checkpoints (1 = every epoch).
    pub checkpoint_every: usize,
    /// Where to write `history.csv` and `learning_curves.png`, redrawn after every epoch.
    pub log_dir: Option<PathBuf>,
    /// Where to write the TensorBoard event files of the run (see
    /// [`Trainer`](crate::Trainer)'s TensorBoard section); `None` writes none.
    #[serde(default)]
    pub tensorboard_dir: Option<PathBuf>,
    /// Epochs between histograms of the parameters and gradients in the TensorBoard log
    /// (0: none).
    #[serde(default = "one")]
    pub histogram_every: usize,
    /// Optimizer steps between per-step scalars in the TensorBoard log.
    #[serde(default = "one")]
    pub step_scalars_every: usize,
    /// Examples per batch of validation and evaluation passes.
    pub eval_batch_size: usize,
    /// Print progress to stderr — default `true` ([`TrainerConfig::new`]): a live bar during
    /// each epoch on a terminal, one line per finished epoch (its loss in the step's own unit,
    /// error rates, metrics, time, speed and learning rate) and a line when early stopping
    /// ends a stage. This progress is the only output the library prints itself; warnings go
    /// through the `log` facade (see ARCHITECTURE.md). `false` trains quietly.
    pub verbose: bool,
}

fn one() -> usize {
    1
}

impl TrainerConfig {
    /// `epochs` passes in batches of `batch_size`, seed 0, verbose, no checkpoints, no logs,
    /// evaluation in batches of 1000.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        TrainerConfig {
            epochs,
            batch_size,
            seed: 0,
            drop_last: false,
            flatten_inputs: false,
            clip_grad_norm: None,
            early_stopping_patience: None,
            checkpoint_dir: None,
            checkpoint_every: 1,
            log_dir: None,
            tensorboard_dir: None,
            histogram_every: 1,
            step_scalars_every: 1,
            eval_batch_size: 1000,
            verbose: true,
        }
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Delivers inputs flattened to `[N, features]` (`true`) or as the dataset shapes them.
    pub fn with_flatten_inputs(mut self, flatten: bool) -> Self {
        self.flatten_inputs = flatten;
        self
    }

    /// Drops (`true`) or keeps the last incomplete batch of each epoch.
    pub fn with_drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Rescales gradients whose global L2 norm exceeds `max_norm`.
    pub fn with_clip_grad_norm(mut self, max_norm: f64) -> Self {
        self.clip_grad_norm = Some(max_norm);
        self
    }

    /// Stops a stage after `patience` epochs without a better validation figure.
    pub fn with_early_stopping(mut self, patience: u64) -> Self {
        self.early_stopping_patience = Some(patience);
        self
    }

    /// Writes checkpoints into `dir` every `every` epochs (and at the end).
    pub fn with_checkpoints(mut self, dir: impl Into<PathBuf>, every: usize) -> Self {
        self.checkpoint_dir = Some(dir.into());
        self.checkpoint_every = every;
        self
    }

    /// Writes `history.csv` and `learning_curves.png` into `dir` after every epoch.
    pub fn with_log_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.log_dir = Some(dir.into());
        self
    }

    /// Writes a TensorBoard log of the run into `dir` (a run's folder: point TensorBoard at
    /// its parent): per-step and per-epoch scalars, histograms, images, configuration and
    /// hyper-parameters. In addition to `log_dir`'s CSV and PNG.
    pub fn with_tensorboard(mut self, dir: impl Into<PathBuf>) -> Self {
        self.tensorboard_dir = Some(dir.into());
        self
    }

    /// Logs histograms of the parameters and gradients every `epochs` epochs (0: never).
    pub fn with_histogram_every(mut self, epochs: usize) -> Self {
        self.histogram_every = epochs;
        self
    }

    /// Logs the per-step scalars every `steps` optimizer steps.
    pub fn with_step_scalars_every(mut self, steps: usize) -> Self {
        self.step_scalars_every = steps;
        self
    }

    /// Sets the batch size of validation and evaluation passes.
    pub fn with_eval_batch_size(mut self, batch_size: usize) -> Self {
        self.eval_batch_size = batch_size;
        self
    }

    /// Prints progress to stderr (`true`, the default; see [`TrainerConfig::verbose`]) or
    /// trains quietly.
    pub fn with_verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`TrainError::Config`] naming the first invalid setting.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |what: String| Err(TrainError::Config(what));
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch size must be at least 1".into());
        }
        if self.eval_batch_size == 0 {
            return bad("eval_batch_size must be at least 1".into());
        }
        if self.step_scalars_every == 0 {
            return bad("step_scalars_every must be at least 1".into());
        }
        if self.checkpoint_every == 0 {
            return bad("checkpoint_every must be at least 1".into());
        }
        if let Some(c) = self.clip_grad_norm
            && !(c > 0.0 && c.is_finite())
        {
            return bad(format!(
                "clip_grad_norm must be positive and finite, got {c}"
            ));
        }
        Ok(())
    }
}
