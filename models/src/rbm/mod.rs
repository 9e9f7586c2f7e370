//! Restricted Boltzmann machines trained by contrastive divergence.
//!
//! An RBM couples visible units `v ∈ ℝ^V` and binary hidden units `h ∈ {0, 1}^H` through the
//! energy
//!
//! - Bernoulli–Bernoulli: `E(v, h) = −bᵀv − cᵀh − hᵀWv`, `v ∈ {0, 1}^V`;
//! - Gaussian–Bernoulli (unit variance): `E(v, h) = ½‖v − b‖² − cᵀh − hᵀWv`, `v ∈ ℝ^V`;
//!
//! with `W: [H, V]` (`weight`), `b: [V]` (`visible_bias`) and `c: [H]` (`hidden_bias`), and
//! `p(v, h) = e^{−E(v, h)}/Z`. Both conditionals factorise:
//!
//! - `p(hⱼ = 1 | v) = σ(cⱼ + Wⱼ·v)`;
//! - Bernoulli visible: `p(vᵢ = 1 | h) = σ(bᵢ + (Wᵀh)ᵢ)`; Gaussian visible:
//!   `p(vᵢ | h) = N(bᵢ + (Wᵀh)ᵢ, 1)`.
//!
//! The gradient of the negative log-likelihood of a data set is
//! `−∂ log p(v)/∂W = −(⟨h vᵀ⟩_data − ⟨h vᵀ⟩_model)` (likewise `⟨v⟩` for `b` and `⟨h⟩` for `c`).
//! Contrastive divergence (CD-k) estimates the model term from a Gibbs chain of `k` steps
//! started at the data; persistent CD (PCD-k) keeps the chain between updates. The estimate is
//! returned as a [`Grads`] value, so any `strata-optim` optimizer applies it (plain SGD with
//! learning rate ε gives Hinton's `ΔW = ε·(⟨h vᵀ⟩_data − ⟨h vᵀ⟩_recon)`; momentum as the
//! optimizer's). The [`Trainer`](crate::Trainer) trains an RBM with the
//! [`ContrastiveDivergence`](crate::contrastive_divergence::ContrastiveDivergence) step.
//!
//! The estimate from given states (no draws) is [`Rbm::cd_grads_from`] with [`CdStates`] in
//! the toolbox or the probability form; the conditionals and the free energy are also
//! differentiable functions of graph variables ([`Rbm::vars`], [`RbmVars`]). `Rbm<f64>` gives
//! exact checks of both.

mod estimate;
mod graph;

pub use estimate::CdStates;
pub use graph::RbmVars;

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Grads, Param, Var};
use strata_layers::{Init, Module};
use strata_tensor::{Element, Tensor};

/// The generator an [`Rbm`] samples with.
pub(crate) type SampleRng = StdRng;

/// A generator seeded with `seed`.
pub(crate) fn seeded_rng(seed: u64) -> SampleRng {
    StdRng::seed_from_u64(seed)
}

/// `x·Wᵀ + bias` for `x: [N, in]`, `w: [out, in]`, `bias: [out]`, or `x·W + bias` when
/// `transpose` is false (`w: [in, out]`).
pub(crate) fn affine<T: Element>(
    op: &str,
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: &Tensor<T>,
    transpose: bool,
) -> Tensor<T> {
    let w = if transpose { w.t() } else { w.clone() };
    assert!(
        x.ndim() == 2 && x.shape()[1] == w.shape()[0],
        "{op}: input {:?} does not fit weight {:?} ({} inputs expected)",
        x.shape(),
        if transpose {
            w.t().shape().to_vec()
        } else {
            w.shape().to_vec()
        },
        w.shape()[0]
    );
    let mut y = bias
        .broadcast_to(&[x.shape()[0], w.shape()[1]])
        .contiguous();
    y.gemm_(T::one(), x, &w, T::one());
    y
}

/// `n` as the element type.
fn count<T: Element>(n: usize) -> T {
    T::from_f64_lossy(n as f64)
}

/// The kind of visible units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisibleUnits {
    /// Binary units, `p(vᵢ = 1 | h) = σ(bᵢ + (Wᵀh)ᵢ)` (inputs in `[0, 1]` read as
    /// probabilities).
    Bernoulli,
    /// Real-valued units with unit variance, `vᵢ | h ~ N(bᵢ + (Wᵀh)ᵢ, 1)` (standardise the
    /// data first).
    Gaussian,
}

/// How the model expectation `⟨h vᵀ⟩_model` is estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Divergence {
    /// CD-k: `k` full Gibbs steps `v → h → v` started at the mini-batch.
    Cd(usize),
    /// PCD-k (Tieleman 2008): `k` Gibbs steps continuing persistent chains (one per example of
    /// the first mini-batch), whose visible states are always sampled.
    Persistent(usize),
}

impl Divergence {
    fn steps(self) -> usize {
        match self {
            Divergence::Cd(k) | Divergence::Persistent(k) => k,
        }
    }
}

/// How parameters start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RbmInit {
    /// Hinton's practical guide: `W ~ N(0, 0.01²)` ([`Init::RbmNormal`]), `b = c = 0`; call
    /// [`Rbm::init_visible_bias_from_data`] for `bᵢ = log(pᵢ/(1 − pᵢ))`.
    Hinton,
    /// The DeepLearnToolbox `dbnsetup`: `W = 0`, `b = c = 0`.
    Zeros,
}

/// Which hidden states enter the positive statistics `⟨h vᵀ⟩_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositiveStatistics {
    /// `p(h | v)` (Hinton's guide: less sampling noise).
    Probabilities,
    /// Binary samples `h ~ p(h | v)` (the DeepLearnToolbox `rbmtrain`).
    Samples,
}

/// Hinton's sparsity target (guide, section 11): a running estimate
/// `q ← λ·q + (1 − λ)·mean_batch p(h | v)` of each hidden unit's activity is pulled towards
/// the target `ρ` by adding `cost·(q − ρ)` to the hidden-bias gradient and
/// `cost·(q − ρ)·v̄ᵀ` to the weight gradient (`v̄` the batch mean of `v`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SparsityTarget {
    /// Target activity ρ ∈ (0, 1), e.g. 0.05.
    pub target: f64,
    /// Penalty weight, e.g. 0.1 … 1.
    pub cost: f64,
    /// Decay λ ∈ [0, 1) of the running estimate, e.g. 0.95.
    pub decay: f64,
}

/// Settings of an [`Rbm`].
#[derive(Clone, Debug, PartialEq)]
pub struct RbmConfig {
    /// Number of visible units `V`.
    pub visible: usize,
    /// Number of hidden units `H`.
    pub hidden: usize,
    /// Bernoulli or Gaussian visible units.
    pub visible_units: VisibleUnits,
    /// CD-k or PCD-k.
    pub divergence: Divergence,
    /// Initialisation.
    pub init: RbmInit,
    /// Probabilities or samples in the positive statistics.
    pub positive: PositiveStatistics,
    /// Sample the visible reconstruction in CD (the DeepLearnToolbox does); otherwise use its
    /// mean `E[v | h]` (Hinton's guide). PCD chains always sample.
    pub sample_visible: bool,
    /// L2 weight decay λ on `W` (not the biases): `λ·W` is added to the weight gradient.
    pub weight_decay: f64,
    /// Optional sparsity target.
    pub sparsity: Option<SparsityTarget>,
    /// Seed of the weights and of every sample drawn.
    pub seed: u64,
}

impl RbmConfig {
    /// A Bernoulli–Bernoulli RBM trained by CD-1 as Hinton's guide recommends: `W ~ N(0, 0.01²)`,
    /// probabilities in the positive statistics and for the reconstruction, no weight decay, no
    /// sparsity, seed 0.
    pub fn new(visible: usize, hidden: usize) -> Self {
        RbmConfig {
            visible,
            hidden,
            visible_units: VisibleUnits::Bernoulli,
            divergence: Divergence::Cd(1),
            init: RbmInit::Hinton,
            positive: PositiveStatistics::Probabilities,
            sample_visible: false,
            weight_decay: 0.0,
            sparsity: None,
            seed: 0,
        }
    }

    /// The DeepLearnToolbox `rbmtrain` variant: `W = 0`, sampled hidden states in the positive
    /// statistics, a sampled visible reconstruction, negative hidden probabilities.
    pub fn dlt(visible: usize, hidden: usize) -> Self {
        RbmConfig {
            init: RbmInit::Zeros,
            positive: PositiveStatistics::Samples,
            sample_visible: true,
            ..Self::new(visible, hidden)
        }
    }

    /// Sets the visible units.
    pub fn with_visible_units(mut self, units: VisibleUnits) -> Self {
        self.visible_units = units;
        self
    }

    /// Sets CD-k or PCD-k.
    pub fn with_divergence(mut self, divergence: Divergence) -> Self {
        self.divergence = divergence;
        self
    }

    /// Sets the initialisation.
    pub fn with_init(mut self, init: RbmInit) -> Self {
        self.init = init;
        self
    }

    /// Sets the L2 weight decay on `W`.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets a sparsity target.
    pub fn with_sparsity(mut self, sparsity: SparsityTarget) -> Self {
        self.sparsity = Some(sparsity);
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Sufficient statistics of a phase, averaged over the examples: `⟨h vᵀ⟩ [H, V]`, `⟨v⟩ [V]`,
/// `⟨h⟩ [H]`.
#[derive(Clone, Debug)]
pub struct PhaseStatistics<T: Element = f32> {
    /// `⟨h vᵀ⟩ = hᵀv / N`, `[H, V]`.
    pub weight: Tensor<T>,
    /// `⟨v⟩`, `[V]`.
    pub visible: Tensor<T>,
    /// `⟨h⟩`, `[H]`.
    pub hidden: Tensor<T>,
}

impl<T: Element> PhaseStatistics<T> {
    /// The statistics of visible states `v: [N, V]` paired with hidden states `h: [N, H]`.
    ///
    /// # Panics
    /// If `v` and `h` are not 2-D with the same number of rows.
    pub fn of(v: &Tensor<T>, h: &Tensor<T>) -> Self {
        assert!(
            v.ndim() == 2 && h.ndim() == 2 && v.shape()[0] == h.shape()[0] && v.shape()[0] > 0,
            "PhaseStatistics::of: visible {:?} and hidden {:?} need the same positive number of rows",
            v.shape(),
            h.shape()
        );
        let n: T = count(v.shape()[0]);
        let mut weight = Tensor::zeros(&[h.shape()[1], v.shape()[1]]);
        weight.gemm_(n.recip(), &h.t(), v, T::zero());
        PhaseStatistics {
            weight,
            visible: v.mean_axis(0, false),
            hidden: h.mean_axis(0, false),
        }
    }
}

/// What one CD update saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CdReport {
    /// The DeepLearnToolbox reconstruction error of the batch, `Σ(v − v_k)²/N` (summed over
    /// units, averaged over examples; `v_k` the CD chain's last visible state). For PCD, whose
    /// chains are not the batch's, `Σ(v − E[v | h])²/N` with `h ~ p(h | v)` the batch's own
    /// hidden sample.
    pub batch_error: f64,
    /// The mean free energy `F(v)` of the batch before the update (see
    /// [`Rbm::free_energy`]), estimated on its first tenth of rows from the positive phase's
    /// pre-activations (no extra product).
    pub free_energy: f64,
}

/// A restricted Boltzmann machine (see the [module docs](self) for the energy and the
/// conditionals). Parameters: `weight [H, V]`, `visible_bias [V]`, `hidden_bias [H]`; as a
/// [`Module`], `forward(v) = p(h = 1 | v) = σ(v·Wᵀ + c)`.
///
/// Generic over the element type: `Rbm` (f32) trains; `Rbm<f64>` is for gradient checks and
/// exact comparisons with a reference.
pub struct Rbm<T: Element = f32> {
    /// `W`, `[hidden, visible]`.
    pub weight: Param<T>,
    /// `b`, `[visible]`.
    pub visible_bias: Param<T>,
    /// `c`, `[hidden]`.
    pub hidden_bias: Param<T>,
    config: RbmConfig,
    rng: SampleRng,
    /// The seed of the draws keyed by example ([`Rbm::cd_grads_keyed`]).
    stream: u64,
    /// PCD chains' hidden states.
    chains: Option<Tensor<T>>,
    /// The running activity estimate `q` of the sparsity target.
    activity: Option<Tensor<T>>,
}

impl<T: Element> Rbm<T> {
    /// A new RBM (weights drawn from a stream seeded with `config.seed`).
    ///
    /// # Panics
    /// If a size is zero, `k` is zero, or the sparsity settings are out of range.
    pub fn new(config: RbmConfig) -> Self {
        let (v, h) = (config.visible, config.hidden);
        assert!(
            v > 0 && h > 0,
            "Rbm::new: {v} visible and {h} hidden units must both be positive"
        );
        assert!(
            config.divergence.steps() > 0,
            "Rbm::new: {:?} needs at least one Gibbs step",
            config.divergence
        );
        if let Some(s) = config.sparsity {
            assert!(
                s.target > 0.0 && s.target < 1.0 && s.cost >= 0.0 && (0.0..1.0).contains(&s.decay),
                "Rbm::new: sparsity {s:?} needs target in (0, 1), cost ≥ 0, decay in [0, 1)"
            );
        }
        let mut rng = seeded_rng(config.seed);
        let weight = match config.init {
            RbmInit::Hinton => Init::RbmNormal.tensor(&[h, v], &mut rng),
            RbmInit::Zeros => Tensor::zeros(&[h, v]),
        };
        Rbm {
            weight: Param::new(weight),
            visible_bias: Param::new(Tensor::zeros(&[v])),
            hidden_bias: Param::new(Tensor::zeros(&[h])),
            stream: config.seed,
            config,
            rng,
            chains: None,
            activity: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &RbmConfig {
        &self.config
    }

    /// Number of visible units.
    pub fn visible(&self) -> usize {
        self.config.visible
    }

    /// Number of hidden units.
    pub fn hidden(&self) -> usize {
        self.config.hidden
    }

    /// Hinton's visible-bias initialisation from training data `[N, V]`: Bernoulli units get
    /// `bᵢ = log(pᵢ/(1 − pᵢ))` with `pᵢ` the mean of unit `i` (clamped to `[10⁻³, 1 − 10⁻³]`),
    /// Gaussian units `bᵢ = pᵢ`.
    ///
    /// # Panics
    /// If `data` is not `[N, V]` with `N > 0`.
    pub fn init_visible_bias_from_data(&mut self, data: &Tensor<T>) {
        self.check_visible("Rbm::init_visible_bias_from_data", data);
        self.init_visible_bias_from_mean(&data.mean_axis(0, false));
    }

    /// [`Rbm::init_visible_bias_from_data`] given the mean `p: [V]` of each visible unit over
    /// the training data.
    ///
    /// # Panics
    /// If `mean` is not `[V]`.
    pub fn init_visible_bias_from_mean(&mut self, mean: &Tensor<T>) {
        assert!(
            mean.shape() == [self.config.visible],
            "Rbm::init_visible_bias_from_mean: expected a mean of shape [{}], got {:?}",
            self.config.visible,
            mean.shape()
        );
        let mean = mean.clone();
        let bias = match self.config.visible_units {
            VisibleUnits::Bernoulli => {
                let eps = T::from_f64_lossy(1e-3);
                let p = mean.clamp(eps, T::one() - eps);
                p.div(&p.rsub_scalar(T::one())).ln()
            }
            VisibleUnits::Gaussian => mean,
        };
        self.visible_bias.set(bias);
    }

    fn check_visible(&self, op: &str, v: &Tensor<T>) {
        assert!(
            v.ndim() == 2 && v.shape()[1] == self.config.visible && v.shape()[0] > 0,
            "{op}: expected visible states [N, {}], got {:?}",
            self.config.visible,
            v.shape()
        );
    }

    fn check_hidden(&self, op: &str, h: &Tensor<T>) {
        assert!(
            h.ndim() == 2 && h.shape()[1] == self.config.hidden && h.shape()[0] > 0,
            "{op}: expected hidden states [N, {}], got {:?}",
            self.config.hidden,
            h.shape()
        );
    }

    /// `p(h = 1 | v) = σ(v·Wᵀ + c)` for `v: [N, V]`, giving `[N, H]`.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn prob_h_given_v(&self, v: &Tensor<T>) -> Tensor<T> {
        self.check_visible("Rbm::prob_h_given_v", v);
        affine(
            "Rbm::prob_h_given_v",
            v,
            self.weight.value(),
            self.hidden_bias.value(),
            true,
        )
        .sigmoid()
    }

    /// `(p, h)`: `p = p(h = 1 | v)` and a binary sample `h ~ p`.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn sample_h(&mut self, v: &Tensor<T>) -> (Tensor<T>, Tensor<T>) {
        let p = self.prob_h_given_v(v);
        let h = p.bernoulli(&mut self.rng);
        (p, h)
    }

    /// The visible mean given `h: [N, H]`: `σ(h·W + b)` for Bernoulli units, `h·W + b` for
    /// Gaussian ones; `[N, V]`.
    ///
    /// # Panics
    /// If `h` is not `[N, H]`.
    pub fn prob_v_given_h(&self, h: &Tensor<T>) -> Tensor<T> {
        self.check_hidden("Rbm::prob_v_given_h", h);
        let a = affine(
            "Rbm::prob_v_given_h",
            h,
            self.weight.value(),
            self.visible_bias.value(),
            false,
        );
        match self.config.visible_units {
            VisibleUnits::Bernoulli => a.sigmoid(),
            VisibleUnits::Gaussian => a,
        }
    }

    /// `(mean, v)`: the visible mean ([`Rbm::prob_v_given_h`]) and a sample `v ~ p(v | h)`
    /// (binary for Bernoulli units, `mean + N(0, 1)` for Gaussian ones).
    ///
    /// # Panics
    /// If `h` is not `[N, H]`.
    pub fn sample_v(&mut self, h: &Tensor<T>) -> (Tensor<T>, Tensor<T>) {
        let mean = self.prob_v_given_h(h);
        let v = self.sample_visible_from(&mean);
        (mean, v)
    }

    fn sample_visible_from(&mut self, mean: &Tensor<T>) -> Tensor<T> {
        match self.config.visible_units {
            VisibleUnits::Bernoulli => mean.bernoulli(&mut self.rng),
            VisibleUnits::Gaussian => mean.add(&Tensor::rand_normal(
                mean.shape(),
                T::zero(),
                T::one(),
                &mut self.rng,
            )),
        }
    }

    /// `k` steps of block Gibbs sampling `h ~ p(h | v)`, `v ~ p(v | h)` started at `v: [N, V]`;
    /// returns the last visible sample.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn gibbs(&mut self, v: &Tensor<T>, k: usize) -> Tensor<T> {
        self.check_visible("Rbm::gibbs", v);
        let mut v = v.clone();
        for _ in 0..k {
            let (_, h) = self.sample_h(&v);
            v = self.sample_v(&h).1;
        }
        v
    }

    /// Free energy `F(v) = −log Σ_h e^{−E(v, h)}` of each row of `v: [N, V]`, `[N]`:
    /// `F(v) = −bᵀv − Σⱼ softplus(cⱼ + Wⱼ·v)` (Bernoulli) or
    /// `F(v) = ½‖v − b‖² − Σⱼ softplus(cⱼ + Wⱼ·v)` (Gaussian), so `p(v) = e^{−F(v)}/Z`.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn free_energy(&self, v: &Tensor<T>) -> Tensor<T> {
        self.check_visible("Rbm::free_energy", v);
        let pre = affine(
            "Rbm::free_energy",
            v,
            self.weight.value(),
            self.hidden_bias.value(),
            true,
        );
        self.free_energy_from(v, &pre)
    }

    /// `F(v)` given the hidden pre-activations `v·Wᵀ + c` of `v`.
    fn free_energy_from(&self, v: &Tensor<T>, pre: &Tensor<T>) -> Tensor<T> {
        let hidden_term = pre.softplus().sum_axis(1, false);
        let visible_term = match self.config.visible_units {
            VisibleUnits::Bernoulli => v.matmul(self.visible_bias.value()).neg(),
            VisibleUnits::Gaussian => v
                .sub(self.visible_bias.value())
                .square()
                .sum_axis(1, false)
                .mul_scalar(T::from_f64_lossy(0.5)),
        };
        visible_term.sub(&hidden_term)
    }

    /// Mean-field reconstruction error: the mean over examples and units of
    /// `(v − E[v | p(h | v)])²` — a mean squared error per visible unit (per pixel for
    /// images), unlike [`CdReport::batch_error`], which sums over the units.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn reconstruction_error(&self, v: &Tensor<T>) -> f64 {
        let mut total = 0.0f64;
        let n = v.shape().first().copied().unwrap_or(0);
        self.check_visible("Rbm::reconstruction_error", v);
        let mut start = 0;
        while start < n {
            let len = 5000.min(n - start);
            let chunk = v.narrow(0, start, len);
            let r = self.prob_v_given_h(&self.prob_h_given_v(&chunk));
            total += chunk.sub(&r).square().sum().to_f64_lossless();
            start += len;
        }
        total / v.numel() as f64
    }

    /// The positive-phase statistics of a batch `v: [N, V]` with hidden probabilities:
    /// `⟨p(h | v) vᵀ⟩`, `⟨v⟩`, `⟨p(h | v)⟩` — the exact data term of the log-likelihood
    /// gradient.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn positive_phase(&self, v: &Tensor<T>) -> PhaseStatistics<T> {
        PhaseStatistics::of(v, &self.prob_h_given_v(v))
    }

    /// The CD-k / PCD-k estimate of the gradient of the negative log-likelihood of batch
    /// `v: [N, V]`, keyed by this RBM's parameter ids:
    ///
    /// - `∂W = −(⟨h vᵀ⟩_data − ⟨h vᵀ⟩_k) + λ·W [+ cost·(q − ρ)·v̄ᵀ]`,
    /// - `∂b = −(⟨v⟩_data − ⟨v⟩_k)`,
    /// - `∂c = −(⟨h⟩_data − ⟨h⟩_k) [+ cost·(q − ρ)]`,
    ///
    /// where the negative statistics pair the chain's last visible state `v_k` with
    /// `p(h | v_k)`. Advances PCD chains and the sparsity estimate.
    ///
    /// # Panics
    /// If `v` is not `[N, V]`.
    pub fn cd_grads(&mut self, v: &Tensor<T>) -> (Grads<T>, CdReport) {
        let (grads, report, _) = self.cd_grads_with_chain(v);
        (grads, report)
    }

    /// [`Rbm::cd_grads`], also returning the chain's last visible state `v_k`.
    pub(crate) fn cd_grads_with_chain(&mut self, v: &Tensor<T>) -> (Grads<T>, CdReport, Tensor<T>) {
        self.cd(v, None)
    }

    /// [`Rbm::cd_grads`] with every random draw for row `i` of `v` taken from a stream keyed
    /// by `keys[i]` (the example's index in its dataset) and the RBM's current seed, so the
    /// estimate for a batch does not depend on how the batch is split: data-parallel ranks,
    /// each with part of the batch, reproduce the single-process numbers. Applies to CD-k with
    /// Bernoulli units (and Gaussian visible means); sampled Gaussian visible states and PCD
    /// chains, which belong to no example, draw from the RBM's own stream.
    ///
    /// # Panics
    /// If `v` is not `[N, V]` or `keys` does not hold `N` keys.
    pub fn cd_grads_keyed(&mut self, v: &Tensor<T>, keys: &[u64]) -> (Grads<T>, CdReport) {
        assert!(
            keys.len() == v.shape().first().copied().unwrap_or(0),
            "Rbm::cd_grads_keyed: {} keys for a batch of shape {:?}",
            keys.len(),
            v.shape()
        );
        let (grads, report, _) = self.cd(v, Some(keys));
        (grads, report)
    }

    /// Binary samples of the probabilities `p`: draw number `draw` of the batch, keyed by
    /// example when `keys` are given, else from the RBM's stream.
    fn draw(&mut self, p: &Tensor<T>, keys: Option<&[u64]>, draw: u64) -> Tensor<T> {
        match keys {
            Some(keys) => p.bernoulli_rows(strata_layers::child_seed(self.stream, draw), keys),
            None => p.bernoulli(&mut self.rng),
        }
    }

    /// The CD-k / PCD-k estimate (see [`Rbm::cd_grads`]), its report and the chain's last
    /// visible state.
    fn cd(&mut self, v: &Tensor<T>, keys: Option<&[u64]>) -> (Grads<T>, CdReport, Tensor<T>) {
        self.check_visible("Rbm::cd_grads", v);
        let k = self.config.divergence.steps();
        let pre = affine(
            "Rbm::cd_grads",
            v,
            self.weight.value(),
            self.hidden_bias.value(),
            true,
        );
        // Estimated on the first tenth of the rows (a batch is in random order): softplus is
        // scalar, and over every row it would cost a third of the update.
        let sampled = v.shape()[0].div_ceil(10);
        let free_energy = self
            .free_energy_from(&v.narrow(0, 0, sampled), &pre.narrow(0, 0, sampled))
            .mean()
            .to_f64_lossless();
        let ph = pre.sigmoid();
        drop(pre);
        let h = self.draw(&ph, keys, 0);
        let h_pos = match self.config.positive {
            PositiveStatistics::Probabilities => ph.clone(),
            PositiveStatistics::Samples => h.clone(),
        };
        let (v_neg, ph_neg, batch_error) = match self.config.divergence {
            Divergence::Cd(_) => {
                let mut h = h;
                let mut v_k = v.clone();
                let mut ph_k = ph.clone();
                for step in 0..k {
                    let mean = self.prob_v_given_h(&h);
                    let bernoulli = self.config.visible_units == VisibleUnits::Bernoulli;
                    v_k = match (self.config.sample_visible, bernoulli) {
                        (false, _) => mean,
                        (true, true) => self.draw(&mean, keys, 1 + 2 * step as u64),
                        (true, false) => self.sample_visible_from(&mean),
                    };
                    ph_k = self.prob_h_given_v(&v_k);
                    if step + 1 < k {
                        h = self.draw(&ph_k, keys, 2 + 2 * step as u64);
                    }
                }
                let error = v.sub(&v_k).square().sum().to_f64_lossless() / v.shape()[0] as f64;
                (v_k, ph_k, error)
            }
            Divergence::Persistent(_) => {
                // The chains are unrelated to the batch: its error is that of a one-step
                // reconstruction from its own hidden sample.
                let recon = self.prob_v_given_h(&h);
                let error = v.sub(&recon).square().sum().to_f64_lossless() / v.shape()[0] as f64;
                drop(recon);
                let mut h = self.chains.take().unwrap_or(h);
                let mut v_k = v.clone();
                let mut ph_k = ph.clone();
                for _ in 0..k {
                    v_k = self.sample_v(&h).1;
                    let (p, s) = self.sample_h(&v_k);
                    ph_k = p;
                    h = s;
                }
                self.chains = Some(h);
                (v_k, ph_k, error)
            }
        };
        let states = CdStates {
            data: v.clone(),
            data_hidden: h_pos,
            model: v_neg,
            model_hidden: ph_neg,
        };
        let mut grads = self.cd_grads_from(&states);
        if let Some(s) = self.config.sparsity {
            let current = ph.mean_axis(0, false);
            let q = match self.activity.take() {
                Some(mut q) => {
                    q.scale_(T::from_f64_lossy(s.decay));
                    q.axpy_(T::from_f64_lossy(1.0 - s.decay), &current);
                    q
                }
                None => current,
            };
            let push = q
                .sub_scalar(T::from_f64_lossy(s.target))
                .mul_scalar(T::from_f64_lossy(s.cost));
            grads.accumulate(self.weight.id(), push.outer(&v.mean_axis(0, false)));
            grads.accumulate(self.hidden_bias.id(), push);
            self.activity = Some(q);
        }
        let CdStates { model: v_neg, .. } = states;
        (
            grads,
            CdReport {
                batch_error,
                free_energy,
            },
            v_neg,
        )
    }
}

impl<T: Element> Module<T> for Rbm<T> {
    /// `p(h = 1 | v) = σ(v·Wᵀ + c)`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        x.linear(&self.weight.var(), Some(&self.hidden_bias.var()))
            .sigmoid()
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        vec![
            ("weight".into(), &self.weight),
            ("visible_bias".into(), &self.visible_bias),
            ("hidden_bias".into(), &self.hidden_bias),
        ]
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        vec![
            ("weight".into(), &mut self.weight),
            ("visible_bias".into(), &mut self.visible_bias),
            ("hidden_bias".into(), &mut self.hidden_bias),
        ]
    }

    /// Restarts the sampling stream from `seed` and forgets the PCD chains and the running
    /// sparsity estimate: the [`Trainer`](crate::Trainer) reseeds at every epoch, so an epoch
    /// boundary (where checkpoints are taken) carries no hidden state and a resumed run
    /// repeats an uninterrupted one. Persistent chains therefore live for one epoch, starting
    /// from its first mini-batch.
    fn reseed(&mut self, seed: u64) {
        self.rng = seeded_rng(seed);
        self.stream = seed;
        self.chains = None;
        self.activity = None;
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
