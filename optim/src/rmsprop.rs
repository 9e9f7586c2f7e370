//! [`RmsProp`]: steps scaled by a running average of squared gradients (optionally centered,
//! with momentum), as PyTorch's `torch.optim.RMSprop`.

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::OptimError;
use crate::error::{non_negative, unit_closed, unit_half_open};
use crate::rule::{RuleOptimizer, Sealed, UpdateRule};
use crate::simd::{self, Pass};
use crate::state::{OptimizerConfig, cast};

const OWNER: &str = "RmsProp";

/// Hyper-parameters of [`RmsProp`], with PyTorch's defaults: `lr = 1e-2`, `alpha = 0.99`,
/// `eps = 1e-8`, `weight_decay = 0`, `momentum = 0`, `centered = false`.
///
/// `RmsPropConfig::new(1e-3).with_centered(true).with_momentum(0.9).build::<f32>()?`.
///
/// The configuration is the optimizer's [`UpdateRule`]; it is saved, with serde and under
/// these field names, in the optimizer's [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmsPropConfig {
    /// Learning rate γ ≥ 0.
    pub lr: f64,
    /// Smoothing constant α ∈ [0, 1] of the running averages.
    pub alpha: f64,
    /// ε ≥ 0, added to the denominator.
    pub eps: f64,
    /// L2 penalty λ ≥ 0, added to the gradient as λ·θ.
    pub weight_decay: f64,
    /// Momentum μ ∈ [0, 1); 0 turns momentum off.
    pub momentum: f64,
    /// Normalise by the estimated variance (v − ḡ²) instead of the raw second moment v.
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        RmsPropConfig {
            lr,
            ..Self::default()
        }
    }

    /// Sets the learning rate γ.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the smoothing constant α.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
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

    /// Sets the momentum μ.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Turns the centered variant on or off.
    pub fn with_centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] for γ < 0, α ∉ [0, 1], ε < 0, λ < 0 or
    /// μ ∉ [0, 1) (or any of them not finite).
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative(OWNER, "lr", self.lr)?;
        unit_closed(OWNER, "alpha", self.alpha)?;
        non_negative(OWNER, "eps", self.eps)?;
        non_negative(OWNER, "weight_decay", self.weight_decay)?;
        unit_half_open(OWNER, "momentum", self.momentum)
    }

    /// An [`RmsProp`] optimizer with this configuration.
    ///
    /// # Errors
    /// As [`RmsPropConfig::validate`].
    pub fn build<T: Element>(self) -> Result<RmsProp<T>, OptimError> {
        RmsProp::new(self)
    }
}

/// RMSprop, PyTorch's `torch.optim.RMSprop` update. For each parameter θ with gradient g (same
/// shape):
///
/// ```text
/// g  ← g + λ·θ                              if λ ≠ 0
/// v  ← α·v + (1 − α)·g²
/// if centered:  ḡ ← α·ḡ + (1 − α)·g;   d ← √(v − ḡ²) + ε
/// else:                                d ← √v + ε
/// if μ > 0:     b ← μ·b + g/d;          θ ← θ − γ·b
/// else:                                θ ← θ − γ·g/d
/// ```
///
/// State per parameter (each θ's shape): `square_avg` v, `momentum_buffer` b when μ > 0 and
/// `grad_avg` ḡ when centered; all start at zero.
///
/// `RmsProp<T>` is the [`RuleOptimizer`] of the rule [`RmsPropConfig`], built by
/// [`RmsPropConfig::build`].
pub type RmsProp<T = f32> = RuleOptimizer<RmsPropConfig, T>;

/// Per-step scalars of the update.
#[derive(Clone, Copy)]
struct Coeffs<T> {
    lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    wd: T,
    momentum: T,
}

/// One fused pass over θ, g, v (and b, ḡ).
struct RmsPropPass<'a, T, const WD: bool, const MOM: bool, const CENTERED: bool> {
    p: &'a mut [T],
    g: &'a [T],
    v: &'a mut [T],
    b: &'a mut [T],
    gavg: &'a mut [T],
    k: Coeffs<T>,
}

impl<T: Element, const WD: bool, const MOM: bool, const CENTERED: bool> Pass
    for RmsPropPass<'_, T, WD, MOM, CENTERED>
{
    #[inline(always)]
    fn apply(self) {
        let k = self.k;
        let n = self.p.len();
        let (p, g, v) = (self.p, &self.g[..n], &mut self.v[..n]);
        let b: &mut [T] = if MOM { &mut self.b[..n] } else { &mut [] };
        let gavg: &mut [T] = if CENTERED {
            &mut self.gavg[..n]
        } else {
            &mut []
        };
        for i in 0..n {
            let theta = p[i];
            let grad = if WD { g[i] + k.wd * theta } else { g[i] };
            let vi = k.alpha * v[i] + k.one_minus_alpha * grad * grad;
            v[i] = vi;
            let denom = if CENTERED {
                // ḡ ← α·ḡ + (1 − α)·g, as PyTorch's lerp ḡ + (1 − α)(g − ḡ).
                let ga = gavg[i] + k.one_minus_alpha * (grad - gavg[i]);
                gavg[i] = ga;
                (vi - ga * ga).sqrt() + k.eps
            } else {
                vi.sqrt() + k.eps
            };
            if MOM {
                let bi = k.momentum * b[i] + grad / denom;
                b[i] = bi;
                p[i] = theta - k.lr * bi;
            } else {
                p[i] = theta - k.lr * (grad / denom);
            }
        }
    }
}

fn kernel<T: Element, const WD: bool, const MOM: bool, const CENTERED: bool>(
    p: &mut [T],
    g: &[T],
    v: &mut [T],
    b: &mut [T],
    gavg: &mut [T],
    k: Coeffs<T>,
) {
    simd::run(RmsPropPass::<T, WD, MOM, CENTERED> {
        p,
        g,
        v,
        b,
        gavg,
        k,
    });
}

impl Sealed for RmsPropConfig {}

impl UpdateRule for RmsPropConfig {
    fn kind(&self) -> &'static str {
        "rmsprop"
    }

    fn name(&self) -> &'static str {
        OWNER
    }

    crate::rule::lr_and_l2_weight_decay!();

    fn validate(&self) -> Result<(), OptimError> {
        RmsPropConfig::validate(self)
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }

    fn update<T: Element>(&self, _step: u64, p: &mut [T], g: &[T], buffers: &mut [&mut [T]]) {
        let k = Coeffs {
            lr: cast::<T>(self.lr),
            alpha: cast::<T>(self.alpha),
            one_minus_alpha: cast::<T>(1.0 - self.alpha),
            eps: cast::<T>(self.eps),
            wd: cast::<T>(self.weight_decay),
            momentum: cast::<T>(self.momentum),
        };
        let (wd, mom, centered) = (self.weight_decay != 0.0, self.momentum > 0.0, self.centered);
        let (v, rest) = buffers
            .split_first_mut()
            .expect("RMSprop keeps at least square_avg");
        let mut rest = rest.iter_mut();
        let b: &mut [T] = if mom {
            rest.next().expect("momentum_buffer")
        } else {
            &mut []
        };
        let ga: &mut [T] = if centered {
            rest.next().expect("grad_avg")
        } else {
            &mut []
        };
        match (wd, mom, centered) {
            (false, false, false) => kernel::<T, false, false, false>(p, g, v, b, ga, k),
            (false, false, true) => kernel::<T, false, false, true>(p, g, v, b, ga, k),
            (false, true, false) => kernel::<T, false, true, false>(p, g, v, b, ga, k),
            (false, true, true) => kernel::<T, false, true, true>(p, g, v, b, ga, k),
            (true, false, false) => kernel::<T, true, false, false>(p, g, v, b, ga, k),
            (true, false, true) => kernel::<T, true, false, true>(p, g, v, b, ga, k),
            (true, true, false) => kernel::<T, true, true, false>(p, g, v, b, ga, k),
            (true, true, true) => kernel::<T, true, true, true>(p, g, v, b, ga, k),
        }
    }

    fn to_saved(&self) -> OptimizerConfig {
        OptimizerConfig::RmsProp(*self)
    }

    fn from_saved(saved: &OptimizerConfig) -> Option<Self> {
        match saved {
            OptimizerConfig::RmsProp(config) => Some(*config),
            _ => None,
        }
    }
}
