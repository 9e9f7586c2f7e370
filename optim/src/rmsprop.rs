//! [`RmsProp`]: steps scaled by a running average of squared gradients (optionally centered,
//! with momentum), as PyTorch's `torch.optim.RMSprop`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param};
use strata_tensor::Element;

use crate::error::{non_negative, unit_closed, unit_half_open};
use crate::simd::{self, Pass};
use crate::state::{self, Hyper, Slots, cast, flag};
use crate::{OptimError, Optimizer, OptimizerState};

const KIND: &str = "rmsprop";
const OWNER: &str = "RmsProp";

/// Hyper-parameters of [`RmsProp`], with PyTorch's defaults: `lr = 1e-2`, `alpha = 0.99`,
/// `eps = 1e-8`, `weight_decay = 0`, `momentum = 0`, `centered = false`.
///
/// `RmsPropConfig::new(1e-3).centered(true).momentum(0.9).build::<f32>()?`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the smoothing constant α.
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets ε.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the L2 weight decay λ.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the momentum μ.
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Turns the centered variant on or off.
    pub fn centered(mut self, centered: bool) -> Self {
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

    fn buffer_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
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
#[derive(Clone, Debug)]
pub struct RmsProp<T: Element = f32> {
    config: RmsPropConfig,
    slots: Slots<T>,
    steps: u64,
}

impl<T: Element> RmsProp<T> {
    /// An optimizer with `config`.
    ///
    /// # Errors
    /// As [`RmsPropConfig::validate`].
    pub fn new(config: RmsPropConfig) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(RmsProp {
            config,
            slots: Slots::new(),
            steps: 0,
        })
    }

    /// The current hyper-parameters.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    fn hyper_parameters(&self) -> BTreeMap<String, f64> {
        let c = &self.config;
        [
            ("lr", c.lr),
            ("alpha", c.alpha),
            ("eps", c.eps),
            ("weight_decay", c.weight_decay),
            ("momentum", c.momentum),
            ("centered", flag(c.centered)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

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

impl<T: Element> Optimizer<T> for RmsProp<T> {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
        self.steps += 1;
        let c = self.config;
        let k = Coeffs {
            lr: cast::<T>(c.lr),
            alpha: cast::<T>(c.alpha),
            one_minus_alpha: cast::<T>(1.0 - c.alpha),
            eps: cast::<T>(c.eps),
            wd: cast::<T>(c.weight_decay),
            momentum: cast::<T>(c.momentum),
        };
        let (wd, mom, centered) = (c.weight_decay != 0.0, c.momentum > 0.0, c.centered);
        let init = [T::zero(); 3];
        let init = &init[..c.buffer_names().len()];
        state::for_each_update(OWNER, params, grads, &mut self.slots, init, |p, g, slot| {
            let (v, rest) = slot
                .bufs
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
        let config = RmsPropConfig {
            lr: h.get("lr")?,
            alpha: h.get("alpha")?,
            eps: h.get("eps")?,
            weight_decay: h.get("weight_decay")?,
            momentum: h.get("momentum")?,
            centered: h.flag(OWNER, "centered")?,
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
