//! Loss functions. Each takes a prediction `Var` and targets and returns a `Var` loss (a scalar
//! unless the reduction is `None`); the fused ones (cross-entropy, NLL, MSE, BCE with logits)
//! come from `strata-autograd`, the others are composed from differentiable ops. The two
//! autoencoder penalties ([`kl_sparsity_penalty`], [`contractive_penalty`]) are here too, as
//! terms a loss adds.

use strata_autograd::{CrossEntropyOptions, Reduction, Var};
use strata_tensor::{Element, Tensor};

use crate::Activation;

/// Mean squared error: `mean((y − t)²)` (or sum / per element).
///
/// # Panics
/// If the shapes differ.
pub fn mse_loss<T: Element>(prediction: &Var<T>, target: &Var<T>, reduction: Reduction) -> Var<T> {
    prediction.mse_loss(target, reduction)
}

/// Huber loss (PyTorch `huber_loss`): `½d²` where `|d| < δ`, `δ(|d| − ½δ)` elsewhere, with
/// `d = y − t` (mean by default); DQN's loss with `δ = 1`.
///
/// # Panics
/// If the shapes differ or `δ` is not positive and finite.
pub fn huber_loss<T: Element>(
    prediction: &Var<T>,
    target: &Var<T>,
    delta: f64,
    reduction: Reduction,
) -> Var<T> {
    prediction.huber_loss(target, delta, reduction)
}

/// Smooth L1 loss (PyTorch `smooth_l1_loss`): `½d²/β` where `|d| < β`, `|d| − ½β` elsewhere,
/// with `d = y − t` (mean by default).
///
/// # Panics
/// If the shapes differ or `β` is not positive and finite.
pub fn smooth_l1_loss<T: Element>(
    prediction: &Var<T>,
    target: &Var<T>,
    beta: f64,
    reduction: Reduction,
) -> Var<T> {
    prediction.smooth_l1_loss(target, beta, reduction)
}

/// The DeepLearnToolbox squared error `½·Σ(y − t)² / N`, with `N = shape[0]` the batch size
/// (`nnff`: `nn.L = 1/2 * sum(sum(nn.e .^ 2)) / m`). Its gradient is `(y − t)/N`.
///
/// # Panics
/// If the shapes differ or the prediction is rank 0.
pub fn half_sse<T: Element>(prediction: &Var<T>, target: &Var<T>) -> Var<T> {
    assert!(
        prediction.ndim() > 0,
        "half_sse: needs a batch dimension, got a scalar"
    );
    let n = prediction.shape()[0];
    prediction
        .mse_loss(target, Reduction::Sum)
        .mul_scalar(T::from_f64_lossy(0.5 / n as f64))
}

/// Cross-entropy from logits `[N, C]` or `[N, C, d1, …, dk]` (classes on dimension 1) and
/// class indices `[N]` or `[N, d1, …, dk]` (row-major), with optional label smoothing, class
/// weights and an ignored target value: with `ℓ = log_softmax(x)` over the classes,
/// `lossᵢ = (1 − ε)·w_{tᵢ}·(−ℓ_{i,tᵢ}) + (ε/C)·Σ_c w_c·(−ℓ_{i,c})`, 0 where
/// `tᵢ = ignore_index`; the mean divides by `Σ w_{tᵢ}` over the examples not ignored (see
/// `Var::cross_entropy`).
///
/// # Panics
/// As `Var::cross_entropy`.
pub fn cross_entropy<T: Element>(
    logits: &Var<T>,
    targets: &[usize],
    options: &CrossEntropyOptions<T>,
) -> Var<T> {
    logits.cross_entropy(targets, options)
}

/// Cross-entropy from logits `[N, C]` or `[N, C, d1, …, dk]` and probability targets of the
/// same shape: `lossᵢ = −Σ_c w_c·p'_{i,c}·ℓ_{i,c}` with `ℓ = log_softmax(x)` over the classes
/// and `p' = (1 − ε)·p + ε/C`; the mean divides by the number of examples `N·d1·…·dk` (see
/// `Var::cross_entropy_soft`). Differentiable in both the logits and the targets.
///
/// # Panics
/// As `Var::cross_entropy_soft` (among others, when `ignore_index` is set).
pub fn cross_entropy_soft<T: Element>(
    logits: &Var<T>,
    probs: &Var<T>,
    options: &CrossEntropyOptions<T>,
) -> Var<T> {
    logits.cross_entropy_soft(probs, options)
}

/// Negative log-likelihood of log-probabilities `[N, C]` and class indices `[N]`.
///
/// # Panics
/// As `Var::nll_loss`.
pub fn nll_loss<T: Element>(
    log_probs: &Var<T>,
    targets: &[usize],
    weight: Option<&Tensor<T>>,
    reduction: Reduction,
) -> Var<T> {
    log_probs.nll_loss(targets, weight, reduction)
}

/// Binary cross-entropy from logits (stable): `max(x, 0) − x·t + ln(1 + e^{−|x|})`.
///
/// # Panics
/// If the shapes differ.
pub fn bce_with_logits<T: Element>(
    logits: &Var<T>,
    target: &Var<T>,
    reduction: Reduction,
) -> Var<T> {
    logits.bce_with_logits(target, reduction)
}

/// Binary cross-entropy of probabilities `p ∈ [0, 1]`: `−(t·ln p + (1 − t)·ln(1 − p))`, with
/// each log clamped at −100 as PyTorch's `binary_cross_entropy` (so `p = 0` or `1` stays
/// finite). Prefer [`bce_with_logits`] when the logits are at hand.
///
/// # Panics
/// If the shapes differ.
pub fn binary_cross_entropy<T: Element>(
    probs: &Var<T>,
    target: &Var<T>,
    reduction: Reduction,
) -> Var<T> {
    probs.binary_cross_entropy(target, reduction)
}

/// How [`kl_div_with`] combines its pointwise terms: PyTorch's `reduction` argument of
/// `kl_div`, `batchmean` included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KlReduction {
    /// The sum divided by the batch size `shape[0]`: the mathematical KL per example, PyTorch's
    /// recommended `batchmean`.
    BatchMean,
    /// The average over all elements (PyTorch's default, which is not the KL per example).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: the pointwise terms.
    None,
}

impl From<Reduction> for KlReduction {
    fn from(r: Reduction) -> Self {
        match r {
            Reduction::Mean => KlReduction::Mean,
            Reduction::Sum => KlReduction::Sum,
            Reduction::None => KlReduction::None,
        }
    }
}

/// Kullback–Leibler divergence `KL(p ‖ q) = Σ p·(ln p − ln q)` from `log_q` (log-probabilities,
/// e.g. a `log_softmax` output) and target probabilities `p`, as PyTorch's `kl_div` with
/// `log_target = false`: pointwise `p·(ln p − log_q)` (0 where `p = 0`). `Mean` averages over
/// all elements (PyTorch's default); [`kl_div_with`] offers `batchmean` (the KL per example)
/// and log-probability targets.
///
/// # Panics
/// If the shapes differ.
pub fn kl_div<T: Element>(log_q: &Var<T>, p: &Var<T>, reduction: Reduction) -> Var<T> {
    kl_div_with(log_q, p, reduction.into(), false)
}

/// PyTorch's `kl_div(input, target, reduction, log_target)`: pointwise
/// `p·(ln p − log_q)` with `p = target` (0 where `p = 0`), or, with `log_target`,
/// `eᵗ·(t − log_q)` with `t = target` the log-probabilities; reduced by `reduction`
/// (`BatchMean` divides the sum by `shape[0]`).
///
/// # Panics
/// If the shapes differ, or `BatchMean` meets a rank-0 input.
pub fn kl_div_with<T: Element>(
    log_q: &Var<T>,
    target: &Var<T>,
    reduction: KlReduction,
    log_target: bool,
) -> Var<T> {
    assert_eq!(
        log_q.shape(),
        target.shape(),
        "kl_div: input {:?} and target {:?} differ in shape",
        log_q.shape(),
        target.shape()
    );
    let per = if log_target {
        target.exp().mul(&target.sub(log_q))
    } else {
        // p·ln p with 0·ln 0 = 0: ln of p clamped at the smallest positive normal value.
        let tiny = T::min_positive_value();
        target
            .mul(&target.clamp(tiny, T::max_value()).ln())
            .sub(&target.mul(log_q))
    };
    match reduction {
        KlReduction::BatchMean => {
            assert!(
                log_q.ndim() > 0,
                "kl_div: batchmean needs a batch dimension, got a scalar"
            );
            per.sum()
                .mul_scalar(T::one() / T::from_f64_lossy(log_q.shape()[0] as f64))
        }
        KlReduction::Mean => per.mean(),
        KlReduction::Sum => per.sum(),
        KlReduction::None => per,
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
