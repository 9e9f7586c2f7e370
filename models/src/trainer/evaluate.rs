//! Evaluation passes: a classifier's [`Evaluation`] (loss, accuracy, confusion matrix) and the
//! validation figures of any step.

use std::collections::BTreeMap;
use std::ops::Range;

use strata_autograd::no_grad;
use strata_datasets::{Batch, Dataset, InputLayout, LabelFormat, TargetSpec, shard_range};
use strata_distributed::Communicator;
use strata_layers::Module;

use crate::Objective;
use crate::metrics::ConfusionMatrix;
use crate::step::{Step, StepOutput};
use crate::trainer::tally::Tally;

/// The result of [`Trainer::evaluate`](crate::Trainer::evaluate) and [`evaluate`].
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

/// What a validation pass of any step measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Validation {
    /// Mean loss per example.
    pub loss: f64,
    /// Error rate, for a step that predicts classes.
    pub error: Option<f64>,
    /// The step's metric means, by name.
    pub metrics: BTreeMap<String, f64>,
}

/// Runs `step.eval_step` on the examples `range` of `data` in order, in batches of
/// `batch_size` (inputs in `layout`), with the model in evaluation mode and no graph, handing
/// each batch and its output to `visit`. The model is back in training mode afterwards.
pub(crate) fn eval_pass<M: Module, S: Step<M>, E: Dataset + ?Sized>(
    model: &mut M,
    step: &mut S,
    data: &E,
    range: Range<usize>,
    batch_size: usize,
    layout: &InputLayout,
    mut visit: impl FnMut(&Batch, StepOutput),
) {
    assert!(batch_size > 0, "evaluate: batch size must be at least 1");
    model.eval();
    let indices: Vec<usize> = range.collect();
    for chunk in indices.chunks(batch_size) {
        let batch = Batch::collate(data, chunk, layout, LabelFormat::Indices);
        let out = no_grad(|| step.eval_step(model, &batch));
        visit(&batch, out);
    }
    model.train();
}

/// The validation figures of `step` on `data` (see [`eval_pass`]). With several ranks (and
/// at least one example per rank) each evaluates its contiguous share of `data` and the
/// figures are summed over the ranks.
pub(crate) fn validate<M: Module, S: Step<M>, E: Dataset + ?Sized>(
    model: &mut M,
    step: &mut S,
    data: &E,
    batch_size: usize,
    layout: &InputLayout,
    comm: &dyn Communicator,
) -> Validation {
    let sharded = comm.size() > 1 && data.len() >= comm.size();
    let range = if sharded {
        let (lo, hi) = shard_range(data.len(), comm.rank(), comm.size());
        lo..hi
    } else {
        0..data.len()
    };
    let mut tally = Tally::default();
    eval_pass(
        model,
        step,
        data,
        range,
        batch_size,
        layout,
        |batch, out| tally.add(batch, &out),
    );
    if sharded {
        tally.all_reduce(comm);
    }
    Validation {
        loss: tally.loss(),
        error: tally.error(),
        metrics: tally.metrics(""),
    }
}

/// Loss, accuracy and confusion matrix of a classifying `step` on `data` (see [`eval_pass`]).
///
/// # Panics
/// If `data` has no class targets, the step gives no class predictions, or `batch_size` is 0.
pub(crate) fn classify<M: Module, S: Step<M>, E: Dataset + ?Sized>(
    model: &mut M,
    step: &mut S,
    data: &E,
    batch_size: usize,
    layout: &InputLayout,
) -> Evaluation {
    let classes = match data.target_spec() {
        TargetSpec::Classes(c) => c,
        other => panic!("evaluate: the dataset's targets are {other:?}, not classes"),
    };
    let mut confusion = ConfusionMatrix::new(classes.max(1));
    let mut tally = Tally::default();
    let all = 0..data.len();
    eval_pass(model, step, data, all, batch_size, layout, |batch, out| {
        assert!(
            out.predictions.len() == batch.len(),
            "evaluate: the step predicted {} classes for a batch of {} (a step that does not classify has no accuracy; use Trainer::validate)",
            out.predictions.len(),
            batch.len()
        );
        for (&p, &l) in out.predictions.iter().zip(&batch.labels) {
            confusion.add(p, l);
        }
        tally.add(batch, &out);
    });
    Evaluation {
        loss: tally.loss(),
        accuracy: confusion.accuracy(),
        confusion,
    }
}

/// Loss, accuracy and confusion matrix of `model` on `data` under `objective`, in evaluation
/// mode without recording a graph, in batches of `batch_size` (inputs flattened to
/// `[N, features]` if `flatten_inputs`).
///
/// # Panics
/// If `batch_size` is 0 or the dataset has no class targets.
pub fn evaluate<M: Module + ?Sized, D: Dataset + ?Sized>(
    model: &mut M,
    data: &D,
    batch_size: usize,
    mut objective: Objective,
    flatten_inputs: bool,
) -> Evaluation {
    let layout = if flatten_inputs {
        InputLayout::Flat
    } else {
        InputLayout::AsIs
    };
    classify(&mut &mut *model, &mut objective, data, batch_size, &layout)
}
