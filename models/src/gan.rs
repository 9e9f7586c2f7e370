//! Generative adversarial networks (Goodfellow et al. 2014): [`Gan`], a generator and a
//! discriminator as one module, and [`GanStep`], their alternating training in the one loop —
//! per batch a discriminator update, then a generator update against the updated
//! discriminator (the two phases of the step); the DCGAN networks for 28×28 images (Radford
//! et al. 2015) and the fully connected GAN.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Reduction, Var, no_grad};
use strata_datasets::Batch;
use strata_layers::init::with_init_rng;
use strata_layers::{
    Activation, BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Flatten, Linear, Module,
    Sequential, Unflatten, prefixed,
};
use strata_tensor::Tensor;

use crate::step::{Step, StepOutput};

/// A generator `G: z [N, latent] → x` and a discriminator `D: x → logit [N, 1]`, with the
/// random stream of the latent codes. As a module, `forward(z) = G(z)`; its parameters are
/// `generator.*` then `discriminator.*`.
pub struct Gan<G, D> {
    /// `z [N, latent] → images`.
    pub generator: G,
    /// `images → logits [N, 1]`.
    pub discriminator: D,
    latent: usize,
    rng: StdRng,
    training: bool,
}

impl<G: Module, D: Module> Gan<G, D> {
    /// A GAN with codes of `latent` components drawn from `N(0, I)`.
    ///
    /// # Panics
    /// If `latent` is 0.
    pub fn new(generator: G, discriminator: D, latent: usize) -> Self {
        assert!(latent > 0, "Gan: the latent size must be positive");
        Gan {
            generator,
            discriminator,
            latent,
            rng: StdRng::seed_from_u64(0),
            training: true,
        }
    }

    /// The number of latent components.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// `n` codes `z ~ N(0, I)`, `[n, latent]`, from the GAN's own stream (reseeded by the
    /// training loop every epoch).
    pub fn noise(&mut self, n: usize) -> Tensor {
        Tensor::rand_normal(&[n, self.latent], 0.0, 1.0, &mut self.rng)
    }

    /// `G(z)` in evaluation mode (batch norm with its running statistics), without a graph;
    /// the previous mode is restored.
    pub fn generate(&mut self, z: &Tensor) -> Tensor {
        self.generator.eval();
        let x = no_grad(|| self.generator.forward(&Var::constant(z.clone()))).into_value();
        self.generator.set_training(self.training);
        x
    }

    /// `n` samples `G(z)` with fresh codes.
    pub fn sample(&mut self, n: usize) -> Tensor {
        let z = self.noise(n);
        self.generate(&z)
    }
}

impl<G: Module, D: Module> Module for Gan<G, D> {
    fn forward(&mut self, z: &Var) -> Var {
        self.generator.forward(z)
    }
    fn params(&self) -> Vec<(String, &Param)> {
        let mut p = prefixed("generator", self.generator.params());
        p.extend(prefixed("discriminator", self.discriminator.params()));
        p
    }
    fn params_mut(&mut self) -> Vec<(String, &mut Param)> {
        let mut p = prefixed("generator", self.generator.params_mut());
        p.extend(prefixed("discriminator", self.discriminator.params_mut()));
        p
    }
    fn buffers(&self) -> Vec<(String, &Tensor)> {
        let mut b = prefixed("generator", self.generator.buffers());
        b.extend(prefixed("discriminator", self.discriminator.buffers()));
        b
    }
    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        let mut b = prefixed("generator", self.generator.buffers_mut());
        b.extend(prefixed("discriminator", self.discriminator.buffers_mut()));
        b
    }
    fn is_training(&self) -> bool {
        self.training
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
        self.generator.set_training(training);
        self.discriminator.set_training(training);
    }
    fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
        self.generator.reseed(seed ^ 0x9e37_79b9);
        self.discriminator.reseed(seed ^ 0x7f4a_7c15);
    }
}

/// The alternating GAN update with the non-saturating generator loss, in two phases per batch
/// of real images `x` (labels ignored), with fresh codes `z` and `x̃ = G(z)`:
///
/// 1. discriminator: `L_D = BCE(D(x), s) + BCE(D(x̃), 0)` with `x̃` detached and `s = 1 − ε`
///    (one-sided label smoothing, `ε = 0` by default); its gradients (discriminator only) are
///    applied by the loop's optimizer;
/// 2. generator: `L_G = BCE(D(x̃), 1)` through the updated discriminator, on the same `x̃`;
///    only the generator's gradients are returned.
///
/// With one Adam over both networks this is exactly DCGAN's two Adams of the same settings:
/// Adam keeps each parameter's own moments and step count. `BCE` is
/// `bce_with_logits`, averaged. The step's loss is `L_D + L_G`; the metrics are `d_loss`,
/// `g_loss`, `d_real` (mean `σ(D(x))`) and `d_fake` (mean `σ(D(x̃))` before the update).
#[derive(Default)]
pub struct GanStep {
    /// `ε` of the real labels `1 − ε`.
    pub label_smoothing: f64,
    /// The generated batch of phase 1, kept (with its graph) for phase 2.
    fake: Option<Var>,
    d_loss: f64,
}

impl GanStep {
    /// The non-saturating GAN step without label smoothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Real labels `1 − ε` for the discriminator (Salimans et al. 2016 suggest `ε = 0.1`).
    ///
    /// # Panics
    /// If `ε` is outside `[0, 1)`.
    pub fn with_label_smoothing(mut self, epsilon: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&epsilon),
            "GanStep: label smoothing must be in [0, 1), got {epsilon}"
        );
        self.label_smoothing = epsilon;
        self
    }

    fn targets(n: usize, value: f32) -> Var {
        Var::constant(Tensor::full(&[n, 1], value))
    }

    /// Phase 1: the discriminator's loss and gradients; keeps `G(z)` for phase 2.
    fn discriminator_phase<G: Module, D: Module>(
        &mut self,
        gan: &mut Gan<G, D>,
        real: &Tensor,
    ) -> StepOutput {
        let n = real.shape()[0];
        let z = Var::constant(gan.noise(n));
        let fake = gan.generator.forward(&z);
        let on_real = gan.discriminator.forward(&Var::constant(real.clone()));
        let on_fake = gan.discriminator.forward(&fake.detach());
        let real_label = Self::targets(n, (1.0 - self.label_smoothing) as f32);
        let loss = on_real
            .bce_with_logits(&real_label, Reduction::Mean)
            .add(&on_fake.bce_with_logits(&Self::targets(n, 0.0), Reduction::Mean));
        let d_real = on_real.value().sigmoid().mean() as f64;
        let d_fake = on_fake.value().sigmoid().mean() as f64;
        self.d_loss = loss.item() as f64;
        self.fake = Some(fake);
        StepOutput::new(self.d_loss, loss.backward())
            .with_metric("d_real", d_real)
            .with_metric("d_fake", d_fake)
    }

    /// Phase 2: the generator's loss through the updated discriminator; gradients of the
    /// generator only.
    fn generator_phase<G: Module, D: Module>(&mut self, gan: &mut Gan<G, D>) -> StepOutput {
        let fake = self
            .fake
            .take()
            .expect("GanStep: the generator phase follows the discriminator phase");
        let n = fake.shape()[0];
        // The discriminator's weights are frozen for this pass: their gradients would be thrown
        // away, so they are not computed (the gradient still flows through it to G).
        let frozen = set_requires_grad(&mut gan.discriminator, false);
        let loss = gan
            .discriminator
            .forward(&fake)
            .bce_with_logits(&Self::targets(n, 1.0), Reduction::Mean);
        let grads = loss.backward();
        restore_requires_grad(&mut gan.discriminator, &frozen);
        let g_loss = loss.item() as f64;
        StepOutput::new(g_loss, grads)
            .with_metric("d_loss", self.d_loss)
            .with_metric("g_loss", g_loss)
    }
}

impl<G: Module, D: Module> Step<Gan<G, D>> for GanStep {
    fn phases(&self) -> usize {
        2
    }

    fn train_phase(&mut self, gan: &mut Gan<G, D>, batch: &Batch, phase: usize) -> StepOutput {
        match phase {
            0 => self.discriminator_phase(gan, &batch.inputs),
            _ => self.generator_phase(gan),
        }
    }

    fn train_step(&mut self, gan: &mut Gan<G, D>, batch: &Batch) -> StepOutput {
        self.train_phase(gan, batch, 0)
    }

    /// Both losses on a held-out batch, no update.
    fn eval_step(&mut self, gan: &mut Gan<G, D>, batch: &Batch) -> StepOutput {
        no_grad(|| {
            let n = batch.inputs.shape()[0];
            let z = Var::constant(gan.noise(n));
            let fake = gan.generator.forward(&z);
            let on_real = gan
                .discriminator
                .forward(&Var::constant(batch.inputs.clone()));
            let on_fake = gan.discriminator.forward(&fake);
            let d_loss = on_real
                .bce_with_logits(&Self::targets(n, 1.0), Reduction::Mean)
                .item() as f64
                + on_fake
                    .bce_with_logits(&Self::targets(n, 0.0), Reduction::Mean)
                    .item() as f64;
            let g_loss = on_fake
                .bce_with_logits(&Self::targets(n, 1.0), Reduction::Mean)
                .item() as f64;
            StepOutput::measured(d_loss + g_loss)
                .with_metric("d_loss", d_loss)
                .with_metric("g_loss", g_loss)
        })
    }
}

/// Sets `requires_grad` of every parameter of `module`, returning the previous flags.
fn set_requires_grad(module: &mut dyn Module, on: bool) -> Vec<bool> {
    module
        .params_mut()
        .into_iter()
        .map(|(_, p)| {
            let before = p.requires_grad();
            p.set_requires_grad(on);
            before
        })
        .collect()
}

/// Puts back the flags [`set_requires_grad`] returned.
fn restore_requires_grad(module: &mut dyn Module, flags: &[bool]) {
    for ((_, p), &on) in module.params_mut().into_iter().zip(flags) {
        p.set_requires_grad(on);
    }
}

/// Radford et al.'s initialisation: every convolution, transposed convolution and linear
/// weight from `N(0, 0.02²)`, batch-norm scales from `N(1, 0.02²)`, every bias zero (drawn
/// from the thread's initialisation stream, `strata_layers::init::manual_seed`).
pub fn dcgan_init(module: &mut dyn Module) {
    for (name, p) in module.params_mut() {
        let shape = p.shape().to_vec();
        let value = if name.ends_with("bias") {
            Tensor::zeros(&shape)
        } else if shape.len() == 1 {
            with_init_rng(|rng| Tensor::rand_normal(&shape, 1.0, 0.02, rng))
        } else {
            with_init_rng(|rng| Tensor::rand_normal(&shape, 0.0, 0.02, rng))
        };
        p.set(value);
    }
}

/// The DCGAN generator for 28×28 images: `z [N, latent] → Linear 6272 → BN → ReLU →
/// [128, 7, 7] → ConvTranspose 64 (4×4, stride 2) → BN → ReLU → [64, 14, 14] → ConvTranspose 1
/// (4×4, stride 2) → tanh → [N, 1, 28, 28]` in `[−1, 1]`. DCGAN-initialised.
pub fn dcgan_generator(latent: usize) -> Sequential {
    let mut g = Sequential::new()
        .add(Linear::new(latent, 128 * 7 * 7))
        .add(BatchNorm1d::new(128 * 7 * 7))
        .add(Activation::Relu)
        .add(Unflatten::new(&[128, 7, 7]))
        .add(ConvTranspose2d::new(128, 64, (4, 4)).with_stride_padding((2, 2), (1, 1), (0, 0)))
        .add(BatchNorm2d::new(64))
        .add(Activation::Relu)
        .add(ConvTranspose2d::new(64, 1, (4, 4)).with_stride_padding((2, 2), (1, 1), (0, 0)))
        .add(Activation::Tanh);
    dcgan_init(&mut g);
    g
}

/// The DCGAN discriminator for 28×28 images: `[N, 1, 28, 28] → Conv 64 (4×4, stride 2) →
/// LeakyReLU 0.2 → Conv 128 (4×4, stride 2) → BN → LeakyReLU 0.2 → Linear 6272 → 1` logit.
/// DCGAN-initialised.
pub fn dcgan_discriminator() -> Sequential {
    let mut d = Sequential::new()
        .add(
            Conv2d::new(1, 64, (4, 4))
                .with_stride((2, 2))
                .with_padding((1, 1)),
        )
        .add(Activation::LeakyRelu(0.2))
        .add(
            Conv2d::new(64, 128, (4, 4))
                .with_stride((2, 2))
                .with_padding((1, 1)),
        )
        .add(BatchNorm2d::new(128))
        .add(Activation::LeakyRelu(0.2))
        .add(Flatten)
        .add(Linear::new(128 * 7 * 7, 1));
    dcgan_init(&mut d);
    d
}

/// The fully connected GAN generator: `z → Linear hidden → LeakyReLU 0.2 → Linear hidden →
/// LeakyReLU 0.2 → Linear 784 → tanh`, reshaped to `[N, 1, 28, 28]`.
pub fn mlp_generator(latent: usize, hidden: usize) -> Sequential {
    let mut g = Sequential::new()
        .add(Linear::new(latent, hidden))
        .add(Activation::LeakyRelu(0.2))
        .add(Linear::new(hidden, hidden))
        .add(Activation::LeakyRelu(0.2))
        .add(Linear::new(hidden, 784))
        .add(Activation::Tanh)
        .add(Unflatten::new(&[1, 28, 28]));
    dcgan_init(&mut g);
    g
}

/// The fully connected GAN discriminator: `[N, 1, 28, 28] → 784 → Linear hidden → LeakyReLU
/// 0.2 → Linear hidden → LeakyReLU 0.2 → Linear 1` logit.
pub fn mlp_discriminator(hidden: usize) -> Sequential {
    let mut d = Sequential::new()
        .add(Flatten)
        .add(Linear::new(784, hidden))
        .add(Activation::LeakyRelu(0.2))
        .add(Linear::new(hidden, hidden))
        .add(Activation::LeakyRelu(0.2))
        .add(Linear::new(hidden, 1));
    dcgan_init(&mut d);
    d
}
