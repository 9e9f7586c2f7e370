//! The [`WakeSleep`] step: generative fine-tuning of a [`Dbn`] by the wake-sleep (up-down)
//! algorithm in the [`Trainer`](crate::Trainer) loop (see [`Dbn::wake_sleep_grads`] for the
//! updates). Use plain SGD: its learning rate is the ε of every update.

use std::borrow::BorrowMut;

use strata_datasets::Batch;
use strata_layers::Module;

use crate::contrastive_divergence::rows;
use crate::dbn::Dbn;
use crate::step::{Step, StepOutput};

/// The [`Step`] of wake-sleep fine-tuning of a [`Dbn`] (or `&mut Dbn`) with at least two
/// RBMs. Building the trainer unties the DBN's weights ([`Dbn::untie`]).
///
/// - Training: loss = the wake phase's bottom reconstruction error `Σ(v − ŝ₀)²/N` from
///   sampled states.
/// - Evaluation: loss = the mean-field reconstruction error `Σ(v − v̂)²/N` of
///   [`Dbn::reconstruction_error`] (up, one mean-field step of the top RBM, down).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WakeSleep;

impl<M: Module + BorrowMut<Dbn>> Step<M> for WakeSleep {
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let (grads, wake_error) = model.borrow_mut().wake_sleep_grads(&rows(batch));
        StepOutput::new(wake_error, grads)
    }

    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let v = rows(batch);
        let units = v.shape()[1] as f64;
        let dbn: &Dbn = model.borrow_mut();
        StepOutput::measured(dbn.reconstruction_error(&v) * units)
    }

    fn prepare(&mut self, model: &mut M) {
        model.borrow_mut().untie();
    }
}
