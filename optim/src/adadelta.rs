//! [`Adadelta`]: step sizes from running averages of squared gradients and squared updates,
//! as PyTorch's `torch.optim.Adadelta`.

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::OptimError;
use crate::error::{non_negative, unit_closed};
use crate::rule::{RuleOptimizer, Sealed, UpdateRule};
use crate::simd::{self, Pass};
use crate::state::{OptimizerConfig, cast};

const OWNER: &str = "Adadelta";

/// Hyper-parameters of [`Adadelta`], with PyTorch's defaults: `lr = 1.0`, `rho = 0.9`,
/// `eps = 1e-6`, `weight_decay = 0`.
///
/// `AdadeltaConfig::new(1.0).with_rho(0.95).build::<f32>()?`.
///
/// The configuration is the optimizer's [`UpdateRule`]; it is saved, with serde and under
/// these field names, in the optimizer's [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdadeltaConfig {
    /// Learning rate γ ≥ 0 (a multiplier on the Adadelta step).
    pub lr: f64,
    /// Decay ρ ∈ [0, 1] of the running averages.
    pub rho: f64,
    /// ε ≥ 0, inside both square roots.
    pub eps: f64,
    /// L2 penalty λ ≥ 0, added to the gradient as λ·θ.
    pub weight_decay: f64,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        AdadeltaConfig {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
        }
    }
}

impl AdadeltaConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdadeltaConfig {
            lr,
            ..Self::default()
        }
    }

    /// Sets the learning rate γ.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the decay ρ.
    pub fn with_rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }

    /// Sets ε.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the L2 weight decay λ.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] for γ < 0, ρ ∉ [0, 1], ε < 0 or λ < 0 (or any of
    /// them not finite).
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative(OWNER, "lr", self.lr)?;
        unit_closed(OWNER, "rho", self.rho)?;
        non_negative(OWNER, "eps", self.eps)?;
        non_negative(OWNER, "weight_decay", self.weight_decay)
    }

    /// An [`Adadelta`] optimizer with this configuration.
    ///
    /// # Errors
    /// As [`AdadeltaConfig::validate`].
    pub fn build<T: Element>(self) -> Result<Adadelta<T>, OptimError> {
        Adadelta::new(self)
    }
}

/// Adadelta, PyTorch's `torch.optim.Adadelta` update. For each parameter θ with gradient g
/// (same shape):
///
/// ```text
/// g  ← g + λ·θ                               if λ ≠ 0
/// v  ← ρ·v + (1 − ρ)·g²
/// Δ  ← √(u + ε) / √(v + ε) · g
/// u  ← ρ·u + (1 − ρ)·Δ²
/// θ  ← θ − γ·Δ
/// ```
///
/// State per parameter (each θ's shape): `square_avg` v and `acc_delta` u, both starting at
/// zero.
///
/// `Adadelta<T>` is the [`RuleOptimizer`] of the rule [`AdadeltaConfig`], built by
/// [`AdadeltaConfig::build`].
pub type Adadelta<T = f32> = RuleOptimizer<AdadeltaConfig, T>;

/// Per-step scalars of the update.
#[derive(Clone, Copy)]
struct Coeffs<T> {
    lr: T,
    rho: T,
    one_minus_rho: T,
    eps: T,
    wd: T,
}

/// One fused pass over θ, g, v and u.
struct AdadeltaPass<'a, T, const WD: bool> {
    p: &'a mut [T],
    g: &'a [T],
    v: &'a mut [T],
    u: &'a mut [T],
    k: Coeffs<T>,
}

impl<T: Element, const WD: bool> Pass for AdadeltaPass<'_, T, WD> {
    #[inline(always)]
    fn apply(self) {
        let k = self.k;
        let n = self.p.len();
        let (p, g, v, u) = (self.p, &self.g[..n], &mut self.v[..n], &mut self.u[..n]);
        for i in 0..n {
            let theta = p[i];
            let grad = if WD { g[i] + k.wd * theta } else { g[i] };
            let vi = k.rho * v[i] + k.one_minus_rho * grad * grad;
            v[i] = vi;
            let std = (vi + k.eps).sqrt();
            let delta = (u[i] + k.eps).sqrt() / std * grad;
            u[i] = k.rho * u[i] + k.one_minus_rho * delta * delta;
            p[i] = theta - k.lr * delta;
        }
    }
}

fn kernel<T: Element, const WD: bool>(
    p: &mut [T],
    g: &[T],
    v: &mut [T],
    u: &mut [T],
    k: Coeffs<T>,
) {
    simd::run(AdadeltaPass::<T, WD> { p, g, v, u, k });
}

impl Sealed for AdadeltaConfig {}

impl UpdateRule for AdadeltaConfig {
    fn kind(&self) -> &'static str {
        "adadelta"
    }

    fn name(&self) -> &'static str {
        OWNER
    }

    crate::rule::lr_and_l2_weight_decay!();

    fn validate(&self) -> Result<(), OptimError> {
        AdadeltaConfig::validate(self)
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        &["square_avg", "acc_delta"]
    }

    fn update<T: Element>(&self, _step: u64, p: &mut [T], g: &[T], buffers: &mut [&mut [T]]) {
        let k = Coeffs {
            lr: cast::<T>(self.lr),
            rho: cast::<T>(self.rho),
            one_minus_rho: cast::<T>(1.0 - self.rho),
            eps: cast::<T>(self.eps),
            wd: cast::<T>(self.weight_decay),
        };
        let [v, u] = buffers else {
            panic!("Adadelta keeps square_avg and acc_delta")
        };
        if self.weight_decay != 0.0 {
            kernel::<T, true>(p, g, v, u, k)
        } else {
            kernel::<T, false>(p, g, v, u, k)
        }
    }

    fn to_saved(&self) -> OptimizerConfig {
        OptimizerConfig::Adadelta(*self)
    }

    fn from_saved(saved: &OptimizerConfig) -> Option<Self> {
        match saved {
            OptimizerConfig::Adadelta(config) => Some(*config),
            _ => None,
        }
    }
}
