//! Deep belief networks: stacks of RBMs trained greedily (Hinton, Osindero & Teh 2006), then
//! unfolded into an [`Mlp`] for discriminative fine-tuning, or fine-tuned generatively by the
//! wake-sleep (up-down) algorithm.
//!
//! A DBN over layers `s₀ = v, s₁, …, s_L` (sizes `[n₀, n₁, …, n_L]`) is a directed sigmoid
//! belief net `p(sₗ₋₁ | sₗ) = σ(sₗ·Gₗ + gₗ)` for `l < L` under an undirected top-level RBM over
//! `(s_{L−1}, s_L)`. Greedy pretraining trains RBM `l` on `p(sₗ₋₁ = 1 | …)` of the one below;
//! the generative weights start tied to the recognition weights (`Gₗ = Rₗ = Wₗ`).
//!
//! Both trainings run in the [`Trainer`] loop: pretraining with the
//! [`Layerwise`](crate::layerwise::Layerwise) step over
//! [`ContrastiveDivergence`](crate::contrastive_divergence::ContrastiveDivergence) (a `Dbn` is
//! a [`LayerStack`]), wake-sleep with the [`WakeSleep`](crate::wake_sleep::WakeSleep) step.

use strata_autograd::{Grads, Param, Var};
use strata_layers::{Activation, Module};
use strata_optim::{Sgd, SgdConfig};
use strata_tensor::Tensor;

use crate::layerwise::LayerStack;
use crate::rbm::{Rbm, RbmConfig, SampleRng, VisibleUnits, affine, seeded_rng};
use crate::{Mlp, MlpConfig, MlpInit, MlpOutput, Objective, TrainError, Trainer, TrainerConfig};

/// The untied weights of one directed layer between `sₗ` (below, `V` units) and `sₗ₊₁`
/// (above, `H` units), created by [`Dbn::untie`]: recognition `q(sₗ₊₁ = 1 | sₗ) =
/// σ(sₗ·Rᵀ + r)` and generation `p(sₗ = 1 | sₗ₊₁) = σ(sₗ₊₁·G + g)` (linear for Gaussian
/// visible units).
pub struct DirectedLayer {
    /// `R`, `[H, V]`.
    pub recognition_weight: Param,
    /// `r`, `[H]`.
    pub recognition_bias: Param,
    /// `G`, `[H, V]`.
    pub generative_weight: Param,
    /// `g`, `[V]`.
    pub generative_bias: Param,
}

/// A deep belief network: a stack of [`Rbm`]s, `rbms[l]` modelling the hidden units of
/// `rbms[l − 1]`.
pub struct Dbn {
    /// The RBMs, bottom first.
    pub rbms: Vec<Rbm>,
    /// The untied directed layers after [`Dbn::untie`] (one per RBM but the top).
    pub directed: Option<Vec<DirectedLayer>>,
    rng: SampleRng,
}

impl Dbn {
    /// A DBN of layer sizes `[n₀, n₁, …, n_L]`; RBM `l` (0-based, `n_l` visible, `n_{l+1}`
    /// hidden) is built from `config(l, n_l, n_{l+1})`.
    ///
    /// # Panics
    /// With fewer than two sizes, or a config whose sizes differ from the ones given.
    pub fn new(sizes: &[usize], config: impl Fn(usize, usize, usize) -> RbmConfig) -> Self {
        assert!(
            sizes.len() >= 2,
            "Dbn::new: needs at least two layer sizes, got {sizes:?}"
        );
        let rbms: Vec<Rbm> = sizes
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let c = config(l, w[0], w[1]);
                assert!(
                    c.visible == w[0] && c.hidden == w[1],
                    "Dbn::new: RBM {l} config is {}-{}, sizes say {}-{}",
                    c.visible,
                    c.hidden,
                    w[0],
                    w[1]
                );
                Rbm::new(c)
            })
            .collect();
        let seed = rbms[0].config().seed;
        Dbn {
            rbms,
            directed: None,
            rng: seeded_rng(strata_layers::child_seed(seed, 0xDB)),
        }
    }

    /// Layer sizes `[n₀, …, n_L]`.
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.rbms[0].visible())
            .chain(self.rbms.iter().map(Rbm::hidden))
            .collect()
    }

    /// `q(s₁ = 1 | v)` of the bottom layer: the recognition weights after wake-sleep, else the
    /// RBM's `p(h | v)`.
    fn up_layer(&self, l: usize, x: &Tensor) -> Tensor {
        match &self.directed {
            Some(d) if l < d.len() => affine(
                "Dbn::up",
                x,
                d[l].recognition_weight.value(),
                d[l].recognition_bias.value(),
                true,
            )
            .sigmoid(),
            _ => self.rbms[l].prob_h_given_v(x),
        }
    }

    /// The generative mean of layer `l` given layer `l + 1`.
    fn down_layer(&self, l: usize, h: &Tensor) -> Tensor {
        match &self.directed {
            Some(d) if l < d.len() => {
                let a = affine(
                    "Dbn::down",
                    h,
                    d[l].generative_weight.value(),
                    d[l].generative_bias.value(),
                    false,
                );
                if l == 0 && self.rbms[0].config().visible_units == VisibleUnits::Gaussian {
                    a
                } else {
                    a.sigmoid()
                }
            }
            _ => self.rbms[l].prob_v_given_h(h),
        }
    }

    /// Deterministic upward pass `v → p(s₁ | v) → … → p(s_L | s_{L−1})` (DeepLearnToolbox
    /// `rbmup` through the stack), `[N, n_L]`.
    ///
    /// # Panics
    /// If `v` is not `[N, n₀]`.
    pub fn up(&self, v: &Tensor) -> Tensor {
        (0..self.rbms.len()).fold(v.clone(), |x, l| self.up_layer(l, &x))
    }

    /// Mean-field reconstruction error: up to the top RBM's visible layer, one mean-field step
    /// of the top RBM, back down through the generative weights; the mean of `(v − v̂)²`.
    ///
    /// # Panics
    /// If `v` is not `[N, n₀]`.
    pub fn reconstruction_error(&self, v: &Tensor) -> f64 {
        let top = self.rbms.len() - 1;
        let mut x = (0..top).fold(v.clone(), |x, l| self.up_layer(l, &x));
        x = self.rbms[top].prob_v_given_h(&self.rbms[top].prob_h_given_v(&x));
        let r = (0..top).rev().fold(x, |x, l| self.down_layer(l, &x));
        v.sub(&r).square().sum() as f64 / v.numel() as f64
    }

    /// `n` samples of the visible layer: `gibbs_steps` of alternating Gibbs sampling in the top
    /// RBM from random binary states, then one top-down pass (sampled binary states in the
    /// hidden layers, the mean `E[v | s₁]` at the bottom), `[n, n₀]`.
    ///
    /// # Panics
    /// If `n` is zero.
    pub fn sample(&mut self, n: usize, gibbs_steps: usize) -> Tensor {
        assert!(n > 0, "Dbn::sample: needs at least one sample");
        let top = self.rbms.len() - 1;
        let start = Tensor::rand_bernoulli(&[n, self.rbms[top].visible()], 0.5, &mut self.rng);
        let mut x = self.rbms[top].gibbs(&start, gibbs_steps.max(1));
        if top == 0 {
            return self.rbms[0].prob_v_given_h(&self.rbms[0].prob_h_given_v(&x));
        }
        for l in (0..top).rev() {
            let mean = self.down_layer(l, &x);
            x = if l == 0 {
                mean
            } else {
                mean.bernoulli(&mut self.rng)
            };
        }
        x
    }

    /// Unfolds the stack into an MLP `[n₀, n₁, …, n_L, outputs]` with sigmoid hidden units
    /// (DeepLearnToolbox `dbnunfoldtonn`): hidden layer `l` gets `Wₗ` and `cₗ` (the recognition
    /// weights after wake-sleep), the output layer `nnsetup`'s
    /// `U(±4·√(6/(fan_in + fan_out)))`, drawn after `strata_layers::manual_seed(seed)`.
    ///
    /// # Panics
    /// If `outputs` is zero.
    pub fn unfold(&self, outputs: usize, output: MlpOutput, seed: u64) -> Mlp {
        assert!(outputs > 0, "Dbn::unfold: needs at least one output");
        let mut sizes = self.sizes();
        sizes.push(outputs);
        strata_layers::manual_seed(seed);
        let mut mlp = Mlp::new(
            &MlpConfig::new(&sizes)
                .with_hidden(Activation::Sigmoid)
                .with_output(output)
                .with_init(MlpInit::DltSigmoid),
        );
        for (l, rbm) in self.rbms.iter().enumerate() {
            let (w, c) = match &self.directed {
                Some(d) if l < d.len() => (
                    d[l].recognition_weight.value().clone(),
                    d[l].recognition_bias.value().clone(),
                ),
                _ => (rbm.weight.value().clone(), rbm.hidden_bias.value().clone()),
            };
            mlp.set_layer(l, w, c);
        }
        mlp
    }

    /// Unties the recognition and generative weights of every layer but the top (copies of
    /// `Wₗ`, `cₗ` and `bₗ`), as wake-sleep fine-tuning needs; does nothing if they are
    /// already untied.
    pub fn untie(&mut self) {
        if self.directed.is_some() {
            return;
        }
        let top = self.rbms.len() - 1;
        self.directed = Some(
            self.rbms[..top]
                .iter()
                .map(|r| DirectedLayer {
                    recognition_weight: Param::new(r.weight.value().clone()),
                    recognition_bias: Param::new(r.hidden_bias.value().clone()),
                    generative_weight: Param::new(r.weight.value().clone()),
                    generative_bias: Param::new(r.visible_bias.value().clone()),
                })
                .collect(),
        );
    }

    /// The wake-sleep (up-down) update of Hinton, Osindero & Teh (2006, appendix B) for the
    /// batch `v: [N, n₀]`, as gradients (the negated updates, for a plain SGD step with
    /// learning rate ε), and the wake phase's bottom reconstruction error
    /// `Σ(v − ŝ₀)²/N`. Unties the weights first if needed ([`Dbn::untie`]).
    ///
    /// - wake: `sₗ₊₁ ~ σ(sₗ·Rₗᵀ + rₗ)` from `s₀ = v`; the generative weights learn to predict
    ///   each layer from the one above, `ΔGₗ = ε·sₗ₊₁ᵀ(sₗ − ŝₗ)/N`, `Δgₗ = ε·⟨sₗ − ŝₗ⟩`,
    ///   `ŝₗ = σ(sₗ₊₁·Gₗ + gₗ)`;
    /// - top: a CD update of the top RBM on `s_{L−1}` (its own CD-k settings);
    /// - sleep: from the top RBM's negative sample `s'_{L−1}`, `s'ₗ ~ σ(s'ₗ₊₁·Gₗ + gₗ)`; the
    ///   recognition weights learn to invert it, `ΔRₗ = ε·(s'ₗ₊₁ − q̂ₗ₊₁)ᵀs'ₗ/N`,
    ///   `Δrₗ = ε·⟨s'ₗ₊₁ − q̂ₗ₊₁⟩`, `q̂ₗ₊₁ = σ(s'ₗ·Rₗᵀ + rₗ)`.
    ///
    /// # Panics
    /// With fewer than two RBMs, or if `v` is not `[N, n₀]`.
    pub fn wake_sleep_grads(&mut self, v: &Tensor) -> (Grads, f64) {
        let top = self.rbms.len() - 1;
        assert!(
            top >= 1,
            "Dbn::wake_sleep_grads: needs at least two RBMs, got {}",
            self.rbms.len()
        );
        assert!(
            v.ndim() == 2 && v.shape()[1] == self.rbms[0].visible() && v.shape()[0] > 0,
            "Dbn::wake_sleep_grads: expected a batch [N, {}], got {:?}",
            self.rbms[0].visible(),
            v.shape()
        );
        self.untie();
        let gaussian_bottom = self.rbms[0].config().visible_units == VisibleUnits::Gaussian;
        let m = v.shape()[0] as f32;
        let directed = self.directed.as_ref().expect("untied above");
        // Wake: recognition states bottom-up.
        let mut s = vec![v.clone()];
        for d in directed {
            let p = affine(
                "Dbn::wake_sleep_grads",
                s.last().expect("non-empty"),
                d.recognition_weight.value(),
                d.recognition_bias.value(),
                true,
            )
            .sigmoid();
            s.push(p.bernoulli(&mut self.rng));
        }
        let mut grads = Grads::new();
        let mut wake_error = 0.0;
        for (l, d) in directed.iter().enumerate() {
            let a = affine(
                "Dbn::wake_sleep_grads",
                &s[l + 1],
                d.generative_weight.value(),
                d.generative_bias.value(),
                false,
            );
            let pred = if l == 0 && gaussian_bottom {
                a
            } else {
                a.sigmoid()
            };
            let err = pred.sub(&s[l]); // −(sₗ − ŝₗ): the descent direction's gradient
            if l == 0 {
                wake_error = err.square().sum() as f64 / m as f64;
            }
            let mut gw = Tensor::zeros(d.generative_weight.shape());
            gw.gemm_(1.0 / m, &s[l + 1].t(), &err, 0.0);
            grads.insert(d.generative_weight.id(), gw);
            grads.insert(d.generative_bias.id(), err.mean_axis(0, false));
        }
        // Top RBM: a CD update; its negative visible state starts the sleep phase.
        let (top_grads, _, v_neg) = self.rbms[top].cd_grads_with_chain(&s[top]);
        grads.merge(top_grads);
        // Sleep: generative states top-down from the top RBM's fantasy.
        let directed = self.directed.as_ref().expect("untied above");
        let mut sp = vec![Tensor::zeros(&[0]); top + 1];
        sp[top] = v_neg.bernoulli(&mut self.rng);
        for l in (0..top).rev() {
            let d = &directed[l];
            let a = affine(
                "Dbn::wake_sleep_grads",
                &sp[l + 1],
                d.generative_weight.value(),
                d.generative_bias.value(),
                false,
            );
            sp[l] = if l == 0 {
                if gaussian_bottom { a } else { a.sigmoid() }
            } else {
                a.sigmoid().bernoulli(&mut self.rng)
            };
        }
        for (l, d) in directed.iter().enumerate() {
            let q = affine(
                "Dbn::wake_sleep_grads",
                &sp[l],
                d.recognition_weight.value(),
                d.recognition_bias.value(),
                true,
            )
            .sigmoid();
            let err = q.sub(&sp[l + 1]);
            let mut gw = Tensor::zeros(d.recognition_weight.shape());
            gw.gemm_(1.0 / m, &err.t(), &sp[l], 0.0);
            grads.insert(d.recognition_weight.id(), gw);
            grads.insert(d.recognition_bias.id(), err.mean_axis(0, false));
        }
        (grads, wake_error)
    }
}

impl LayerStack for Dbn {
    type Layer = Rbm;

    fn depth(&self) -> usize {
        self.rbms.len()
    }

    fn layer_mut(&mut self, l: usize) -> &mut Rbm {
        &mut self.rbms[l]
    }

    /// `p(h = 1 | ·)` through RBMs `0..l` (the DeepLearnToolbox `rbmup`; the RBMs' own
    /// weights even after wake-sleep).
    fn codes(&self, x: &Tensor, l: usize) -> Tensor {
        let x = if x.ndim() == 2 {
            x.clone()
        } else {
            x.flatten_from(1)
        };
        self.rbms[..l]
            .iter()
            .fold(x, |x, rbm| rbm.prob_h_given_v(&x))
    }

    fn layer_name(&self, l: usize) -> String {
        format!("{}-{}", self.rbms[l].visible(), self.rbms[l].hidden())
    }
}

impl Module for Dbn {
    /// The deterministic upward pass [`Dbn::up`] (through the RBMs' weights).
    fn forward(&mut self, x: &Var) -> Var {
        self.rbms
            .iter_mut()
            .fold(x.clone(), |h, rbm| rbm.forward(&h))
    }

    fn params(&self) -> Vec<(String, &Param)> {
        let mut out: Vec<(String, &Param)> = self
            .rbms
            .iter()
            .enumerate()
            .flat_map(|(i, r)| strata_layers::prefixed(&format!("rbms.{i}"), r.params()))
            .collect();
        if let Some(d) = &self.directed {
            for (i, layer) in d.iter().enumerate() {
                out.extend(strata_layers::prefixed(
                    &format!("directed.{i}"),
                    vec![
                        ("recognition_weight".to_string(), &layer.recognition_weight),
                        ("recognition_bias".to_string(), &layer.recognition_bias),
                        ("generative_weight".to_string(), &layer.generative_weight),
                        ("generative_bias".to_string(), &layer.generative_bias),
                    ],
                ));
            }
        }
        out
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param)> {
        let mut out: Vec<(String, &mut Param)> = self
            .rbms
            .iter_mut()
            .enumerate()
            .flat_map(|(i, r)| strata_layers::prefixed(&format!("rbms.{i}"), r.params_mut()))
            .collect();
        if let Some(d) = &mut self.directed {
            for (i, layer) in d.iter_mut().enumerate() {
                out.extend(strata_layers::prefixed(
                    &format!("directed.{i}"),
                    vec![
                        (
                            "recognition_weight".to_string(),
                            &mut layer.recognition_weight,
                        ),
                        ("recognition_bias".to_string(), &mut layer.recognition_bias),
                        (
                            "generative_weight".to_string(),
                            &mut layer.generative_weight,
                        ),
                        ("generative_bias".to_string(), &mut layer.generative_bias),
                    ],
                ));
            }
        }
        out
    }

    /// Restarts every RBM's sampling stream (from seeds derived from `seed`) and the DBN's own.
    fn reseed(&mut self, seed: u64) {
        for (i, rbm) in self.rbms.iter_mut().enumerate() {
            rbm.reseed(strata_layers::child_seed(seed, i as u64));
        }
        self.rng = seeded_rng(strata_layers::child_seed(seed, 0xDB));
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The DeepLearnToolbox `test_example_DBN` stack of layer sizes `sizes` (e.g. `[784, 100, 100]`):
/// RBMs in the [`RbmConfig::dlt`] form (`W = 0`, CD-1 with sampled `h₁` and `v₂`), RBM `l`
/// seeded with `child_seed(seed, l)`.
///
/// # Panics
/// As [`Dbn::new`].
pub fn dlt_dbn(sizes: &[usize], seed: u64) -> Dbn {
    Dbn::new(sizes, |l, v, h| {
        RbmConfig::dlt(v, h).with_seed(strata_layers::child_seed(seed, l as u64))
    })
}

/// The DeepLearnToolbox `rbmtrain` optimizer: plain SGD, `ΔW = α·(⟨h vᵀ⟩_data − ⟨h vᵀ⟩_recon)`
/// with `α = lr` and momentum `μ` (`vW ← μ·vW + α·ΔW`, `W ← W + vW`, which is PyTorch-style
/// SGD momentum for a constant rate).
///
/// # Errors
/// [`TrainError::Config`] for an invalid rate or momentum.
pub fn dlt_rbm_optimizer(lr: f64, momentum: f64) -> Result<Sgd, TrainError> {
    SgdConfig::new(lr)
        .with_momentum(momentum)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))
}

/// The DeepLearnToolbox fine-tuning of an unfolded DBN (`nntrain` with `nnsetup`'s defaults):
/// `½·Σ(y − t)²/N` on sigmoid outputs, SGD learning rate 2, momentum 0.5, flattened inputs,
/// batches of `batch`, shuffled with `seed`.
///
/// # Errors
/// [`TrainError::Config`] for zero epochs or batch size.
pub fn dlt_finetune_trainer(
    mlp: Mlp,
    seed: u64,
    epochs: usize,
    batch: usize,
) -> Result<Trainer<Mlp, Sgd>, TrainError> {
    let optimizer = SgdConfig::new(2.0)
        .with_momentum(0.5)
        .build()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let mut config = TrainerConfig::new(epochs, batch);
    config.seed = seed;
    config.flatten_inputs = true;
    Trainer::new(mlp, optimizer, Objective::HalfSse, config, "dbn-mlp")
}

/// The MLP of `sizes` (e.g. `[784, 100, 100, 10]`) with sigmoid hidden and output units and
/// `nnsetup`'s random initialisation after `manual_seed(seed)`: the from-scratch baseline of
/// an unfolded DBN.
///
/// # Panics
/// As [`Mlp::new`].
pub fn dlt_random_mlp(sizes: &[usize], seed: u64) -> Mlp {
    strata_layers::manual_seed(seed);
    Mlp::new(
        &MlpConfig::new(sizes)
            .with_hidden(Activation::Sigmoid)
            .with_output(MlpOutput::Sigmoid)
            .with_init(MlpInit::DltSigmoid),
    )
}
