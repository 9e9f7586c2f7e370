//! [`Sgd`]: stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! weight decay, as PyTorch's `torch.optim.SGD`.

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::OptimError;
use crate::error::{non_negative, unit_half_open};
use crate::rule::{RuleOptimizer, Sealed, UpdateRule};
use crate::simd::{self, Pass};
use crate::state::{OptimizerConfig, cast};

const OWNER: &str = "Sgd";

/// Hyper-parameters of [`Sgd`], with PyTorch's defaults (`lr = 1e-3`, everything else off).
///
/// Build with chained setters and [`SgdConfig::build`]:
/// `SgdConfig::new(0.1).with_momentum(0.9).with_nesterov(true).build::<f32>()?`.
///
/// The configuration is the optimizer's [`UpdateRule`]; it is saved, with serde and under
/// these field names, in the optimizer's [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// Learning rate γ ≥ 0.
    pub lr: f64,
    /// Momentum μ ∈ [0, 1); 0 turns momentum off.
    pub momentum: f64,
    /// Dampening τ ∈ [0, 1]: the new gradient enters the momentum buffer scaled by 1 − τ.
    pub dampening: f64,
    /// L2 penalty λ ≥ 0, added to the gradient as λ·θ.
    pub weight_decay: f64,
    /// Nesterov momentum (needs μ > 0 and τ = 0).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        SgdConfig {
            lr,
            ..Self::default()
        }
    }

    /// Sets the learning rate γ.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the momentum μ.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets the dampening τ.
    pub fn with_dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// Sets the L2 weight decay λ.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Turns Nesterov momentum on or off.
    pub fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] for γ < 0, μ ∉ [0, 1), τ ∉ [0, 1], λ < 0 (or any
    /// of them not finite); [`OptimError::IncompatibleOptions`] for Nesterov momentum with
    /// μ = 0 or τ ≠ 0.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative(OWNER, "lr", self.lr)?;
        unit_half_open(OWNER, "momentum", self.momentum)?;
        if !(0.0..=1.0).contains(&self.dampening) {
            return Err(OptimError::InvalidHyperParameter {
                owner: OWNER,
                name: "dampening",
                value: self.dampening,
                expected: "in [0, 1]",
            });
        }
        non_negative(OWNER, "weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptimError::IncompatibleOptions {
                owner: OWNER,
                reason: "Nesterov momentum requires momentum > 0 and dampening = 0",
            });
        }
        Ok(())
    }

    /// An [`Sgd`] optimizer with this configuration.
    ///
    /// # Errors
    /// As [`SgdConfig::validate`].
    pub fn build<T: Element>(self) -> Result<Sgd<T>, OptimError> {
        Sgd::new(self)
    }
}

/// Stochastic gradient descent, PyTorch's `torch.optim.SGD` update. For each parameter θ with
/// gradient g (same shape) at its step t = 1, 2, …:
///
/// ```text
/// g ← g + λ·θ                            if λ ≠ 0
/// if μ ≠ 0:
///     b ← g                              if t = 1
///     b ← μ·b + (1 − τ)·g                otherwise
///     g ← g + μ·b   if Nesterov,  else  g ← b
/// θ ← θ − γ·g
/// ```
///
/// State per parameter: the momentum buffer `momentum_buffer` b (θ's shape), when μ ≠ 0.
///
/// `Sgd<T>` is the [`RuleOptimizer`] of the rule [`SgdConfig`], built by [`SgdConfig::build`];
/// [`RuleOptimizer::set_momentum`] changes μ mid-run.
pub type Sgd<T = f32> = RuleOptimizer<SgdConfig, T>;

impl<T: Element> RuleOptimizer<SgdConfig, T> {
    /// Changes the momentum μ mid-run (Hinton's RBM schedule raises it from 0.5 to 0.9),
    /// keeping the momentum buffers; switching momentum on or off forgets them, as a new
    /// optimizer would start.
    ///
    /// # Errors
    /// As [`SgdConfig::validate`] for the changed configuration; the optimizer is unchanged
    /// on error.
    pub fn set_momentum(&mut self, momentum: f64) -> Result<(), OptimError> {
        let config = SgdConfig {
            momentum,
            ..self.config
        };
        config.validate()?;
        if (momentum == 0.0) != (self.config.momentum == 0.0) {
            self.slots.clear();
        }
        self.config = config;
        Ok(())
    }
}

/// `g + λ·θ` when `WD`, else `g`.
#[inline(always)]
fn decayed<T: Element, const WD: bool>(g: T, p: T, wd: T) -> T {
    if WD { g + wd * p } else { g }
}

/// `θ ← θ − γ·(g + λθ)`, one pass.
struct Plain<'a, T, const WD: bool> {
    p: &'a mut [T],
    g: &'a [T],
    lr: T,
    wd: T,
}

impl<T: Element, const WD: bool> Pass for Plain<'_, T, WD> {
    #[inline(always)]
    fn apply(self) {
        let (lr, wd) = (self.lr, self.wd);
        for (p, &g) in self.p.iter_mut().zip(self.g) {
            let d = decayed::<T, WD>(g, *p, wd);
            *p = *p - lr * d;
        }
    }
}

fn plain<T: Element, const WD: bool>(p: &mut [T], g: &[T], lr: T, wd: T) {
    simd::run(Plain::<T, WD> { p, g, lr, wd });
}

/// The momentum update, fused into one pass over θ, g and b.
struct Momentum<'a, T, const WD: bool, const FIRST: bool, const NESTEROV: bool> {
    p: &'a mut [T],
    g: &'a [T],
    b: &'a mut [T],
    lr: T,
    wd: T,
    mu: T,
    one_minus_dampening: T,
}

impl<T: Element, const WD: bool, const FIRST: bool, const NESTEROV: bool> Pass
    for Momentum<'_, T, WD, FIRST, NESTEROV>
{
    #[inline(always)]
    fn apply(self) {
        let (lr, wd, mu, omd) = (self.lr, self.wd, self.mu, self.one_minus_dampening);
        for ((p, &g), b) in self.p.iter_mut().zip(self.g).zip(self.b.iter_mut()) {
            let d = decayed::<T, WD>(g, *p, wd);
            *b = if FIRST { d } else { mu * *b + omd * d };
            let u = if NESTEROV { d + mu * *b } else { *b };
            *p = *p - lr * u;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn with_momentum<T: Element, const WD: bool, const FIRST: bool, const NESTEROV: bool>(
    p: &mut [T],
    g: &[T],
    b: &mut [T],
    lr: T,
    wd: T,
    mu: T,
    one_minus_dampening: T,
) {
    simd::run(Momentum::<T, WD, FIRST, NESTEROV> {
        p,
        g,
        b,
        lr,
        wd,
        mu,
        one_minus_dampening,
    });
}

impl Sealed for SgdConfig {}

impl UpdateRule for SgdConfig {
    fn kind(&self) -> &'static str {
        "sgd"
    }

    fn name(&self) -> &'static str {
        OWNER
    }

    crate::rule::lr_and_l2_weight_decay!();

    fn validate(&self) -> Result<(), OptimError> {
        SgdConfig::validate(self)
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }

    fn update<T: Element>(&self, step: u64, p: &mut [T], g: &[T], buffers: &mut [&mut [T]]) {
        let (lr, wd, mu) = (
            cast::<T>(self.lr),
            cast::<T>(self.weight_decay),
            cast::<T>(self.momentum),
        );
        let omd = cast::<T>(1.0 - self.dampening);
        let has_wd = self.weight_decay != 0.0;
        if self.momentum == 0.0 {
            match has_wd {
                false => plain::<T, false>(p, g, lr, wd),
                true => plain::<T, true>(p, g, lr, wd),
            }
            return;
        }
        let first = step == 1;
        let b = &mut buffers[0];
        match (has_wd, first, self.nesterov) {
            (false, false, false) => {
                with_momentum::<T, false, false, false>(p, g, b, lr, wd, mu, omd)
            }
            (false, false, true) => {
                with_momentum::<T, false, false, true>(p, g, b, lr, wd, mu, omd)
            }
            (false, true, false) => {
                with_momentum::<T, false, true, false>(p, g, b, lr, wd, mu, omd)
            }
            (false, true, true) => with_momentum::<T, false, true, true>(p, g, b, lr, wd, mu, omd),
            (true, false, false) => {
                with_momentum::<T, true, false, false>(p, g, b, lr, wd, mu, omd)
            }
            (true, false, true) => with_momentum::<T, true, false, true>(p, g, b, lr, wd, mu, omd),
            (true, true, false) => with_momentum::<T, true, true, false>(p, g, b, lr, wd, mu, omd),
            (true, true, true) => with_momentum::<T, true, true, true>(p, g, b, lr, wd, mu, omd),
        }
    }

    fn to_saved(&self) -> OptimizerConfig {
        OptimizerConfig::Sgd(*self)
    }

    fn from_saved(saved: &OptimizerConfig) -> Option<Self> {
        match saved {
            OptimizerConfig::Sgd(config) => Some(*config),
            _ => None,
        }
    }
}
