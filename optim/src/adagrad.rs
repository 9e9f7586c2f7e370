//! [`Adagrad`]: per-coordinate step sizes from the accumulated squared gradients, as
//! PyTorch's `torch.optim.Adagrad`.

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::OptimError;
use crate::error::non_negative;
use crate::rule::{RuleOptimizer, Sealed, UpdateRule};
use crate::simd::{self, Pass};
use crate::state::{OptimizerConfig, cast};

const OWNER: &str = "Adagrad";

/// Hyper-parameters of [`Adagrad`], with PyTorch's defaults: `lr = 1e-2`, `lr_decay = 0`,
/// `weight_decay = 0`, `initial_accumulator_value = 0`, `eps = 1e-10`.
///
/// `AdagradConfig::new(0.1).with_lr_decay(1e-4).build::<f32>()?`.
///
/// The configuration is the optimizer's [`UpdateRule`]; it is saved, with serde and under
/// these field names, in the optimizer's [`OptimizerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdagradConfig {
    /// Learning rate γ ≥ 0.
    pub lr: f64,
    /// Learning-rate decay η ≥ 0: step t uses γ / (1 + (t − 1)·η).
    pub lr_decay: f64,
    /// L2 penalty λ ≥ 0, added to the gradient as λ·θ.
    pub weight_decay: f64,
    /// Starting value of the accumulator, ≥ 0.
    pub initial_accumulator_value: f64,
    /// ε ≥ 0, added to the denominator.
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

impl AdagradConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdagradConfig {
            lr,
            ..Self::default()
        }
    }

    /// Sets the learning rate γ.
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the learning-rate decay η.
    pub fn with_lr_decay(mut self, lr_decay: f64) -> Self {
        self.lr_decay = lr_decay;
        self
    }

    /// Sets the L2 weight decay λ.
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the accumulator's starting value.
    pub fn with_initial_accumulator_value(mut self, value: f64) -> Self {
        self.initial_accumulator_value = value;
        self
    }

    /// Sets ε.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] if any of γ, η, λ, the initial accumulator value
    /// or ε is negative or not finite.
    pub fn validate(&self) -> Result<(), OptimError> {
        non_negative(OWNER, "lr", self.lr)?;
        non_negative(OWNER, "lr_decay", self.lr_decay)?;
        non_negative(OWNER, "weight_decay", self.weight_decay)?;
        non_negative(
            OWNER,
            "initial_accumulator_value",
            self.initial_accumulator_value,
        )?;
        non_negative(OWNER, "eps", self.eps)
    }

    /// An [`Adagrad`] optimizer with this configuration.
    ///
    /// # Errors
    /// As [`AdagradConfig::validate`].
    pub fn build<T: Element>(self) -> Result<Adagrad<T>, OptimError> {
        Adagrad::new(self)
    }
}

/// Adagrad, PyTorch's `torch.optim.Adagrad` update. For each parameter θ with gradient g
/// (same shape) at its step t = 1, 2, …, with the accumulator s starting at
/// `initial_accumulator_value`:
///
/// ```text
/// γ̃ ← γ / (1 + (t − 1)·η)
/// g ← g + λ·θ                  if λ ≠ 0
/// s ← s + g²
/// θ ← θ − γ̃ · g / (√s + ε)
/// ```
///
/// State per parameter: the accumulator `sum` s (θ's shape) and the step count t.
///
/// `Adagrad<T>` is the [`RuleOptimizer`] of the rule [`AdagradConfig`], built by
/// [`AdagradConfig::build`].
pub type Adagrad<T = f32> = RuleOptimizer<AdagradConfig, T>;

/// One fused pass over θ, g and s.
struct AdagradPass<'a, T, const WD: bool> {
    p: &'a mut [T],
    g: &'a [T],
    s: &'a mut [T],
    clr: T,
    wd: T,
    eps: T,
}

impl<T: Element, const WD: bool> Pass for AdagradPass<'_, T, WD> {
    #[inline(always)]
    fn apply(self) {
        let (clr, wd, eps) = (self.clr, self.wd, self.eps);
        for ((p, &g), s) in self.p.iter_mut().zip(self.g).zip(self.s.iter_mut()) {
            let g = if WD { g + wd * *p } else { g };
            *s = *s + g * g;
            *p = *p - clr * (g / (s.sqrt() + eps));
        }
    }
}

fn kernel<T: Element, const WD: bool>(p: &mut [T], g: &[T], s: &mut [T], clr: T, wd: T, eps: T) {
    simd::run(AdagradPass::<T, WD> {
        p,
        g,
        s,
        clr,
        wd,
        eps,
    });
}

impl Sealed for AdagradConfig {}

impl UpdateRule for AdagradConfig {
    fn kind(&self) -> &'static str {
        "adagrad"
    }

    fn name(&self) -> &'static str {
        OWNER
    }

    crate::rule::lr_and_l2_weight_decay!();

    fn validate(&self) -> Result<(), OptimError> {
        AdagradConfig::validate(self)
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        &["sum"]
    }

    fn initial_buffer_value(&self, _index: usize) -> f64 {
        self.initial_accumulator_value
    }

    fn update<T: Element>(&self, step: u64, p: &mut [T], g: &[T], buffers: &mut [&mut [T]]) {
        let (wd, eps) = (cast::<T>(self.weight_decay), cast::<T>(self.eps));
        let clr = cast::<T>(self.lr / (1.0 + (step - 1) as f64 * self.lr_decay));
        let s = &mut buffers[0];
        if self.weight_decay != 0.0 {
            kernel::<T, true>(p, g, s, clr, wd, eps)
        } else {
            kernel::<T, false>(p, g, s, clr, wd, eps)
        }
    }

    fn to_saved(&self) -> OptimizerConfig {
        OptimizerConfig::Adagrad(*self)
    }

    fn from_saved(saved: &OptimizerConfig) -> Option<Self> {
        match saved {
            OptimizerConfig::Adagrad(config) => Some(*config),
            _ => None,
        }
    }
}
