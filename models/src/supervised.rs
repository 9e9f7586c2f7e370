//! Supervised learning: an [`Objective`] compares a network's output with the batch's labels,
//! and is the [`Step`] that trains classifiers and regressors with backpropagation.

use strata_autograd::{CrossEntropyOptions, Var};
use strata_datasets::Batch;
use strata_layers::{Module, loss};
use strata_tensor::{Indices, Tensor};

use crate::step::{Step, StepOutput};

/// What the network's output is compared with. As a [`Step`], one batch is: `y = model(x)`,
/// `L = objective(y, labels)`, gradients of `L` by backpropagation, and the predicted class
/// `argmax y` of each example (for the error rate).
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
    /// The loss of `output: [N, C]` for a batch with class `labels` (`[N]`).
    ///
    /// # Panics
    /// If a label is not below `C`, or the output is not `[N, C]` for the `N` labels.
    pub fn loss(self, output: &Var, labels: &[usize]) -> Var {
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

    /// Forward pass, loss and predictions of one batch; the loss `Var` is returned for a
    /// training step to differentiate.
    fn measure<M: Module>(self, model: &mut M, batch: &Batch) -> (Var, Vec<usize>) {
        assert!(
            !batch.labels.is_empty() || batch.is_empty(),
            "Objective: the batch has no class labels (a supervised objective needs a classification dataset)"
        );
        let output = model.forward(&Var::constant(batch.inputs.clone()));
        let loss = self.loss(&output, &batch.labels);
        let predictions = crate::metrics::argmax_rows(output.value());
        (loss, predictions)
    }
}

impl<M: Module> Step<M> for Objective {
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let (loss, predictions) = self.measure(model, batch);
        let value = loss.item() as f64;
        // A non-finite loss stops the loop before any step; its graph is not worth walking.
        let grads = if value.is_finite() {
            loss.backward()
        } else {
            Default::default()
        };
        StepOutput::new(value, grads).with_predictions(predictions)
    }

    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let (loss, predictions) = self.measure(model, batch);
        StepOutput::measured(loss.item() as f64).with_predictions(predictions)
    }
}
