//! Learning-rate schedules.
//!
//! A closed-form schedule ([`LrSchedule`]) maps a step or epoch count t = 0, 1, 2, … to a
//! learning rate; a [`Scheduler`] counts t and writes the rate into an optimizer, as PyTorch's
//! `LRScheduler.step()` does. [`ReduceLrOnPlateau`] instead watches a validation metric and
//! cuts the rate when it stops improving. One file per schedule:
//!
//! | schedule | PyTorch | file |
//! |---|---|---|
//! | [`ConstantLr`] | (a constant `lr`) | `constant.rs` |
//! | [`StepLr`] | `StepLR` | `step.rs` |
//! | [`MultiStepLr`] | `MultiStepLR` | `multi_step.rs` |
//! | [`ExponentialLr`] | `ExponentialLR` | `exponential.rs` |
//! | [`CosineAnnealingLr`] | `CosineAnnealingLR` | `cosine_annealing.rs` |
//! | [`CosineAnnealingWarmRestarts`] | `CosineAnnealingWarmRestarts` | `warm_restarts.rs` |
//! | [`LambdaLr`] | `LambdaLR` | `lambda.rs` |
//! | [`OneCycleLr`] | `OneCycleLR` | `one_cycle.rs` |
//! | [`CyclicLr`] | `CyclicLR` | `cyclic.rs` |
//! | [`LinearWarmup`] (around any of them) | `SequentialLR([LinearLR, …])` | `linear_warmup.rs` |
//! | [`ReduceLrOnPlateau`] | `ReduceLROnPlateau` | `plateau.rs` |
//!
//! An optimizer with parameter groups ([`crate::ParamGroup`]) follows a schedule in every
//! group: the schedule sets the default rate and each group keeps its ratio to it (see
//! [`crate::Optimizer::set_learning_rate`]).
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

mod constant;
mod cosine_annealing;
mod cyclic;
mod exponential;
mod lambda;
mod linear_warmup;
mod multi_step;
mod one_cycle;
mod plateau;
mod step;
mod warm_restarts;

pub use constant::ConstantLr;
pub use cosine_annealing::CosineAnnealingLr;
pub use cyclic::{CyclicLr, CyclicMode};
pub use exponential::ExponentialLr;
pub use lambda::LambdaLr;
pub use linear_warmup::LinearWarmup;
pub use multi_step::MultiStepLr;
pub use one_cycle::{AnnealStrategy, OneCycleLr};
pub use plateau::{Mode, PlateauState, ReduceLrOnPlateau, ThresholdMode};
pub use step::StepLr;
pub use warm_restarts::CosineAnnealingWarmRestarts;

use serde::{Deserialize, Serialize};
use strata_tensor::Element;

use crate::Optimizer;

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
        opt.set_learning_rate(scheduler.checked_lr("new"));
        scheduler
    }

    /// `lr(t)`, checked before it reaches an optimizer.
    ///
    /// # Panics
    /// If the rate is negative or not finite, naming the method, the schedule and t.
    fn checked_lr(&self, method: &str) -> f64 {
        let lr = self.lr();
        assert!(
            lr.is_finite() && lr >= 0.0,
            "Scheduler::{method}: {} gave the learning rate {lr} at t = {}",
            std::any::type_name::<S>(),
            self.t
        );
        lr
    }

    /// Advances t by one and sets `opt`'s learning rate to `lr(t)`, which it returns. Call it
    /// once per epoch (or per batch, for a per-step schedule), after the optimizer steps.
    ///
    /// # Panics
    /// If the schedule yields a negative or non-finite rate.
    pub fn step<T: Element>(&mut self, opt: &mut (impl Optimizer<T> + ?Sized)) -> f64 {
        self.t += 1;
        let lr = self.checked_lr("step");
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
