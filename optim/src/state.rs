//! [`OptimizerState`]: an optimizer's state as a serde value, keyed by parameter position.
//!
//! At run time an optimizer files its per-parameter buffers (momentum, moment estimates, …)
//! under each [`Param`]'s [`VarId`]. Ids are unique to a process, so the exported state keys
//! them instead by the *position* of each parameter in the slice given to
//! [`crate::Optimizer::state`] — as PyTorch's `state_dict` keys by index. Loading the state
//! with the parameters in the same order, in another process, restores training exactly.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param, VarId};
use strata_tensor::Element;

use crate::OptimError;

/// The full state of an optimizer: enough to continue training after a restart.
///
/// Loading (see [`crate::Optimizer::load_state`]) restores the hyper-parameters too (including
/// a learning rate changed by a schedule), as PyTorch's `load_state_dict` restores its
/// `param_groups`. Booleans (`nesterov`, `amsgrad`, `centered`) are stored as `0` or `1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Which optimizer wrote it (`"sgd"`, `"adam"`, `"adamw"`, `"adagrad"`, `"rmsprop"`,
    /// `"adadelta"`).
    pub kind: String,
    /// Number of `step` calls so far.
    pub step: u64,
    /// Hyper-parameters by their PyTorch names (`lr`, `beta1`, `weight_decay`, …).
    pub hyper_parameters: BTreeMap<String, f64>,
    /// One entry per parameter, in the order the parameters were given; `None` for a
    /// parameter that has not been updated yet.
    pub params: Vec<Option<ParamState>>,
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
/// optimizer's buffer names, each `numel` long.
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

/// `0.0`/`1.0` for a flag.
pub(crate) fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// The shared step loop: for each parameter that requires a gradient and has one in `grads`,
/// creates its slot on first sight (buffer `b` filled with `init[b]`), increments the slot's
/// step and calls `update(param, grad, slot)`.
///
/// # Panics
/// If a gradient's shape differs from its parameter's.
pub(crate) fn for_each_update<T: Element>(
    owner: &'static str,
    params: &mut [&mut Param<T>],
    grads: &Grads<T>,
    slots: &mut Slots<T>,
    init: &[T],
    mut update: impl FnMut(&mut [T], &[T], &mut Slot<T>),
) {
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
            "{owner}::step: the gradient of parameter {i} has shape {:?} but the parameter has shape {:?}",
            grad.shape(),
            p.shape()
        );
        let g: Cow<'_, [T]> = match grad.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(grad.to_vec()),
        };
        let n = p.numel();
        let slot = slots.entry(p.id()).or_insert_with(|| Slot {
            step: 0,
            bufs: init.iter().map(|&v| vec![v; n]).collect(),
        });
        slot.step += 1;
        update(p.value_mut().as_mut_slice(), &g, slot);
    }
}

/// Exports `slots` by the positions of `params`.
pub(crate) fn export<T: Element>(
    kind: &'static str,
    step: u64,
    hyper_parameters: BTreeMap<String, f64>,
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
        kind: kind.to_string(),
        step,
        hyper_parameters,
        params,
    }
}

/// Checks the state's kind and parameter count.
pub(crate) fn check_header(
    kind: &'static str,
    n_params: usize,
    state: &OptimizerState,
) -> Result<(), OptimError> {
    if state.kind != kind {
        return Err(OptimError::KindMismatch {
            expected: kind,
            found: state.kind.clone(),
        });
    }
    if state.params.len() != n_params {
        return Err(OptimError::ParamCountMismatch {
            expected: n_params,
            found: state.params.len(),
        });
    }
    Ok(())
}

/// Reads hyper-parameters out of a saved state, each exactly once; [`Hyper::finish`] rejects
/// names that were not read.
pub(crate) struct Hyper<'a> {
    kind: &'static str,
    map: &'a BTreeMap<String, f64>,
    read: Vec<&'static str>,
}

impl<'a> Hyper<'a> {
    pub(crate) fn new(kind: &'static str, state: &'a OptimizerState) -> Self {
        Hyper {
            kind,
            map: &state.hyper_parameters,
            read: Vec::new(),
        }
    }

    /// The value of `name`.
    pub(crate) fn get(&mut self, name: &'static str) -> Result<f64, OptimError> {
        self.read.push(name);
        self.map
            .get(name)
            .copied()
            .ok_or(OptimError::MissingHyperParameter {
                kind: self.kind,
                name,
            })
    }

    /// A flag stored as `0` or `1`.
    pub(crate) fn flag(
        &mut self,
        owner: &'static str,
        name: &'static str,
    ) -> Result<bool, OptimError> {
        let v = self.get(name)?;
        if v == 0.0 {
            Ok(false)
        } else if v == 1.0 {
            Ok(true)
        } else {
            Err(OptimError::InvalidHyperParameter {
                owner,
                name,
                value: v,
                expected: "0 or 1 (a flag)",
            })
        }
    }

    /// Fails on the first name in the state that was never read.
    pub(crate) fn finish(self) -> Result<(), OptimError> {
        match self.map.keys().find(|k| !self.read.contains(&k.as_str())) {
            Some(k) => Err(OptimError::UnknownHyperParameter {
                kind: self.kind,
                name: k.clone(),
            }),
            None => Ok(()),
        }
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
