//! [`Sgd`]: stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! weight decay, as PyTorch's `torch.optim.SGD`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param};
use strata_tensor::Element;

use crate::error::{non_negative, unit_half_open};
use crate::simd::{self, Pass};
use crate::state::{self, Hyper, Slots, cast, flag};
use crate::{OptimError, Optimizer, OptimizerState};

const KIND: &str = "sgd";
const OWNER: &str = "Sgd";

/// Hyper-parameters of [`Sgd`], with PyTorch's defaults (`lr = 1e-3`, everything else off).
///
/// Build with chained setters and [`SgdConfig::build`]:
/// `SgdConfig::new(0.1).momentum(0.9).nesterov(true).build::<f32>()?`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the momentum μ.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets the dampening τ.
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// Sets the L2 weight decay λ.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Turns Nesterov momentum on or off.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
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

    fn buffer_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
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
#[derive(Clone, Debug)]
pub struct Sgd<T: Element = f32> {
    config: SgdConfig,
    slots: Slots<T>,
    steps: u64,
}

impl<T: Element> Sgd<T> {
    /// An optimizer with `config`.
    ///
    /// # Errors
    /// As [`SgdConfig::validate`].
    pub fn new(config: SgdConfig) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(Sgd {
            config,
            slots: Slots::new(),
            steps: 0,
        })
    }

    /// The current hyper-parameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

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

    fn hyper_parameters(&self) -> BTreeMap<String, f64> {
        let c = &self.config;
        [
            ("lr", c.lr),
            ("momentum", c.momentum),
            ("dampening", c.dampening),
            ("weight_decay", c.weight_decay),
            ("nesterov", flag(c.nesterov)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
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

impl<T: Element> Optimizer<T> for Sgd<T> {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
        self.steps += 1;
        let c = self.config;
        let (lr, wd, mu) = (
            cast::<T>(c.lr),
            cast::<T>(c.weight_decay),
            cast::<T>(c.momentum),
        );
        let omd = cast::<T>(1.0 - c.dampening);
        let has_wd = c.weight_decay != 0.0;
        let init: &[T] = if c.momentum != 0.0 { &[T::zero()] } else { &[] };
        state::for_each_update(OWNER, params, grads, &mut self.slots, init, |p, g, slot| {
            if c.momentum == 0.0 {
                match has_wd {
                    false => plain::<T, false>(p, g, lr, wd),
                    true => plain::<T, true>(p, g, lr, wd),
                }
                return;
            }
            let first = slot.step == 1;
            let b = &mut slot.bufs[0];
            match (has_wd, first, c.nesterov) {
                (false, false, false) => {
                    with_momentum::<T, false, false, false>(p, g, b, lr, wd, mu, omd)
                }
                (false, false, true) => {
                    with_momentum::<T, false, false, true>(p, g, b, lr, wd, mu, omd)
                }
                (false, true, false) => {
                    with_momentum::<T, false, true, false>(p, g, b, lr, wd, mu, omd)
                }
                (false, true, true) => {
                    with_momentum::<T, false, true, true>(p, g, b, lr, wd, mu, omd)
                }
                (true, false, false) => {
                    with_momentum::<T, true, false, false>(p, g, b, lr, wd, mu, omd)
                }
                (true, false, true) => {
                    with_momentum::<T, true, false, true>(p, g, b, lr, wd, mu, omd)
                }
                (true, true, false) => {
                    with_momentum::<T, true, true, false>(p, g, b, lr, wd, mu, omd)
                }
                (true, true, true) => {
                    with_momentum::<T, true, true, true>(p, g, b, lr, wd, mu, omd)
                }
            }
        });
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        crate::check_lr(OWNER, lr);
        self.config.lr = lr;
    }

    fn step_count(&self) -> u64 {
        self.steps
    }

    fn reset(&mut self) {
        self.slots.clear();

        self.steps = 0;
    }

    fn state(&self, params: &[&Param<T>]) -> OptimizerState {
        state::export(
            KIND,
            self.steps,
            self.hyper_parameters(),
            self.config.buffer_names(),
            &self.slots,
            params,
        )
    }

    fn load_state(
        &mut self,
        params: &[&Param<T>],
        state: &OptimizerState,
    ) -> Result<(), OptimError> {
        state::check_header(KIND, params.len(), state)?;
        let mut h = Hyper::new(KIND, state);
        let config = SgdConfig {
            lr: h.get("lr")?,
            momentum: h.get("momentum")?,
            dampening: h.get("dampening")?,
            weight_decay: h.get("weight_decay")?,
            nesterov: h.flag(OWNER, "nesterov")?,
        };
        h.finish()?;
        config.validate()?;
        let slots = state::import(KIND, config.buffer_names(), params, state)?;
        self.config = config;
        self.slots = slots;
        self.steps = state.step;
        Ok(())
    }
}
