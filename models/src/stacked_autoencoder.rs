//! Stacked autoencoders: greedy layer-wise pretraining (the [`Trainer`] with the
//! [`Layerwise`](crate::layerwise::Layerwise) step over
//! [`Reconstruction`]; a stack is a [`LayerStack`]), unfolding into an [`Mlp`] for supervised
//! fine-tuning, and the DeepLearnToolbox `test_example_SAE` set-up.
//!
//! Pretraining trains autoencoder `k` on the codes `h⁽ᵏ⁾ = f(h⁽ᵏ⁻¹⁾·W₁⁽ᵏ⁾ᵀ + b₁⁽ᵏ⁾)` of the
//! clean data through the layers below (`h⁽⁰⁾ = x`). Unfolding keeps the encoders
//! `(W₁⁽ᵏ⁾, b₁⁽ᵏ⁾)` as the hidden layers of an MLP `D-H₁-…-H_K-C` and adds a freshly
//! initialised classifier layer on top.

use strata_autograd::{Param, Var, no_grad};
use strata_layers::{Activation, Module, child_seed};
use strata_optim::{Sgd, SgdConfig};
use strata_tensor::Tensor;

use crate::autoencoder::{AutoEncoder, AutoEncoderConfig, Noise, ReconstructionLoss};
use crate::layerwise::LayerStack;
use crate::reconstruction::Reconstruction;
use crate::{Mlp, MlpConfig, MlpInit, MlpOutput, Objective, TrainError, Trainer, TrainerConfig};

/// Which parameters supervised fine-tuning trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FineTune {
    /// Only the classifier on top: the pretrained layers are frozen
    /// (`Param::set_requires_grad(false)`).
    TopOnly,
    /// Every layer.
    Whole,
}

/// A stack of [`AutoEncoder`]s `D → H₁ → … → H_K`, pretrained greedily layer by layer.
pub struct StackedAutoEncoder {
    /// The autoencoders, bottom (input side) first; layer `k` maps `H_{k−1}` to `H_k`.
    pub layers: Vec<AutoEncoder>,
}

impl StackedAutoEncoder {
    /// Autoencoders for the widths `sizes = [D, H₁, …, H_K]`, each configured as `template`
    /// with its own sizes and the noise seed `child_seed(template.seed, k)`; weights from the
    /// initialisation stream in order.
    ///
    /// # Panics
    /// With fewer than two sizes, or as [`AutoEncoder::new`].
    pub fn new(sizes: &[usize], template: &AutoEncoderConfig) -> Self {
        assert!(
            sizes.len() >= 2,
            "StackedAutoEncoder::new: needs an input and at least one code width, got {sizes:?}"
        );
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(k, w)| {
                AutoEncoder::new(AutoEncoderConfig {
                    input: w[0],
                    hidden: w[1],
                    seed: child_seed(template.seed, k as u64),
                    ..template.clone()
                })
            })
            .collect();
        StackedAutoEncoder { layers }
    }

    /// The widths `[D, H₁, …, H_K]`.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].input()];
        sizes.extend(self.layers.iter().map(AutoEncoder::hidden));
        sizes
    }

    /// The codes of the first `depth` layers, `h⁽ᵈᵉᵖᵗʰ⁾`, of inputs `x: [N, D]` (or `[N, …]`),
    /// without noise or graph.
    ///
    /// # Panics
    /// If `depth` exceeds the number of layers or the input does not have `D` features.
    pub fn encode_to(&self, x: &Tensor, depth: usize) -> Tensor {
        assert!(
            depth <= self.layers.len(),
            "StackedAutoEncoder::encode_to: depth {depth} of {} layers",
            self.layers.len()
        );
        no_grad(|| {
            let mut h = Var::constant(if x.ndim() > 2 {
                x.flatten_from(1)
            } else {
                x.clone()
            });
            for layer in &self.layers[..depth] {
                h = layer.encode(&h);
            }
            h.into_value()
        })
    }

    /// The top codes `h⁽ᴷ⁾` of `x` (see [`StackedAutoEncoder::encode_to`]).
    ///
    /// # Panics
    /// If the input does not have `D` features.
    pub fn encode(&self, x: &Tensor) -> Tensor {
        self.encode_to(x, self.layers.len())
    }

    /// Unfolds the stack into an MLP `D-H₁-…-H_K-classes` whose hidden layers are the
    /// pretrained encoders (`set_layer(k, W₁⁽ᵏ⁾, b₁⁽ᵏ⁾)`) with their activation, and whose
    /// classifier layer (with `output`) is initialised with `init` (drawn from the
    /// initialisation stream). With [`FineTune::TopOnly`] the pretrained layers are frozen.
    ///
    /// # Panics
    /// If the layers' encoder activations differ or `classes` is 0.
    pub fn to_mlp(
        &self,
        classes: usize,
        output: MlpOutput,
        init: MlpInit,
        fine_tune: FineTune,
    ) -> Mlp {
        let hidden = self.layers[0].config().encoder_activation;
        assert!(
            self.layers
                .iter()
                .all(|l| l.config().encoder_activation == hidden),
            "StackedAutoEncoder::to_mlp: the layers' encoder activations differ; an Mlp has one hidden activation"
        );
        assert!(
            classes > 0,
            "StackedAutoEncoder::to_mlp: classes must be at least 1"
        );
        let mut sizes = self.sizes();
        sizes.push(classes);
        let mut mlp = Mlp::new(
            &MlpConfig::new(&sizes)
                .with_hidden(hidden)
                .with_output(output)
                .with_init(init),
        );
        for (k, layer) in self.layers.iter().enumerate() {
            let bias = layer
                .encoder
                .bias
                .as_ref()
                .expect("autoencoder encoders have a bias")
                .value()
                .clone();
            mlp.set_layer(k, layer.encoder.weight.value().clone(), bias);
            if fine_tune == FineTune::TopOnly {
                mlp.layers[k].weight.set_requires_grad(false);
                if let Some(b) = &mut mlp.layers[k].bias {
                    b.set_requires_grad(false);
                }
            }
        }
        mlp
    }
}

impl Module for StackedAutoEncoder {
    /// The top codes `h⁽ᴷ⁾` of the input, through every encoder.
    fn forward(&mut self, x: &Var) -> Var {
        let x = if x.ndim() > 2 {
            x.flatten_from(1)
        } else {
            x.clone()
        };
        self.layers.iter().fold(x, |h, layer| layer.encode(&h))
    }

    fn params(&self) -> Vec<(String, &Param)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(k, l)| strata_layers::prefixed(&format!("layers.{k}"), l.params()))
            .collect()
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(k, l)| strata_layers::prefixed(&format!("layers.{k}"), l.params_mut()))
            .collect()
    }

    fn is_training(&self) -> bool {
        self.layers.iter().any(|layer| layer.is_training())
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    /// Restarts layer `k`'s noise stream from `child_seed(seed, k)`.
    fn reseed(&mut self, seed: u64) {
        for (k, layer) in self.layers.iter_mut().enumerate() {
            layer.reseed(child_seed(seed, k as u64));
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl LayerStack for StackedAutoEncoder {
    type Layer = AutoEncoder;

    fn depth(&self) -> usize {
        self.layers.len()
    }

    fn layer_mut(&mut self, l: usize) -> &mut AutoEncoder {
        &mut self.layers[l]
    }

    /// The clean codes through encoders `0..l` ([`StackedAutoEncoder::encode_to`]).
    fn codes(&self, x: &Tensor, l: usize) -> Tensor {
        self.encode_to(x, l)
    }

    fn layer_name(&self, l: usize) -> String {
        format!("{}-{}", self.layers[l].input(), self.layers[l].hidden())
    }
}

/// The DeepLearnToolbox `test_example_SAE` hyper-parameters: a 784-100 denoising autoencoder
/// (sigmoid units, `nnsetup` init, masking fraction 0.5, `½·Σ(x̂ − x)²/N`, SGD lr 1 with the
/// toolbox's momentum 0.5, batch 100) whose encoder initialises a 784-100-10 sigmoid MLP
/// fine-tuned with the same optimizer settings on `½·Σ(y − t)²/N`. Inputs are scaled to
/// `[0, 1]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DltSae {
    /// Learning rate of pretraining and fine-tuning.
    pub lr: f64,
    /// Momentum of pretraining and fine-tuning.
    pub momentum: f64,
    /// Masking-noise fraction.
    pub mask_fraction: f64,
    /// Code width.
    pub hidden: usize,
    /// Mini-batch size.
    pub batch: usize,
}

impl Default for DltSae {
    fn default() -> Self {
        DltSae {
            lr: 1.0,
            momentum: 0.5,
            mask_fraction: 0.5,
            hidden: 100,
            batch: 100,
        }
    }
}

impl DltSae {
    fn sgd(&self) -> Result<Sgd, TrainError> {
        SgdConfig::new(self.lr)
            .with_momentum(self.momentum)
            .build()
            .map_err(|e| TrainError::Config(e.to_string()))
    }

    /// The denoising autoencoder `inputs → hidden → inputs`, weights drawn after
    /// `manual_seed(seed)` (noise seeded from `seed`).
    pub fn autoencoder(&self, inputs: usize, seed: u64) -> AutoEncoder {
        strata_layers::manual_seed(seed);
        AutoEncoder::new(
            AutoEncoderConfig::new(inputs, self.hidden)
                .with_activations(Activation::Sigmoid, Activation::Sigmoid)
                .with_loss(ReconstructionLoss::HalfSse)
                .with_noise(Noise::Masking(self.mask_fraction))
                .with_init(MlpInit::DltSigmoid)
                .with_seed(seed),
        )
    }

    /// A trainer pretraining `ae` to reconstruct its inputs for `epochs` epochs (SGD with
    /// momentum, flattened inputs, batches shuffled with `seed`); run it with
    /// [`Trainer::fit`] and take the autoencoder back from `trainer.model`.
    ///
    /// # Errors
    /// [`TrainError::Config`] for zero epochs or batch size.
    pub fn pretrain_trainer(
        &self,
        ae: AutoEncoder,
        seed: u64,
        epochs: usize,
    ) -> Result<Trainer<AutoEncoder, Sgd, Reconstruction>, TrainError> {
        let config = TrainerConfig::new(epochs, self.batch)
            .with_seed(seed)
            .with_flatten_inputs(true);
        Trainer::new(ae, self.sgd()?, Reconstruction, config, "dlt-sae-ae")
    }

    /// A trainer fine-tuning the MLP `inputs-hidden-classes` (sigmoid units and outputs,
    /// `nnsetup` init for the top layer) whose first layer is `ae`'s encoder, on
    /// [`Objective::HalfSse`] with flattened inputs.
    ///
    /// # Errors
    /// [`TrainError::Config`] for zero epochs or batch size.
    pub fn finetune_trainer(
        &self,
        ae: &AutoEncoder,
        classes: usize,
        seed: u64,
        epochs: usize,
    ) -> Result<Trainer<Mlp, Sgd>, TrainError> {
        let mut mlp = Mlp::new(
            &MlpConfig::new(&[ae.input(), ae.hidden(), classes])
                .with_hidden(Activation::Sigmoid)
                .with_output(MlpOutput::Sigmoid)
                .with_init(MlpInit::DltSigmoid),
        );
        let bias = ae
            .encoder
            .bias
            .as_ref()
            .expect("autoencoder encoders have a bias")
            .value()
            .clone();
        mlp.set_layer(0, ae.encoder.weight.value().clone(), bias);
        let mut config = TrainerConfig::new(epochs, self.batch);
        config.seed = seed;
        config.flatten_inputs = true;
        Trainer::new(mlp, self.sgd()?, Objective::HalfSse, config, "dlt-sae")
    }
}
