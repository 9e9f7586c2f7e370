//! [`UpdateRule`]: what one optimizer does to one parameter; [`RuleOptimizer`]: the one
//! [`Optimizer`] built on any rule — learning rate, step count, per-parameter buffers and saved
//! state.

use std::fmt;

use strata_autograd::{Grads, Param};
use strata_tensor::Element;

use crate::state::{self, OptimizerConfig, OptimizerState, Slots};
use crate::{OptimError, Optimizer};

mod sealed {
    /// Restricts [`super::UpdateRule`] to this crate's configurations: each one has a variant
    /// in [`crate::OptimizerConfig`], the form its hyper-parameters take in saved state.
    pub trait Sealed {}
}

pub(crate) use sealed::Sealed;

/// The update rule of an optimizer, applied to one parameter at a time. The implementing type
/// is the rule's configuration — its hyper-parameters ([`crate::SgdConfig`],
/// [`crate::AdamConfig`], …), a serde value saved with the optimizer's state — and says which
/// buffers the rule keeps per parameter and how one parameter is updated.
///
/// [`RuleOptimizer`] runs a rule over a slice of parameters and implements everything else of
/// [`Optimizer`] once: the learning rate, the step count, the buffers by parameter, and saving
/// and loading state. The trait is implemented by this crate's configurations only (each has a
/// variant in [`OptimizerConfig`]).
pub trait UpdateRule: Clone + fmt::Debug + PartialEq + Sealed {
    /// The optimizer's kind, as reported by [`Optimizer::kind`] and [`OptimizerState::kind`]
    /// (`"sgd"`, `"adam"`, `"adamw"`, …; PyTorch's class name in lower case). A state is only
    /// loaded into an optimizer of the same kind.
    fn kind(&self) -> &'static str;

    /// The optimizer's name in messages (`"Sgd"`, `"Adam"`, `"AdamW"`, …).
    fn name(&self) -> &'static str;

    /// The learning rate γ.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate γ, unchecked ([`Optimizer::set_learning_rate`] checks it).
    fn set_learning_rate(&mut self, lr: f64);

    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperParameter`] for a value out of its range (or not finite);
    /// [`OptimError::IncompatibleOptions`] for options that do not go together.
    fn validate(&self) -> Result<(), OptimError>;

    /// Names of the buffers kept per parameter, in the order [`UpdateRule::update`] receives
    /// them (`["exp_avg", "exp_avg_sq"]` for Adam); each has the parameter's shape. Which
    /// buffers there are may depend on the configuration (SGD keeps a momentum buffer only
    /// when μ ≠ 0).
    fn buffer_names(&self) -> &'static [&'static str];

    /// The value every element of buffer `index` starts at, when a parameter receives its
    /// first gradient (0 unless the rule says otherwise: Adagrad's accumulator starts at
    /// `initial_accumulator_value`).
    fn initial_buffer_value(&self, index: usize) -> f64 {
        let _ = index;
        0.0
    }

    /// Updates one parameter in place, in one fused pass over its values, its gradient and its
    /// buffers. `step` is the parameter's own update count t = 1, 2, … (this update included);
    /// `param` and `grad` hold the parameter's n values and their gradient in row-major order;
    /// `buffers` holds the buffers named by [`UpdateRule::buffer_names`], in that order, each n
    /// values long, updated in place.
    ///
    /// # Panics
    /// If `buffers` holds fewer buffers than [`UpdateRule::buffer_names`] names, or a buffer or
    /// `grad` is shorter than `param`.
    fn update<T: Element>(&self, step: u64, param: &mut [T], grad: &[T], buffers: &mut [Vec<T>]);

    /// The configuration as saved in an [`OptimizerState`].
    fn to_saved(&self) -> OptimizerConfig;

    /// The configuration of this rule in `saved`, or `None` if `saved` configures another
    /// rule.
    fn from_saved(saved: &OptimizerConfig) -> Option<Self>;
}

/// An optimizer running the update rule `R` on parameters of element type `T`: the type behind
/// [`crate::Sgd`], [`crate::Adam`], [`crate::Adagrad`], [`crate::RmsProp`] and
/// [`crate::Adadelta`].
///
/// It keeps the rule's configuration `R` (the learning rate included), the number of `step`
/// calls, and per parameter — by its [`strata_autograd::VarId`], from its first gradient on —
/// the parameter's own update count t and the rule's buffers, each of the parameter's shape.
/// [`Optimizer::step`] calls [`UpdateRule::update`] once per parameter that requires a gradient
/// and has one.
#[derive(Clone, Debug)]
pub struct RuleOptimizer<R: UpdateRule, T: Element = f32> {
    pub(crate) config: R,
    pub(crate) slots: Slots<T>,
    pub(crate) steps: u64,
}

impl<R: UpdateRule, T: Element> RuleOptimizer<R, T> {
    /// An optimizer with `config` and no state yet.
    ///
    /// # Errors
    /// As [`UpdateRule::validate`].
    pub fn new(config: R) -> Result<Self, OptimError> {
        config.validate()?;
        Ok(RuleOptimizer {
            config,
            slots: Slots::new(),
            steps: 0,
        })
    }

    /// The current hyper-parameters (the learning rate as last set).
    pub fn config(&self) -> &R {
        &self.config
    }
}

impl<R: UpdateRule, T: Element> Optimizer<T> for RuleOptimizer<R, T> {
    fn kind(&self) -> &'static str {
        self.config.kind()
    }

    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
        self.steps += 1;
        state::for_each_update(&self.config, params, grads, &mut self.slots);
    }

    fn learning_rate(&self) -> f64 {
        self.config.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        assert!(
            lr.is_finite() && lr >= 0.0,
            "{}::set_learning_rate: the learning rate must be finite and ≥ 0, got {lr}",
            self.config.name()
        );
        self.config.set_learning_rate(lr);
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
            self.steps,
            self.config.to_saved(),
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
        let kind = self.config.kind();
        let mismatch = || OptimError::KindMismatch {
            expected: kind,
            found: state.kind().to_string(),
        };
        if state.kind() != kind {
            return Err(mismatch());
        }
        if state.params.len() != params.len() {
            return Err(OptimError::ParamCountMismatch {
                expected: params.len(),
                found: state.params.len(),
            });
        }
        let config = R::from_saved(&state.config).ok_or_else(mismatch)?;
        config.validate()?;
        let slots = state::import(kind, config.buffer_names(), params, state)?;
        self.config = config;
        self.slots = slots;
        self.steps = state.step;
        Ok(())
    }
}
