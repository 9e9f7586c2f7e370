//! [`Adam`] (with AMSGrad), as PyTorch's `torch.optim.Adam`, and with decoupled weight decay
//! ([`WeightDecay::Decoupled`]) as PyTorch's `torch.optim.AdamW`.

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::error::{non_negative, unit_half_open};
use crate::rule::{RuleOptimizer, Sealed, UpdateRule};
use crate::simd::{self, Pass};
use crate::state::{OptimizerConfig, cast};
use crate::{OptimError, WeightDecay};

/// Hyper-parameters of [`Adam`], with PyTorch's defaults: `lr = 1e-3`,
/// `betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay, `amsgrad = false`.
/// [`AdamWConfig::new`] gives PyTorch's AdamW defaults (decoupled weight decay λ = 0.01).
///
/// `AdamConfig::new(1e-3).with_amsgrad(true).build::<f32>()?`,
/// `AdamConfig::new(1e-3).with_weight_decay(WeightDecay::Decoupled(0.05)).build::<f32>()?`.
///
/// The configuration is the optimizer's [`UpdateRule`]; it is saved, with serde and under
/// these field names, in the optimizer's [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate γ ≥ 0.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment estimates, each in [0, 1).
    pub betas: (f64, f64),
    /// ε ≥ 0, added to the denominator.
    pub eps: f64,
    /// Weight decay: none, an L2 penalty (Adam) or decoupled (AdamW), with λ ≥ 0.
    pub weight_decay: WeightDecay,
    /// Use the AMSGrad variant (the running maximum of the second moment).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::None,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdamConfig {
            lr,
            ..Self::default()
        }
    }

    /// Sets the learning rate γ.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets (β₁, β₂).
    pub fn with_betas(mut self, beta1: f64, beta2: f64) -> Self {
        self.betas = (beta1, beta2);
        self
    }

    /// Sets ε.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the weight-decay coefficient λ ≥ 0 and keeps the mode (see
    /// [`WeightDecay::with_coefficient`]): decoupled stays decoupled (an [`AdamWConfig`]),
    /// otherwise — no decay or an L2 penalty — λ becomes an L2 penalty, as PyTorch's `Adam`:
    ///
    /// ```text
    /// g ← g + λ·θ          L2(λ)          (from None or L2)
    /// θ ← θ·(1 − γ·λ)      Decoupled(λ)   (from Decoupled)
    /// ```
    ///
    /// `AdamWConfig::new(1e-3).with_weight_decay_coefficient(0.05)` is AdamW with λ = 0.05. To
    /// choose the mode, use [`AdamConfig::with_weight_decay`].
    pub fn with_weight_decay_coefficient(mut self, lambda: f64) -> Self {
        self.weight_decay = self.weight_decay.with_coefficient(lambda);
        self
    }

    /// Sets the weight decay, mode and coefficient λ ≥ 0:
    ///
    /// ```text
    /// WeightDecay::None           g as is
    /// WeightDecay::L2(λ)          g ← g + λ·θ        (PyTorch's Adam)
    /// WeightDecay::Decoupled(λ)   θ ← θ·(1 − γ·λ)    (PyTorch's AdamW)
    /// ```
    ///
    /// To change λ only, use [`AdamConfig::with_weight_decay_coefficient`].
    pub fn with_weight_decay(mut self, weight_decay: WeightDecay) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Turns AMSGrad on or off.
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] for γ < 0, β₁ or β₂ ∉ [0, 1), ε < 0 or
    /// λ < 0 (or any of them not finite), naming the optimizer `"AdamW"` when the weight
    /// decay is decoupled, `"Adam"` otherwise.
    pub fn validate(&self) -> Result<(), OptimError> {
        let owner = self.name();
        non_negative(owner, "lr", self.lr)?;
        unit_half_open(owner, "beta1", self.betas.0)?;
        unit_half_open(owner, "beta2", self.betas.1)?;
        non_negative(owner, "eps", self.eps)?;
        non_negative(owner, "weight_decay", self.weight_decay.coefficient())
    }

    /// An [`Adam`] optimizer with this configuration.
    ///
    /// # Errors
    /// As [`AdamConfig::validate`].
    pub fn build<T: Element>(self) -> Result<Adam<T>, OptimError> {
        Adam::new(self)
    }
}

/// PyTorch's `torch.optim.AdamW` defaults, as an [`AdamConfig`]: `lr = 1e-3`,
/// `betas = (0.9, 0.999)`, `eps = 1e-8`, [`WeightDecay::Decoupled`] with λ = 1e-2,
/// `amsgrad = false`. There is no value of this type: it only names the two constructors.
///
/// `AdamWConfig::new(1e-3).with_weight_decay_coefficient(0.05).build::<f32>()?` (the setter
/// keeps the decay decoupled).
#[derive(Clone, Copy, Debug)]
pub enum AdamWConfig {}

impl AdamWConfig {
    /// AdamW's defaults with learning rate `lr`: Adam with [`WeightDecay::Decoupled`]`(0.01)`.
    #[expect(
        clippy::new_ret_no_self,
        reason = "AdamW is Adam with decoupled weight decay: there is no `AdamWConfig` value"
    )]
    pub fn new(lr: f64) -> AdamConfig {
        AdamConfig {
            lr,
            weight_decay: WeightDecay::Decoupled(1e-2),
            ..AdamConfig::default()
        }
    }

    /// AdamW's defaults: `AdamWConfig::new(1e-3)`.
    #[expect(
        clippy::should_implement_trait,
        reason = "returns an `AdamConfig`: there is no `AdamWConfig` value"
    )]
    pub fn default() -> AdamConfig {
        AdamWConfig::new(1e-3)
    }
}

/// Adam, PyTorch's `torch.optim.Adam` update, and with decoupled weight decay PyTorch's
/// `torch.optim.AdamW`. For each parameter θ with gradient g (same shape) at its step
/// t = 1, 2, …, with weight decay λ (see [`WeightDecay`]):
///
/// ```text
/// g  ← g + λ·θ                                   if L2(λ),         λ ≠ 0
/// θ  ← θ·(1 − γλ)                                if Decoupled(λ),  λ ≠ 0
/// m  ← β₁·m + (1 − β₁)·g
/// v  ← β₂·v + (1 − β₂)·g²
/// v̄  ← max(v̄, v)  if AMSGrad,  else  v̄ ← v
/// θ  ← θ − γ/(1 − β₁ᵗ) · m / (√v̄ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// (the same as the textbook m̂ = m/(1 − β₁ᵗ), v̂ = v̄/(1 − β₂ᵗ), θ ← θ − γ·m̂/(√v̂ + ε);
/// AMSGrad keeps the maximum of the raw v, as PyTorch does).
///
/// State per parameter (each θ's shape): `exp_avg` m, `exp_avg_sq` v and, with AMSGrad,
/// `max_exp_avg_sq` v̄; and the parameter's own step count t. Its kind is `"adamw"` with
/// decoupled weight decay, `"adam"` otherwise.
///
/// `Adam<T>` is the [`RuleOptimizer`] of the rule [`AdamConfig`], built by
/// [`AdamConfig::build`].
pub type Adam<T = f32> = RuleOptimizer<AdamConfig, T>;

/// AdamW: the same type as [`Adam`], built from an [`AdamWConfig`] (decoupled weight decay).
pub type AdamW<T = f32> = Adam<T>;

// How weight decay enters the update (a const parameter of the fused pass).
/// No weight decay.
const WD_NONE: u8 = 0;
/// `g ← g + λθ` (Adam).
const WD_L2: u8 = 1;
/// `θ ← θ(1 − γλ)` (AdamW).
const WD_DECOUPLED: u8 = 2;

/// Per-step scalars of the update.
#[derive(Clone, Copy)]
struct Coeffs<T> {
    wd: T,
    decay: T,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    step_size: T,
    bias_correction2_sqrt: T,
    eps: T,
}

/// One fused pass over θ, g, m, v (and v_max): the whole update of one parameter.
struct AdamPass<'a, T, const WD: u8, const AMS: bool> {
    p: &'a mut [T],
    g: &'a [T],
    m: &'a mut [T],
    v: &'a mut [T],
    vmax: &'a mut [T],
    k: Coeffs<T>,
}

impl<T: Element, const WD: u8, const AMS: bool> Pass for AdamPass<'_, T, WD, AMS> {
    #[inline(always)]
    fn apply(self) {
        let k = self.k;
        let n = self.p.len();
        let (p, g, m, v) = (self.p, &self.g[..n], &mut self.m[..n], &mut self.v[..n]);
        let vmax: &mut [T] = if AMS { &mut self.vmax[..n] } else { &mut [] };
        for i in 0..n {
            let mut theta = p[i];
            let mut grad = g[i];
            if WD == WD_L2 {
                grad = grad + k.wd * theta;
            } else if WD == WD_DECOUPLED {
                theta = theta * k.decay;
            }
            // m ← β₁m + (1 − β₁)g, written as PyTorch's lerp m + (1 − β₁)(g − m).
            // Moments of a parameter whose gradient stays zero (a dead ReLU unit) decay
            // geometrically into the subnormal range, where every later multiply takes a
            // microcode assist on x86 (≈ 100× slower); they are flushed to zero there instead —
            // a change below 1.2·10⁻³⁸ (f32), far under any update's rounding.
            let mi = flush_subnormal(m[i] + k.one_minus_beta1 * (grad - m[i]));
            let vi = flush_subnormal(k.beta2 * v[i] + k.one_minus_beta2 * grad * grad);
            m[i] = mi;
            v[i] = vi;
            let second = if AMS {
                let prev = vmax[i];
                let mx = if prev >= vi { prev } else { vi };
                vmax[i] = mx;
                mx
            } else {
                vi
            };
            let denom = second.sqrt() / k.bias_correction2_sqrt + k.eps;
            p[i] = theta - k.step_size * (mi / denom);
        }
    }
}

/// `x`, or zero if `x` is subnormal (`|x| <` the smallest normal number).
#[inline(always)]
fn flush_subnormal<T: Element>(x: T) -> T {
    if x.abs() < T::min_positive_value() {
        T::zero()
    } else {
        x
    }
}

fn kernel<T: Element, const WD: u8, const AMS: bool>(
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    vmax: &mut [T],
    k: Coeffs<T>,
) {
    simd::run(AdamPass::<T, WD, AMS> {
        p,
        g,
        m,
        v,
        vmax,
        k,
    });
}

impl Sealed for AdamConfig {}

impl UpdateRule for AdamConfig {
    fn kind(&self) -> &'static str {
        if self.weight_decay.is_decoupled() {
            "adamw"
        } else {
            "adam"
        }
    }

    fn name(&self) -> &'static str {
        if self.weight_decay.is_decoupled() {
            "AdamW"
        } else {
            "Adam"
        }
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn weight_decay(&self) -> f64 {
        self.weight_decay.coefficient()
    }

    fn set_weight_decay(&mut self, lambda: f64) {
        self.weight_decay = self.weight_decay.with_coefficient(lambda);
    }

    fn validate(&self) -> Result<(), OptimError> {
        AdamConfig::validate(self)
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        }
    }

    fn update<T: Element>(&self, step: u64, p: &mut [T], g: &[T], buffers: &mut [&mut [T]]) {
        let (beta1, beta2) = self.betas;
        let lambda = self.weight_decay.coefficient();
        let wd_mode = match self.weight_decay {
            _ if lambda == 0.0 => WD_NONE,
            WeightDecay::Decoupled(_) => WD_DECOUPLED,
            _ => WD_L2,
        };
        let t = step as f64;
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let k = Coeffs {
            wd: cast(lambda),
            decay: cast(1.0 - self.lr * lambda),
            one_minus_beta1: cast(1.0 - beta1),
            beta2: cast(beta2),
            one_minus_beta2: cast(1.0 - beta2),
            step_size: cast(self.lr / bias_correction1),
            bias_correction2_sqrt: cast(bias_correction2.sqrt()),
            eps: cast(self.eps),
        };
        let (m, rest) = buffers.split_at_mut(1);
        let (v, vmax) = rest.split_at_mut(1);
        let (m, v) = (&mut m[0], &mut v[0]);
        let vmax: &mut [T] = vmax.first_mut().map_or(&mut [], |b| &mut **b);
        match (wd_mode, self.amsgrad) {
            (WD_NONE, false) => kernel::<T, WD_NONE, false>(p, g, m, v, vmax, k),
            (WD_NONE, true) => kernel::<T, WD_NONE, true>(p, g, m, v, vmax, k),
            (WD_L2, false) => kernel::<T, WD_L2, false>(p, g, m, v, vmax, k),
            (WD_L2, true) => kernel::<T, WD_L2, true>(p, g, m, v, vmax, k),
            (_, false) => kernel::<T, WD_DECOUPLED, false>(p, g, m, v, vmax, k),
            (_, true) => kernel::<T, WD_DECOUPLED, true>(p, g, m, v, vmax, k),
        }
    }

    fn to_saved(&self) -> OptimizerConfig {
        OptimizerConfig::Adam(*self)
    }

    fn from_saved(saved: &OptimizerConfig) -> Option<Self> {
        match saved {
            OptimizerConfig::Adam(config) => Some(*config),
            _ => None,
        }
    }
}
