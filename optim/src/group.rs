//! [`ParamGroup`]: parameters trained with their own learning rate and weight decay, as the
//! entries of PyTorch's `param_groups`.

use std::collections::HashSet;

use strata_autograd::{Param, VarId};
use strata_tensor::Element;

/// A set of parameters that an optimizer updates with its own learning rate and weight decay
/// (PyTorch's `param_groups`); every other hyper-parameter (momentum, betas, ε, …) is the
/// optimizer's. Parameters in no group use the optimizer's configuration, the *default group*.
///
/// The classic uses — no weight decay on biases and normalisation parameters, a smaller rate
/// for a pretrained backbone:
///
/// ```
/// use strata_autograd::Param;
/// use strata_optim::{AdamWConfig, Optimizer, ParamGroup};
/// use strata_tensor::Tensor;
///
/// let backbone_w = Param::new(Tensor::<f32>::zeros(&[4, 4]));
/// let head_w = Param::new(Tensor::<f32>::zeros(&[2, 4]));
/// let head_b = Param::new(Tensor::<f32>::zeros(&[2]));
/// // Names as `Module::params` gives them.
/// let named = vec![
///     ("backbone.weight".to_string(), &backbone_w),
///     ("head.weight".to_string(), &head_w),
///     ("head.bias".to_string(), &head_b),
/// ];
///
/// let mut opt = AdamWConfig::new(1e-3)
///     .build::<f32>()?
///     .with_param_group(ParamGroup::from_named(named, |n| n.ends_with(".bias")).with_weight_decay(0.0))?
///     .with_param_group(ParamGroup::new([&backbone_w]).with_lr(1e-4))?;
/// assert_eq!(opt.group_learning_rate(1), 1e-4);
/// assert_eq!(opt.param_group_of(&head_w), None); // the default group: lr 1e-3, λ = 0.01
///
/// // A schedule sets the default rate; every group keeps its ratio to it.
/// opt.set_learning_rate(5e-4);
/// assert!((opt.group_learning_rate(1) - 5e-5).abs() < 1e-18);
/// # Ok::<(), strata_optim::OptimError>(())
/// ```
///
/// # Learning rate under a schedule
///
/// A group's rate is kept in proportion to the default rate γ, as PyTorch's schedulers set
/// each group's rate from the group's own initial rate: a group added with
/// [`ParamGroup::with_lr`]`(x)` while the default rate is γ₀ has the rate `x · γ / γ₀` whenever
/// the default rate is γ (`x` itself until γ changes); one added with
/// [`ParamGroup::with_lr_scale`]`(s)` has `s · γ`; one with neither has γ. For the
/// multiplicative schedules ([`crate::StepLr`], [`crate::MultiStepLr`],
/// [`crate::ExponentialLr`], [`crate::LambdaLr`], [`crate::LinearWarmup`],
/// [`crate::CosineAnnealingLr`] and [`crate::CosineAnnealingWarmRestarts`] with η_min = 0,
/// [`crate::ReduceLrOnPlateau`] above its floor) this is PyTorch's per-group rate; for the
/// others the group's whole curve, floor included, is the default's scaled (PyTorch would
/// apply a scalar η_min, `base_lr`/`max_lr` of `CyclicLR` or `max_lr` of `OneCycleLR` to
/// every group alike).
///
/// # Weight decay
///
/// [`ParamGroup::with_weight_decay`] replaces the coefficient λ of the optimizer's weight
/// decay, keeping its mode: for [`crate::Adam`] the default's mode — an L2 penalty, or
/// decoupled for AdamW — and an L2 penalty when the default has none, as PyTorch's `Adam`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGroup {
    pub(crate) ids: Vec<VarId>,
    pub(crate) lr: GroupLr,
    pub(crate) weight_decay: Option<f64>,
}

/// How a group's learning rate was given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum GroupLr {
    /// The default rate.
    Default,
    /// A rate, relative to the default rate when the group is added.
    Absolute(f64),
    /// A multiple of the default rate.
    Scale(f64),
}

impl ParamGroup {
    /// A group of `params`, by identity (each [`Param::id`]; a parameter listed twice counts
    /// once), with the default learning rate and weight decay until set.
    pub fn new<'a, T: Element>(params: impl IntoIterator<Item = &'a Param<T>>) -> Self {
        ParamGroup::from_ids(params.into_iter().map(Param::id))
    }

    /// A group of the parameters with ids `ids` (a repeated id counts once).
    pub fn from_ids(ids: impl IntoIterator<Item = VarId>) -> Self {
        let mut seen = HashSet::new();
        ParamGroup {
            ids: ids.into_iter().filter(|id| seen.insert(*id)).collect(),
            lr: GroupLr::Default,
            weight_decay: None,
        }
    }

    /// A group of the parameters of `named` whose name satisfies `keep`: `named` as
    /// `strata_layers::Module::params` lists a model's parameters, with their dotted paths
    /// (`"encoder.0.bias"`), so `|name| name.ends_with(".bias")` selects every bias.
    pub fn from_named<'a, T: Element, S: AsRef<str>>(
        named: impl IntoIterator<Item = (S, &'a Param<T>)>,
        keep: impl Fn(&str) -> bool,
    ) -> Self {
        ParamGroup::from_ids(
            named
                .into_iter()
                .filter(|(name, _)| keep(name.as_ref()))
                .map(|(_, p)| p.id()),
        )
    }

    /// Sets the group's learning rate to `lr` ≥ 0, relative to the optimizer's default rate
    /// γ₀ when the group is added: the group's rate is `lr · γ / γ₀` when the default rate is
    /// γ (see [the type's documentation](ParamGroup#learning-rate-under-a-schedule)).
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.lr = GroupLr::Absolute(lr);
        self
    }

    /// Sets the group's learning rate to `scale` ≥ 0 times the default rate, whatever it is.
    pub fn with_lr_scale(mut self, scale: f64) -> Self {
        self.lr = GroupLr::Scale(scale);
        self
    }

    /// Sets the group's weight-decay coefficient λ ≥ 0 (0 turns weight decay off for the
    /// group), in the optimizer's mode (see [the type's documentation](ParamGroup#weight-decay)).
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }

    /// The ids of the group's parameters, in the order given.
    pub fn ids(&self) -> &[VarId] {
        &self.ids
    }

    /// Number of parameters in the group.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the group holds no parameter.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A group as an optimizer keeps it: its rate is `base_lr · γ / base_default_lr` when the
/// default rate is γ.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Group {
    pub(crate) ids: Vec<VarId>,
    pub(crate) base_lr: f64,
    pub(crate) base_default_lr: f64,
    pub(crate) weight_decay: Option<f64>,
}

impl Group {
    /// The group's rate when the default rate is `lr`.
    pub(crate) fn lr(&self, lr: f64) -> f64 {
        self.base_lr * (lr / self.base_default_lr)
    }
}
