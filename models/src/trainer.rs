//! The [`Trainer`]: mini-batch training with progress, history, checkpoints and evaluation.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use strata_autograd::{CrossEntropyOptions, Grads, Param, Var, no_grad};
use strata_datasets::{DataLoader, Dataset, InputLayout, LabelFormat, Target, TargetSpec};
use strata_layers::checkpoint::{ModuleState, read_checkpoint, write_checkpoint};
use strata_layers::{Module, child_seed, loss};
use strata_optim::{EarlyStopping, LrSchedule, Optimizer, OptimizerState, clip_grad_norm};
use strata_tensor::{Indices, Tensor};

use crate::TrainError;
use crate::metrics::ConfusionMatrix;
use crate::plot::{EpochMetrics, History};

/// What the network's output is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Softmax cross-entropy of logits `[N, C]` against class indices.
    CrossEntropy,
    /// The DeepLearnToolbox squared error `½·Σ(y − t)²/N` against one-hot targets (for
    /// sigmoid outputs).
    HalfSse,
    /// Mean squared error against one-hot targets.
    Mse,
}

impl Objective {
    /// The loss of `output` for a batch with class `labels`.
    fn loss(self, output: &Var, labels: &[usize]) -> Var {
        match self {
            Objective::CrossEntropy => {
                output.cross_entropy(labels, &CrossEntropyOptions::default())
            }
            Objective::HalfSse | Objective::Mse => {
                let classes = output.shape()[output.ndim() - 1];
                let target = Var::constant(Tensor::one_hot(&Indices::from_slice(labels), classes));
                if self == Objective::HalfSse {
                    loss::half_sse(output, &target)
                } else {
                    output.mse_loss(&target, Default::default())
                }
            }
        }
    }
}

/// Settings of a [`Trainer`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainerConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per optimizer step.
    pub batch_size: usize,
    /// Seed of the example order and of every dropout stream (epoch `e` uses streams derived
    /// from `(seed, e)`, so a resumed run repeats an uninterrupted one).
    pub seed: u64,
    /// Drop the last incomplete batch of each epoch.
    pub drop_last: bool,
    /// How inputs reach the model: as the dataset shapes them (`[N, 1, 28, 28]`) or flattened
    /// (`[N, 784]`).
    pub flatten_inputs: bool,
    /// Rescale gradients whose global L2 norm exceeds this.
    pub clip_grad_norm: Option<f64>,
    /// Stop when the validation error has not improved for this many epochs.
    pub early_stopping_patience: Option<u64>,
    /// Where to write `last.ckpt` (every `checkpoint_every` epochs and at the end) and
    /// `best.ckpt` (lowest validation error).
    pub checkpoint_dir: Option<PathBuf>,
    /// Epochs between periodic checkpoints (1 = every epoch).
    pub checkpoint_every: usize,
    /// Print progress (a live bar on a terminal, one line per epoch otherwise) to stderr.
    pub verbose: bool,
}

impl TrainerConfig {
    /// `epochs` passes in batches of `batch_size`, seed 0, verbose, no checkpoints.
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
            verbose: true,
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        let bad = |what: String| Err(TrainError::Config(what));
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch size must be at least 1".into());
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

/// The result of [`Trainer::evaluate`].
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Mean loss per example.
    pub loss: f64,
    /// Fraction classified correctly (argmax of the output).
    pub accuracy: f64,
    /// Counts of (predicted, true) pairs.
    pub confusion: ConfusionMatrix,
}

impl Evaluation {
    /// `1 − accuracy`.
    pub fn error(&self) -> f64 {
        1.0 - self.accuracy
    }
}

/// Everything needed to resume training, as written to a checkpoint.
#[derive(Serialize, Deserialize)]
pub struct TrainingState {
    /// A name of the model's architecture; a checkpoint of another model is refused.
    pub model_kind: String,
    /// Parameters and buffers.
    pub model: ModuleState,
    /// The optimizer's buffers and step count, by parameter position.
    pub optimizer: OptimizerState,
    /// Epochs completed.
    pub epoch: usize,
    /// The run's seed.
    pub seed: u64,
    /// Metrics of the completed epochs.
    pub history: History,
    /// The settings, as JSON (for the record).
    pub config_json: String,
}

/// A hook run on the gradients before the optimizer step (e.g. an L2 penalty on weights but
/// not biases, as the DeepLearnToolbox applies it).
pub type GradHook = Box<dyn FnMut(&mut Grads, &[(String, &Param)])>;

/// Trains a classifier `M` with optimizer `O` on a [`Dataset`]: shuffled mini-batches, one
/// optimizer step per batch, metrics per epoch, optional validation, learning-rate schedule,
/// gradient clipping, early stopping and resumable checkpoints. A non-finite loss stops
/// training with [`TrainError::NonFinite`] naming the epoch and batch; checkpoints are written
/// only after an epoch completes, so the last good one is kept.
pub struct Trainer<M, O> {
    /// The model being trained.
    pub model: M,
    /// Its optimizer.
    pub optimizer: O,
    config: TrainerConfig,
    objective: Objective,
    schedule: Option<Box<dyn LrSchedule>>,
    grad_hook: Option<GradHook>,
    model_kind: String,
    history: History,
    epochs_done: usize,
}

impl<M: Module, O: Optimizer> Trainer<M, O> {
    /// A trainer for `model` named `model_kind` (stored in checkpoints).
    ///
    /// # Errors
    /// [`TrainError::Config`] for zero epochs or batch size and other invalid settings.
    pub fn new(
        model: M,
        optimizer: O,
        objective: Objective,
        config: TrainerConfig,
        model_kind: &str,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        Ok(Trainer {
            model,
            optimizer,
            config,
            objective,
            schedule: None,
            grad_hook: None,
            model_kind: model_kind.to_string(),
            history: History::default(),
            epochs_done: 0,
        })
    }

    /// Sets the learning rate of epoch `e` (0-based) to `schedule.lr(e)`.
    pub fn with_schedule(mut self, schedule: impl LrSchedule + 'static) -> Self {
        self.schedule = Some(Box::new(schedule));
        self
    }

    /// Runs `hook` on every step's gradients before clipping and the optimizer step.
    pub fn with_grad_hook(
        mut self,
        hook: impl FnMut(&mut Grads, &[(String, &Param)]) + 'static,
    ) -> Self {
        self.grad_hook = Some(Box::new(hook));
        self
    }

    /// The settings.
    pub fn config(&self) -> &TrainerConfig {
        &self.config
    }

    /// The settings, to adjust before [`Trainer::fit`] (e.g. a checkpoint folder).
    pub fn config_mut(&mut self) -> &mut TrainerConfig {
        &mut self.config
    }

    /// Metrics of every completed epoch.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Epochs completed (including those restored by [`Trainer::resume`]).
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Trains until `config.epochs` epochs are done (continuing after a resume), validating on
    /// `validation` after each epoch if given. Returns the history.
    ///
    /// # Errors
    /// [`TrainError::Config`] for invalid settings; [`TrainError::NonFinite`] when a loss is NaN
    /// or infinite; [`TrainError::Checkpoint`] when a checkpoint cannot be written.
    pub fn fit<D: Dataset + 'static>(
        &mut self,
        train: Arc<D>,
        validation: Option<&D>,
    ) -> Result<&History, TrainError> {
        self.config.validate()?;
        let mut stopper = match self.config.early_stopping_patience {
            Some(p) => Some(
                EarlyStopping::new(strata_optim::Mode::Min, p, 0.0)
                    .map_err(|e| TrainError::Config(e.to_string()))?,
            ),
            None => None,
        };
        // Replay the restored history so early stopping continues where it was.
        if let Some(s) = &mut stopper {
            for m in self.history.iter() {
                if let Some(v) = m.val_error {
                    s.update(m.epoch as u64, v);
                }
            }
        }
        let mut best_val = self
            .history
            .iter()
            .filter_map(|m| m.val_error)
            .fold(f64::INFINITY, f64::min);
        while self.epochs_done < self.config.epochs {
            let epoch = self.epochs_done;
            let metrics = self.train_epoch(&train, epoch)?;
            let mut metrics = metrics;
            if let Some(val) = validation {
                let e = self.evaluate(val, 1000);
                metrics.val_loss = Some(e.loss);
                metrics.val_error = Some(e.error());
            }
            self.epochs_done += 1;
            self.report_epoch(&metrics);
            let val_error = metrics.val_error;
            self.history.push(metrics);
            if let Some(dir) = self.config.checkpoint_dir.clone() {
                if self
                    .epochs_done
                    .is_multiple_of(self.config.checkpoint_every)
                    || self.epochs_done == self.config.epochs
                {
                    self.save_checkpoint(&dir.join("last.ckpt"))?;
                }
                if let Some(v) = val_error
                    && v < best_val
                {
                    self.save_checkpoint(&dir.join("best.ckpt"))?;
                }
            }
            if let Some(v) = val_error {
                best_val = best_val.min(v);
                if let Some(s) = &mut stopper
                    && s.update(epoch as u64 + 1, v).should_stop()
                {
                    if self.config.verbose {
                        eprintln!(
                            "early stopping after epoch {}: no improvement for {} epochs",
                            epoch + 1,
                            self.config.early_stopping_patience.unwrap_or(0)
                        );
                    }
                    break;
                }
            }
        }
        Ok(&self.history)
    }

    fn loader<D: Dataset + 'static>(
        &self,
        data: Arc<D>,
        batch_size: usize,
        epoch_seed: Option<u64>,
        drop_last: bool,
    ) -> DataLoader<D> {
        let mut loader = DataLoader::from_arc(data, batch_size)
            .drop_last(drop_last)
            .labels(LabelFormat::Indices);
        if self.config.flatten_inputs {
            loader = loader.layout(InputLayout::Flat);
        }
        if let Some(seed) = epoch_seed {
            loader = loader.shuffle(seed);
        }
        loader
    }

    fn train_epoch<D: Dataset + 'static>(
        &mut self,
        train: &Arc<D>,
        epoch: usize,
    ) -> Result<EpochMetrics, TrainError> {
        let lr = match &self.schedule {
            Some(s) => {
                let lr = s.lr(epoch as u64);
                self.optimizer.set_learning_rate(lr);
                lr
            }
            None => self.optimizer.learning_rate(),
        };
        let epoch_seed = child_seed(self.config.seed, epoch as u64);
        self.model.train();
        self.model.reseed(child_seed(epoch_seed, 1));
        let mut loader = self.loader(
            train.clone(),
            self.config.batch_size,
            Some(epoch_seed),
            self.config.drop_last,
        );
        let batches = loader.len();
        let bar = self.progress_bar(epoch, batches);
        let start = Instant::now();
        let (mut loss_sum, mut seen, mut correct) = (0.0f64, 0usize, 0usize);
        for (b, batch) in loader.iter().enumerate() {
            let n = batch.len();
            let output = self.model.forward(&Var::constant(batch.inputs));
            let loss = self.objective.loss(&output, &batch.labels);
            let value = loss.item() as f64;
            if !value.is_finite() {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                return Err(TrainError::NonFinite {
                    epoch: epoch + 1,
                    batch: b + 1,
                    loss: value,
                });
            }
            correct += crate::metrics::argmax_rows(output.value())
                .iter()
                .zip(&batch.labels)
                .filter(|(p, l)| p == l)
                .count();
            drop(output);
            let mut grads = loss.backward();
            drop(loss);
            if let Some(hook) = &mut self.grad_hook {
                hook(&mut grads, &self.model.params());
            }
            if let Some(max) = self.config.clip_grad_norm {
                clip_grad_norm(&mut grads, max);
            }
            let mut params: Vec<&mut Param> = self
                .model
                .params_mut()
                .into_iter()
                .map(|(_, p)| p)
                .collect();
            self.optimizer.step(&mut params, &grads);
            loss_sum += value * n as f64;
            seen += n;
            if let Some(bar) = &bar {
                bar.inc(1);
                if b % 10 == 0 || b + 1 == batches {
                    let secs = start.elapsed().as_secs_f64().max(1e-9);
                    bar.set_message(format!(
                        "loss {:.4}  acc {:.2}%  {:.0} ex/s",
                        loss_sum / seen as f64,
                        100.0 * correct as f64 / seen as f64,
                        seen as f64 / secs
                    ));
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let seconds = start.elapsed().as_secs_f64();
        let seen_f = seen.max(1) as f64;
        Ok(EpochMetrics {
            epoch: epoch + 1,
            train_loss: loss_sum / seen_f,
            train_error: Some(1.0 - correct as f64 / seen_f),
            val_loss: None,
            val_error: None,
            seconds,
            examples_per_second: seen as f64 / seconds.max(1e-9),
            learning_rate: lr,
        })
    }

    fn progress_bar(&self, epoch: usize, batches: usize) -> Option<indicatif::ProgressBar> {
        if !(self.config.verbose && std::io::stderr().is_terminal()) {
            return None;
        }
        let bar = indicatif::ProgressBar::new(batches as u64);
        let style = indicatif::ProgressStyle::with_template(&format!(
            "epoch {}/{} [{{bar:30}}] {{pos}}/{{len}} {{msg}} eta {{eta}}",
            epoch + 1,
            self.config.epochs
        ))
        .expect("valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        Some(bar)
    }

    fn report_epoch(&self, m: &EpochMetrics) {
        if !self.config.verbose {
            return;
        }
        let val = match (m.val_loss, m.val_error) {
            (Some(l), Some(e)) => format!("  val loss {l:.4}  val error {:.2}%", 100.0 * e),
            _ => String::new(),
        };
        eprintln!(
            "epoch {}/{}: loss {:.4}  train error {:.2}%{val}  {:.2}s  {:.0} ex/s  lr {}",
            m.epoch,
            self.config.epochs,
            m.train_loss,
            100.0 * m.train_error.unwrap_or(f64::NAN),
            m.seconds,
            m.examples_per_second,
            m.learning_rate
        );
    }

    /// Loss, accuracy and confusion matrix of the model on `data` (evaluation mode, no graph),
    /// in batches of `batch_size`.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    pub fn evaluate<D: Dataset + 'static>(&mut self, data: &D, batch_size: usize) -> Evaluation {
        evaluate(
            &mut self.model,
            data,
            batch_size,
            self.objective,
            self.config.flatten_inputs,
        )
    }

    /// Writes the full training state (model, optimizer, epoch, seed, history) to `path`
    /// atomically.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] if the file cannot be written.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), TrainError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| TrainError::Io(format!("creating {}: {e}", dir.display())))?;
        }
        let named = self.model.params();
        let params: Vec<&Param> = named.iter().map(|(_, p)| *p).collect();
        let state = TrainingState {
            model_kind: self.model_kind.clone(),
            model: ModuleState::capture(&self.model),
            optimizer: self.optimizer.state(&params),
            epoch: self.epochs_done,
            seed: self.config.seed,
            history: self.history.clone(),
            config_json: serde_json::to_string(&self.config).unwrap_or_default(),
        };
        write_checkpoint(path, &state).map_err(TrainError::Checkpoint)
    }

    /// Restores model, optimizer, epoch count, seed and history from a checkpoint written by
    /// [`Trainer::save_checkpoint`]; [`Trainer::fit`] then continues with the next epoch and
    /// the same random streams as an uninterrupted run.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] for an unreadable or corrupt file or one whose parameters do
    /// not fit the model; [`TrainError::WrongModel`] for a checkpoint of another model. The
    /// trainer is unchanged on error.
    pub fn resume(&mut self, path: &Path) -> Result<(), TrainError> {
        let state: TrainingState = read_checkpoint(path).map_err(TrainError::Checkpoint)?;
        if state.model_kind != self.model_kind {
            return Err(TrainError::WrongModel {
                path: path.to_path_buf(),
                found: state.model_kind,
                expected: self.model_kind.clone(),
            });
        }
        // Weights first (validated before anything is written), then the optimizer state; if
        // the latter is refused, the previous weights are put back so nothing has changed.
        let previous = ModuleState::capture(&self.model);
        state
            .model
            .apply(&mut self.model)
            .map_err(|e| TrainError::Checkpoint(e.with_path(path)))?;
        let named = self.model.params();
        let params: Vec<&Param> = named.iter().map(|(_, p)| *p).collect();
        let loaded = self.optimizer.load_state(&params, &state.optimizer);
        drop(named);
        if let Err(e) = loaded {
            previous
                .apply_owned(&mut self.model)
                .expect("the model's own state fits it");
            return Err(TrainError::Optimizer(format!("{}: {e}", path.display())));
        }
        self.epochs_done = state.epoch;
        self.config.seed = state.seed;
        self.history = state.history;
        Ok(())
    }
}

/// Loss, accuracy and confusion matrix of `model` on `data` under `objective`, in evaluation
/// mode without recording a graph.
///
/// # Panics
/// If `batch_size` is 0.
pub fn evaluate<M: Module + ?Sized, D: Dataset + 'static>(
    model: &mut M,
    data: &D,
    batch_size: usize,
    objective: Objective,
    flatten_inputs: bool,
) -> Evaluation {
    assert!(batch_size > 0, "evaluate: batch size must be at least 1");
    model.eval();
    let classes = match data.target_spec() {
        TargetSpec::Classes(c) => c,
        TargetSpec::Values(_) => {
            panic!("evaluate: the dataset has real-valued targets, not classes")
        }
    };
    let example_shape = data.input_shape();
    let features: usize = example_shape.iter().product();
    let mut confusion = ConfusionMatrix::new(classes.max(1));
    let (mut loss_sum, mut seen) = (0.0f64, 0usize);
    let mut start = 0;
    while start < data.len() {
        let end = (start + batch_size).min(data.len());
        let mut inputs = vec![0.0f32; (end - start) * features];
        let mut labels = Vec::with_capacity(end - start);
        for (i, row) in (start..end).zip(inputs.chunks_exact_mut(features.max(1))) {
            match data.get_into(i, row) {
                Target::Class(c) => labels.push(c),
                Target::Values(_) => panic!("evaluate: example {i} has a real-valued target"),
            }
        }
        let mut shape = vec![end - start];
        if flatten_inputs {
            shape.push(features);
        } else {
            shape.extend(&example_shape);
        }
        let x = Var::constant(Tensor::from_vec(inputs, &shape));
        let (output, loss) = no_grad(|| {
            let output = model.forward(&x);
            let loss = objective.loss(&output, &labels).item() as f64;
            (output, loss)
        });
        for (p, &l) in crate::metrics::argmax_rows(output.value())
            .iter()
            .zip(&labels)
        {
            confusion.add(*p, l);
        }
        loss_sum += loss * (end - start) as f64;
        seen += end - start;
        start = end;
    }
    model.train();
    Evaluation {
        loss: loss_sum / seen.max(1) as f64,
        accuracy: confusion.accuracy(),
        confusion,
    }
}
