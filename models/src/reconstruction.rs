//! Learning to reconstruct the input: the [`ReconstructionModel`] trait and the
//! [`Reconstruction`] step that trains any such model (plain, denoising, sparse and
//! contractive autoencoders, the convolutional autoencoder) in the [`Trainer`](crate::Trainer)
//! loop.

use strata_autograd::Var;
use strata_datasets::Batch;
use strata_layers::Module;

use crate::step::{Step, StepOutput};

/// A model trained to reconstruct its input.
pub trait ReconstructionModel: Module {
    /// The training loss on the batch `x` (the target is `x` itself; noise and penalties
    /// included in training mode) and its named terms for the record, e.g.
    /// `[("reconstruction", 12.3), ("sparsity", 0.4)]` (empty when the loss has one term).
    fn reconstruction_loss(&mut self, x: &Var) -> (Var, Vec<(&'static str, f64)>);
}

impl<M: ReconstructionModel + ?Sized> ReconstructionModel for &mut M {
    fn reconstruction_loss(&mut self, x: &Var) -> (Var, Vec<(&'static str, f64)>) {
        (**self).reconstruction_loss(x)
    }
}

/// The [`Step`] of a [`ReconstructionModel`]: `L = model.reconstruction_loss(x)`, its
/// gradients by backpropagation, and its terms as metrics. In evaluation the model is in
/// evaluation mode, so a denoising autoencoder sees the clean input.
///
/// ```
/// use std::sync::Arc;
/// use strata_datasets::synthetic;
/// use strata_models::autoencoder::{AutoEncoder, AutoEncoderConfig};
/// use strata_models::reconstruction::Reconstruction;
/// use strata_models::{Trainer, TrainerConfig};
/// use strata_optim::AdamConfig;
///
/// let data = Arc::new(synthetic::two_spirals(64, 0.0, 1));
/// let ae = AutoEncoder::new(AutoEncoderConfig::new(2, 8));
/// let config = TrainerConfig::new(2, 16).with_verbose(false);
/// let optimizer = AdamConfig::new(1e-2).build().unwrap();
/// let mut trainer = Trainer::new(ae, optimizer, Reconstruction, config, "ae").unwrap();
/// assert_eq!(trainer.fit(data, None).unwrap().len(), 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconstruction;

impl<M: ReconstructionModel> Step<M> for Reconstruction {
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let (loss, terms) = model.reconstruction_loss(&Var::constant(batch.inputs.clone()));
        let value = loss.item() as f64;
        let grads = if value.is_finite() {
            loss.backward()
        } else {
            Default::default()
        };
        StepOutput {
            metrics: terms,
            ..StepOutput::new(value, grads)
        }
    }

    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let (loss, terms) = model.reconstruction_loss(&Var::constant(batch.inputs.clone()));
        StepOutput {
            metrics: terms,
            ..StepOutput::measured(loss.item() as f64)
        }
    }
}
