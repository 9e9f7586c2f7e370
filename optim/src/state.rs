//! [`OptimizerState`]: an optimizer's state as a serde value, keyed by parameter position.
//!
//! At run time an optimizer files its per-parameter buffers (momentum, moment estimates, …)
//! under each [`Param`]'s [`VarId`]. Ids are unique to a process, so the exported state keys
//! them instead by the *position* of each parameter in the slice given to
//! [`crate::Optimizer::state`] — as PyTorch's `state_dict` keys by index. Loading the state
//! with the parameters in the same order, in another process, restores training exactly.
//!
//! The serde form, and the unversioned form it replaced, are described on [`OptimizerState`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rayon::prelude::*;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strata_autograd::{Grads, Param, VarId};
use strata_tensor::Element;

use crate::rule::UpdateRule;
use crate::{AdadeltaConfig, AdagradConfig, AdamConfig, OptimError, RmsPropConfig, SgdConfig};

mod legacy;

/// The full state of an optimizer: enough to continue training after a restart.
///
/// Loading (see [`crate::Optimizer::load_state`]) restores the hyper-parameters too (including
/// a learning rate changed by a schedule), as PyTorch's `load_state_dict` restores its
/// `param_groups`.
///
/// # Format
///
/// A state is written as the fields `format` (the string [`OptimizerState::FORMAT`]), `step`,
/// `config` (an [`OptimizerConfig`]), `params` and `groups` (a list of [`GroupState`]), in
/// that order; in JSON
/// `{"format": "strata-optim-state/3", "step": 3, "config": {"Adam": {…}}, "params": […],
/// "groups": […]}`.
///
/// States of the format before, [`OptimizerState::FORMAT_2`] — the same fields without
/// `groups` — still deserialize, with no groups.
///
/// States written before the `format` field existed — fields `kind` (`"sgd"`, `"adam"`,
/// `"adamw"`, …), `step`, `hyper_parameters` (a map from PyTorch's names to numbers, flags as
/// `0`/`1`) and `params` — still deserialize, from JSON and from bincode alike (inside a
/// checkpoint too): their kind and hyper-parameters become the equivalent [`OptimizerConfig`]
/// (an `"adam"` weight decay λ ≠ 0 [`crate::WeightDecay::L2`], an `"adamw"` one
/// [`crate::WeightDecay::Decoupled`]). A map that does not describe a configuration — a
/// missing or unknown name, a flag other than 0 or 1, an unknown kind — is a deserialization
/// error naming the kind and the hyper-parameter; a value out of range is refused by
/// `load_state`, as for a current state.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    /// Number of `step` calls so far.
    pub step: u64,
    /// The optimizer's hyper-parameters (its kind is the variant, see
    /// [`OptimizerState::kind`]).
    pub config: OptimizerConfig,
    /// One entry per parameter, in the order the parameters were given; `None` for a
    /// parameter that has not been updated yet.
    pub params: Vec<Option<ParamState>>,
    /// The parameter groups ([`crate::ParamGroup`]), in the order they were added; empty when
    /// every parameter is in the default group (and in states of the formats before
    /// `strata-optim-state/3`).
    pub groups: Vec<GroupState>,
}

/// A saved parameter group ([`crate::ParamGroup`]): its parameters by position and its
/// learning rate and weight decay.
///
/// The group's rate is `base_lr · γ / base_default_lr` when the optimizer's default rate is γ:
/// a group given the rate x while the default rate was γ₀ is saved as `base_lr = x`,
/// `base_default_lr = γ₀`; a group at s times the default rate as `base_lr = s`,
/// `base_default_lr = 1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Positions, in the slice given to [`crate::Optimizer::state`], of the group's parameters
    /// (ascending; a member not in that slice is not saved).
    pub params: Vec<usize>,
    /// The group's rate when the default rate is `base_default_lr`, ≥ 0.
    pub base_lr: f64,
    /// The default rate `base_lr` is relative to, > 0.
    pub base_default_lr: f64,
    /// The group's weight-decay coefficient λ ≥ 0; `None` for the default's.
    pub weight_decay: Option<f64>,
}

impl OptimizerState {
    /// The value of the `format` field this version writes. States of the format before it,
    /// [`OptimizerState::FORMAT_2`], and of the unversioned format before that still
    /// deserialize; a state naming another format (`"strata-optim-state/…"`, from a later
    /// version) is refused.
    pub const FORMAT: &'static str = "strata-optim-state/3";

    /// The first versioned format: the fields `format`, `step`, `config` and `params` of the
    /// current one, without `groups` (written before parameter groups existed). Such a state
    /// loads with no parameter groups.
    pub const FORMAT_2: &'static str = "strata-optim-state/2";

    /// Which optimizer wrote the state (`"sgd"`, `"adam"`, `"adamw"`, `"adagrad"`,
    /// `"rmsprop"`, `"adadelta"`): [`OptimizerConfig::kind`] of its configuration.
    pub fn kind(&self) -> &'static str {
        self.config.kind()
    }
}

/// The hyper-parameters of an optimizer, as saved in an [`OptimizerState`]: one variant per
/// update rule, holding that rule's configuration as its serde form (in JSON
/// `{"Adam": {"lr": 0.001, "betas": [0.9, 0.999], …}}`).
///
/// Variants are only ever added at the end, so states saved in a compact positional format
/// (bincode) keep their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum OptimizerConfig {
    /// An [`crate::Sgd`] optimizer's configuration.
    Sgd(SgdConfig),
    /// An [`crate::Adagrad`] optimizer's configuration.
    Adagrad(AdagradConfig),
    /// An [`crate::RmsProp`] optimizer's configuration.
    RmsProp(RmsPropConfig),
    /// An [`crate::Adam`] optimizer's configuration (AdamW's too: Adam with
    /// [`crate::WeightDecay::Decoupled`]).
    Adam(AdamConfig),
    /// An [`crate::Adadelta`] optimizer's configuration.
    Adadelta(AdadeltaConfig),
}

impl OptimizerConfig {
    /// The optimizer's kind (`"sgd"`, `"adagrad"`, `"rmsprop"`, `"adam"`, `"adamw"`,
    /// `"adadelta"`), as [`UpdateRule::kind`] of the configuration.
    pub fn kind(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd(c) => c.kind(),
            OptimizerConfig::Adagrad(c) => c.kind(),
            OptimizerConfig::RmsProp(c) => c.kind(),
            OptimizerConfig::Adam(c) => c.kind(),
            OptimizerConfig::Adadelta(c) => c.kind(),
        }
    }

    /// The learning rate γ.
    pub fn learning_rate(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.learning_rate(),
            OptimizerConfig::Adagrad(c) => c.learning_rate(),
            OptimizerConfig::RmsProp(c) => c.learning_rate(),
            OptimizerConfig::Adam(c) => c.learning_rate(),
            OptimizerConfig::Adadelta(c) => c.learning_rate(),
        }
    }
}

impl Serialize for OptimizerState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("OptimizerState", 5)?;
        s.serialize_field("format", OptimizerState::FORMAT)?;
        s.serialize_field("step", &self.step)?;
        s.serialize_field("config", &self.config)?;
        s.serialize_field("params", &self.params)?;
        s.serialize_field("groups", &self.groups)?;
        s.end()
    }
}

/// What the `format` field of every versioned state starts with.
const FORMAT_PREFIX: &str = "strata-optim-state/";

/// Every field name either format uses (positional formats read up to this many fields).
const FIELDS: &[&str] = &[
    "format",
    "step",
    "config",
    "params",
    "groups",
    "kind",
    "hyper_parameters",
];

impl<'de> Deserialize<'de> for OptimizerState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("OptimizerState", FIELDS, StateVisitor)
    }
}

/// The field names of both formats.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Format,
    Step,
    Config,
    Params,
    Groups,
    Kind,
    HyperParameters,
    #[serde(other)]
    Other,
}

struct StateVisitor;

/// The error for a `format` this version does not read.
fn unsupported_format<E: de::Error>(found: &str) -> E {
    E::custom(format_args!(
        "optimizer state in format '{found}', but this version reads '{}', '{}' and the \
         unversioned format before them",
        OptimizerState::FORMAT,
        OptimizerState::FORMAT_2
    ))
}

/// Builds a state from the fields of the unversioned format.
fn from_unversioned<E: de::Error>(
    kind: &str,
    step: u64,
    hyper_parameters: &BTreeMap<String, f64>,
    params: Vec<Option<ParamState>>,
) -> Result<OptimizerState, E> {
    let config = legacy::config(kind, hyper_parameters).map_err(|e| {
        E::custom(format_args!(
            "optimizer state in the unversioned format (before '{}'): {e}",
            OptimizerState::FORMAT_2
        ))
    })?;
    Ok(OptimizerState {
        step,
        config,
        params,
        groups: Vec::new(),
    })
}

/// Element `index` of a positional state.
fn element<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(
    seq: &mut A,
    index: usize,
) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(index, &"the fields of an optimizer state"))
}

/// Stores a field's value, refusing a second one.
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de> Visitor<'de> for StateVisitor {
    type Value = OptimizerState;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an optimizer state")
    }

    // Positional formats (bincode): the first field is the format string, or the kind of a
    // state of the unversioned format.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OptimizerState, A::Error> {
        let first: String = element(&mut seq, 0)?;
        if first == OptimizerState::FORMAT || first == OptimizerState::FORMAT_2 {
            return Ok(OptimizerState {
                step: element(&mut seq, 1)?,
                config: element(&mut seq, 2)?,
                params: element(&mut seq, 3)?,
                groups: if first == OptimizerState::FORMAT {
                    element(&mut seq, 4)?
                } else {
                    Vec::new()
                },
            });
        }
        if first.starts_with(FORMAT_PREFIX) {
            return Err(unsupported_format(&first));
        }
        let step = element(&mut seq, 1)?;
        let hyper_parameters: BTreeMap<String, f64> = element(&mut seq, 2)?;
        let params = element(&mut seq, 3)?;
        from_unversioned(&first, step, &hyper_parameters, params)
    }

    // Self-describing formats (JSON): the unversioned format has `kind` and
    // `hyper_parameters` where the current one has `config`.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OptimizerState, A::Error> {
        let mut format: Option<String> = None;
        let mut step: Option<u64> = None;
        let mut config: Option<OptimizerConfig> = None;
        let mut params: Option<Vec<Option<ParamState>>> = None;
        let mut groups: Option<Vec<GroupState>> = None;
        let mut kind: Option<String> = None;
        let mut hyper_parameters: Option<BTreeMap<String, f64>> = None;
        while let Some(field) = map.next_key()? {
            match field {
                Field::Format => once(&mut format, map.next_value()?, "format")?,
                Field::Step => once(&mut step, map.next_value()?, "step")?,
                Field::Config => once(&mut config, map.next_value()?, "config")?,
                Field::Params => once(&mut params, map.next_value()?, "params")?,
                Field::Groups => once(&mut groups, map.next_value()?, "groups")?,
                Field::Kind => once(&mut kind, map.next_value()?, "kind")?,
                Field::HyperParameters => {
                    once(&mut hyper_parameters, map.next_value()?, "hyper_parameters")?
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (format.as_deref(), groups.is_some()) {
            (Some(OptimizerState::FORMAT), false) => {
                return Err(de::Error::missing_field("groups"));
            }
            (Some(OptimizerState::FORMAT_2), true) => {
                return Err(de::Error::custom(format_args!(
                    "optimizer state in format '{}' with `groups`, which that format does not \
                     have",
                    OptimizerState::FORMAT_2
                )));
            }
            (Some(OptimizerState::FORMAT | OptimizerState::FORMAT_2) | None, _) => {}
            (Some(found), _) => return Err(unsupported_format(found)),
        }
        let step = step.ok_or_else(|| de::Error::missing_field("step"))?;
        let params = params.ok_or_else(|| de::Error::missing_field("params"))?;
        match (config, hyper_parameters, format) {
            (Some(config), None, _) => {
                if let Some(kind) = kind
                    && kind != config.kind()
                {
                    return Err(de::Error::custom(format_args!(
                        "optimizer state of kind '{kind}' holds the configuration of '{}'",
                        config.kind()
                    )));
                }
                Ok(OptimizerState {
                    step,
                    config,
                    params,
                    groups: groups.unwrap_or_default(),
                })
            }
            (Some(_), Some(_), _) => Err(de::Error::custom(
                "optimizer state with both `config` and the unversioned `hyper_parameters`",
            )),
            (None, Some(hyper_parameters), None) => {
                let kind = kind.ok_or_else(|| de::Error::missing_field("kind"))?;
                from_unversioned(&kind, step, &hyper_parameters, params)
            }
            (None, _, _) => Err(de::Error::missing_field("config")),
        }
    }
}

/// The state of one parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamState {
    /// Number of updates this parameter has received (Adam's `t`, Adagrad's step).
    pub step: u64,
    /// Buffers by name (`momentum_buffer`, `exp_avg`, `exp_avg_sq`, …), each of the
    /// parameter's shape.
    pub buffers: BTreeMap<String, Buffer>,
}

/// One per-parameter buffer: a shape and its values in row-major order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Buffer {
    /// The buffer's shape (the parameter's).
    pub shape: Vec<usize>,
    /// The values, `Π shape` of them.
    pub values: BufferValues,
}

/// Buffer values in the element type they were saved from (so `f32` state costs 4 bytes a
/// value). Loading converts to the optimizer's element type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BufferValues {
    /// Values of an `f32` optimizer.
    F32(Vec<f32>),
    /// Values of an `f64` optimizer.
    F64(Vec<f64>),
}

impl BufferValues {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            BufferValues::F32(v) => v.len(),
            BufferValues::F64(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values converted to `f64`.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            BufferValues::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            BufferValues::F64(v) => v.clone(),
        }
    }

    fn from_slice<T: Element>(values: &[T]) -> Self {
        if T::DTYPE == "f32" {
            BufferValues::F32(values.iter().map(|x| x.to_f64_lossless() as f32).collect())
        } else {
            BufferValues::F64(values.iter().map(|x| x.to_f64_lossless()).collect())
        }
    }

    fn to_vec<T: Element>(&self) -> Vec<T> {
        match self {
            BufferValues::F32(v) => v.iter().map(|&x| T::from_f64_lossy(f64::from(x))).collect(),
            BufferValues::F64(v) => v.iter().map(|&x| T::from_f64_lossy(x)).collect(),
        }
    }
}

/// Run-time state of one parameter: its update count and buffers, in the order of the
/// rule's buffer names, each `numel` long.
#[derive(Clone, Debug)]
pub(crate) struct Slot<T> {
    pub(crate) step: u64,
    pub(crate) bufs: Vec<Vec<T>>,
}

/// Run-time state of every parameter an optimizer has seen.
pub(crate) type Slots<T> = HashMap<VarId, Slot<T>>;

/// `f64` → `T`.
#[inline]
pub(crate) fn cast<T: Element>(x: f64) -> T {
    T::from_f64_lossy(x)
}

/// The step loop of every optimizer: for each parameter that requires a gradient and has one
/// in `grads`, creates its slot on first sight (buffer `b` filled with
/// [`UpdateRule::initial_buffer_value`]), increments the slot's step and calls
/// [`UpdateRule::update`] of its group's configuration: `groups[g]` for a parameter of group g
/// in `group_of`, `default` for the others.
///
/// # Panics
/// If a gradient's shape differs from its parameter's.
pub(crate) fn for_each_update<T: Element, R: UpdateRule>(
    default: &R,
    groups: &[R],
    group_of: &HashMap<VarId, usize>,
    params: &mut [&mut Param<T>],
    grads: &Grads<T>,
    slots: &mut Slots<T>,
) {
    let buffers = default.buffer_names().len();
    for (i, p) in params.iter_mut().enumerate() {
        if !p.requires_grad() {
            continue;
        }
        let Some(grad) = grads.get(p) else {
            continue;
        };
        assert_eq!(
            grad.shape(),
            p.shape(),
            "{}::step: the gradient of parameter {i} has shape {:?} but the parameter has shape {:?}",
            default.name(),
            grad.shape(),
            p.shape()
        );
        let g: Cow<'_, [T]> = match grad.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(grad.to_vec()),
        };
        let rule = group_of.get(&p.id()).map_or(default, |&g| &groups[g]);
        let n = p.numel();
        let slot = slots.entry(p.id()).or_insert_with(|| Slot {
            step: 0,
            bufs: (0..buffers)
                .map(|b| vec![cast::<T>(rule.initial_buffer_value(b)); n])
                .collect(),
        });
        slot.step += 1;
        let buffers: Vec<&mut [T]> = slot.bufs.iter_mut().map(Vec::as_mut_slice).collect();
        update_in_chunks(rule, slot.step, p.value_mut().as_mut_slice(), &g, buffers);
    }
}

/// Parameters of at least this many values are updated in parallel chunks when the pool has
/// more than one thread; smaller ones in one call on the calling thread.
const PARALLEL_VALUES: usize = 1 << 16;

/// Values per parallel chunk (a multiple of every vector width).
const CHUNK: usize = 1 << 14;

/// [`UpdateRule::update`] on `param`, `grad` and `buffers`, cut into matching chunks that the
/// thread pool updates in parallel when the parameter is large. The rules are elementwise, so
/// the result is the same bits whatever the cut.
fn update_in_chunks<T: Element, R: UpdateRule>(
    rule: &R,
    step: u64,
    param: &mut [T],
    grad: &[T],
    mut buffers: Vec<&mut [T]>,
) {
    if param.len() < PARALLEL_VALUES || strata_tensor::threads::num_threads() < 2 {
        rule.update(step, param, grad, &mut buffers);
        return;
    }
    let mut buffer_chunks: Vec<_> = buffers.into_iter().map(|b| b.chunks_mut(CHUNK)).collect();
    let chunks: Vec<_> = param
        .chunks_mut(CHUNK)
        .zip(grad.chunks(CHUNK))
        .map(|(p, g)| {
            let bufs: Vec<&mut [T]> = buffer_chunks
                .iter_mut()
                .map(|b| b.next().expect("a buffer as long as its parameter"))
                .collect();
            (p, g, bufs)
        })
        .collect();
    chunks
        .into_par_iter()
        .for_each(|(p, g, mut bufs)| rule.update(step, p, g, &mut bufs));
}

/// Exports `slots` by the positions of `params`.
pub(crate) fn export<T: Element>(
    step: u64,
    config: OptimizerConfig,
    names: &[&'static str],
    slots: &Slots<T>,
    params: &[&Param<T>],
) -> OptimizerState {
    let params = params
        .iter()
        .map(|p| {
            slots.get(&p.id()).map(|slot| ParamState {
                step: slot.step,
                buffers: names
                    .iter()
                    .zip(&slot.bufs)
                    .map(|(&name, values)| {
                        (
                            name.to_string(),
                            Buffer {
                                shape: p.shape().to_vec(),
                                values: BufferValues::from_slice(values),
                            },
                        )
                    })
                    .collect(),
            })
        })
        .collect();
    OptimizerState {
        step,
        config,
        params,
        groups: Vec::new(),
    }
}

/// Builds run-time slots from `state` for `params`, checking that each entry holds exactly
/// the buffers `names`, each of its parameter's shape. Nothing is changed on error.
pub(crate) fn import<T: Element>(
    kind: &'static str,
    names: &[&'static str],
    params: &[&Param<T>],
    state: &OptimizerState,
) -> Result<Slots<T>, OptimError> {
    let mut slots = Slots::with_capacity(params.len());
    for (index, (p, entry)) in params.iter().zip(&state.params).enumerate() {
        let Some(entry) = entry else {
            continue;
        };
        if let Some(extra) = entry.buffers.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(OptimError::UnexpectedBuffer {
                kind,
                index,
                buffer: extra.clone(),
            });
        }
        let mut bufs = Vec::with_capacity(names.len());
        for &name in names {
            let buf = entry.buffers.get(name).ok_or(OptimError::MissingBuffer {
                kind,
                index,
                buffer: name,
            })?;
            if buf.shape != p.shape() {
                return Err(OptimError::BufferShapeMismatch {
                    kind,
                    index,
                    buffer: name.to_string(),
                    expected: p.shape().to_vec(),
                    found: buf.shape.clone(),
                });
            }
            if buf.values.len() != p.numel() {
                return Err(OptimError::BufferLengthMismatch {
                    kind,
                    index,
                    buffer: name.to_string(),
                    shape: buf.shape.clone(),
                    len: buf.values.len(),
                });
            }
            bufs.push(buf.values.to_vec());
        }
        slots.insert(
            p.id(),
            Slot {
                step: entry.step,
                bufs,
            },
        );
    }
    Ok(slots)
}
