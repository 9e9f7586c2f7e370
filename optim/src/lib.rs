//! # strata-optim
//!
//! Optimizers for Strata — [`Sgd`] (momentum, dampening, Nesterov, weight decay), [`Adagrad`],
//! [`RmsProp`], [`Adam`] (with AMSGrad, and with decoupled [`WeightDecay`] as AdamW) and
//! [`Adadelta`] — each reproducing PyTorch's update rule and defaults, with parameter groups
//! of their own learning rate and weight decay ([`ParamGroup`], PyTorch's `param_groups`) and
//! state that survives a restart ([`OptimizerState`]); gradient clipping ([`clip_grad_norm`],
//! [`clip_grad_value`]); learning-rate schedules ([`LrSchedule`] — PyTorch's `StepLR`,
//! `MultiStepLR`, `ExponentialLR`, `CosineAnnealingLR`, `CosineAnnealingWarmRestarts`,
//! `LambdaLR`, `OneCycleLR`, `CyclicLR` — driven by a [`Scheduler`], and
//! [`ReduceLrOnPlateau`]); and [`EarlyStopping`].
//!
//! An optimizer takes the parameters and a gradient value, [`Grads`], and updates the
//! parameters in place. It does not care where the gradients came from: backpropagation
//! ([`strata_autograd::Var::backward`]) and other learning rules (an RBM's contrastive
//! divergence fills a `Grads` by hand) feed the same [`Optimizer::step`].
//!
//! ```
//! use strata_autograd::{Param, Var};
//! use strata_optim::{Optimizer, SgdConfig, Scheduler, StepLr, clip_grad_norm};
//! use strata_tensor::Tensor;
//!
//! // Fit w so that x·w ≈ y, by least squares.
//! let mut w = Param::new(Tensor::<f64>::zeros(&[2]));
//! let x = Var::constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 1.0, 0.0, 1.0], &[3, 2]));
//! let y = Var::constant(Tensor::from_vec(vec![5.0, 5.0, 2.0], &[3]));
//!
//! let mut opt = SgdConfig::new(0.05).with_momentum(0.9).build::<f64>().unwrap();
//! let mut schedule = Scheduler::new(StepLr::new(0.05, 100, 0.5).unwrap(), &mut opt);
//! for _epoch in 0..300 {
//!     let prediction = x.matmul(&w.var().reshape(&[2, 1])).reshape(&[3]);
//!     let loss = prediction.sub(&y).square().mean();
//!     let mut grads = loss.backward();
//!     clip_grad_norm(&mut grads, 10.0);
//!     opt.step(&mut [&mut w], &grads);
//!     schedule.step(&mut opt);
//! }
//! let w = w.value().to_vec();
//! assert!((w[0] - 1.0).abs() < 1e-3 && (w[1] - 2.0).abs() < 1e-3, "{w:?}");
//! ```
//!
//! State is kept by each parameter's [`strata_autograd::VarId`] while training runs, and
//! exported by the parameter's position in the slice given to [`Optimizer::state`], so a
//! checkpoint written by one process loads in another:
//!
//! ```
//! # use strata_autograd::{Grads, Param};
//! # use strata_optim::{AdamConfig, Optimizer, OptimizerState};
//! # use strata_tensor::Tensor;
//! let mut p = Param::new(Tensor::<f32>::ones(&[3]));
//! let mut grads = Grads::new();
//! grads.insert(p.id(), Tensor::from_vec(vec![0.1, -0.2, 0.3], &[3]));
//! let mut adam = AdamConfig::new(1e-3).build::<f32>().unwrap();
//! adam.step(&mut [&mut p], &grads);
//! let saved: OptimizerState = adam.state(&[&p]); // a serde value: JSON, bincode, …
//!
//! let mut resumed = AdamConfig::new(1e-3).build::<f32>().unwrap();
//! resumed.load_state(&[&p], &saved).unwrap();
//! assert_eq!(resumed.state(&[&p]), saved);
//! ```
//!
//! Every optimizer is one [`RuleOptimizer`] type over an [`UpdateRule`]: the rule's
//! configuration (`SgdConfig`, `AdamConfig`, …) says which buffers a parameter keeps and how
//! one parameter is updated; the wrapper keeps the learning rate, the parameter groups, the
//! step count and the buffers, and saves and loads them.
//!
//! Each update rule is one fused pass over a parameter, its gradient and its buffers, compiled
//! for the widest SIMD path the CPU offers (the path `strata_tensor::simd::active_path` picks,
//! so `STRATA_SIMD` forces it here too); every path computes the same bits.

mod adadelta;
mod adagrad;
mod adam;
mod clip;
mod early_stopping;
mod error;
mod group;
mod rmsprop;
mod rule;
mod schedule;
mod sgd;
mod simd;
mod state;
mod weight_decay;

pub use adadelta::{Adadelta, AdadeltaConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, clip_grad_norm_p, clip_grad_value};
pub use early_stopping::{EarlyStopping, EarlyStoppingState, Verdict};
pub use error::OptimError;
pub use group::ParamGroup;
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use rule::{RuleOptimizer, UpdateRule};
pub use schedule::{
    AnnealStrategy, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, CyclicLr,
    CyclicMode, ExponentialLr, LambdaLr, LinearWarmup, LrSchedule, Mode, MultiStepLr, OneCycleLr,
    PlateauState, ReduceLrOnPlateau, Scheduler, SchedulerState, StepLr, ThresholdMode,
};
pub use sgd::{Sgd, SgdConfig};
pub use state::{Buffer, BufferValues, GroupState, OptimizerConfig, OptimizerState, ParamState};
pub use weight_decay::WeightDecay;

use strata_autograd::{Grads, Param};
use strata_tensor::Element;

/// A rule that updates parameters in place from their gradients.
///
/// Implementations keep per-parameter state (momentum, moment estimates, …) by each
/// parameter's [`strata_autograd::VarId`], created the first time the parameter receives a
/// gradient.
pub trait Optimizer<T: Element = f32> {
    /// The optimizer's kind (`"sgd"`, `"adam"`, `"adamw"`, …), as in the state it saves
    /// ([`OptimizerState::kind`]); only a state of the same kind loads.
    fn kind(&self) -> &'static str;

    /// Updates every parameter of `params` that requires a gradient and has one in `grads`;
    /// the others (frozen, or absent from `grads`) are skipped and their state is untouched.
    ///
    /// # Panics
    /// If a gradient's shape differs from its parameter's.
    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>);

    /// The current learning rate γ (of the default group, for an optimizer with
    /// [`ParamGroup`]s).
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate γ (schedules call this). Parameter groups follow in proportion,
    /// as PyTorch's schedulers set each group's rate from the group's own initial rate: a group
    /// at x when the default rate was γ₀ is at x·γ/γ₀ (see [`ParamGroup`]).
    ///
    /// # Panics
    /// If `lr` is negative or not finite (or makes a group's rate overflow).
    fn set_learning_rate(&mut self, lr: f64);

    /// Number of `step` calls so far.
    fn step_count(&self) -> u64;

    /// Forgets every per-parameter buffer (momentum, moment estimates, …) and the step count,
    /// keeping the hyper-parameters (the current learning rate included): the optimizer then
    /// behaves as a new one. A layer-wise schedule calls it when it moves to the next layer.
    fn reset(&mut self);

    /// The optimizer's state — step count, configuration (hyper-parameters, which name the
    /// kind), per-parameter buffers and parameter groups — with parameter entries in the order
    /// of `params`, and group members by their position in `params`.
    fn state(&self, params: &[&Param<T>]) -> OptimizerState;

    /// Replaces the optimizer's state (hyper-parameters and parameter groups included) with
    /// `state`, its entries and group members matched to `params` by position. A state saved
    /// without groups (by an optimizer without any, or in a format before groups) leaves the
    /// optimizer without groups, as the run that saved it was.
    ///
    /// # Errors
    /// If `state` was saved by another kind of optimizer, holds a different number of
    /// parameter entries, has invalid hyper-parameters or groups, or a buffer is missing,
    /// unexpected or of the wrong shape. On error the optimizer is unchanged.
    fn load_state(
        &mut self,
        params: &[&Param<T>],
        state: &OptimizerState,
    ) -> Result<(), OptimError>;
}

/// An optimizer borrowed mutably is an optimizer, so a training loop that owns its optimizer
/// can drive one the caller keeps.
impl<T: Element, O: Optimizer<T> + ?Sized> Optimizer<T> for &mut O {
    fn kind(&self) -> &'static str {
        (**self).kind()
    }
    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
        (**self).step(params, grads)
    }
    fn learning_rate(&self) -> f64 {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f64) {
        (**self).set_learning_rate(lr)
    }
    fn step_count(&self) -> u64 {
        (**self).step_count()
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn state(&self, params: &[&Param<T>]) -> OptimizerState {
        (**self).state(params)
    }
    fn load_state(
        &mut self,
        params: &[&Param<T>],
        state: &OptimizerState,
    ) -> Result<(), OptimError> {
        (**self).load_state(params, state)
    }
}
