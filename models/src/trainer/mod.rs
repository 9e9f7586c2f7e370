//! The [`Trainer`]: the one training loop every learner runs through.
//!
//! Per epoch the loop draws the example order from `(seed, epoch)`, reseeds the model's random
//! streams, and for each mini-batch asks the [`Step`] for loss, gradients and metrics, watches
//! the loss for NaN/Inf, runs the gradient hook and clipping, and steps the optimizer. After the
//! epoch it validates, records [`EpochMetrics`] in the [`History`], prints, redraws the logs,
//! writes checkpoints and consults early stopping. A multi-stage step (a layer-wise schedule)
//! runs `epochs` epochs per stage, each stage on its own data and with a fresh optimizer
//! state; a checkpoint records the stage and the epoch within it.

mod checkpoint;
mod config;
mod evaluate;
mod progress;
mod tally;
mod tensorboard;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param};
use strata_datasets::{ArrayDataset, DataLoader, Dataset, InputLayout, LabelFormat};
use strata_distributed::{Communicator, GradReducer, SingleProcess, broadcast_tensors};
use strata_layers::{Module, child_seed};
use strata_optim::{EarlyStopping, LrSchedule, Optimizer, clip_grad_norm};
use strata_tensorboard::{HParams, Image, RunStatus};

pub use checkpoint::{TrainingState, load_model};
pub use config::TrainerConfig;
pub use evaluate::{Evaluation, Validation, evaluate};

use crate::history::{EpochMetrics, History};
use crate::plot::plot_learning_curves;
use crate::preprocessing::Preprocessing;
use crate::step::{Step, StepOutput};
use crate::{Objective, TrainError};
use progress::{Progress, epoch_line};
use tally::Tally;
use tensorboard::TensorBoardLog;

/// A hook run on the gradients before clipping and the optimizer step (e.g. an L2 penalty on
/// weights but not biases, as the DeepLearnToolbox applies it).
pub type GradHook = Box<dyn FnMut(&mut Grads, &[(String, &Param)])>;

/// A hook run on the optimizer before every epoch, given the run's [`Position`]: a schedule of
/// a hyper-parameter other than the learning rate (Hinton's momentum 0.5 → 0.9).
pub type EpochHook<O> = Box<dyn FnMut(&mut O, Position)>;

/// A hook run after every epoch when a TensorBoard log is written: the images to log (sample
/// grids, filters, reconstructions) as `(tag, image)`, given the model and the run's
/// [`Position`].
pub type ImageHook<M> = Box<dyn FnMut(&M, Position) -> Vec<(String, Image)>>;

/// Where a run stands: the stage (0-based; the layer of a layer-wise schedule, 0 for a
/// single-stage step) and the epochs completed within it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The current stage.
    pub stage: usize,
    /// Epochs completed in the current stage.
    pub epoch: usize,
}

/// Trains model `M` with optimizer `O`, one [`Step`] `S` per mini-batch (by default a
/// supervised [`Objective`]): shuffled mini-batches, one optimizer step per batch, metrics per
/// epoch, optional validation, learning-rate schedule, gradient clipping, early stopping,
/// resumable checkpoints and learning-curve logs. A non-finite loss (or metric) stops training
/// with [`TrainError::NonFinite`] naming the epoch and batch; checkpoints are written only after an
/// epoch completes, so the last good one is kept.
///
/// ```
/// use std::sync::Arc;
/// use strata_datasets::synthetic;
/// use strata_models::{Mlp, MlpConfig, Objective, Trainer, TrainerConfig};
/// use strata_optim::SgdConfig;
///
/// let data = Arc::new(synthetic::two_spirals(100, 0.05, 1));
/// let model = Mlp::new(&MlpConfig::new(&[2, 16, 2]));
/// let optimizer = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap();
/// let config = TrainerConfig::new(3, 20).with_verbose(false);
/// let mut trainer = Trainer::new(model, optimizer, Objective::CrossEntropy, config, "mlp").unwrap();
/// let history = trainer.fit(data, None).unwrap();
/// assert_eq!(history.len(), 3);
/// ```
///
/// # TensorBoard
/// With [`TrainerConfig::with_tensorboard`] rank 0 also writes a TensorBoard log of the run:
/// per-step loss, error, gradient norm and learning rate; per-epoch training and validation
/// figures, throughput and learning rate; histograms of every parameter and gradient every
/// [`TrainerConfig::histogram_every`] epochs; the images of [`Trainer::with_images`]; the
/// configuration as text and the hyper-parameters ([`Trainer::with_hparams`] plus the
/// trainer's own) for the HParams dashboard. The file is synced after every epoch. A resumed
/// run continues the same log: what was logged after the checkpoint's epoch is removed before
/// the run logs those epochs again, so no step appears twice. The tags and steps are listed
/// in the source of `trainer/tensorboard.rs`.
pub struct Trainer<M, O, S = Objective> {
    /// The model being trained.
    pub model: M,
    /// Its optimizer.
    pub optimizer: O,
    /// What one mini-batch does.
    pub step: S,
    config: TrainerConfig,
    schedule: Option<Box<dyn LrSchedule>>,
    grad_hook: Option<GradHook>,
    epoch_hook: Option<EpochHook<O>>,
    image_hook: Option<ImageHook<M>>,
    hparams: HParams,
    tensorboard: Option<TensorBoardLog>,
    /// The gradients of the last step of the epoch, kept when histograms are due.
    last_grads: Option<Grads>,
    model_kind: String,
    preprocessing: Option<Preprocessing>,
    history: History,
    position: Position,
    epochs_done: usize,
    comm: Box<dyn Communicator>,
    reducer: GradReducer,
}

/// The data one stage trains and validates on: the caller's, or the step's stand-in for it.
struct StageData {
    train: Option<Arc<ArrayDataset>>,
    validation: Option<ArrayDataset>,
}

impl<M: Module, O: Optimizer, S: Step<M>> Trainer<M, O, S> {
    /// A trainer of `model` named `model_kind` (stored in checkpoints) with `step`.
    ///
    /// # Errors
    /// [`TrainError::Config`] for zero epochs or batch size and other invalid settings.
    pub fn new(
        model: M,
        optimizer: O,
        step: S,
        config: TrainerConfig,
        model_kind: &str,
    ) -> Result<Self, TrainError> {
        config.validate()?;
        let (mut model, mut step) = (model, step);
        step.prepare(&mut model);
        Ok(Trainer {
            model,
            optimizer,
            step,
            config,
            schedule: None,
            grad_hook: None,
            epoch_hook: None,
            image_hook: None,
            hparams: HParams::new(),
            tensorboard: None,
            last_grads: None,
            model_kind: model_kind.to_string(),
            preprocessing: None,
            history: History::default(),
            position: Position::default(),
            epochs_done: 0,
            comm: Box::new(SingleProcess),
            reducer: GradReducer::new(),
        })
    }

    /// Trains data-parallel over the ranks of `comm` (see `strata_distributed`): every rank
    /// runs the same program with the same settings; `config.batch_size` is the global batch,
    /// split over the ranks. At the start of [`Trainer::fit`] rank 0's parameters and buffers
    /// are broadcast; every epoch each rank takes its share of every global batch of the same
    /// seeded order, and after each step the gradients are averaged over the ranks (weighted
    /// by their examples), so every rank takes the same optimizer step. Metrics and validation
    /// (sharded) are reduced over the ranks; only rank 0 prints, writes logs and writes
    /// checkpoints, whose state does not depend on the number of ranks: a run resumes on any
    /// number of them (every rank reads the checkpoint, so it must be visible to all). Every
    /// rank reseeds the model's random streams alike each epoch (as PyTorch DDP ranks share a
    /// seed); draws keyed by example (RBM contrastive divergence) thus equal a single
    /// process's. Buffers (batch-norm statistics) are broadcast from rank 0 after every epoch.
    ///
    /// What the number of ranks changes: the order of the f32 sums of each gradient (results
    /// agree to rounding, about 1e-7 relative per step), and the draws of streams that are not
    /// keyed by example — dropout masks, denoising noise, PCD chains and an RBM's running
    /// sparsity estimate — which each rank draws for its own share of the batch. The data
    /// order, the global batch, the learning-rate schedule and the checkpoints do not change.
    ///
    /// Each rank needs at least one example per step: `batch_size` and the training set must
    /// be at least as large as the number of ranks.
    pub fn with_communicator(mut self, comm: Box<dyn Communicator>) -> Self {
        self.comm = comm;
        self
    }

    /// Records how the inputs were prepared (fitted on the training set, e.g. by
    /// [`crate::data::prepare`]); it is saved in every checkpoint, and
    /// [`load_model`](crate::load_model) hands it back with the weights, so inference in
    /// another program prepares its inputs the same way.
    pub fn with_preprocessing(mut self, preprocessing: Preprocessing) -> Self {
        self.preprocessing = Some(preprocessing);
        self
    }

    /// The preprocessing set by [`Trainer::with_preprocessing`] or restored by
    /// [`Trainer::resume`].
    pub fn preprocessing(&self) -> Option<&Preprocessing> {
        self.preprocessing.as_ref()
    }

    /// The communicator (a world of one unless [`Trainer::with_communicator`] set one).
    pub fn communicator(&self) -> &dyn Communicator {
        &*self.comm
    }

    /// Whether this process prints, plots and checkpoints: rank 0.
    fn is_root(&self) -> bool {
        self.comm.is_root()
    }

    /// Whether this process prints progress.
    fn verbose(&self) -> bool {
        self.config.verbose && self.is_root()
    }

    /// Copies rank 0's parameters (with `params`) and buffers to every rank.
    fn broadcast_state(&mut self, params: bool) {
        if self.comm.size() == 1 {
            return;
        }
        if params {
            let mut values: Vec<&mut strata_tensor::Tensor> = self
                .model
                .params_mut()
                .into_iter()
                .map(|(_, p)| p.value_mut())
                .collect();
            broadcast_tensors(&*self.comm, &mut values, 0);
        }
        let mut buffers: Vec<&mut strata_tensor::Tensor> = self
            .model
            .buffers_mut()
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        broadcast_tensors(&*self.comm, &mut buffers, 0);
    }

    /// Refuses a training set that yields no batch, and settings that leave a rank without
    /// examples.
    fn check_world<D: Dataset>(&self, train: &D) -> Result<(), TrainError> {
        if self.batches_per_epoch(train.len()) == 0 {
            return Err(TrainError::Config(format!(
                "the {} training examples make no complete batch of {} (drop_last is on): an epoch would train on nothing",
                train.len(),
                self.config.batch_size
            )));
        }
        let ranks = self.comm.size();
        if ranks > 1 && self.config.batch_size < ranks {
            return Err(TrainError::Config(format!(
                "the global batch of {} is smaller than the {ranks} ranks (each rank needs at least one example per step)",
                self.config.batch_size
            )));
        }
        if ranks > 1 && train.len() < ranks {
            return Err(TrainError::Config(format!(
                "the training set has {} examples for {ranks} ranks",
                train.len()
            )));
        }
        Ok(())
    }

    /// Sets the learning rate of epoch `e` of each stage (0-based) to `schedule.lr(e)`.
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

    /// Runs `hook` on the optimizer before every epoch (after the learning-rate schedule).
    /// It should depend on the position only, so a resumed run sets the same values.
    pub fn with_epoch_hook(mut self, hook: impl FnMut(&mut O, Position) + 'static) -> Self {
        self.epoch_hook = Some(Box::new(hook));
        self
    }

    /// Adds hyper-parameters to the TensorBoard log's HParams table (beside the trainer's own:
    /// model, optimizer, learning rate, epochs, batch size, seed, ranks, clipping).
    pub fn with_hparams(mut self, hparams: HParams) -> Self {
        self.hparams.merge(&hparams);
        self
    }

    /// Logs the images `hook` returns after every epoch to the TensorBoard log (when one is
    /// written): sample grids, filters, reconstructions.
    pub fn with_images(
        mut self,
        hook: impl FnMut(&M, Position) -> Vec<(String, Image)> + 'static,
    ) -> Self {
        self.image_hook = Some(Box::new(hook));
        self
    }

    /// Logs `images` to the TensorBoard log (on rank 0, when one is written) at the step of the
    /// last completed epoch, and syncs it: pictures made after training, such as the samples
    /// of long Gibbs chains. Does nothing before the first [`Trainer::fit`] or without a log.
    ///
    /// # Errors
    /// [`TrainError::Io`] if the log cannot be written.
    pub fn log_images(&mut self, images: &[(String, Image)]) -> Result<(), TrainError> {
        if let Some(log) = &mut self.tensorboard {
            log.images(self.epochs_done, images)?;
            log.flush()?;
        }
        Ok(())
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

    /// Epochs completed over all stages (including those restored by [`Trainer::resume`]).
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Where the run stands (stage and epoch within it).
    pub fn position(&self) -> Position {
        self.position
    }

    /// Whether [`Trainer::fit`] has nothing left to train: the last stage has run
    /// `config.epochs` epochs (or stopped early). `config.epochs` is the total per stage, so a
    /// trainer resumed from a checkpoint at or past it trains no more until it is raised.
    pub fn is_finished(&self) -> bool {
        let stages = self.step.stages(&self.model);
        self.position.stage + 1 >= stages && self.position.epoch >= self.config.epochs
    }

    /// The model, optimizer and step, ending the trainer.
    pub fn into_parts(self) -> (M, O, S) {
        (self.model, self.optimizer, self.step)
    }

    /// Trains until every stage has run `config.epochs` epochs (continuing after a resume),
    /// validating on `validation` after each epoch if given. Returns the history.
    ///
    /// # Errors
    /// [`TrainError::Config`] for invalid settings; [`TrainError::NonFinite`] when a loss or a
    /// metric is NaN or infinite; [`TrainError::Checkpoint`] or [`TrainError::Io`] when a checkpoint or log
    /// cannot be written.
    pub fn fit<D: Dataset + 'static>(
        &mut self,
        train: Arc<D>,
        validation: Option<&D>,
    ) -> Result<&History, TrainError> {
        self.config.validate()?;
        self.check_world(&*train)?;
        self.open_tensorboard(train.len())?;
        let result = self.run(train, validation);
        if let Some(log) = &mut self.tensorboard {
            let status = match &result {
                Ok(()) => RunStatus::Success,
                Err(_) => RunStatus::Failure,
            };
            let finished = log.finish(status);
            result?;
            finished?;
        } else {
            result?;
        }
        Ok(&self.history)
    }

    /// Optimizer steps per epoch on a training set of `examples`.
    fn batches_per_epoch(&self, examples: usize) -> usize {
        if self.config.drop_last {
            examples / self.config.batch_size
        } else {
            examples.div_ceil(self.config.batch_size)
        }
    }

    /// Opens the TensorBoard log (rank 0, when configured, once per trainer) and logs the
    /// configuration and hyper-parameters.
    fn open_tensorboard(&mut self, examples: usize) -> Result<(), TrainError> {
        let Some(dir) = self.config.tensorboard_dir.clone() else {
            return Ok(());
        };
        if !self.is_root() || self.tensorboard.is_some() {
            return Ok(());
        }
        let steps = (self.epochs_done * self.batches_per_epoch(examples)) as u64;
        let mut log = TensorBoardLog::open(&dir, self.epochs_done, steps)?;
        let c = &self.config;
        let mut hparams = HParams::new()
            .with("model", self.model_kind.as_str())
            .with("optimizer", self.optimizer.kind())
            .with("learning_rate", self.optimizer.learning_rate())
            .with("epochs", c.epochs)
            .with("batch_size", c.batch_size)
            .with("seed", c.seed)
            .with("ranks", self.comm.size());
        if let Some(clip) = c.clip_grad_norm {
            hparams.insert("clip_grad_norm", clip);
        }
        hparams.merge(&self.hparams);
        log.start(&self.config, &hparams)?;
        self.tensorboard = Some(log);
        Ok(())
    }

    /// The epochs of [`Trainer::fit`], after the checks.
    fn run<D: Dataset + 'static>(
        &mut self,
        train: Arc<D>,
        validation: Option<&D>,
    ) -> Result<(), TrainError> {
        self.broadcast_state(true);
        let stages = self.step.stages(&self.model);
        let mut entered = None;
        let mut data = StageData {
            train: None,
            validation: None,
        };
        let mut stopper = None;
        let mut best = f64::INFINITY;
        while self.position.stage < stages {
            let Position { stage, epoch } = self.position;
            if epoch >= self.config.epochs {
                if stage + 1 == stages {
                    break; // done (a later `fit` with more epochs continues from here)
                }
                self.position = Position {
                    stage: stage + 1,
                    epoch: 0,
                };
                continue;
            }
            if entered != Some(stage) {
                entered = Some(stage);
                data = self.enter_stage(stage, epoch == 0, &train, validation);
                (stopper, best) = self.stage_watch(stage)?;
                if stopper
                    .as_ref()
                    .is_some_and(|s: &EarlyStopping| s.should_stop())
                {
                    // A resumed run that had already stopped this stage early.
                    self.position.epoch = self.config.epochs;
                    continue;
                }
            }
            let mut metrics = match &data.train {
                Some(codes) => self.train_epoch(codes.clone(), stages)?,
                None => self.train_epoch(train.clone(), stages)?,
            };
            if let Some(val) = validation {
                let v = match &data.validation {
                    Some(codes) => self.validate(codes),
                    None => self.validate(val),
                };
                metrics.val_loss = Some(v.loss);
                metrics.val_error = v.error;
                metrics
                    .metrics
                    .extend(v.metrics.into_iter().map(|(k, v)| (format!("val_{k}"), v)));
            }
            self.broadcast_state(false);
            self.position.epoch += 1;
            self.epochs_done += 1;
            if self.verbose() {
                eprintln!(
                    "{}",
                    epoch_line(&self.label(stages, self.position.epoch), &metrics)
                );
            }
            let watched = metrics.val_error.or(metrics.val_loss);
            self.log_epoch(&metrics)?;
            self.history.push(metrics);
            self.write_logs()?;
            self.write_checkpoints(stages, watched.filter(|&v| v < best))?;
            if let Some(v) = watched {
                best = best.min(v);
                if let Some(s) = &mut stopper
                    && s.update(self.position.epoch as u64, v).should_stop()
                {
                    if self.verbose() {
                        eprintln!(
                            "early stopping after {}: no improvement for {} epochs",
                            self.label(stages, self.position.epoch),
                            self.config.early_stopping_patience.unwrap_or(0)
                        );
                    }
                    self.position.epoch = self.config.epochs;
                }
            }
        }
        Ok(())
    }

    /// Whether the epoch that completes `epochs_done + 1` logs histograms.
    fn histograms_due(&self) -> bool {
        self.tensorboard.is_some()
            && self.config.histogram_every > 0
            && (self.epochs_done + 1).is_multiple_of(self.config.histogram_every)
    }

    /// Logs a completed epoch to the TensorBoard log: its figures, the histograms when due
    /// and the image hook's images; then syncs the file.
    fn log_epoch(&mut self, metrics: &EpochMetrics) -> Result<(), TrainError> {
        let Some(log) = &mut self.tensorboard else {
            return Ok(());
        };
        log.epoch(metrics)?;
        if let Some(grads) = self.last_grads.take() {
            log.histograms(metrics.epoch, &self.model.params(), &grads)?;
        }
        if let Some(hook) = &mut self.image_hook {
            let images = hook(&self.model, self.position);
            log.images(metrics.epoch, &images)?;
        }
        log.flush()
    }

    /// Enters `stage`: tells the step, builds the stage's data and, at a fresh start of the
    /// stage, lets the step initialise from the data and resets the optimizer (stages after
    /// the first).
    fn enter_stage<D: Dataset + 'static>(
        &mut self,
        stage: usize,
        fresh: bool,
        train: &Arc<D>,
        validation: Option<&D>,
    ) -> StageData {
        self.step.enter_stage(&mut self.model, stage);
        let data = StageData {
            train: self.step.stage_data(&self.model, &**train).map(Arc::new),
            validation: validation.and_then(|v| self.step.stage_data(&self.model, v)),
        };
        if fresh {
            let stage_train: &dyn Dataset = match &data.train {
                Some(codes) => &**codes,
                None => &**train,
            };
            self.step.init_stage(&mut self.model, stage_train);
            if stage > 0 {
                self.optimizer.reset();
            }
        }
        data
    }

    /// Early stopping for `stage`, with the stage's recorded epochs replayed, and the best
    /// watched figure so far.
    fn stage_watch(&self, stage: usize) -> Result<(Option<EarlyStopping>, f64), TrainError> {
        let watched: Vec<f64> = self
            .history
            .iter()
            .filter(|m| m.stage.unwrap_or(0) == stage)
            .filter_map(|m| m.val_error.or(m.val_loss))
            .collect();
        let best = watched.iter().copied().fold(f64::INFINITY, f64::min);
        let Some(patience) = self.config.early_stopping_patience else {
            return Ok((None, best));
        };
        let mut stopper = EarlyStopping::new(strata_optim::Mode::Min, patience, 0.0)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        for (i, &v) in watched.iter().enumerate() {
            stopper.update(i as u64 + 1, v);
        }
        Ok((Some(stopper), best))
    }

    /// `"epoch 3/10"`, or `"layer 2/3 (500-500), epoch 3/10"` for a multi-stage step, for
    /// epoch `epoch` (1-based) of the current stage.
    fn label(&self, stages: usize, epoch: usize) -> String {
        let epochs = format!("epoch {epoch}/{}", self.config.epochs);
        if stages > 1 {
            let stage = self.position.stage;
            let mut name = self.step.stage_name(&self.model, stage);
            if name.is_empty() {
                name = format!("stage {}/{stages}", stage + 1);
            }
            format!("{name}, {epochs}")
        } else {
            epochs
        }
    }

    fn layout(&self) -> InputLayout {
        if self.config.flatten_inputs {
            InputLayout::Flat
        } else {
            InputLayout::AsIs
        }
    }

    /// One epoch over `data` at the current position.
    fn train_epoch<E: Dataset + 'static>(
        &mut self,
        data: Arc<E>,
        stages: usize,
    ) -> Result<EpochMetrics, TrainError> {
        let Position { stage, epoch } = self.position;
        if let Some(s) = &self.schedule {
            self.optimizer.set_learning_rate(s.lr(epoch as u64));
        }
        if let Some(hook) = &mut self.epoch_hook {
            hook(&mut self.optimizer, self.position);
        }
        let lr = self.optimizer.learning_rate();
        let epoch_seed = child_seed(self.config.seed, self.epochs_done as u64);
        let (rank, ranks) = (self.comm.rank(), self.comm.size());
        self.model.train();
        // Every rank reseeds alike (as PyTorch DDP ranks share their seed): streams keyed by
        // example (RBM sampling) then match a single process.
        self.model.reseed(child_seed(epoch_seed, 1));
        let mut loader = DataLoader::from_arc(data, self.config.batch_size)
            .with_drop_last(self.config.drop_last)
            .with_label_format(LabelFormat::Indices)
            .with_layout(self.layout())
            .with_shuffle(epoch_seed)
            .with_shard(rank, ranks);
        let label = self.label(stages, epoch + 1);
        let batches = loader.len();
        let progress = Progress::start(self.verbose(), &label, batches);
        let mut tally = Tally::default();
        let keep_grads = self.histograms_due();
        // Every rank adds the step's figures to the exchange when a log is configured (rank 0
        // writes it), so the message has the same length on every rank.
        let logged = self.config.tensorboard_dir.is_some();
        let steps_before = (self.epochs_done * batches) as u64;
        let phases = self.step.phases();
        for (b, batch) in loader.iter().enumerate() {
            let mut merged = StepOutput::default();
            for phase in 0..phases {
                let last = phase + 1 == phases;
                // A rank whose share of a short last batch is empty still joins the exchange.
                let mut out = if batch.is_empty() {
                    StepOutput::default()
                } else {
                    self.step.train_phase(&mut self.model, &batch, phase)
                };
                merged.loss += out.loss;
                merged.metrics.extend(out.metrics.iter().copied());
                if phase == 0 {
                    merged.predictions = std::mem::take(&mut out.predictions);
                }
                let failure = out.first_non_finite();
                // The step's loss sum, misses and classified examples (of all phases), summed over
                // the ranks with the last phase's gradient exchange header, for the per-step
                // TensorBoard scalars.
                let mut sums = if logged && last {
                    let missed = merged
                        .predictions
                        .iter()
                        .zip(&batch.labels)
                        .filter(|(p, l)| p != l);
                    vec![
                        merged.loss * batch.len() as f64,
                        missed.count() as f64,
                        merged.predictions.len() as f64,
                    ]
                } else {
                    Vec::new()
                };
                let mut grads = out.grads;
                let reduced = {
                    let named = self.model.params();
                    let params: Vec<&Param> = named.iter().map(|(_, p)| *p).collect();
                    self.reducer.all_reduce_with(
                        &*self.comm,
                        &params,
                        &mut grads,
                        batch.len(),
                        failure.is_none(),
                        &mut sums,
                    )
                };
                if reduced.failed_ranks > 0 {
                    progress.abandon();
                    let (quantity, loss) = failure.unwrap_or(("loss on another rank", f64::NAN));
                    return Err(TrainError::NonFinite {
                        epoch: self.epochs_done + 1,
                        batch: b + 1,
                        quantity,
                        loss,
                    });
                }
                if let Some(hook) = &mut self.grad_hook {
                    hook(&mut grads, &self.model.params());
                }
                if keep_grads && b + 1 == batches && self.tensorboard.is_some() {
                    // The histograms show every phase's gradients.
                    match &mut self.last_grads {
                        Some(all) if phase > 0 => all.merge(grads.clone()),
                        slot => *slot = Some(grads.clone()),
                    }
                }
                if let (Some(log), true) = (&mut self.tensorboard, last) {
                    let step = steps_before + b as u64 + 1;
                    let due = step.is_multiple_of(self.config.step_scalars_every as u64);
                    let norm = f64::from(grads.global_norm());
                    let loss = sums[0] / reduced.examples.max(1) as f64;
                    let error = (sums[2] > 0.0).then(|| sums[1] / sums[2]);
                    log.step(step, due, loss, error, norm, lr)?;
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
            }
            if !batch.is_empty() {
                tally.add(&batch, &merged);
            }
            progress.batch_done(b, &tally);
        }
        let seconds = progress.seconds();
        progress.finish();
        tally.all_reduce(&*self.comm);
        let mut metrics = tally.metrics("");
        let (exchange, steps) = self.reducer.take_time();
        if ranks > 1 && steps > 0 {
            metrics.insert(
                "allreduce_ms_per_step".into(),
                1e3 * exchange.as_secs_f64() / steps as f64,
            );
        }
        Ok(EpochMetrics {
            epoch: self.epochs_done + 1,
            train_loss: tally.loss(),
            train_error: tally.error(),
            val_loss: None,
            val_error: None,
            seconds,
            examples_per_second: tally.seen as f64 / seconds.max(1e-9),
            learning_rate: lr,
            stage: (stages > 1).then_some(stage),
            metrics,
        })
    }

    /// Writes `last.ckpt` when due (every `checkpoint_every` epochs and at the end of the
    /// run) and `best.ckpt` when `improved`.
    fn write_checkpoints(&self, stages: usize, improved: Option<f64>) -> Result<(), TrainError> {
        let Some(dir) = &self.config.checkpoint_dir else {
            return Ok(());
        };
        if !self.is_root() {
            return Ok(());
        }
        let last_epoch =
            self.position.stage + 1 == stages && self.position.epoch == self.config.epochs;
        if self
            .epochs_done
            .is_multiple_of(self.config.checkpoint_every)
            || last_epoch
        {
            self.save_checkpoint(&dir.join("last.ckpt"))?;
        }
        if improved.is_some() {
            self.save_checkpoint(&dir.join("best.ckpt"))?;
        }
        Ok(())
    }

    /// Redraws `history.csv` and `learning_curves.png` in the log folder, if one is set.
    fn write_logs(&self) -> Result<(), TrainError> {
        let Some(dir) = &self.config.log_dir else {
            return Ok(());
        };
        if !self.is_root() {
            return Ok(());
        }
        self.history
            .to_csv(dir.join("history.csv"))
            .map_err(|e| TrainError::Io(e.to_string()))?;
        plot_learning_curves(
            &self.history,
            dir.join("learning_curves.png"),
            &self.model_kind,
        )
        .map_err(|e| TrainError::Io(e.to_string()))
    }

    /// The loss, error rate (for a classifying step) and metrics of the step on `data`, in
    /// evaluation mode without a graph, in batches of `config.eval_batch_size`. With several
    /// ranks each evaluates its share and the figures are reduced (collective).
    pub fn validate<E: Dataset + ?Sized>(&mut self, data: &E) -> Validation {
        let layout = self.layout();
        evaluate::validate(
            &mut self.model,
            &mut self.step,
            data,
            self.config.eval_batch_size,
            &layout,
            &*self.comm,
        )
    }

    /// Loss, accuracy and confusion matrix of the model on `data` (evaluation mode, no graph),
    /// in batches of `batch_size`.
    ///
    /// # Panics
    /// If `batch_size` is 0, the dataset has no class targets, or the step does not predict
    /// classes.
    pub fn evaluate<E: Dataset + ?Sized>(&mut self, data: &E, batch_size: usize) -> Evaluation {
        let layout = self.layout();
        evaluate::classify(&mut self.model, &mut self.step, data, batch_size, &layout)
    }
}
