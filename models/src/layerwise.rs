//! Greedy layer-wise training (Hinton, Osindero & Teh 2006; Bengio et al. 2007): the
//! [`Layerwise`] step trains the layers of a [`LayerStack`] — the RBMs of a
//! [`Dbn`](crate::dbn::Dbn), the autoencoders of a
//! [`StackedAutoEncoder`](crate::stacked_autoencoder::StackedAutoEncoder) — one after another,
//! layer `l` on the codes of the data through the trained layers `0..l`, each with an inner
//! step (contrastive divergence, reconstruction). It is a multi-stage step: the
//! [`Trainer`](crate::Trainer) runs `epochs` epochs per layer with a fresh optimizer state per
//! layer, and its checkpoints record the layer and the epoch, so a pretraining run resumes
//! mid-way. Fine-tuning then runs the unfolded network through the same loop with an
//! [`Objective`](crate::Objective).
//!
//! ```
//! use std::sync::Arc;
//! use strata_datasets::ArrayDataset;
//! use strata_models::contrastive_divergence::ContrastiveDivergence;
//! use strata_models::dbn::dlt_dbn;
//! use strata_models::layerwise::Layerwise;
//! use strata_models::{Trainer, TrainerConfig};
//! use strata_optim::SgdConfig;
//! use strata_tensor::Tensor;
//!
//! let x = Tensor::from_vec((0..100 * 8).map(|i| (i % 5 < 2) as u8 as f32).collect(), &[100, 8]);
//! let dbn = dlt_dbn(&[8, 6, 4], 0);
//! let step = Layerwise::new(ContrastiveDivergence::new());
//! let config = TrainerConfig::new(2, 10).with_verbose(false);
//! let optimizer = SgdConfig::new(0.1).build().unwrap();
//! let mut trainer = Trainer::new(dbn, optimizer, step, config, "dbn").unwrap();
//! let history = trainer.fit(Arc::new(ArrayDataset::from_rows(&x)), None).unwrap();
//! // Two layers × two epochs, each record naming its layer.
//! let stages: Vec<Option<usize>> = history.iter().map(|m| m.stage).collect();
//! assert_eq!(stages, [Some(0), Some(0), Some(1), Some(1)]);
//! ```

use strata_datasets::{ArrayDataset, Batch, Dataset, InputLayout, LabelFormat, TargetSpec};
use strata_layers::Module;
use strata_tensor::Tensor;

use crate::step::{Step, StepOutput};

/// A model made of layers trained one at a time, each on the codes of the ones below.
pub trait LayerStack: Module {
    /// The type of one layer.
    type Layer: Module;

    /// Number of layers.
    fn depth(&self) -> usize;

    /// Layer `l` (0 = nearest the input).
    ///
    /// # Panics
    /// If `l ≥ depth()`.
    fn layer_mut(&mut self, l: usize) -> &mut Self::Layer;

    /// The codes of inputs `x: [N, …]` through layers `0..l`, `[N, width of layer l's
    /// input]`: what layer `l` is trained on (`l = 0` gives `x` flattened).
    ///
    /// # Panics
    /// If `l > depth()` or `x` does not fit the first layer.
    fn codes(&self, x: &Tensor, l: usize) -> Tensor;

    /// The widths of layer `l`, `"784-500"`.
    fn layer_name(&self, l: usize) -> String;
}

impl<M: LayerStack + ?Sized> LayerStack for &mut M {
    type Layer = M::Layer;

    fn depth(&self) -> usize {
        (**self).depth()
    }

    fn layer_mut(&mut self, l: usize) -> &mut Self::Layer {
        (**self).layer_mut(l)
    }

    fn codes(&self, x: &Tensor, l: usize) -> Tensor {
        (**self).codes(x, l)
    }

    fn layer_name(&self, l: usize) -> String {
        (**self).layer_name(l)
    }
}

/// The layer-wise [`Step`] of a [`LayerStack`]: stage `l` runs `inner` on layer `l`, fed the
/// codes of the data through layers `0..l` (computed once when the stage starts, kept with
/// the data's labels). The inner step's losses and metrics are the records of each stage.
#[derive(Clone, Debug, Default)]
pub struct Layerwise<S> {
    /// The step that trains one layer.
    pub inner: S,
    stage: usize,
}

impl<S> Layerwise<S> {
    /// Layer-wise training with `inner` on each layer.
    pub fn new(inner: S) -> Self {
        Layerwise { inner, stage: 0 }
    }

    /// The layer being trained.
    pub fn layer(&self) -> usize {
        self.stage
    }
}

/// `data` with every input replaced by `encode` of it (in batches of 1000), targets kept.
pub(crate) fn encode_dataset(
    data: &dyn Dataset,
    encode: impl Fn(&Tensor) -> Tensor,
) -> ArrayDataset {
    let n = data.len();
    let indices: Vec<usize> = (0..n).collect();
    let spec = data.target_spec();
    let (mut codes, mut labels, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let mut width = 0;
    for chunk in indices.chunks(1000) {
        let batch: Batch = Batch::collate(data, chunk, &InputLayout::Flat, LabelFormat::Indices);
        let c = encode(&batch.inputs);
        width = c.shape()[1];
        codes.extend(c.into_vec());
        labels.extend(batch.labels);
        if matches!(spec, TargetSpec::Values(_)) {
            values.extend(batch.targets.into_vec());
        }
    }
    match spec {
        TargetSpec::Classes(classes) => {
            ArrayDataset::classification(codes, vec![width], labels, classes)
        }
        TargetSpec::Values(shape) => ArrayDataset::regression(codes, vec![width], values, shape),
        TargetSpec::None => ArrayDataset::unlabeled(codes, vec![width]),
    }
}

impl<M: LayerStack, S: Step<M::Layer>> Step<M> for Layerwise<S> {
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        self.inner.train_step(model.layer_mut(self.stage), batch)
    }

    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        self.inner.eval_step(model.layer_mut(self.stage), batch)
    }

    fn prepare(&mut self, model: &mut M) {
        for l in 0..model.depth() {
            self.inner.prepare(model.layer_mut(l));
        }
    }

    fn stages(&self, model: &M) -> usize {
        model.depth()
    }

    fn stage_name(&self, model: &M, stage: usize) -> String {
        format!(
            "layer {}/{} ({})",
            stage + 1,
            model.depth(),
            model.layer_name(stage)
        )
    }

    fn enter_stage(&mut self, model: &mut M, stage: usize) {
        self.stage = stage;
        self.inner.enter_stage(model.layer_mut(stage), 0);
    }

    fn stage_data(&self, model: &M, data: &dyn Dataset) -> Option<ArrayDataset> {
        let stage = self.stage;
        (stage > 0).then(|| encode_dataset(data, |x| model.codes(x, stage)))
    }

    fn init_stage(&mut self, model: &mut M, train: &dyn Dataset) {
        self.inner.init_stage(model.layer_mut(self.stage), train);
    }
}
