//! Variational autoencoders (Kingma & Welling 2013): [`Vae`] (an encoder to `μ, log σ²`, the
//! reparameterised sample, a decoder to Bernoulli logits), the closed-form ELBO
//! ([`negative_elbo`]) and [`VaeStep`], its step in the one training loop; MLP and
//! convolutional networks for 28×28 images.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Reduction, Var, no_grad};
use strata_datasets::Batch;
use strata_layers::{
    Activation, Conv2d, ConvTranspose2d, Flatten, Linear, Module, Sequential, Unflatten, prefixed,
};
use strata_tensor::{Element, Tensor};

use crate::step::{Step, StepOutput};

/// `z = μ + exp(½ log σ²) ⊙ ε`, differentiable in `μ` and `log σ²` (`ε` is a constant draw
/// from `N(0, I)` of the same shape).
///
/// # Panics
/// If the shapes differ.
pub fn reparameterize<T: Element>(mu: &Var<T>, log_var: &Var<T>, epsilon: &Tensor<T>) -> Var<T> {
    assert!(
        mu.shape() == log_var.shape() && mu.shape() == epsilon.shape(),
        "reparameterize: μ {:?}, log σ² {:?} and ε {:?} must have one shape",
        mu.shape(),
        log_var.shape(),
        epsilon.shape()
    );
    mu.add(
        &log_var
            .mul_scalar(T::from_f64_lossy(0.5))
            .exp()
            .mul(&Var::constant(epsilon.clone())),
    )
}

/// The Gaussian KL term in closed form, `KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²)`,
/// summed over the latent components and averaged over the batch: `[N, L] → scalar`.
pub fn gaussian_kl<T: Element>(mu: &Var<T>, log_var: &Var<T>) -> Var<T> {
    let n = T::from_f64_lossy(mu.shape()[0] as f64);
    log_var
        .add_scalar(T::one())
        .sub(&mu.square())
        .sub(&log_var.exp())
        .sum()
        .mul_scalar(T::from_f64_lossy(-0.5) / n)
}

/// The negative ELBO per example, `−ELBO = E[−log p(x|z)] + KL(q(z|x) ‖ p(z))`, with a
/// Bernoulli decoder given by its `logits` (binary cross-entropy summed over pixels) and the
/// closed-form Gaussian KL; averaged over the batch. Shapes: `logits`, `x` `[N, …]` (the same),
/// `μ`, `log σ²` `[N, L]`. Returns `(−ELBO, reconstruction, KL)`.
///
/// # Panics
/// If the shapes disagree.
pub fn negative_elbo<T: Element>(
    logits: &Var<T>,
    x: &Var<T>,
    mu: &Var<T>,
    log_var: &Var<T>,
) -> (Var<T>, Var<T>, Var<T>) {
    let n = T::from_f64_lossy(x.shape()[0] as f64);
    let reconstruction = logits
        .bce_with_logits(x, Reduction::Sum)
        .mul_scalar(T::one() / n);
    let kl = gaussian_kl(mu, log_var);
    (reconstruction.add(&kl), reconstruction, kl)
}

/// An encoder `x → [N, 2L]` (the first `L` columns `μ`, the others `log σ²`), a decoder
/// `z [N, L] → logits` shaped like `x`, and the stream of `ε`. As a module, `forward(x)` is
/// the mean reconstruction `σ(decoder(μ))`.
pub struct Vae<E, D> {
    /// `x → [N, 2·latent]`: `μ` then `log σ²`.
    pub encoder: E,
    /// `z → Bernoulli logits` of the pixels.
    pub decoder: D,
    latent: usize,
    rng: StdRng,
}

impl<E: Module, D: Module> Vae<E, D> {
    /// A VAE with `latent` Gaussian components.
    ///
    /// # Panics
    /// If `latent` is 0.
    pub fn new(encoder: E, decoder: D, latent: usize) -> Self {
        assert!(latent > 0, "Vae: the latent size must be positive");
        Vae {
            encoder,
            decoder,
            latent,
            rng: StdRng::seed_from_u64(0),
        }
    }

    /// The number of latent components.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// `(μ, log σ²)` of `q(z|x)`, each `[N, latent]`.
    ///
    /// # Panics
    /// If the encoder does not return `[N, 2·latent]`.
    pub fn encode(&mut self, x: &Var) -> (Var, Var) {
        let h = self.encoder.forward(x);
        assert_eq!(
            h.shape(),
            [x.shape()[0], 2 * self.latent],
            "Vae: the encoder must return [N, 2·latent] = [{}, {}]",
            x.shape()[0],
            2 * self.latent
        );
        (
            h.narrow(1, 0, self.latent),
            h.narrow(1, self.latent, self.latent),
        )
    }

    /// The negative ELBO of a batch `x` with a fresh `ε`: `(−ELBO, reconstruction, KL)`.
    pub fn loss(&mut self, x: &Var) -> (Var, Var, Var) {
        let (mu, log_var) = self.encode(x);
        let epsilon = Tensor::rand_normal(mu.shape(), 0.0, 1.0, &mut self.rng);
        let z = reparameterize(&mu, &log_var, &epsilon);
        let logits = self.decoder.forward(&z);
        negative_elbo(&logits.reshape(x.shape()), x, &mu, &log_var)
    }

    /// Decoded means `σ(decoder(z))` of codes `z [N, latent]`, without a graph.
    pub fn decode(&mut self, z: &Tensor) -> Tensor {
        no_grad(|| self.decoder.forward(&Var::constant(z.clone())))
            .into_value()
            .sigmoid()
    }

    /// `n` samples: codes from the prior `N(0, I)`, decoded to pixel means.
    pub fn sample(&mut self, n: usize) -> Tensor {
        let z = Tensor::rand_normal(&[n, self.latent], 0.0, 1.0, &mut self.rng);
        self.decode(&z)
    }

    /// The posterior means `μ` of a batch, without a graph.
    pub fn encode_mean(&mut self, x: &Tensor) -> Tensor {
        no_grad(|| self.encode(&Var::constant(x.clone())).0).into_value()
    }
}

impl<E: Module, D: Module> Module for Vae<E, D> {
    fn forward(&mut self, x: &Var) -> Var {
        let (mu, _) = self.encode(x);
        self.decoder.forward(&mu).sigmoid()
    }
    fn params(&self) -> Vec<(String, &Param)> {
        let mut p = prefixed("encoder", self.encoder.params());
        p.extend(prefixed("decoder", self.decoder.params()));
        p
    }
    fn params_mut(&mut self) -> Vec<(String, &mut Param)> {
        let mut p = prefixed("encoder", self.encoder.params_mut());
        p.extend(prefixed("decoder", self.decoder.params_mut()));
        p
    }
    fn buffers(&self) -> Vec<(String, &Tensor)> {
        let mut b = prefixed("encoder", self.encoder.buffers());
        b.extend(prefixed("decoder", self.decoder.buffers()));
        b
    }
    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        let mut b = prefixed("encoder", self.encoder.buffers_mut());
        b.extend(prefixed("decoder", self.decoder.buffers_mut()));
        b
    }
    fn is_training(&self) -> bool {
        self.encoder.is_training() || self.decoder.is_training()
    }
    fn set_training(&mut self, training: bool) {
        self.encoder.set_training(training);
        self.decoder.set_training(training);
    }
    fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }
}

/// The VAE's step: the negative ELBO of the batch's inputs (pixels in `[0, 1]`; labels
/// ignored) with a fresh `ε`; metrics `reconstruction` and `kl` (nats per image).
#[derive(Clone, Copy, Debug, Default)]
pub struct VaeStep;

impl<E: Module, D: Module> Step<Vae<E, D>> for VaeStep {
    fn train_step(&mut self, vae: &mut Vae<E, D>, batch: &Batch) -> StepOutput {
        let (loss, rec, kl) = vae.loss(&Var::constant(batch.inputs.clone()));
        StepOutput::new(loss.item() as f64, loss.backward())
            .with_metric("reconstruction", rec.item() as f64)
            .with_metric("kl", kl.item() as f64)
    }

    fn eval_step(&mut self, vae: &mut Vae<E, D>, batch: &Batch) -> StepOutput {
        let (loss, rec, kl) = no_grad(|| vae.loss(&Var::constant(batch.inputs.clone())));
        StepOutput::measured(loss.item() as f64)
            .with_metric("reconstruction", rec.item() as f64)
            .with_metric("kl", kl.item() as f64)
    }
}

/// The MLP encoder `[N, 1, 28, 28] → 784 → hidden (ReLU) → 2·latent`.
pub fn mlp_encoder(hidden: usize, latent: usize) -> Sequential {
    Sequential::new()
        .add(Flatten)
        .add(Linear::new(784, hidden))
        .add(Activation::Relu)
        .add(Linear::new(hidden, 2 * latent))
}

/// The MLP decoder `latent → hidden (ReLU) → 784` logits, as `[N, 1, 28, 28]`.
pub fn mlp_decoder(hidden: usize, latent: usize) -> Sequential {
    Sequential::new()
        .add(Linear::new(latent, hidden))
        .add(Activation::Relu)
        .add(Linear::new(hidden, 784))
        .add(Unflatten::new(&[1, 28, 28]))
}

/// The convolutional encoder `[N, 1, 28, 28] → Conv 32 (4×4, stride 2) → ReLU → Conv 64 (4×4,
/// stride 2) → ReLU → [64, 7, 7] → Linear 2·latent`.
pub fn conv_encoder(latent: usize) -> Sequential {
    Sequential::new()
        .add(
            Conv2d::new(1, 32, (4, 4))
                .with_stride((2, 2))
                .with_padding((1, 1)),
        )
        .add(Activation::Relu)
        .add(
            Conv2d::new(32, 64, (4, 4))
                .with_stride((2, 2))
                .with_padding((1, 1)),
        )
        .add(Activation::Relu)
        .add(Flatten)
        .add(Linear::new(64 * 7 * 7, 2 * latent))
}

/// The convolutional decoder `latent → Linear 3136 → ReLU → [64, 7, 7] → ConvTranspose 32
/// (4×4, stride 2) → ReLU → ConvTranspose 1 (4×4, stride 2)` logits `[N, 1, 28, 28]`.
pub fn conv_decoder(latent: usize) -> Sequential {
    Sequential::new()
        .add(Linear::new(latent, 64 * 7 * 7))
        .add(Activation::Relu)
        .add(Unflatten::new(&[64, 7, 7]))
        .add(ConvTranspose2d::new(64, 32, (4, 4)).with_stride_padding((2, 2), (1, 1), (0, 0)))
        .add(Activation::Relu)
        .add(ConvTranspose2d::new(32, 1, (4, 4)).with_stride_padding((2, 2), (1, 1), (0, 0)))
}
