//! The [`Step`] a learner supplies to the one training loop, [`Trainer`](crate::Trainer).
//!
//! The loop owns everything around a step — data order, timing, the NaN/Inf watch, the
//! history, progress, plots, checkpoints and resume, learning-rate schedules, gradient
//! clipping, early stopping and validation — and asks the step for one thing per mini-batch:
//! the loss, the gradients and any metrics. Backpropagation and contrastive divergence both
//! produce [`Grads`], so a supervised network, an autoencoder, an RBM and a layer-wise DBN all
//! go through the same loop:
//!
//! | step | model | what one batch does |
//! | --- | --- | --- |
//! | [`Objective`](crate::Objective) | any [`Module`] | forward, loss against the labels, backward |
//! | [`Reconstruction`](crate::reconstruction::Reconstruction) | a [`ReconstructionModel`](crate::reconstruction::ReconstructionModel) | loss against the input itself, backward |
//! | [`ContrastiveDivergence`](crate::contrastive_divergence::ContrastiveDivergence) | [`Rbm`](crate::rbm::Rbm) | CD-k / PCD-k statistics as gradients |
//! | [`Layerwise`](crate::layerwise::Layerwise) | a [`LayerStack`](crate::layerwise::LayerStack) (DBN, stacked AE) | the inner step on the current layer, fed the codes of the layers below |
//! | [`WakeSleep`](crate::wake_sleep::WakeSleep) | [`Dbn`](crate::dbn::Dbn) | wake, top-level CD and sleep updates as gradients |
//!
//! A custom learner implements [`Step`] for its model:
//!
//! ```
//! use strata_autograd::Var;
//! use strata_datasets::{Batch, synthetic};
//! use strata_layers::{Linear, Module};
//! use strata_models::{Step, StepOutput, Trainer, TrainerConfig};
//! use strata_optim::SgdConfig;
//! use std::sync::Arc;
//!
//! /// Least squares on the first input column: `L = mean((x·Wᵀ + b − x₀)²)`.
//! struct PredictFirstColumn;
//!
//! impl Step<Linear> for PredictFirstColumn {
//!     fn train_step(&mut self, model: &mut Linear, batch: &Batch) -> StepOutput {
//!         let x = Var::constant(batch.inputs.clone());
//!         let target = Var::constant(batch.inputs.narrow(1, 0, 1).contiguous());
//!         let loss = model.forward(&x).mse_loss(&target, Default::default());
//!         StepOutput::new(loss.item() as f64, loss.backward())
//!     }
//!
//!     fn eval_step(&mut self, model: &mut Linear, batch: &Batch) -> StepOutput {
//!         let x = Var::constant(batch.inputs.clone());
//!         let target = Var::constant(batch.inputs.narrow(1, 0, 1).contiguous());
//!         StepOutput::measured(model.forward(&x).mse_loss(&target, Default::default()).item() as f64)
//!     }
//! }
//!
//! let data = Arc::new(synthetic::two_spirals(64, 0.0, 1));
//! let mut config = TrainerConfig::new(5, 16);
//! config.verbose = false;
//! let optimizer = SgdConfig::new(0.1).build().unwrap();
//! let mut trainer = Trainer::new(Linear::new(2, 1), optimizer, PredictFirstColumn, config, "probe").unwrap();
//! let history = trainer.fit(data, None).unwrap();
//! assert!(history.last().unwrap().train_loss < history.as_slice()[0].train_loss);
//! ```

use strata_autograd::Grads;
use strata_datasets::{ArrayDataset, Batch, Dataset};
use strata_layers::Module;

/// What a step measured on one mini-batch.
#[derive(Debug, Default)]
pub struct StepOutput {
    /// Mean loss per example of the batch. The loop records its epoch mean (weighted by batch
    /// size) and stops with [`TrainError::NonFinite`](crate::TrainError::NonFinite) when it
    /// is NaN or infinite.
    pub loss: f64,
    /// Gradients by parameter id, handed to the optimizer (empty from an evaluation step).
    pub grads: Grads,
    /// The predicted class of each example, for classifiers: the loop counts those equal to
    /// the batch's labels to give the error rate. Empty for other learners.
    pub predictions: Vec<usize>,
    /// Further per-batch means to record, by name (e.g. `("free_energy", −312.5)`); the loop
    /// averages each over the epoch, weighted by batch size, into
    /// [`EpochMetrics::metrics`](crate::history::EpochMetrics::metrics). Like the loss, a NaN or
    /// infinite metric stops training: it means the model diverged.
    pub metrics: Vec<(&'static str, f64)>,
}

impl StepOutput {
    /// A training step's output: its loss and gradients.
    pub fn new(loss: f64, grads: Grads) -> Self {
        StepOutput {
            loss,
            grads,
            ..StepOutput::default()
        }
    }

    /// An evaluation step's output: a loss and no gradients.
    pub fn measured(loss: f64) -> Self {
        StepOutput {
            loss,
            ..StepOutput::default()
        }
    }

    /// Adds the class predictions (one per example).
    pub fn with_predictions(mut self, predictions: Vec<usize>) -> Self {
        self.predictions = predictions;
        self
    }

    /// Adds a named metric.
    pub fn with_metric(mut self, name: &'static str, value: f64) -> Self {
        self.metrics.push((name, value));
        self
    }

    /// The first NaN or infinite figure — the loss, else a metric — with its name.
    pub fn first_non_finite(&self) -> Option<(&'static str, f64)> {
        std::iter::once(("loss", self.loss))
            .chain(self.metrics.iter().copied())
            .find(|(_, v)| !v.is_finite())
    }
}

/// One learner's work on a mini-batch, driven by the [`Trainer`](crate::Trainer) loop (see the
/// [module docs](self) for the steps Strata ships and an example of a custom one).
///
/// The loop calls [`Step::train_step`] once per training batch with the model in training
/// mode, then applies the gradient hook, clipping and the optimizer to the returned
/// gradients; [`Step::eval_step`] once per validation batch in evaluation mode without a
/// graph. A step with several stages (a layer-wise schedule: one stage per layer) says so in
/// [`Step::stages`]; the loop runs `epochs` epochs of each stage with a fresh optimizer state.
///
/// A step that updates the model several times per batch (a GAN: the discriminator, then the
/// generator against the updated discriminator) says so in [`Step::phases`]; the loop then
/// calls [`Step::train_phase`] for each phase in turn and applies that phase's gradients
/// (exchange, hook, clipping, optimizer) before asking for the next. With an optimizer that
/// keeps per-parameter state (Adam, SGD with momentum), phases updating disjoint parameters
/// behave as separate optimizers of the same settings.
pub trait Step<M: Module> {
    /// The loss, gradients and metrics of `model` on `batch` (training mode).
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput;

    /// Optimizer updates per batch (1 unless overridden).
    fn phases(&self) -> usize {
        1
    }

    /// Phase `phase` (`0..phases()`) of the step on `batch`: its loss, gradients and metrics,
    /// computed after the previous phases' updates were applied. The batch's loss is the sum of
    /// the phases' losses, its metrics all of theirs, its predictions phase 0's. By default
    /// [`Step::train_step`].
    fn train_phase(&mut self, model: &mut M, batch: &Batch, phase: usize) -> StepOutput {
        let _ = phase;
        self.train_step(model, batch)
    }

    /// The loss and metrics of `model` on `batch` without gradients (evaluation mode, run
    /// under `no_grad`).
    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput;

    /// Called once, when the [`Trainer`](crate::Trainer) is built (before training or
    /// resuming): puts the model in the form this step trains, e.g. wake-sleep unties a DBN's
    /// recognition and generative weights, so a checkpoint of the run fits the model.
    fn prepare(&mut self, model: &mut M) {
        let _ = model;
    }

    /// Number of stages (1 unless the step trains a model in parts, one after another).
    fn stages(&self, model: &M) -> usize {
        let _ = model;
        1
    }

    /// A name for stage `stage` in progress lines (`"layer 2/3 (500-500)"`); empty means
    /// `"stage s/n"`.
    fn stage_name(&self, model: &M, stage: usize) -> String {
        let _ = (model, stage);
        String::new()
    }

    /// Called whenever the loop enters stage `stage`: at its first epoch, or when a resumed
    /// run continues it.
    fn enter_stage(&mut self, model: &mut M, stage: usize) {
        let _ = (model, stage);
    }

    /// The data the current stage trains (or validates) on in place of `data`, if it differs:
    /// a layer-wise schedule returns the codes of `data` through the layers below. `None`
    /// means `data` itself.
    fn stage_data(&self, model: &M, data: &dyn Dataset) -> Option<ArrayDataset> {
        let _ = (model, data);
        None
    }

    /// Called once before the first epoch of each stage (not when a resumed run continues
    /// one), with the stage's training data: initialisation that looks at the data (Hinton's
    /// visible biases `bᵢ = log(pᵢ/(1 − pᵢ))`) goes here.
    fn init_stage(&mut self, model: &mut M, train: &dyn Dataset) {
        let _ = (model, train);
    }
}
