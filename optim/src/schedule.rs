//! Learning-rate schedules.
//!
//! A closed-form schedule ([`LrSchedule`]: [`ConstantLr`], [`StepLr`], [`MultiStepLr`],
//! [`ExponentialLr`], [`CosineAnnealingLr`], [`LinearWarmup`] around any of them) maps a
//! step or epoch count t = 0, 1, 2, … to a learning rate; a [`Scheduler`] counts t and writes
//! the rate into an optimizer, as PyTorch's `LRScheduler.step()` does. [`ReduceLrOnPlateau`]
//! instead watches a validation metric and cuts the rate when it stops improving.
//!
//! ```
//! use strata_optim::{CosineAnnealingLr, LinearWarmup, Optimizer, Scheduler, SgdConfig};
//!
//! let mut opt = SgdConfig::new(0.1).build::<f32>().unwrap();
//! // 5 epochs of linear warm-up from 0.01 to 0.1, then a cosine down to 0 over 20 epochs.
//! let schedule = LinearWarmup::new(5, 0.1, CosineAnnealingLr::new(0.1, 20, 0.0).unwrap()).unwrap();
//! let mut scheduler = Scheduler::new(schedule, &mut opt);
//! assert!((opt.learning_rate() - 0.01).abs() < 1e-12);
//! for _epoch in 0..5 {
//!     // … train one epoch …
//!     scheduler.step(&mut opt);
//! }
//! assert!((opt.learning_rate() - 0.1).abs() < 1e-12);
//! ```

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::error::non_negative;
use crate::{OptimError, Optimizer};

/// A learning rate as a function of the step (or epoch) count t = 0, 1, 2, ….
pub trait LrSchedule {
    /// The learning rate at step `t`.
    fn lr(&self, t: u64) -> f64;
}

impl<S: LrSchedule + ?Sized> LrSchedule for Box<S> {
    fn lr(&self, t: u64) -> f64 {
        (**self).lr(t)
    }
}

impl<S: LrSchedule + ?Sized> LrSchedule for &S {
    fn lr(&self, t: u64) -> f64 {
        (**self).lr(t)
    }
}

/// A constant rate: `lr(t) = lr`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstantLr {
    lr: f64,
}

impl ConstantLr {
    /// The rate `lr` at every step.
    ///
    /// # Errors
    /// If `lr` is negative or not finite.
    pub fn new(lr: f64) -> Result<Self, OptimError> {
        non_negative("ConstantLr", "lr", lr)?;
        Ok(ConstantLr { lr })
    }
}

impl LrSchedule for ConstantLr {
    fn lr(&self, _t: u64) -> f64 {
        self.lr
    }
}

/// PyTorch's `StepLR`: decay by γ every `step_size` steps,
/// `lr(t) = base_lr · γ^⌊t / step_size⌋`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepLr {
    base_lr: f64,
    step_size: u64,
    gamma: f64,
}

impl StepLr {
    /// Decays `base_lr` by `gamma` every `step_size` steps.
    ///
    /// # Errors
    /// If `base_lr` or `gamma` is negative or not finite, or `step_size` is 0.
    pub fn new(base_lr: f64, step_size: u64, gamma: f64) -> Result<Self, OptimError> {
        non_negative("StepLr", "base_lr", base_lr)?;
        non_negative("StepLr", "gamma", gamma)?;
        if step_size == 0 {
            return Err(OptimError::InvalidHyperParameter {
                owner: "StepLr",
                name: "step_size",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        Ok(StepLr {
            base_lr,
            step_size,
            gamma,
        })
    }
}

impl LrSchedule for StepLr {
    fn lr(&self, t: u64) -> f64 {
        self.base_lr * self.gamma.powf((t / self.step_size) as f64)
    }
}

/// PyTorch's `MultiStepLR`: decay by γ at each milestone,
/// `lr(t) = base_lr · γ^(number of milestones ≤ t)` (a milestone listed twice counts twice).
#[derive(Clone, Debug, PartialEq)]
pub struct MultiStepLr {
    base_lr: f64,
    milestones: Vec<u64>,
    gamma: f64,
}

impl MultiStepLr {
    /// Decays `base_lr` by `gamma` at each of `milestones` (in any order).
    ///
    /// # Errors
    /// If `base_lr` or `gamma` is negative or not finite.
    pub fn new(base_lr: f64, milestones: &[u64], gamma: f64) -> Result<Self, OptimError> {
        non_negative("MultiStepLr", "base_lr", base_lr)?;
        non_negative("MultiStepLr", "gamma", gamma)?;
        let mut milestones = milestones.to_vec();
        milestones.sort_unstable();
        Ok(MultiStepLr {
            base_lr,
            milestones,
            gamma,
        })
    }
}

impl LrSchedule for MultiStepLr {
    fn lr(&self, t: u64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= t);
        self.base_lr * self.gamma.powf(passed as f64)
    }
}

/// PyTorch's `ExponentialLR`: `lr(t) = base_lr · γ^t`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// Decays `base_lr` by `gamma` every step.
    ///
    /// # Errors
    /// If `base_lr` or `gamma` is negative or not finite.
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self, OptimError> {
        non_negative("ExponentialLr", "base_lr", base_lr)?;
        non_negative("ExponentialLr", "gamma", gamma)?;
        Ok(ExponentialLr { base_lr, gamma })
    }
}

impl LrSchedule for ExponentialLr {
    fn lr(&self, t: u64) -> f64 {
        self.base_lr * self.gamma.powf(t as f64)
    }
}

/// PyTorch's `CosineAnnealingLR` in its closed form:
/// `lr(t) = η_min + (base_lr − η_min) · (1 + cos(π·t / T_max)) / 2`.
///
/// The rate reaches η_min at t = T_max and, past it, rises again along the same cosine
/// (as PyTorch's closed form does; restart-free).
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Anneals from `base_lr` to `eta_min` over `t_max` steps.
    ///
    /// # Errors
    /// If `base_lr` or `eta_min` is negative or not finite, or `t_max` is 0.
    pub fn new(base_lr: f64, t_max: u64, eta_min: f64) -> Result<Self, OptimError> {
        non_negative("CosineAnnealingLr", "base_lr", base_lr)?;
        non_negative("CosineAnnealingLr", "eta_min", eta_min)?;
        if t_max == 0 {
            return Err(OptimError::InvalidHyperParameter {
                owner: "CosineAnnealingLr",
                name: "t_max",
                value: 0.0,
                expected: "≥ 1",
            });
        }
        Ok(CosineAnnealingLr {
            base_lr,
            t_max,
            eta_min,
        })
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr(&self, t: u64) -> f64 {
        let phase = std::f64::consts::PI * t as f64 / self.t_max as f64;
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// Linear warm-up in front of another schedule, as PyTorch's
/// `SequentialLR([LinearLR(start_factor, 1.0, w), inner], milestones=[w])`:
///
/// ```text
/// lr(t) = inner.lr(0) · (s + (1 − s)·t / w)     for t < w
/// lr(t) = inner.lr(t − w)                       for t ≥ w
/// ```
///
/// with s the start factor and w the warm-up length.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    warmup: u64,
    start_factor: f64,
    inner: S,
}

impl<S: LrSchedule> LinearWarmup<S> {
    /// Ramps linearly from `start_factor · inner.lr(0)` to `inner.lr(0)` over `warmup` steps,
    /// then follows `inner` (shifted by `warmup`).
    ///
    /// # Errors
    /// If `start_factor` is not in (0, 1].
    pub fn new(warmup: u64, start_factor: f64, inner: S) -> Result<Self, OptimError> {
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(OptimError::InvalidHyperParameter {
                owner: "LinearWarmup",
                name: "start_factor",
                value: start_factor,
                expected: "in (0, 1]",
            });
        }
        Ok(LinearWarmup {
            warmup,
            start_factor,
            inner,
        })
    }

    /// The schedule followed after the warm-up.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn lr(&self, t: u64) -> f64 {
        if t < self.warmup {
            let s = self.start_factor;
            self.inner.lr(0) * (s + (1.0 - s) * t as f64 / self.warmup as f64)
        } else {
            self.inner.lr(t - self.warmup)
        }
    }
}

/// The serializable state of a [`Scheduler`]: how many times it has stepped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// The step count t (PyTorch's `last_epoch`).
    pub step: u64,
}

/// Drives an optimizer's learning rate along an [`LrSchedule`]: construction sets
/// `lr(0)`, each [`Scheduler::step`] advances t and sets `lr(t)`.
#[derive(Clone, Debug)]
pub struct Scheduler<S> {
    schedule: S,
    t: u64,
}

impl<S: LrSchedule> Scheduler<S> {
    /// Starts `schedule` at t = 0 and sets `opt`'s learning rate to `schedule.lr(0)`.
    ///
    /// # Panics
    /// If the schedule yields a negative or non-finite rate.
    pub fn new<T: Element>(schedule: S, opt: &mut (impl Optimizer<T> + ?Sized)) -> Self {
        let scheduler = Scheduler { schedule, t: 0 };
        opt.set_learning_rate(scheduler.lr());
        scheduler
    }

    /// Advances t by one and sets `opt`'s learning rate to `lr(t)`, which it returns. Call it
    /// once per epoch (or per batch, for a per-step schedule), after the optimizer steps.
    ///
    /// # Panics
    /// If the schedule yields a negative or non-finite rate.
    pub fn step<T: Element>(&mut self, opt: &mut (impl Optimizer<T> + ?Sized)) -> f64 {
        self.t += 1;
        let lr = self.lr();
        opt.set_learning_rate(lr);
        lr
    }

    /// The current step count t.
    pub fn step_count(&self) -> u64 {
        self.t
    }

    /// The rate at the current t.
    pub fn lr(&self) -> f64 {
        self.schedule.lr(self.t)
    }

    /// The schedule.
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// The state to save.
    pub fn state(&self) -> SchedulerState {
        SchedulerState { step: self.t }
    }

    /// Restores a saved step count and sets `opt`'s learning rate to the rate there.
    ///
    /// # Panics
    /// If the schedule yields a negative or non-finite rate.
    pub fn load_state<T: Element>(
        &mut self,
        state: &SchedulerState,
        opt: &mut (impl Optimizer<T> + ?Sized),
    ) {
        self.t = state.step;
        opt.set_learning_rate(self.lr());
    }
}

/// Whether a watched metric should go down (a loss) or up (an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// How [`ReduceLrOnPlateau`] decides that a metric improved on the best so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThresholdMode {
    /// Better than `best · (1 ∓ threshold)` (− in `Min` mode, + in `Max` mode).
    Rel,
    /// Better than `best ∓ threshold`.
    Abs,
}

/// The serializable state of a [`ReduceLrOnPlateau`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlateauState {
    /// The best metric so far (`None` before the first).
    pub best: Option<f64>,
    /// Consecutive epochs without improvement.
    pub num_bad_epochs: u64,
    /// Epochs of cool-down left.
    pub cooldown_counter: u64,
    /// Number of `step` calls so far (PyTorch's `last_epoch`).
    pub last_epoch: u64,
}

/// PyTorch's `ReduceLROnPlateau`: multiplies the learning rate by `factor` when the metric
/// has not improved for more than `patience` epochs, then waits `cooldown` epochs before
/// counting again. Per call of [`ReduceLrOnPlateau::step`] with metric a:
///
/// ```text
/// better(a) = a < best·(1 − threshold)   (Min, Rel)     a > best·(1 + threshold)   (Max, Rel)
///             a < best − threshold       (Min, Abs)     a > best + threshold       (Max, Abs)
/// if better(a): best ← a, bad ← 0   else bad ← bad + 1
/// if cooldown_counter > 0: cooldown_counter ← cooldown_counter − 1, bad ← 0
/// if bad > patience:
///     new ← max(lr·factor, min_lr);  lr ← new if lr − new > eps
///     cooldown_counter ← cooldown,  bad ← 0
/// ```
///
/// Defaults (PyTorch's): `factor = 0.1`, `patience = 10`, `threshold = 1e-4` relative,
/// `cooldown = 0`, `min_lr = 0`, `eps = 1e-8`. A NaN metric is never better.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    mode: Mode,
    factor: f64,
    patience: u64,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: u64,
    min_lr: f64,
    eps: f64,
    state: PlateauState,
}

impl ReduceLrOnPlateau {
    /// Watches a metric in `mode`, with PyTorch's defaults.
    pub fn new(mode: Mode) -> Self {
        ReduceLrOnPlateau {
            mode,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            state: PlateauState {
                best: None,
                num_bad_epochs: 0,
                cooldown_counter: 0,
                last_epoch: 0,
            },
        }
    }

    /// Sets the factor the rate is multiplied by.
    ///
    /// # Errors
    /// If `factor` is not in [0, 1).
    pub fn with_factor(mut self, factor: f64) -> Result<Self, OptimError> {
        crate::error::unit_half_open("ReduceLrOnPlateau", "factor", factor)?;
        self.factor = factor;
        Ok(self)
    }

    /// Sets how many epochs without improvement are tolerated.
    pub fn with_patience(mut self, patience: u64) -> Self {
        self.patience = patience;
        self
    }

    /// Sets the improvement threshold and how it is applied.
    ///
    /// # Errors
    /// If `threshold` is negative or not finite.
    pub fn with_threshold(
        mut self,
        threshold: f64,
        mode: ThresholdMode,
    ) -> Result<Self, OptimError> {
        non_negative("ReduceLrOnPlateau", "threshold", threshold)?;
        self.threshold = threshold;
        self.threshold_mode = mode;
        Ok(self)
    }

    /// Sets the number of epochs to wait after a reduction before counting bad epochs again.
    pub fn with_cooldown(mut self, cooldown: u64) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets the floor of the learning rate.
    ///
    /// # Errors
    /// If `min_lr` is negative or not finite.
    pub fn with_min_lr(mut self, min_lr: f64) -> Result<Self, OptimError> {
        non_negative("ReduceLrOnPlateau", "min_lr", min_lr)?;
        self.min_lr = min_lr;
        Ok(self)
    }

    /// Sets the smallest change of rate worth applying.
    ///
    /// # Errors
    /// If `eps` is negative or not finite.
    pub fn with_eps(mut self, eps: f64) -> Result<Self, OptimError> {
        non_negative("ReduceLrOnPlateau", "eps", eps)?;
        self.eps = eps;
        Ok(self)
    }

    fn is_better(&self, a: f64) -> bool {
        let Some(best) = self.state.best else {
            // PyTorch starts from best = ±∞: every comparable value is better.
            return match self.mode {
                Mode::Min => a < f64::INFINITY,
                Mode::Max => a > f64::NEG_INFINITY,
            };
        };
        match (self.mode, self.threshold_mode) {
            (Mode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (Mode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (Mode::Max, ThresholdMode::Rel) => a > best * (1.0 + self.threshold),
            (Mode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// Records this epoch's `metric` and, on a plateau, lowers `opt`'s learning rate. Returns
    /// the learning rate after the call.
    pub fn step<T: Element>(&mut self, metric: f64, opt: &mut (impl Optimizer<T> + ?Sized)) -> f64 {
        self.state.last_epoch += 1;
        if self.is_better(metric) {
            self.state.best = Some(metric);
            self.state.num_bad_epochs = 0;
        } else {
            self.state.num_bad_epochs += 1;
        }
        if self.state.cooldown_counter > 0 {
            self.state.cooldown_counter -= 1;
            self.state.num_bad_epochs = 0;
        }
        if self.state.num_bad_epochs > self.patience {
            let old = opt.learning_rate();
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                opt.set_learning_rate(new);
            }
            self.state.cooldown_counter = self.cooldown;
            self.state.num_bad_epochs = 0;
        }
        opt.learning_rate()
    }

    /// The best metric so far.
    pub fn best(&self) -> Option<f64> {
        self.state.best
    }

    /// Consecutive epochs without improvement so far.
    pub fn num_bad_epochs(&self) -> u64 {
        self.state.num_bad_epochs
    }

    /// Whether a cool-down is running.
    pub fn in_cooldown(&self) -> bool {
        self.state.cooldown_counter > 0
    }

    /// The state to save.
    pub fn state(&self) -> PlateauState {
        self.state
    }

    /// Restores a saved state.
    ///
    /// # Errors
    /// [`OptimError::InvalidState`] if the cool-down counter exceeds the configured cool-down.
    pub fn load_state(&mut self, state: &PlateauState) -> Result<(), OptimError> {
        if state.cooldown_counter > self.cooldown {
            return Err(OptimError::InvalidState {
                owner: "ReduceLrOnPlateau",
                reason: format!(
                    "cooldown_counter {} exceeds the configured cooldown {}",
                    state.cooldown_counter, self.cooldown
                ),
            });
        }
        self.state = *state;
        Ok(())
    }
}
