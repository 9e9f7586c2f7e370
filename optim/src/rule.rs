//! [`UpdateRule`]: what one optimizer does to one parameter; [`RuleOptimizer`]: the one
//! [`Optimizer`] built on any rule — learning rate, parameter groups, step count,
//! per-parameter buffers and saved state.

use std::collections::HashMap;
use std::fmt;

use strata_autograd::{Grads, Param, VarId};
use strata_tensor::Element;

use crate::group::{Group, GroupLr};
use crate::state::{self, GroupState, OptimizerConfig, OptimizerState, Slots};
use crate::{OptimError, Optimizer, ParamGroup};

mod sealed {
    /// Restricts [`super::UpdateRule`] to this crate's configurations: each one has a variant
    /// in [`crate::OptimizerConfig`], the form its hyper-parameters take in saved state.
    pub trait Sealed {}
}

pub(crate) use sealed::Sealed;

/// The [`UpdateRule`] accessors of a configuration whose learning rate γ is its field `lr`
/// and whose L2 weight-decay coefficient λ is its field `weight_decay` (SGD, Adagrad, RMSprop,
/// Adadelta): `learning_rate`, `set_learning_rate`, `weight_decay`, `set_weight_decay`.
macro_rules! lr_and_l2_weight_decay {
    () => {
        fn learning_rate(&self) -> f64 {
            self.lr
        }

        fn set_learning_rate(&mut self, lr: f64) {
            self.lr = lr;
        }

        fn weight_decay(&self) -> f64 {
            self.weight_decay
        }

        fn set_weight_decay(&mut self, lambda: f64) {
            self.weight_decay = lambda;
        }
    };
}
pub(crate) use lr_and_l2_weight_decay;

/// The update rule of an optimizer, applied to one parameter at a time. The implementing type
/// is the rule's configuration — its hyper-parameters ([`crate::SgdConfig`],
/// [`crate::AdamConfig`], …), a serde value saved with the optimizer's state — and says which
/// buffers the rule keeps per parameter and how one parameter is updated.
///
/// [`RuleOptimizer`] runs a rule over a slice of parameters and implements everything else of
/// [`Optimizer`] once: the learning rate, the step count, the buffers by parameter, and saving
/// and loading state. The trait is implemented by this crate's configurations only (each has a
/// variant in [`OptimizerConfig`]).
pub trait UpdateRule: Clone + fmt::Debug + PartialEq + Send + Sync + Sealed {
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

    /// The weight-decay coefficient λ (0 when there is none).
    fn weight_decay(&self) -> f64;

    /// Sets the weight-decay coefficient λ, unchecked ([`UpdateRule::validate`] checks it),
    /// keeping how it enters the update (Adam: an L2 penalty or decoupled; an L2 penalty when
    /// there was none). A [`crate::ParamGroup`]'s weight decay is set this way.
    fn set_weight_decay(&mut self, lambda: f64);

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
    /// values long, updated in place. The update is elementwise, so the optimizer may call it on
    /// matching chunks of a large parameter, its gradient and its buffers, in parallel.
    ///
    /// # Panics
    /// If `buffers` holds fewer buffers than [`UpdateRule::buffer_names`] names, or a buffer or
    /// `grad` is shorter than `param`.
    fn update<T: Element>(&self, step: u64, param: &mut [T], grad: &[T], buffers: &mut [&mut [T]]);

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
/// calls, the parameter groups ([`ParamGroup`]: parameters with their own learning rate and
/// weight decay) and per parameter — by its [`strata_autograd::VarId`], from its first
/// gradient on — the parameter's own update count t and the rule's buffers, each of the
/// parameter's shape. [`Optimizer::step`] calls [`UpdateRule::update`] once per parameter that
/// requires a gradient and has one, with the configuration of the parameter's group.
#[derive(Clone, Debug)]
pub struct RuleOptimizer<R: UpdateRule, T: Element = f32> {
    pub(crate) config: R,
    pub(crate) slots: Slots<T>,
    pub(crate) steps: u64,
    pub(crate) groups: Vec<Group>,
    pub(crate) group_of: HashMap<VarId, usize>,
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
            groups: Vec::new(),
            group_of: HashMap::new(),
        })
    }

    /// The current hyper-parameters of the default group (the learning rate as last set).
    pub fn config(&self) -> &R {
        &self.config
    }

    /// Adds a parameter group (PyTorch's `add_param_group`): from the next step on, its
    /// parameters are updated with the group's learning rate and weight decay (see
    /// [`ParamGroup`]). Returns the group's index, 0 for the first group added. The buffers
    /// of parameters already updated are kept.
    ///
    /// # Errors
    /// [`OptimError::InvalidParamGroup`] if the group holds no parameter or a parameter of
    /// another group, if its learning rate, scale or weight decay is negative or not finite,
    /// or if it has a rate x > 0 while the default rate is 0 (its rate is kept as a multiple
    /// of the default's: use [`ParamGroup::with_lr_scale`]). The optimizer is unchanged on
    /// error.
    pub fn add_param_group(&mut self, group: ParamGroup) -> Result<usize, OptimError> {
        let index = self.groups.len();
        let owner = self.config.name();
        let fail = |reason: String| OptimError::InvalidParamGroup {
            owner,
            method: "add_param_group",
            group: index,
            reason,
        };
        if group.ids.is_empty() {
            return Err(fail("the group holds no parameter".into()));
        }
        if let Some((id, other)) = group
            .ids
            .iter()
            .find_map(|id| self.group_of.get(id).map(|&g| (id, g)))
        {
            return Err(fail(format!(
                "parameter {id:?} is already in parameter group {other}"
            )));
        }
        let default_lr = self.config.learning_rate();
        let (base_lr, base_default_lr) = match group.lr {
            GroupLr::Default => (1.0, 1.0),
            GroupLr::Scale(scale) => {
                check_non_negative("lr scale", scale).map_err(fail)?;
                (scale, 1.0)
            }
            GroupLr::Absolute(lr) => {
                check_non_negative("lr", lr).map_err(fail)?;
                if default_lr > 0.0 {
                    (lr, default_lr)
                } else if lr == 0.0 {
                    (0.0, 1.0)
                } else {
                    return Err(fail(format!(
                        "lr = {lr} cannot be kept in proportion to the default learning rate \
                         0; give a scale of the default rate (ParamGroup::with_lr_scale)"
                    )));
                }
            }
        };
        if let Some(lambda) = group.weight_decay {
            check_non_negative("weight_decay", lambda).map_err(fail)?;
        }
        let group = Group {
            ids: group.ids,
            base_lr,
            base_default_lr,
            weight_decay: group.weight_decay,
        };
        let lr = group.lr(default_lr);
        if !lr.is_finite() {
            return Err(fail(format!(
                "its learning rate would be {lr} at the default rate {default_lr}"
            )));
        }
        let effective = self.group_config(&group, default_lr);
        effective.validate().map_err(|e| fail(e.to_string()))?;
        for id in &group.ids {
            self.group_of.insert(*id, index);
        }
        self.groups.push(group);
        Ok(index)
    }

    /// The optimizer with one more parameter group: [`RuleOptimizer::add_param_group`] as a
    /// builder step, `SgdConfig::new(0.1).build()?.with_param_group(biases)?`.
    ///
    /// # Errors
    /// As [`RuleOptimizer::add_param_group`].
    pub fn with_param_group(mut self, group: ParamGroup) -> Result<Self, OptimError> {
        self.add_param_group(group)?;
        Ok(self)
    }

    /// Number of parameter groups added (the default group not counted).
    pub fn num_param_groups(&self) -> usize {
        self.groups.len()
    }

    /// The index of the group `param` belongs to, `None` for the default group.
    pub fn param_group_of(&self, param: &Param<T>) -> Option<usize> {
        self.group_of.get(&param.id()).copied()
    }

    /// The current learning rate of group `group` (see [`ParamGroup`] for how it follows the
    /// default rate).
    ///
    /// # Panics
    /// If there is no group `group`.
    pub fn group_learning_rate(&self, group: usize) -> f64 {
        self.group(group, "group_learning_rate")
            .lr(self.config.learning_rate())
    }

    /// The weight-decay coefficient λ of group `group` (the default's unless the group sets
    /// it).
    ///
    /// # Panics
    /// If there is no group `group`.
    pub fn group_weight_decay(&self, group: usize) -> f64 {
        self.group(group, "group_weight_decay")
            .weight_decay
            .unwrap_or_else(|| self.config.weight_decay())
    }

    /// Group `index`, or a panic naming `method`.
    fn group(&self, index: usize, method: &str) -> &Group {
        self.groups.get(index).unwrap_or_else(|| {
            panic!(
                "{}::{method}: no parameter group {index} (there are {})",
                self.config.name(),
                self.groups.len()
            )
        })
    }

    /// The configuration `group` updates its parameters with when the default rate is
    /// `default_lr`.
    fn group_config(&self, group: &Group, default_lr: f64) -> R {
        let mut config = self.config.clone();
        config.set_learning_rate(group.lr(default_lr));
        if let Some(lambda) = group.weight_decay {
            config.set_weight_decay(lambda);
        }
        config
    }
}

/// `Ok` for a finite `value ≥ 0`, else the reason naming it.
fn check_non_negative(name: &str, value: f64) -> Result<(), String> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(format!("{name} = {value} (expected finite and ≥ 0)"))
    }
}

impl<R: UpdateRule, T: Element> Optimizer<T> for RuleOptimizer<R, T> {
    fn kind(&self) -> &'static str {
        self.config.kind()
    }

    fn step(&mut self, params: &mut [&mut Param<T>], grads: &Grads<T>) {
        self.steps += 1;
        let default_lr = self.config.learning_rate();
        let configs: Vec<R> = self
            .groups
            .iter()
            .map(|g| self.group_config(g, default_lr))
            .collect();
        state::for_each_update(
            &self.config,
            &configs,
            &self.group_of,
            params,
            grads,
            &mut self.slots,
        );
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
        for (index, group) in self.groups.iter().enumerate() {
            let group_lr = group.lr(lr);
            assert!(
                group_lr.is_finite(),
                "{}::set_learning_rate: at the learning rate {lr}, parameter group {index} \
                 would have the rate {group_lr}",
                self.config.name()
            );
        }
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
        let mut state = state::export(
            self.steps,
            self.config.to_saved(),
            self.config.buffer_names(),
            &self.slots,
            params,
        );
        state.groups = self
            .groups
            .iter()
            .map(|g| GroupState {
                params: Vec::new(),
                base_lr: g.base_lr,
                base_default_lr: g.base_default_lr,
                weight_decay: g.weight_decay,
            })
            .collect();
        for (position, p) in params.iter().enumerate() {
            if let Some(&g) = self.group_of.get(&p.id()) {
                state.groups[g].params.push(position);
            }
        }
        state
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
        if !self.groups.is_empty() && state.groups.len() != self.groups.len() {
            // As PyTorch's `load_state_dict`: loading would silently drop (or add) the
            // groups this optimizer was built with — e.g. "no decay on biases".
            return Err(OptimError::InvalidParamGroup {
                owner: self.config.name(),
                method: "load_state",
                group: state.groups.len(),
                reason: format!(
                    "the state has {} parameter group(s) but this optimizer has {}: build it \
                     with the groups of the run that saved the state",
                    state.groups.len(),
                    self.groups.len()
                ),
            });
        }
        let (groups, group_of) = import_groups(&config, params, &state.groups)?;
        let slots = state::import(kind, config.buffer_names(), params, state)?;
        self.config = config;
        self.slots = slots;
        self.steps = state.step;
        self.groups = groups;
        self.group_of = group_of;
        Ok(())
    }
}

/// The groups of a saved state, for `params` (matched by position), checked against the
/// loaded default configuration `config`.
fn import_groups<R: UpdateRule, T: Element>(
    config: &R,
    params: &[&Param<T>],
    saved: &[GroupState],
) -> Result<(Vec<Group>, HashMap<VarId, usize>), OptimError> {
    let mut groups = Vec::with_capacity(saved.len());
    let mut group_of = HashMap::new();
    for (index, g) in saved.iter().enumerate() {
        let fail = |reason: String| OptimError::InvalidParamGroup {
            owner: config.name(),
            method: "load_state",
            group: index,
            reason,
        };
        check_non_negative("base_lr", g.base_lr).map_err(fail)?;
        if !(g.base_default_lr.is_finite() && g.base_default_lr > 0.0) {
            return Err(fail(format!(
                "base_default_lr = {} (expected finite and > 0)",
                g.base_default_lr
            )));
        }
        if let Some(lambda) = g.weight_decay {
            check_non_negative("weight_decay", lambda).map_err(fail)?;
        }
        let mut ids = Vec::with_capacity(g.params.len());
        for &position in &g.params {
            let p = params.get(position).ok_or_else(|| {
                fail(format!(
                    "parameter position {position}, but {} parameters were given",
                    params.len()
                ))
            })?;
            if let Some(other) = group_of.insert(p.id(), index) {
                return Err(fail(format!(
                    "parameter {position} is also in parameter group {other}"
                )));
            }
            ids.push(p.id());
        }
        let group = Group {
            ids,
            base_lr: g.base_lr,
            base_default_lr: g.base_default_lr,
            weight_decay: g.weight_decay,
        };
        let lr = group.lr(config.learning_rate());
        if !lr.is_finite() {
            return Err(fail(format!(
                "its learning rate would be {lr} at the default rate {}",
                config.learning_rate()
            )));
        }
        groups.push(group);
    }
    Ok((groups, group_of))
}
