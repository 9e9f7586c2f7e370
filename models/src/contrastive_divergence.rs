//! The [`ContrastiveDivergence`] step: trains an [`Rbm`] in the [`Trainer`](crate::Trainer)
//! loop. Each mini-batch `v` gives the CD-k / PCD-k estimate of the log-likelihood gradient
//! ([`Rbm::cd_grads`]) as [`Grads`](strata_autograd::Grads), so any optimizer applies it: plain
//! SGD with learning rate ε is Hinton's `ΔW = ε·(⟨h vᵀ⟩_data − ⟨h vᵀ⟩_recon)`.

use std::borrow::BorrowMut;

use strata_datasets::{Batch, Dataset};
use strata_layers::Module;
use strata_tensor::Tensor;

use crate::rbm::{Rbm, VisibleUnits};
use crate::step::{Step, StepOutput};

/// The [`Step`] of an [`Rbm`] (or `&mut Rbm`).
///
/// - Training: [`Rbm::cd_grads_keyed`] with the examples' dataset indices as keys (so
///   data-parallel ranks reproduce the single-process numbers); loss = the chain's
///   reconstruction error `Σ(v − v_k)²/N` (the DeepLearnToolbox figure), metric
///   `free_energy` = the mean `F(v)` of the batch.
/// - Evaluation: loss = the mean-field reconstruction error `Σ(v − E[v | p(h | v)])²/N`,
///   metrics `free_energy` and, for Bernoulli visible units, `pseudo_log_likelihood`: the
///   stochastic estimate `V·log σ(F(ṽ) − F(v))` with `ṽ` = `v` with one unit flipped (the
///   unit is chosen from the example's index, so the figure is the same on every pass).
///
/// Inputs of any shape `[N, …]` are read as `[N, V]`.
///
/// ```
/// use std::sync::Arc;
/// use strata_datasets::ArrayDataset;
/// use strata_models::contrastive_divergence::ContrastiveDivergence;
/// use strata_models::rbm::{Rbm, RbmConfig};
/// use strata_models::{Trainer, TrainerConfig};
/// use strata_optim::SgdConfig;
/// use strata_tensor::Tensor;
///
/// let x = Tensor::from_vec((0..64 * 6).map(|i| (i % 3 == 0) as u8 as f32).collect(), &[64, 6]);
/// let rbm = Rbm::new(RbmConfig::new(6, 4));
/// let optimizer = SgdConfig::new(0.1).with_momentum(0.5).build().unwrap();
/// let step = ContrastiveDivergence::new().with_visible_bias_from_data(true);
/// let config = TrainerConfig::new(3, 16).with_verbose(false);
/// let mut trainer = Trainer::new(rbm, optimizer, step, config, "rbm").unwrap();
/// let history = trainer.fit(Arc::new(ArrayDataset::from_rows(&x)), None).unwrap();
/// assert!(history.last().unwrap().metrics.contains_key("free_energy"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContrastiveDivergence {
    /// Set the visible biases from the training data before the first epoch
    /// ([`Rbm::init_visible_bias_from_mean`], Hinton's guide section 8).
    pub visible_bias_from_data: bool,
}

impl ContrastiveDivergence {
    /// The step, with the RBM's biases left as they are.
    pub fn new() -> Self {
        ContrastiveDivergence::default()
    }

    /// Sets the visible biases from the training data before the first epoch (`true`).
    pub fn with_visible_bias_from_data(mut self, yes: bool) -> Self {
        self.visible_bias_from_data = yes;
        self
    }
}

/// The batch's inputs as `[N, features]`.
pub(crate) fn rows(batch: &Batch) -> Tensor {
    let x = &batch.inputs;
    if x.ndim() == 2 {
        x.clone()
    } else {
        x.flatten_from(1)
    }
}

/// The mean of every input feature over `data`, `[features]`.
pub(crate) fn feature_mean(data: &dyn Dataset) -> Tensor {
    let features: usize = data.input_shape().iter().product();
    let mut sum = vec![0.0f64; features];
    let mut row = vec![0.0f32; features];
    for i in 0..data.len() {
        data.get_into(i, &mut row);
        for (s, &x) in sum.iter_mut().zip(&row) {
            *s += x as f64;
        }
    }
    let n = data.len().max(1) as f64;
    Tensor::from_vec(sum.iter().map(|s| (s / n) as f32).collect(), &[features])
}

/// The Bernoulli pseudo-log-likelihood estimate of each row of `v` (see
/// [`ContrastiveDivergence`]), flipping unit `(index · 2654435761) mod V` of example `index`.
fn pseudo_log_likelihood(rbm: &Rbm, v: &Tensor, indices: &[usize]) -> f64 {
    let units = rbm.visible();
    let mut flipped = v.contiguous().into_vec();
    for (row, &index) in flipped.chunks_exact_mut(units).zip(indices) {
        let i = index.wrapping_mul(2_654_435_761) % units;
        row[i] = 1.0 - row[i];
    }
    let flipped = Tensor::from_vec(flipped, v.shape());
    let gap = rbm.free_energy(&flipped).sub(&rbm.free_energy(v));
    // log σ(x) = −softplus(−x).
    let log_sigmoid = gap.neg().softplus().neg();
    units as f64 * log_sigmoid.mean() as f64
}

impl<M: Module + BorrowMut<Rbm>> Step<M> for ContrastiveDivergence {
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let keys: Vec<u64> = batch.indices.iter().map(|&i| i as u64).collect();
        let (grads, report) = model.borrow_mut().cd_grads_keyed(&rows(batch), &keys);
        StepOutput::new(report.batch_error, grads).with_metric("free_energy", report.free_energy)
    }

    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        let rbm: &Rbm = model.borrow_mut();
        let v = rows(batch);
        let n = v.shape()[0] as f64;
        let mean = rbm.prob_v_given_h(&rbm.prob_h_given_v(&v));
        let error = v.sub(&mean).square().sum() as f64 / n;
        let mut out = StepOutput::measured(error)
            .with_metric("free_energy", rbm.free_energy(&v).mean() as f64);
        if rbm.config().visible_units == VisibleUnits::Bernoulli {
            out = out.with_metric(
                "pseudo_log_likelihood",
                pseudo_log_likelihood(rbm, &v, &batch.indices),
            );
        }
        out
    }

    fn init_stage(&mut self, model: &mut M, train: &dyn Dataset) {
        if self.visible_bias_from_data {
            model
                .borrow_mut()
                .init_visible_bias_from_mean(&feature_mean(train));
        }
    }
}
