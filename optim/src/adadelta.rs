//! [`Adadelta`]: step sizes from running averages of squared gradients and squared updates,
//! as PyTorch's `torch.optim.Adadelta`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param};
use strata_tensor::Element;

use crate::error::{non_negative, unit_closed};
use crate::simd::{self, Pass};
use crate::state::{self, Hyper, Slots, cast};
use crate::{OptimError, Optimizer, OptimizerState};

const KIND: &str = "adadelta";
const OWNER: &str = "Adadelta";
const BUFFERS: &[&str] = &["square_avg", "acc_delta"];

/// Hyper-parameters of [`Adadelta`], with PyTorch's defaults: `lr = 1.0`, `rho = 0.9`,
/// `eps = 1e-6`, `weight_decay = 0`.
///
/// `AdadeltaConfig::new(1.0).rho(0.95).build::<f32>()?`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the decay ρ.
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
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
#[derive(Clone, Debug)]
pub struct Adadelta<T: Element = f32> {
    config: AdadeltaConfig,
    slots: Slots<T>,
    steps: u64,
}

impl<T: Element> Adadelta<T> {
    /// An optimizer with `config`.
    ///
    /// # Errors
    /// As [`AdadeltaConfig::validate`].
    pub fn new(config: AdadeltaConfig) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(Adadelta {
            config,
            slots: Slots::new(),
            steps: 0,
        })
    }

    /// The current hyper-parameters.
    pub fn config(&self) -> &AdadeltaConfig {
        &self.config
    }

    fn hyper_parameters(&self) -> BTreeMap<String, f64> {
        let c = &self.config;
        [
            ("lr", c.lr),
            ("rho", c.rho),
            ("eps", c.eps),
            ("weight_decay", c.weight_decay),
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

impl<T: Element> Optimizer<T> for Adadelta<T> {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
        self.steps += 1;
        let c = self.config;
        let k = Coeffs {
            lr: cast::<T>(c.lr),
            rho: cast::<T>(c.rho),
            one_minus_rho: cast::<T>(1.0 - c.rho),
            eps: cast::<T>(c.eps),
            wd: cast::<T>(c.weight_decay),
        };
        let wd = c.weight_decay != 0.0;
        let init = [T::zero(); 2];
        state::for_each_update(
            OWNER,
            params,
            grads,
            &mut self.slots,
            &init,
            |p, g, slot| {
                let [v, u] = slot.bufs.as_mut_slice() else {
                    unreachable!("Adadelta keeps square_avg and acc_delta")
                };
                if wd {
                    kernel::<T, true>(p, g, v, u, k)
                } else {
                    kernel::<T, false>(p, g, v, u, k)
                }
            },
        );
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
            BUFFERS,
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
        let config = AdadeltaConfig {
            lr: h.get("lr")?,
            rho: h.get("rho")?,
            eps: h.get("eps")?,
            weight_decay: h.get("weight_decay")?,
        };
        h.finish()?;
        config.validate()?;
        let slots = state::import(KIND, BUFFERS, params, state)?;
        self.config = config;
        self.slots = slots;
        self.steps = state.step;
        Ok(())
    }
}
