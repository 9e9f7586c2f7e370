//! Autoencoders: a one-hidden-layer [`AutoEncoder`] with tied or untied weights and its
//! denoising, sparse and contractive variants, all trained by backpropagation, and
//! [`train_unsupervised`], the mini-batch loop for any model whose target is its input.
//!
//! With `x ∈ ℝᴰ` a (row) input, `W₁: [H, D]`, `b₁: [H]`, `W₂: [D, H]` (or `W₁ᵀ` when tied) and
//! `b₂: [D]`:
//!
//! ```text
//! x̃ = corrupt(x)                       (noise, training only)
//! h = f(x̃·W₁ᵀ + b₁)                    (encode)
//! x̂ = g(h·W₂ᵀ + b₂)                    (decode)
//! L = rec(x̂, x) + β·Σⱼ KL(ρ ‖ ρ̂ⱼ) + λ·‖∂h/∂x̃‖²_F / N
//! ```

use std::sync::Arc;
use std::time::Instant;

use strata_autograd::{Param, Reduction, Var, no_grad};
use strata_datasets::{DataLoader, Dataset, InputLayout};
use strata_layers::{Activation, Init, Linear, Module, child_seed, loss};
use strata_optim::Optimizer;
use strata_tensor::{Element, Tensor};

use crate::{MlpInit, TrainError};

/// The reconstruction term `rec(x̂, x)` of an autoencoder's loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconstructionLoss {
    /// Mean squared error over every element: `Σ(x̂ − x)² / (N·D)`.
    Mse,
    /// The DeepLearnToolbox squared error `½·Σ(x̂ − x)² / N` (`N` the batch size).
    HalfSse,
    /// Cross-entropy for inputs in `[0, 1]`, summed over features and averaged over the
    /// batch: `−Σ[x·ln x̂ + (1 − x)·ln(1 − x̂)] / N`. With a sigmoid decoder it is computed from
    /// the decoder's logits (numerically stable); otherwise `x̂` must lie in `[0, 1]`.
    CrossEntropy,
}

/// Input corruption of a denoising autoencoder (applied in training mode only; the target
/// stays the clean input).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Noise {
    /// No corruption.
    None,
    /// Masking noise, the DeepLearnToolbox `x .* (rand(size(x)) > fraction)`: each input
    /// element is zeroed independently with probability `fraction`.
    Masking(f64),
    /// Additive Gaussian noise `x + σ·ε`, `ε ~ N(0, 1)`.
    Gaussian(f64),
}

/// The KL-divergence sparsity penalty `β·Σⱼ KL(ρ ‖ ρ̂ⱼ)` on the mean hidden activations
/// `ρ̂ⱼ = Σₙ hₙⱼ / N` of a batch (see [`kl_sparsity_penalty`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sparsity {
    /// The target mean activation `ρ ∈ (0, 1)`.
    pub target: f64,
    /// The weight `β ≥ 0`.
    pub weight: f64,
}

/// Configuration of an [`AutoEncoder`].
#[derive(Clone, Debug, PartialEq)]
pub struct AutoEncoderConfig {
    /// Input (and reconstruction) width `D`.
    pub input: usize,
    /// Code width `H`.
    pub hidden: usize,
    /// Encoder nonlinearity `f`.
    pub encoder_activation: Activation,
    /// Decoder nonlinearity `g`.
    pub decoder_activation: Activation,
    /// Tie the decoder weight to the encoder's: `W₂ = W₁ᵀ`.
    pub tied: bool,
    /// Reconstruction term.
    pub loss: ReconstructionLoss,
    /// Input corruption (denoising autoencoder).
    pub noise: Noise,
    /// KL sparsity penalty (sparse autoencoder).
    pub sparsity: Option<Sparsity>,
    /// Weight `λ` of the contractive penalty `λ·‖∂h/∂x‖²_F` (0 for none).
    pub contractive: f64,
    /// Initialisation of both layers (the [`crate::Mlp`] choices).
    pub init: MlpInit,
    /// Seed of the noise stream.
    pub seed: u64,
}

impl AutoEncoderConfig {
    /// A `input → hidden → input` autoencoder with sigmoid encoder and decoder, untied
    /// weights, MSE, no noise, no penalty, PyTorch's init, seed 0.
    pub fn new(input: usize, hidden: usize) -> Self {
        AutoEncoderConfig {
            input,
            hidden,
            encoder_activation: Activation::Sigmoid,
            decoder_activation: Activation::Sigmoid,
            tied: false,
            loss: ReconstructionLoss::Mse,
            noise: Noise::None,
            sparsity: None,
            contractive: 0.0,
            init: MlpInit::Pytorch,
            seed: 0,
        }
    }

    /// Sets the encoder and decoder nonlinearities.
    pub fn activations(mut self, encoder: Activation, decoder: Activation) -> Self {
        self.encoder_activation = encoder;
        self.decoder_activation = decoder;
        self
    }

    /// Ties (`true`) or unties the weights.
    pub fn tied(mut self, tied: bool) -> Self {
        self.tied = tied;
        self
    }

    /// Sets the reconstruction term.
    pub fn loss(mut self, loss: ReconstructionLoss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the input corruption.
    pub fn noise(mut self, noise: Noise) -> Self {
        self.noise = noise;
        self
    }

    /// Adds the sparsity penalty `β·Σⱼ KL(ρ ‖ ρ̂ⱼ)` with target `ρ = target` and `β = weight`.
    pub fn sparse(mut self, target: f64, weight: f64) -> Self {
        self.sparsity = Some(Sparsity { target, weight });
        self
    }

    /// Adds the contractive penalty `λ·‖∂h/∂x‖²_F` with `λ = lambda`.
    pub fn contractive(mut self, lambda: f64) -> Self {
        self.contractive = lambda;
        self
    }

    /// Sets the initialisation.
    pub fn init(mut self, init: MlpInit) -> Self {
        self.init = init;
        self
    }

    /// Sets the seed of the noise stream.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn validate(&self) {
        assert!(
            self.input > 0 && self.hidden > 0,
            "AutoEncoder: sizes must be positive, got {} → {}",
            self.input,
            self.hidden
        );
        match self.noise {
            Noise::Masking(f) => assert!(
                (0.0..1.0).contains(&f),
                "AutoEncoder: masking fraction must be in [0, 1), got {f}"
            ),
            Noise::Gaussian(s) => assert!(
                s >= 0.0 && s.is_finite(),
                "AutoEncoder: Gaussian noise σ must be finite and ≥ 0, got {s}"
            ),
            Noise::None => {}
        }
        if let Some(s) = self.sparsity {
            assert!(
                s.target > 0.0 && s.target < 1.0,
                "AutoEncoder: sparsity target ρ must be in (0, 1), got {}",
                s.target
            );
            assert!(
                s.weight >= 0.0 && s.weight.is_finite(),
                "AutoEncoder: sparsity weight β must be finite and ≥ 0, got {}",
                s.weight
            );
        }
        assert!(
            self.contractive >= 0.0 && self.contractive.is_finite(),
            "AutoEncoder: contractive weight λ must be finite and ≥ 0, got {}",
            self.contractive
        );
    }
}

/// A small SplitMix64 stream for noise masks and shuffles (reproducible from a seed).
#[derive(Clone, Debug)]
pub(crate) struct NoiseRng(u64);

impl NoiseRng {
    pub(crate) fn new(seed: u64) -> Self {
        NoiseRng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A linear layer initialised as the [`crate::Mlp`] initialisations do.
pub(crate) fn init_linear<T: Element>(fan_in: usize, fan_out: usize, init: MlpInit) -> Linear<T> {
    let linear = Linear::new(fan_in, fan_out);
    let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
    match init {
        MlpInit::Pytorch => linear,
        MlpInit::DltSigmoid => linear.with_init(
            Init::Uniform {
                low: -4.0 * r,
                high: 4.0 * r,
            },
            Init::Uniform {
                low: -4.0 * r,
                high: 4.0 * r,
            },
        ),
        MlpInit::DltTanh => linear.with_init(
            Init::Uniform { low: -r, high: r },
            Init::Uniform { low: -r, high: r },
        ),
    }
}

/// The KL-divergence sparsity penalty `Σⱼ KL(ρ ‖ ρ̂ⱼ)` of codes `h: [N, H]` with values in
/// `(0, 1)`, where `ρ̂ⱼ = Σₙ hₙⱼ / N` and
/// `KL(ρ ‖ ρ̂) = ρ·ln(ρ/ρ̂) + (1 − ρ)·ln((1 − ρ)/(1 − ρ̂))` (`ρ̂` clamped to `[1e-7, 1 − 1e-7]`).
/// Returns a scalar; multiply by `β` for the weighted penalty.
///
/// # Panics
/// If `h` is not 2-D or `rho` is outside `(0, 1)`.
pub fn kl_sparsity_penalty<T: Element>(h: &Var<T>, rho: f64) -> Var<T> {
    assert!(
        h.ndim() == 2,
        "kl_sparsity_penalty: codes must be [N, H], got {:?}",
        h.shape()
    );
    assert!(
        rho > 0.0 && rho < 1.0,
        "kl_sparsity_penalty: target ρ must be in (0, 1), got {rho}"
    );
    let t = T::from_f64_lossy;
    let eps = 1e-7;
    let rho_hat = h.mean_axis(0, false).clamp(t(eps), t(1.0 - eps));
    let constant = rho * rho.ln() + (1.0 - rho) * (1.0 - rho).ln();
    let cross = rho_hat.ln().mul_scalar(t(-rho)).add(
        &rho_hat
            .rsub_scalar(T::one())
            .ln()
            .mul_scalar(t(-(1.0 - rho))),
    );
    cross.add_scalar(t(constant)).sum()
}

/// The contractive penalty `‖∂h/∂x‖²_F` of `h = f(x·Wᵀ + b)` averaged over the batch, in
/// closed form from the codes `h: [N, H]` and the encoder weight `W: [H, D]`:
/// `Σₙ Σⱼ f′ₙⱼ²·Σᵢ W²ⱼᵢ / N` with `f′ = h(1 − h)` for sigmoid, `1 − h²` for tanh and `1` for
/// identity units. Returns a scalar; multiply by `λ` for the weighted penalty.
///
/// # Panics
/// If the shapes do not fit (`h: [N, H]`, `W: [H, D]`) or `activation` is none of the three.
pub fn contractive_penalty<T: Element>(
    h: &Var<T>,
    weight: &Var<T>,
    activation: Activation,
) -> Var<T> {
    assert!(
        h.ndim() == 2 && weight.ndim() == 2 && h.shape()[1] == weight.shape()[0],
        "contractive_penalty: codes {:?} do not fit encoder weight {:?} (expects [N, H] and [H, D])",
        h.shape(),
        weight.shape()
    );
    let n = h.shape()[0].max(1);
    let slope = match activation {
        Activation::Sigmoid => h.mul(&h.rsub_scalar(T::one())),
        Activation::Tanh => h.square().rsub_scalar(T::one()),
        Activation::Identity => return weight.square().sum(),
        other => panic!(
            "contractive_penalty: the closed form needs sigmoid, tanh or identity units, got {other:?}"
        ),
    };
    let row_norms = weight.square().sum_axis(1, false);
    slope
        .square()
        .mul(&row_norms)
        .sum()
        .mul_scalar(T::from_f64_lossy(1.0 / n as f64))
}

/// The parts of an autoencoder's loss on one batch.
pub struct AutoEncoderLoss<T: Element = f32> {
    /// `rec + β·sparsity + λ·contractive`, the value to differentiate.
    pub total: Var<T>,
    /// The reconstruction term.
    pub reconstruction: Var<T>,
    /// `Σⱼ KL(ρ ‖ ρ̂ⱼ)` (unweighted), if configured.
    pub sparsity: Option<Var<T>>,
    /// `‖∂h/∂x‖²_F / N` (unweighted), if configured.
    pub contractive: Option<Var<T>>,
}

/// A one-hidden-layer autoencoder `x̂ = g(f(x·W₁ᵀ + b₁)·W₂ᵀ + b₂)` with optional weight
/// tying (`W₂ = W₁ᵀ`), input corruption (denoising), a KL sparsity penalty and a contractive
/// penalty — see the [module documentation](self) for the full loss.
///
/// Parameters: `encoder.weight [H, D]`, `encoder.bias [H]`, `decoder.weight [D, H]` (absent
/// when tied), `decoder.bias [D]`. Inputs of any shape `[N, …]` are flattened to `[N, D]`.
/// As a [`Module`], `forward` is the reconstruction of the clean input.
pub struct AutoEncoder<T: Element = f32> {
    /// The encoder `x ↦ x·W₁ᵀ + b₁`.
    pub encoder: Linear<T>,
    /// `W₂: [D, H]`, `None` when tied.
    pub decoder_weight: Option<Param<T>>,
    /// `b₂: [D]`.
    pub decoder_bias: Param<T>,
    config: AutoEncoderConfig,
    rng: NoiseRng,
    training: bool,
}

impl<T: Element> AutoEncoder<T> {
    /// Builds the autoencoder (weights from the initialisation stream, see
    /// `strata_layers::manual_seed`). Starts in training mode (noise on).
    ///
    /// # Panics
    /// For a zero size, a masking fraction outside `[0, 1)`, a negative noise level, a
    /// sparsity target outside `(0, 1)` or a negative penalty weight.
    pub fn new(config: AutoEncoderConfig) -> Self {
        config.validate();
        let encoder = init_linear(config.input, config.hidden, config.init);
        let decoder = init_linear::<T>(config.hidden, config.input, config.init);
        let decoder_bias = decoder.bias.expect("Linear::new has a bias");
        let decoder_weight = (!config.tied).then_some(decoder.weight);
        let rng = NoiseRng::new(config.seed);
        AutoEncoder {
            encoder,
            decoder_weight,
            decoder_bias,
            config,
            rng,
            training: true,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AutoEncoderConfig {
        &self.config
    }

    /// Code width `H`.
    pub fn hidden(&self) -> usize {
        self.config.hidden
    }

    /// Input width `D`.
    pub fn input(&self) -> usize {
        self.config.input
    }

    fn flat(&self, x: &Var<T>) -> Var<T> {
        let x = if x.ndim() > 2 {
            x.flatten_from(1)
        } else {
            x.clone()
        };
        assert!(
            x.ndim() == 2 && x.shape()[1] == self.config.input,
            "AutoEncoder: input {:?} does not fit {} input features (expects [N, {}])",
            x.shape(),
            self.config.input,
            self.config.input
        );
        x
    }

    /// The code `h = f(x·W₁ᵀ + b₁)`: `[N, D]` (or `[N, …]` with `D` elements) → `[N, H]`.
    ///
    /// # Panics
    /// If the input does not have `D` features per example.
    pub fn encode(&self, x: &Var<T>) -> Var<T> {
        let x = self.flat(x);
        let bias = self.encoder.bias.as_ref().map(Param::var);
        self.config
            .encoder_activation
            .apply(&x.linear(&self.encoder.weight.var(), bias.as_ref()))
    }

    /// The decoder's pre-activation `h·W₂ᵀ + b₂` (`W₂ = W₁ᵀ` when tied): `[N, H]` → `[N, D]`.
    ///
    /// # Panics
    /// If `h` is not `[N, H]`.
    pub fn decode_logits(&self, h: &Var<T>) -> Var<T> {
        assert!(
            h.ndim() == 2 && h.shape()[1] == self.config.hidden,
            "AutoEncoder::decode: code {:?} is not [N, {}]",
            h.shape(),
            self.config.hidden
        );
        let w = match &self.decoder_weight {
            Some(w) => w.var(),
            None => self.encoder.weight.var().t(),
        };
        h.linear(&w, Some(&self.decoder_bias.var()))
    }

    /// The reconstruction `x̂ = g(h·W₂ᵀ + b₂)`: `[N, H]` → `[N, D]`.
    ///
    /// # Panics
    /// If `h` is not `[N, H]`.
    pub fn decode(&self, h: &Var<T>) -> Var<T> {
        self.config.decoder_activation.apply(&self.decode_logits(h))
    }

    /// `corrupt(x)`: the configured noise applied to `x` (any shape), drawing from the
    /// autoencoder's noise stream — masking keeps each element with probability
    /// `1 − fraction` (`x .* (u > fraction)`, `u ~ U[0, 1)`), Gaussian adds `σ·ε`.
    pub fn corrupt(&mut self, x: &Tensor<T>) -> Tensor<T> {
        let n = x.numel();
        match self.config.noise {
            Noise::None => x.clone(),
            Noise::Masking(fraction) => {
                let mask: Vec<T> = (0..n)
                    .map(|_| {
                        if self.rng.uniform() > fraction {
                            T::one()
                        } else {
                            T::zero()
                        }
                    })
                    .collect();
                x.mul(&Tensor::from_vec(mask, x.shape()))
            }
            Noise::Gaussian(sigma) => {
                let noise: Vec<T> = (0..n)
                    .map(|_| T::from_f64_lossy(sigma * self.rng.normal()))
                    .collect();
                x.add(&Tensor::from_vec(noise, x.shape()))
            }
        }
    }

    /// Every term of the loss on the batch `x` (the target is the clean `x`): in training
    /// mode the encoder sees `corrupt(x)`; then `h = encode(x̃)`, `x̂ = decode(h)`, and
    /// `total = rec(x̂, x) + β·Σⱼ KL(ρ ‖ ρ̂ⱼ) + λ·‖∂h/∂x̃‖²_F / N`.
    ///
    /// # Panics
    /// If the input does not have `D` features per example, or a configured penalty does not
    /// fit the activations (sparsity needs codes in `(0, 1)`; the contractive closed form needs
    /// sigmoid, tanh or identity units).
    pub fn loss_parts(&mut self, x: &Var<T>) -> AutoEncoderLoss<T> {
        let target = self.flat(&x.detach());
        let input = if self.training && self.config.noise != Noise::None {
            Var::constant(self.corrupt(target.value()))
        } else {
            self.flat(x)
        };
        let h = self.encode(&input);
        let logits = self.decode_logits(&h);
        let n = target.shape()[0].max(1);
        let reconstruction = match self.config.loss {
            ReconstructionLoss::Mse => self
                .config
                .decoder_activation
                .apply(&logits)
                .mse_loss(&target, Reduction::Mean),
            ReconstructionLoss::HalfSse => {
                loss::half_sse(&self.config.decoder_activation.apply(&logits), &target)
            }
            ReconstructionLoss::CrossEntropy => {
                let sum = if self.config.decoder_activation == Activation::Sigmoid {
                    logits.bce_with_logits(&target, Reduction::Sum)
                } else {
                    self.config
                        .decoder_activation
                        .apply(&logits)
                        .binary_cross_entropy(&target, Reduction::Sum)
                };
                sum.mul_scalar(T::from_f64_lossy(1.0 / n as f64))
            }
        };
        let mut total = reconstruction.clone();
        let sparsity = self.config.sparsity.map(|s| {
            let p = kl_sparsity_penalty(&h, s.target);
            total = total.add(&p.mul_scalar(T::from_f64_lossy(s.weight)));
            p
        });
        let contractive = (self.config.contractive > 0.0).then(|| {
            let p = contractive_penalty(
                &h,
                &self.encoder.weight.var(),
                self.config.encoder_activation,
            );
            total = total.add(&p.mul_scalar(T::from_f64_lossy(self.config.contractive)));
            p
        });
        AutoEncoderLoss {
            total,
            reconstruction,
            sparsity,
            contractive,
        }
    }

    /// The training loss on the batch `x`, penalties and noise included (see
    /// [`AutoEncoder::loss_parts`]).
    ///
    /// # Panics
    /// As [`AutoEncoder::loss_parts`].
    pub fn loss(&mut self, x: &Var<T>) -> Var<T> {
        self.loss_parts(x).total
    }

    /// The mean code `ρ̂ⱼ = Σₙ hₙⱼ / N` of the clean inputs `x` (no graph): `[H]`.
    ///
    /// # Panics
    /// If the input does not have `D` features per example.
    pub fn mean_activation(&self, x: &Tensor<T>) -> Tensor<T> {
        no_grad(|| {
            self.encode(&Var::constant(x.clone()))
                .value()
                .mean_axis(0, false)
        })
    }

    /// The mean squared reconstruction error `Σ(x̂ − x)² / (N·D)` of the clean inputs (no
    /// noise, no graph).
    ///
    /// # Panics
    /// If the input does not have `D` features per example.
    pub fn reconstruction_error(&self, x: &Tensor<T>) -> f64 {
        no_grad(|| {
            let x = self.flat(&Var::constant(x.clone()));
            let y = self.decode(&self.encode(&x));
            y.value().sub(x.value()).square().mean().to_f64_lossless()
        })
    }
}

impl AutoEncoder<f32> {
    /// Trains on `data` (the targets are ignored: an autoencoder reconstructs its input) with
    /// `optimizer`, as [`train_unsupervised`]. Returns the epochs' statistics.
    ///
    /// # Errors
    /// As [`train_unsupervised`].
    pub fn fit<D: Dataset + 'static, O: Optimizer>(
        &mut self,
        data: Arc<D>,
        optimizer: &mut O,
        config: &UnsupervisedConfig,
    ) -> Result<Vec<UnsupervisedEpoch>, TrainError> {
        train_unsupervised(self, optimizer, data, config)
    }
}

impl<T: Element> Module<T> for AutoEncoder<T> {
    /// The reconstruction of the clean input, `decode(encode(x))`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        self.decode(&self.encode(x))
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        let mut out = strata_layers::prefixed("encoder", self.encoder.params());
        if let Some(w) = &self.decoder_weight {
            out.push(("decoder.weight".to_string(), w));
        }
        out.push(("decoder.bias".to_string(), &self.decoder_bias));
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        let mut out = strata_layers::prefixed("encoder", self.encoder.params_mut());
        if let Some(w) = &mut self.decoder_weight {
            out.push(("decoder.weight".to_string(), w));
        }
        out.push(("decoder.bias".to_string(), &mut self.decoder_bias));
        out
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Restarts the noise stream from `seed`.
    fn reseed(&mut self, seed: u64) {
        self.rng = NoiseRng::new(seed);
    }
}

/// A model trained to reconstruct its input: its loss on a batch of inputs.
pub trait ReconstructionModel: Module {
    /// The training loss on the batch `x` (the target is `x` itself).
    fn reconstruction_loss(&mut self, x: &Var) -> Var;
}

impl ReconstructionModel for AutoEncoder<f32> {
    fn reconstruction_loss(&mut self, x: &Var) -> Var {
        self.loss(x)
    }
}

/// Settings of [`train_unsupervised`].
#[derive(Clone, Debug, PartialEq)]
pub struct UnsupervisedConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// Examples per optimizer step.
    pub batch_size: usize,
    /// Seed of the example order (epoch `e` draws its own permutation) and of the model's
    /// noise streams (reseeded from `(seed, e)` each epoch).
    pub seed: u64,
    /// Drop the last incomplete batch of each epoch.
    pub drop_last: bool,
    /// How inputs reach the model: as the dataset shapes them or flattened to `[N, features]`.
    pub flatten_inputs: bool,
    /// Print one line per epoch to stderr.
    pub verbose: bool,
}

impl UnsupervisedConfig {
    /// `epochs` passes in batches of `batch_size`, seed 0, inputs as the dataset shapes them,
    /// quiet.
    pub fn new(epochs: usize, batch_size: usize) -> Self {
        UnsupervisedConfig {
            epochs,
            batch_size,
            seed: 0,
            drop_last: false,
            flatten_inputs: false,
            verbose: false,
        }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Statistics of one epoch of [`train_unsupervised`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnsupervisedEpoch {
    /// Epoch, counting from 1.
    pub epoch: usize,
    /// Mean training loss per example.
    pub loss: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Training throughput.
    pub examples_per_second: f64,
}

/// Trains `model` to reconstruct the inputs of `data`: shuffled mini-batches, one optimizer
/// step on `∇ model.reconstruction_loss(x)` per batch. The model is put in training mode and
/// its random streams reseeded from `(seed, epoch)` at the start of every epoch; it is left
/// in evaluation mode.
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size; [`TrainError::NonFinite`] when a
/// loss is NaN or infinite (the step is not taken).
pub fn train_unsupervised<M: ReconstructionModel + ?Sized, O: Optimizer, D: Dataset + 'static>(
    model: &mut M,
    optimizer: &mut O,
    data: Arc<D>,
    config: &UnsupervisedConfig,
) -> Result<Vec<UnsupervisedEpoch>, TrainError> {
    if config.epochs == 0 || config.batch_size == 0 {
        return Err(TrainError::Config(format!(
            "train_unsupervised: epochs ({}) and batch size ({}) must be at least 1",
            config.epochs, config.batch_size
        )));
    }
    let mut loader = DataLoader::from_arc(data, config.batch_size)
        .shuffle(config.seed)
        .drop_last(config.drop_last);
    if config.flatten_inputs {
        loader = loader.layout(InputLayout::Flat);
    }
    let mut out = Vec::with_capacity(config.epochs);
    for epoch in 0..config.epochs {
        model.train();
        model.reseed(child_seed(config.seed, epoch as u64));
        let start = Instant::now();
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        for (b, batch) in loader.iter().enumerate() {
            let n = batch.len();
            let loss = model.reconstruction_loss(&Var::constant(batch.inputs));
            let value = loss.item() as f64;
            if !value.is_finite() {
                return Err(TrainError::NonFinite {
                    epoch: epoch + 1,
                    batch: b + 1,
                    loss: value,
                });
            }
            let grads = loss.backward();
            drop(loss);
            let mut params: Vec<&mut Param> =
                model.params_mut().into_iter().map(|(_, p)| p).collect();
            optimizer.step(&mut params, &grads);
            loss_sum += value * n as f64;
            seen += n;
        }
        let seconds = start.elapsed().as_secs_f64();
        let stats = UnsupervisedEpoch {
            epoch: epoch + 1,
            loss: loss_sum / seen.max(1) as f64,
            seconds,
            examples_per_second: seen as f64 / seconds.max(1e-9),
        };
        if config.verbose {
            eprintln!(
                "epoch {}/{}: reconstruction loss {:.4}  {:.2}s  {:.0} ex/s",
                stats.epoch, config.epochs, stats.loss, stats.seconds, stats.examples_per_second
            );
        }
        out.push(stats);
    }
    model.eval();
    Ok(out)
}
