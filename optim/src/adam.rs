//! [`Adam`] (with AMSGrad; weight decay as an L2 penalty) and [`AdamW`] (decoupled weight
//! decay), as PyTorch's `torch.optim.Adam` and `torch.optim.AdamW`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param};
use strata_tensor::Element;

use crate::error::{non_negative, unit_half_open};
use crate::simd::{self, Pass};
use crate::state::{self, Hyper, OptimizerState, Slots, cast, flag};
use crate::{OptimError, Optimizer};

/// The hyper-parameters both variants share.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Hyperparams {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
}

impl Hyperparams {
    fn validate(&self, owner: &'static str) -> Result<(), OptimError> {
        non_negative(owner, "lr", self.lr)?;
        unit_half_open(owner, "beta1", self.betas.0)?;
        unit_half_open(owner, "beta2", self.betas.1)?;
        non_negative(owner, "eps", self.eps)?;
        non_negative(owner, "weight_decay", self.weight_decay)
    }

    fn buffer_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        }
    }

    fn to_map(self) -> BTreeMap<String, f64> {
        [
            ("lr", self.lr),
            ("beta1", self.betas.0),
            ("beta2", self.betas.1),
            ("eps", self.eps),
            ("weight_decay", self.weight_decay),
            ("amsgrad", flag(self.amsgrad)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn from_state(
        kind: &'static str,
        owner: &'static str,
        state: &OptimizerState,
    ) -> Result<Self, OptimError> {
        let mut h = Hyper::new(kind, state);
        let hp = Hyperparams {
            lr: h.get("lr")?,
            betas: (h.get("beta1")?, h.get("beta2")?),
            eps: h.get("eps")?,
            weight_decay: h.get("weight_decay")?,
            amsgrad: h.flag(owner, "amsgrad")?,
        };
        h.finish()?;
        hp.validate(owner)?;
        Ok(hp)
    }
}

macro_rules! adam_config {
    ($(#[$doc:meta])* $name:ident, $opt:ident, $owner:literal, $default_wd:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Learning rate γ ≥ 0.
            pub lr: f64,
            /// Decay rates (β₁, β₂) of the first and second moment estimates, each in [0, 1).
            pub betas: (f64, f64),
            /// ε ≥ 0, added to the denominator.
            pub eps: f64,
            /// Weight decay λ ≥ 0.
            pub weight_decay: f64,
            /// Use the AMSGrad variant (the running maximum of the second moment).
            pub amsgrad: bool,
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    lr: 1e-3,
                    betas: (0.9, 0.999),
                    eps: 1e-8,
                    weight_decay: $default_wd,
                    amsgrad: false,
                }
            }
        }

        impl $name {
            /// The defaults with learning rate `lr`.
            pub fn new(lr: f64) -> Self {
                $name {
                    lr,
                    ..Self::default()
                }
            }

            /// Sets the learning rate γ.
            pub fn lr(mut self, lr: f64) -> Self {
                self.lr = lr;
                self
            }

            /// Sets (β₁, β₂).
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.betas = (beta1, beta2);
                self
            }

            /// Sets ε.
            pub fn eps(mut self, eps: f64) -> Self {
                self.eps = eps;
                self
            }

            /// Sets the weight decay λ.
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                self.weight_decay = weight_decay;
                self
            }

            /// Turns AMSGrad on or off.
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.amsgrad = amsgrad;
                self
            }

            /// Checks every hyper-parameter.
            ///
            /// # Errors
            /// [`OptimError::InvalidHyperParameter`] for γ < 0, β₁ or β₂ ∉ [0, 1), ε < 0 or
            /// λ < 0 (or any of them not finite).
            pub fn validate(&self) -> Result<(), OptimError> {
                self.hyper().validate($owner)
            }

            #[doc = concat!("An [`", stringify!($opt), "`] optimizer with this configuration.")]
            ///
            /// # Errors
            /// As `validate`.
            pub fn build<T: Element>(self) -> Result<$opt<T>, OptimError> {
                $opt::new(self)
            }

            fn hyper(&self) -> Hyperparams {
                Hyperparams {
                    lr: self.lr,
                    betas: self.betas,
                    eps: self.eps,
                    weight_decay: self.weight_decay,
                    amsgrad: self.amsgrad,
                }
            }

            fn from_hyper(h: Hyperparams) -> Self {
                $name {
                    lr: h.lr,
                    betas: h.betas,
                    eps: h.eps,
                    weight_decay: h.weight_decay,
                    amsgrad: h.amsgrad,
                }
            }
        }
    };
}

adam_config!(
    /// Hyper-parameters of [`Adam`], with PyTorch's defaults: `lr = 1e-3`,
    /// `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 0`, `amsgrad = false`.
    ///
    /// `AdamConfig::new(1e-3).amsgrad(true).build::<f32>()?`.
    AdamConfig,
    Adam,
    "Adam",
    0.0
);

adam_config!(
    /// Hyper-parameters of [`AdamW`], with PyTorch's defaults: `lr = 1e-3`,
    /// `betas = (0.9, 0.999)`, `eps = 1e-8`, `weight_decay = 1e-2`, `amsgrad = false`.
    ///
    /// `AdamWConfig::new(1e-3).weight_decay(0.05).build::<f32>()?`.
    AdamWConfig,
    AdamW,
    "AdamW",
    1e-2
);

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

/// The shared step of Adam and AdamW.
fn adam_step<T: Element>(
    owner: &'static str,
    h: Hyperparams,
    decoupled: bool,
    params: &mut [&mut Param<T>],
    grads: &Grads<T>,
    slots: &mut Slots<T>,
) {
    let (beta1, beta2) = h.betas;
    let wd_mode = match (h.weight_decay != 0.0, decoupled) {
        (false, _) => WD_NONE,
        (true, false) => WD_L2,
        (true, true) => WD_DECOUPLED,
    };
    let init = [T::zero(); 3];
    let init = &init[..h.buffer_names().len()];
    state::for_each_update(owner, params, grads, slots, init, |p, g, slot| {
        let t = slot.step as f64;
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let k = Coeffs {
            wd: cast(h.weight_decay),
            decay: cast(1.0 - h.lr * h.weight_decay),
            one_minus_beta1: cast(1.0 - beta1),
            beta2: cast(beta2),
            one_minus_beta2: cast(1.0 - beta2),
            step_size: cast(h.lr / bias_correction1),
            bias_correction2_sqrt: cast(bias_correction2.sqrt()),
            eps: cast(h.eps),
        };
        let (m, rest) = slot.bufs.split_at_mut(1);
        let (v, vmax) = rest.split_at_mut(1);
        let (m, v) = (&mut m[0], &mut v[0]);
        let vmax: &mut [T] = vmax.first_mut().map_or(&mut [], |b| b.as_mut_slice());
        match (wd_mode, h.amsgrad) {
            (WD_NONE, false) => kernel::<T, WD_NONE, false>(p, g, m, v, vmax, k),
            (WD_NONE, true) => kernel::<T, WD_NONE, true>(p, g, m, v, vmax, k),
            (WD_L2, false) => kernel::<T, WD_L2, false>(p, g, m, v, vmax, k),
            (WD_L2, true) => kernel::<T, WD_L2, true>(p, g, m, v, vmax, k),
            (_, false) => kernel::<T, WD_DECOUPLED, false>(p, g, m, v, vmax, k),
            (_, true) => kernel::<T, WD_DECOUPLED, true>(p, g, m, v, vmax, k),
        }
    });
}

macro_rules! adam_optimizer {
    ($(#[$doc:meta])* $name:ident, $config:ident, $kind:literal, $owner:literal, $decoupled:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name<T: Element = f32> {
            config: $config,
            slots: Slots<T>,
            steps: u64,
        }

        impl<T: Element> $name<T> {
            /// An optimizer with `config`.
            ///
            /// # Errors
            #[doc = concat!("As [`", stringify!($config), "::validate`].")]
            pub fn new(config: $config) -> Result<Self, OptimError> {
                config.validate()?;
                Ok($name {
                    config,
                    slots: Slots::new(),
                    steps: 0,
                })
            }

            /// The current hyper-parameters.
            pub fn config(&self) -> &$config {
                &self.config
            }
        }

        impl<T: Element> Optimizer<T> for $name<T> {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
                self.steps += 1;
                adam_step(
                    $owner,
                    self.config.hyper(),
                    $decoupled,
                    params,
                    grads,
                    &mut self.slots,
                );
            }

            fn learning_rate(&self) -> f64 {
                self.config.lr
            }

            fn set_learning_rate(&mut self, lr: f64) {
                crate::check_lr($owner, lr);
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
                let h = self.config.hyper();
                state::export(
                    $kind,
                    self.steps,
                    h.to_map(),
                    h.buffer_names(),
                    &self.slots,
                    params,
                )
            }

            fn load_state(
                &mut self,
                params: &[&Param<T>],
                state: &OptimizerState,
            ) -> Result<(), OptimError> {
                state::check_header($kind, params.len(), state)?;
                let h = Hyperparams::from_state($kind, $owner, state)?;
                let slots = state::import($kind, h.buffer_names(), params, state)?;
                self.config = $config::from_hyper(h);
                self.slots = slots;
                self.steps = state.step;
                Ok(())
            }
        }
    };
}

adam_optimizer!(
    /// Adam, PyTorch's `torch.optim.Adam` update (weight decay as an L2 penalty on the
    /// gradient). For each parameter θ with gradient g (same shape) at its step t = 1, 2, …:
    ///
    /// ```text
    /// g  ← g + λ·θ                                   if λ ≠ 0
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
    /// `max_exp_avg_sq` v̄; and the parameter's own step count t.
    Adam,
    AdamConfig,
    "adam",
    "Adam",
    false
);

adam_optimizer!(
    /// AdamW, PyTorch's `torch.optim.AdamW` update: Adam with decoupled weight decay. For each
    /// parameter θ with gradient g (same shape) at its step t = 1, 2, …:
    ///
    /// ```text
    /// θ  ← θ·(1 − γλ)
    /// m  ← β₁·m + (1 − β₁)·g
    /// v  ← β₂·v + (1 − β₂)·g²
    /// v̄  ← max(v̄, v)  if AMSGrad,  else  v̄ ← v
    /// θ  ← θ − γ/(1 − β₁ᵗ) · m / (√v̄ / √(1 − β₂ᵗ) + ε)
    /// ```
    ///
    /// State per parameter (each θ's shape): `exp_avg` m, `exp_avg_sq` v and, with AMSGrad,
    /// `max_exp_avg_sq` v̄; and the parameter's own step count t.
    AdamW,
    AdamWConfig,
    "adamw",
    "AdamW",
    true
);
