//! Autoencoders: a one-hidden-layer [`AutoEncoder`] with tied or untied weights and its
//! denoising, sparse and contractive variants, all trained by backpropagation through the
//! [`Trainer`](crate::Trainer) with the [`Reconstruction`](crate::reconstruction::Reconstruction)
//! step.
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

use strata_autograd::{Param, Reduction, Var, no_grad};
use strata_layers::loss::{self, contractive_penalty, kl_sparsity_penalty};
use strata_layers::{Activation, Init, Linear, Module};
use strata_tensor::{Element, Tensor};

use crate::MlpInit;
use crate::reconstruction::ReconstructionModel;

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

impl ReconstructionLoss {
    /// The unit of this reconstruction term, to print beside its value: e.g. for
    /// [`ReconstructionLoss::CrossEntropy`] "binary cross-entropy in nats, summed over the
    /// inputs, per example".
    pub fn unit(self) -> &'static str {
        match self {
            ReconstructionLoss::Mse => "mean squared error per input value",
            ReconstructionLoss::HalfSse => {
                "half the squared error summed over the inputs, per example"
            }
            ReconstructionLoss::CrossEntropy => {
                "binary cross-entropy in nats, summed over the inputs, per example"
            }
        }
    }
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
pub struct KlSparsity {
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
    pub sparsity: Option<KlSparsity>,
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
    pub fn with_activations(mut self, encoder: Activation, decoder: Activation) -> Self {
        self.encoder_activation = encoder;
        self.decoder_activation = decoder;
        self
    }

    /// Ties (`true`) or unties the weights.
    pub fn with_tied(mut self, tied: bool) -> Self {
        self.tied = tied;
        self
    }

    /// Sets the reconstruction term.
    pub fn with_loss(mut self, loss: ReconstructionLoss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the input corruption.
    pub fn with_noise(mut self, noise: Noise) -> Self {
        self.noise = noise;
        self
    }

    /// Adds the sparsity penalty `β·Σⱼ KL(ρ ‖ ρ̂ⱼ)` with target `ρ = target` and `β = weight`.
    pub fn with_sparsity(mut self, target: f64, weight: f64) -> Self {
        self.sparsity = Some(KlSparsity { target, weight });
        self
    }

    /// Adds the contractive penalty `λ·‖∂h/∂x‖²_F` with `λ = lambda`.
    pub fn with_contractive(mut self, lambda: f64) -> Self {
        self.contractive = lambda;
        self
    }

    /// Sets the initialisation.
    pub fn with_init(mut self, init: MlpInit) -> Self {
        self.init = init;
        self
    }

    /// Sets the seed of the noise stream.
    pub fn with_seed(mut self, seed: u64) -> Self {
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

/// The parts of an autoencoder's loss on one batch.
pub struct AutoEncoderLoss<T: Element = f32> {
    /// `rec + β·sparsity + λ·contractive`, the value to differentiate.
    pub total: Var<T>,
    /// The reconstruction term, in the unit [`ReconstructionLoss::unit`] names.
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

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    /// Restarts the noise stream from `seed`.
    fn reseed(&mut self, seed: u64) {
        self.rng = NoiseRng::new(seed);
    }
}

impl ReconstructionModel for AutoEncoder<f32> {
    /// [`AutoEncoder::loss_parts`]: the total, with the reconstruction term and each
    /// configured penalty (unweighted) as named terms when there is a penalty.
    fn reconstruction_loss(&mut self, x: &Var) -> (Var, Vec<(&'static str, f64)>) {
        let parts = self.loss_parts(x);
        let mut terms = Vec::new();
        if parts.sparsity.is_some() || parts.contractive.is_some() {
            terms.push(("reconstruction", parts.reconstruction.item() as f64));
        }
        if let Some(s) = &parts.sparsity {
            terms.push(("sparsity", s.item() as f64));
        }
        if let Some(c) = &parts.contractive {
            terms.push(("contractive", c.item() as f64));
        }
        (parts.total, terms)
    }
}
