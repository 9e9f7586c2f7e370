//! [`ModuleState`](super::ModuleState): a module's parameters and buffers by name, captured from and applied to
//! a module with every shape checked.

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use strata_tensor::{Element, Tensor};

use super::architecture::compare;
use super::{
    CheckpointError, CheckpointErrorKind, LayerDescription, TensorKind, decoding_version,
    describe_architecture, read_checkpoint, write_checkpoint,
};
use crate::Module;

/// A tensor's values in the element type they were saved from, row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TensorValues {
    /// Values of an `f32` tensor.
    F32(Vec<f32>),
    /// Values of an `f64` tensor.
    F64(Vec<f64>),
}

impl TensorValues {
    /// Wraps the values of a `T` tensor, without copying.
    pub fn from_vec<T: Element>(values: Vec<T>) -> Self {
        let values: Box<dyn Any> = Box::new(values);
        match values.downcast::<Vec<f32>>() {
            Ok(v) => TensorValues::F32(*v),
            Err(values) => match values.downcast::<Vec<f64>>() {
                Ok(v) => TensorValues::F64(*v),
                Err(_) => unreachable!("Element is implemented for f32 and f64 only"),
            },
        }
    }

    /// The values as `Vec<T>` without copying, or `self` back if they are of another type.
    pub fn into_vec<T: Element>(self) -> Result<Vec<T>, Self> {
        let values: Box<dyn Any> = match self {
            TensorValues::F32(v) => Box::new(v),
            TensorValues::F64(v) => Box::new(v),
        };
        match values.downcast::<Vec<T>>() {
            Ok(v) => Ok(*v),
            Err(values) => Err(match values.downcast::<Vec<f32>>() {
                Ok(v) => TensorValues::F32(*v),
                Err(values) => {
                    TensorValues::F64(*values.downcast::<Vec<f64>>().expect("f32 or f64"))
                }
            }),
        }
    }

    /// The values converted to `T` (exact for `f32 → f64`, rounded for `f64 → f32`).
    pub fn to_vec_as<T: Element>(&self) -> Vec<T> {
        match self {
            TensorValues::F32(v) => v
                .iter()
                .map(|&x| T::from_f32(x).expect("float conversion"))
                .collect(),
            TensorValues::F64(v) => v
                .iter()
                .map(|&x| T::from_f64(x).expect("float conversion"))
                .collect(),
        }
    }

    /// The element type's name, `"f32"` or `"f64"` (as [`Element::DTYPE`]).
    pub fn dtype(&self) -> &'static str {
        match self {
            TensorValues::F32(_) => <f32 as Element>::DTYPE,
            TensorValues::F64(_) => <f64 as Element>::DTYPE,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            TensorValues::F32(v) => v.len(),
            TensorValues::F64(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One saved tensor: its dotted name, shape and row-major values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    /// Dotted path, PyTorch's `state_dict` key (`0.weight`, `conv1.bias`, `bn.running_mean`).
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// `Π shape` values in row-major order.
    pub values: TensorValues,
}

impl NamedTensor {
    /// A copy of `tensor` (in row-major order, whatever its strides) under `name`.
    pub fn from_tensor<T: Element>(name: impl Into<String>, tensor: &Tensor<T>) -> Self {
        NamedTensor {
            name: name.into(),
            shape: tensor.shape().to_vec(),
            values: TensorValues::from_vec(tensor.to_vec()),
        }
    }

    /// The saved tensor as a `Tensor<T>`, or `None` if it was saved with another element
    /// type or its values do not fill its shape.
    pub fn to_tensor<T: Element>(&self) -> Option<Tensor<T>> {
        let values = self.values.clone().into_vec::<T>().ok()?;
        (values.len() == self.shape.iter().product::<usize>())
            .then(|| Tensor::from_vec(values, &self.shape))
    }
}

/// A module's parameters and buffers by name: what [`save_module`] writes and
/// [`load_module`] reads, and a serde value to embed in a larger checkpoint.
///
/// Values keep the module's element type ([`TensorValues::F32`] for `f32` modules, `F64` for
/// `f64`), so a save/load round trip is bit-exact. Parameters and buffers are listed in the
/// module's order ([`Module::params`](crate::Module::params), [`Module::buffers`](crate::Module::buffers)) but matched by name when applied.
///
/// ```
/// use strata_layers::checkpoint::ModuleState;
/// use strata_layers::{Linear, Module};
///
/// let a = Linear::<f32>::new(3, 2);
/// let mut b = Linear::<f32>::new(3, 2);
/// let state = ModuleState::capture(&a);
/// assert_eq!(state.params[0].name, "weight");
/// state.apply(&mut b).unwrap();
/// assert_eq!(b.weight.value().to_vec(), a.weight.value().to_vec());
/// ```
///
/// The state also records the model's architecture ([`ModuleState::architecture`]), so that a
/// checkpoint of a model with the same parameters but other layers — a LeNet-5 with tanh and
/// average pooling loaded into one with ReLU and max pooling — is refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModuleState {
    /// The trainable parameters.
    pub params: Vec<NamedTensor>,
    /// The buffers (running statistics and other non-trainable state).
    pub buffers: Vec<NamedTensor>,
    /// Every module of the model it was captured from, with its settings
    /// ([`describe_architecture`]); [`ModuleState::apply`] refuses a model whose list differs.
    /// `None` — a state read from a checkpoint of format version 1 (or JSON without the field),
    /// or built by hand — skips that check.
    pub architecture: Option<Vec<LayerDescription>>,
}

impl<'de> Deserialize<'de> for ModuleState {
    /// The fields `params`, `buffers` and `architecture`; in a checkpoint of format version 1
    /// (bincode, which cannot skip a field) only the first two, and in a self-describing format
    /// (JSON) `architecture` may be missing. Either way a missing architecture is `None`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename = "ModuleState")]
        struct Version1 {
            params: Vec<NamedTensor>,
            buffers: Vec<NamedTensor>,
        }
        #[derive(Deserialize)]
        #[serde(rename = "ModuleState")]
        struct Current {
            params: Vec<NamedTensor>,
            buffers: Vec<NamedTensor>,
            #[serde(default)]
            architecture: Option<Vec<LayerDescription>>,
        }
        if decoding_version() < 2 {
            let Version1 { params, buffers } = Version1::deserialize(deserializer)?;
            Ok(ModuleState {
                params,
                buffers,
                architecture: None,
            })
        } else {
            let Current {
                params,
                buffers,
                architecture,
            } = Current::deserialize(deserializer)?;
            Ok(ModuleState {
                params,
                buffers,
                architecture,
            })
        }
    }
}

impl ModuleState {
    /// A copy of every parameter and buffer of `module`, and its architecture
    /// ([`describe_architecture`]).
    pub fn capture<T: Element, M: Module<T> + ?Sized>(module: &M) -> Self {
        ModuleState {
            architecture: Some(describe_architecture(module)),
            params: module
                .params()
                .into_iter()
                .map(|(n, p)| NamedTensor::from_tensor(n, p.value()))
                .collect(),
            buffers: module
                .buffers()
                .into_iter()
                .map(|(n, b)| NamedTensor::from_tensor(n, b))
                .collect(),
        }
    }

    /// Copies the saved values into `module`'s parameters and buffers, matched by name, after
    /// checking that `module` has the saved architecture (when the state records one).
    ///
    /// Everything is checked before anything is written, so on error the module is unchanged.
    /// Parameters keep their identity ([`strata_autograd::Param::id`]), so an optimizer's
    /// state for them stays valid.
    ///
    /// # Errors
    /// For the first problem found, in the module's order (parameters, then buffers, then the
    /// state's own order for extras): [`CheckpointErrorKind::MissingTensor`],
    /// [`CheckpointErrorKind::DtypeMismatch`], [`CheckpointErrorKind::ShapeMismatch`],
    /// [`CheckpointErrorKind::ValueCount`], [`CheckpointErrorKind::UnexpectedTensor`],
    /// [`CheckpointErrorKind::DuplicateTensor`], then
    /// [`CheckpointErrorKind::ArchitectureMismatch`] for the first module whose path or
    /// description differs. The error names no file; [`load_module`] adds it.
    pub fn apply<T: Element, M: Module<T> + ?Sized>(
        &self,
        module: &mut M,
    ) -> Result<(), CheckpointError> {
        let (params, buffers) = self.plan::<T, M>(module)?;
        let tensor = |t: &NamedTensor| {
            let values = t
                .values
                .clone()
                .into_vec::<T>()
                .unwrap_or_else(|_| unreachable!("dtype checked"));
            Tensor::from_vec(values, &t.shape)
        };
        write_plan(module, &params, &buffers, |kind, i| match kind {
            TensorKind::Parameter => tensor(&self.params[i]),
            TensorKind::Buffer => tensor(&self.buffers[i]),
        });
        Ok(())
    }

    /// As [`ModuleState::apply`], consuming the state so its values move into the module
    /// without a copy.
    ///
    /// # Errors
    /// As [`ModuleState::apply`]; on error the module is unchanged.
    pub fn apply_owned<T: Element, M: Module<T> + ?Sized>(
        self,
        module: &mut M,
    ) -> Result<(), CheckpointError> {
        let (params, buffers) = self.plan::<T, M>(module)?;
        let mut saved_params: Vec<Option<NamedTensor>> =
            self.params.into_iter().map(Some).collect();
        let mut saved_buffers: Vec<Option<NamedTensor>> =
            self.buffers.into_iter().map(Some).collect();
        write_plan(module, &params, &buffers, |kind, i| {
            let slot = match kind {
                TensorKind::Parameter => &mut saved_params[i],
                TensorKind::Buffer => &mut saved_buffers[i],
            };
            let t = slot.take().expect("each saved tensor is used once");
            let values = t
                .values
                .into_vec::<T>()
                .unwrap_or_else(|_| unreachable!("dtype checked"));
            Tensor::from_vec(values, &t.shape)
        });
        Ok(())
    }

    /// The saved parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&NamedTensor> {
        self.params.iter().find(|t| t.name == name)
    }

    /// The saved buffer called `name`.
    pub fn buffer(&self, name: &str) -> Option<&NamedTensor> {
        self.buffers.iter().find(|t| t.name == name)
    }

    /// The same state with every value converted to `T` (e.g. to load `f32` weights into an
    /// `f64` model for gradient checks; `f64 → f32` rounds).
    pub fn converted<T: Element>(&self) -> ModuleState {
        let convert = |ts: &[NamedTensor]| {
            ts.iter()
                .map(|t| NamedTensor {
                    name: t.name.clone(),
                    shape: t.shape.clone(),
                    values: TensorValues::from_vec(t.values.to_vec_as::<T>()),
                })
                .collect()
        };
        ModuleState {
            params: convert(&self.params),
            buffers: convert(&self.buffers),
            architecture: self.architecture.clone(),
        }
    }

    /// Checks the state against `module` and returns, for each module parameter and buffer
    /// (in module order), the index of the saved tensor that fills it.
    fn plan<T: Element, M: Module<T> + ?Sized>(
        &self,
        module: &M,
    ) -> Result<(Vec<usize>, Vec<usize>), CheckpointError> {
        let model_params: Vec<Expected> = module
            .params()
            .into_iter()
            .map(|(name, p)| Expected {
                name,
                shape: p.shape().to_vec(),
            })
            .collect();
        let model_buffers: Vec<Expected> = module
            .buffers()
            .into_iter()
            .map(|(name, b)| Expected {
                name,
                shape: b.shape().to_vec(),
            })
            .collect();
        let params = match_kind(TensorKind::Parameter, &model_params, &self.params, T::DTYPE)?;
        let buffers = match_kind(TensorKind::Buffer, &model_buffers, &self.buffers, T::DTYPE)?;
        let extra = |kind, expected: &[Expected], saved: &[NamedTensor]| {
            let known: std::collections::HashSet<&str> =
                expected.iter().map(|e| e.name.as_str()).collect();
            match saved.iter().find(|t| !known.contains(t.name.as_str())) {
                Some(t) => Err(CheckpointError::new(
                    CheckpointErrorKind::UnexpectedTensor {
                        kind,
                        name: t.name.clone(),
                    },
                )),
                None => Ok(()),
            }
        };
        extra(TensorKind::Parameter, &model_params, &self.params)?;
        extra(TensorKind::Buffer, &model_buffers, &self.buffers)?;
        if let Some(saved) = &self.architecture {
            compare(saved, &describe_architecture(module))?;
        }
        Ok((params, buffers))
    }
}

/// A module tensor's name and shape, as the module has it.
struct Expected {
    name: String,
    shape: Vec<usize>,
}

/// For each expected tensor, the index of the saved one with its name, after checking dtype,
/// shape and value count; also rejects duplicate saved names.
fn match_kind(
    kind: TensorKind,
    expected: &[Expected],
    saved: &[NamedTensor],
    dtype: &'static str,
) -> Result<Vec<usize>, CheckpointError> {
    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(saved.len());
    for (i, t) in saved.iter().enumerate() {
        if by_name.insert(t.name.as_str(), i).is_some() {
            return Err(CheckpointError::new(CheckpointErrorKind::DuplicateTensor {
                kind,
                name: t.name.clone(),
            }));
        }
    }
    expected
        .iter()
        .map(|e| {
            let fail = |k| Err(CheckpointError::new(k));
            let Some(&i) = by_name.get(e.name.as_str()) else {
                return fail(CheckpointErrorKind::MissingTensor {
                    kind,
                    name: e.name.clone(),
                });
            };
            let t = &saved[i];
            if t.values.dtype() != dtype {
                return fail(CheckpointErrorKind::DtypeMismatch {
                    kind,
                    name: e.name.clone(),
                    saved: t.values.dtype(),
                    model: dtype,
                });
            }
            if t.shape != e.shape {
                return fail(CheckpointErrorKind::ShapeMismatch {
                    kind,
                    name: e.name.clone(),
                    saved: t.shape.clone(),
                    model: e.shape.clone(),
                });
            }
            if t.values.len() != t.shape.iter().product::<usize>() {
                return fail(CheckpointErrorKind::ValueCount {
                    kind,
                    name: e.name.clone(),
                    shape: t.shape.clone(),
                    values: t.values.len(),
                });
            }
            Ok(i)
        })
        .collect()
}

/// Writes the planned tensors into the module: `tensor(kind, i)` yields saved tensor `i`.
fn write_plan<T: Element, M: Module<T> + ?Sized>(
    module: &mut M,
    params: &[usize],
    buffers: &[usize],
    mut tensor: impl FnMut(TensorKind, usize) -> Tensor<T>,
) {
    for ((_, p), &i) in module.params_mut().into_iter().zip(params) {
        p.set(tensor(TensorKind::Parameter, i));
    }
    for ((_, b), &i) in module.buffers_mut().into_iter().zip(buffers) {
        *b = tensor(TensorKind::Buffer, i);
    }
}

/// Saves `module`'s parameters and buffers ([`ModuleState::capture`]) to a checkpoint at
/// `path`, atomically (see [`write_checkpoint`](super::write_checkpoint)).
///
/// # Errors
/// As [`write_checkpoint`](super::write_checkpoint); an existing file at `path` is left intact on error.
pub fn save_module<T: Element, M: Module<T> + ?Sized>(
    module: &M,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    write_checkpoint(path, &ModuleState::capture(module))
}

/// Loads a checkpoint written by [`save_module`] into `module`, whose architecture must match
/// (same modules and settings, parameter names, shapes and element type).
///
/// # Errors
/// Those of [`read_checkpoint`](super::read_checkpoint) (unreadable, truncated or corrupt file,
/// or a file of another kind: [`CheckpointErrorKind::WrongKind`]) and of
/// [`ModuleState::apply`] (missing, extra or mis-shaped parameter or buffer, another
/// architecture), naming `path`.
/// On error the module is unchanged.
pub fn load_module<T: Element, M: Module<T> + ?Sized>(
    module: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let state: ModuleState = read_checkpoint(path)?;
    state.apply_owned(module).map_err(|e| e.with_path(path))
}
