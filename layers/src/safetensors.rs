//! Weights in the [safetensors](https://huggingface.co/docs/safetensors) format under
//! PyTorch's `state_dict` names, for interchange with PyTorch, candle and burn.
//!
//! # File layout
//!
//! The standard safetensors layout, written and parsed by the `safetensors` crate:
//!
//! | bytes          | contents                                                             |
//! |----------------|----------------------------------------------------------------------|
//! | `0..8`         | `u64` little-endian `n`, the length of the JSON header               |
//! | `8..8+n`       | JSON: `{"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, …, "__metadata__": {"format": "pt"}}` |
//! | `8+n..`        | the tensors' little-endian values, row-major, back to back           |
//!
//! Each parameter and buffer of the module is one tensor under its dotted name — `weight`,
//! `bias`, `0.weight`, `conv1.weight`, `bn.running_mean`, `weight_ih_l0` — with dtype `F32`
//! for an `f32` module and `F64` for an `f64` one. Those are the keys of PyTorch's
//! `state_dict`, so for the same architecture
//!
//! ```python
//! model.load_state_dict(safetensors.torch.load_file("model.safetensors"))
//! safetensors.torch.save_file(model.state_dict(), "model.safetensors")
//! ```
//!
//! read a Strata file into PyTorch and write one Strata reads back.
//! `__metadata__` is `{"format": "pt"}`, as PyTorch's writer sets it.
//!
//! Importing is strict, as for checkpoints: every parameter and buffer of the module must be
//! in the file with the module's shape and element type, and the file must hold nothing else.
//! Half-precision tensors are the exception to the element type: `F16` (IEEE binary16) and
//! `BF16` (bfloat16) tensors are widened on import, exactly, to the module's `f32` or `f64`
//! (every F16 and BF16 value is an f32 value; see [`f16_to_f32`] and [`bf16_to_f32`]), so
//! weights saved by `model.half().state_dict()` or `model.bfloat16().state_dict()` load into
//! a Strata module. Other dtypes (integers, `F8_*`, an `F64` tensor into an `f32` module or
//! `F32` into `f64`) are refused with [`SafetensorsErrorKind::DtypeMismatch`], naming the
//! tensor and its dtype.
//! The one exception is PyTorch's batch-norm step counter: a tensor named
//! `num_batches_tracked` (or ending in `.num_batches_tracked`) is skipped when the module has
//! no such buffer. Everything is checked before anything is written, so on error the module
//! is unchanged. Files are written atomically, as checkpoints are (see
//! [`crate::checkpoint::write_checkpoint`]).
//!
//! ```
//! use strata_layers::safetensors::{export_safetensors_bytes, import_safetensors_bytes};
//! use strata_layers::{Linear, Module};
//!
//! let a = Linear::<f32>::new(3, 2);
//! let bytes = export_safetensors_bytes(&a).unwrap();
//! let mut b = Linear::<f32>::new(3, 2);
//! import_safetensors_bytes(&mut b, &bytes).unwrap();
//! assert_eq!(b.weight.value().to_vec(), a.weight.value().to_vec());
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, View};
use strata_tensor::{Element, Tensor};

use crate::Module;
use crate::checkpoint::{IoFailure, TensorKind, TensorValues, read_file, write_atomically};

/// A safetensors file could not be written, read or loaded into a module.
///
/// Carries the file involved (when there is one) and a [`SafetensorsErrorKind`]; the
/// `Display` form reads like
/// `safetensors file /tmp/m.safetensors: parameter "0.weight" has shape [4, 3] in the file but [8, 3] in the model`.
#[derive(Debug)]
pub struct SafetensorsError {
    path: Option<PathBuf>,
    kind: SafetensorsErrorKind,
}

/// What went wrong with a safetensors file. Byte offsets count from the start of the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum SafetensorsErrorKind {
    /// A file-system operation failed (`action` says which).
    Io {
        /// What was being done, naming the temporary file where one is involved.
        action: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The file ends before its 8-byte header length or before the JSON header it announces.
    Truncated {
        /// The file's length in bytes.
        file_len: u64,
        /// The length the header calls for (8, or `8 + n`).
        expected_len: u64,
    },
    /// The file is not valid safetensors: bad JSON header, inconsistent offsets, data not
    /// covering the file exactly, …
    Format {
        /// The parser's explanation.
        message: String,
    },
    /// The module lists a name twice, so it cannot be one key of a file.
    DuplicateName {
        /// The repeated dotted name.
        name: String,
    },
    /// The file's JSON header names a tensor twice (a JSON parser would keep one silently).
    DuplicateTensor {
        /// The repeated tensor name.
        name: String,
    },
    /// The file could not be encoded.
    Encode {
        /// Why encoding failed.
        message: String,
    },
    /// The module has a parameter or buffer the file lacks.
    MissingTensor {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
    },
    /// The file has a tensor the module lacks.
    UnexpectedTensor {
        /// Its name in the file.
        name: String,
    },
    /// A tensor's element type in the file is neither the module's nor one widened to it on
    /// import (`F16`, `BF16`): integer and 8-bit float tensors, `F64` into an `f32` module,
    /// `F32` into an `f64` one.
    DtypeMismatch {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
        /// The safetensors dtype in the file (`"I64"`, `"F64"`, …).
        file: String,
        /// The safetensors dtype the module needs (`"F32"` or `"F64"`).
        model: &'static str,
    },
    /// A tensor's shape in the file differs from the module's.
    ShapeMismatch {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
        /// The shape in the file.
        file: Vec<usize>,
        /// The shape in the module.
        model: Vec<usize>,
    },
}

impl SafetensorsError {
    /// An error of `kind` not tied to a file.
    pub fn new(kind: SafetensorsErrorKind) -> Self {
        SafetensorsError { path: None, kind }
    }

    /// The same error, naming `path` as the file involved.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &SafetensorsErrorKind {
        &self.kind
    }

    /// The file involved, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The kind, by value.
    pub fn into_kind(self) -> SafetensorsErrorKind {
        self.kind
    }
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SafetensorsErrorKind as K;
        let file = match &self.path {
            Some(path) => {
                write!(f, "safetensors file {}: ", path.display())?;
                "the file"
            }
            None => {
                f.write_str("safetensors: ")?;
                "the data"
            }
        };
        match &self.kind {
            K::Io { action, source } => write!(f, "{action}: {source}"),
            K::Truncated {
                file_len,
                expected_len,
            } if *expected_len <= 8 => write!(
                f,
                "truncated: {file} has {file_len} bytes, fewer than the 8-byte header length"
            ),
            K::Truncated {
                file_len,
                expected_len,
            } => write!(
                f,
                "truncated: bytes 0..8 announce a JSON header at bytes 8..{expected_len}, but \
                 {file} ends at byte {file_len}"
            ),
            K::Format { message } => write!(f, "not a valid safetensors file: {message}"),
            K::DuplicateName { name } => {
                write!(f, "the model lists {name:?} twice; a file cannot hold both")
            }
            K::DuplicateTensor { name } => {
                write!(f, "{file} names tensor {name:?} twice in its JSON header")
            }
            K::Encode { message } => write!(f, "cannot encode: {message}"),
            K::MissingTensor { kind, name } => {
                write!(f, "{kind} {name:?} of the model is missing from {file}")
            }
            K::UnexpectedTensor { name } => {
                write!(
                    f,
                    "{file} has tensor {name:?}, which the model does not have"
                )
            }
            K::DtypeMismatch {
                kind,
                name,
                file: d,
                model,
            } => write!(
                f,
                "{kind} {name:?} is {d} in {file} but {model} in the model"
            ),
            K::ShapeMismatch {
                kind,
                name,
                file: s,
                model,
            } => write!(
                f,
                "{kind} {name:?} has shape {s:?} in {file} but {model:?} in the model"
            ),
        }
    }
}

impl From<IoFailure> for SafetensorsErrorKind {
    fn from(e: IoFailure) -> Self {
        SafetensorsErrorKind::Io {
            action: e.action,
            source: e.source,
        }
    }
}

impl std::error::Error for SafetensorsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SafetensorsErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The safetensors dtype of a `T` module.
fn dtype_of<T: Element>() -> Dtype {
    if T::DTYPE == <f64 as Element>::DTYPE {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// One tensor ready for the writer: dtype, shape and little-endian bytes.
struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn raw<T: Element>(tensor: &Tensor<T>) -> Raw {
    let bytes = match TensorValues::from_vec(tensor.to_vec()) {
        TensorValues::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorValues::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    };
    Raw {
        dtype: dtype_of::<T>(),
        shape: tensor.shape().to_vec(),
        bytes,
    }
}

/// Encodes every parameter and buffer of `module` as a safetensors file in memory (see the
/// [module docs](self) for names, dtypes and layout).
///
/// # Errors
/// [`SafetensorsErrorKind::DuplicateName`] if the module lists a name twice;
/// [`SafetensorsErrorKind::Encode`] if the writer rejects the data.
pub fn export_safetensors_bytes<T: Element, M: Module<T> + ?Sized>(
    module: &M,
) -> Result<Vec<u8>, SafetensorsError> {
    let mut tensors: Vec<(String, Raw)> = module
        .params()
        .into_iter()
        .map(|(n, p)| (n, raw(p.value())))
        .collect();
    tensors.extend(module.buffers().into_iter().map(|(n, b)| (n, raw(b))));
    let mut seen = HashSet::new();
    if let Some((name, _)) = tensors.iter().find(|(n, _)| !seen.insert(n.as_str())) {
        return Err(SafetensorsError::new(SafetensorsErrorKind::DuplicateName {
            name: name.clone(),
        }));
    }
    let metadata = Some(
        [("format".to_string(), "pt".to_string())]
            .into_iter()
            .collect(),
    );
    safetensors::serialize(tensors.iter().map(|(n, r)| (n.as_str(), r)), metadata).map_err(|e| {
        SafetensorsError::new(SafetensorsErrorKind::Encode {
            message: e.to_string(),
        })
    })
}

/// Writes every parameter and buffer of `module` to a safetensors file at `path`,
/// atomically (temporary file in the same directory, synced, renamed over `path`).
///
/// # Errors
/// Those of [`export_safetensors_bytes`], and [`SafetensorsErrorKind::Io`] if the file cannot
/// be written (e.g. the directory does not exist); an existing file at `path` is then left
/// intact.
pub fn export_safetensors<T: Element, M: Module<T> + ?Sized>(
    module: &M,
    path: impl AsRef<Path>,
) -> Result<(), SafetensorsError> {
    let path = path.as_ref();
    let bytes = export_safetensors_bytes(module).map_err(|e| e.with_path(path))?;
    write_atomically(path, &bytes).map_err(|e| SafetensorsError::new(e.into()).with_path(path))
}

/// The `f32` value of IEEE 754 binary16 (`F16`) bits, exactly: `(−1)^s·2^(e−15)·(1 + m/2¹⁰)`
/// for a normal exponent `e ∈ 1..=30` (sign `s`, 5 exponent bits `e`, 10 mantissa bits `m`),
/// the subnormal `(−1)^s·m·2⁻²⁴` for `e = 0` (signed zeros included), `±∞` for `e = 31, m = 0`,
/// and NaN for `e = 31, m ≠ 0`, keeping its sign and payload (`m` in the top mantissa bits)
/// with the quiet bit set, as the hardware conversions do. Every binary16 value is an f32
/// value, so nothing rounds.
///
/// ```
/// use strata_layers::safetensors::f16_to_f32;
///
/// assert_eq!(f16_to_f32(0x3C00), 1.0);
/// assert_eq!(f16_to_f32(0x7BFF), 65504.0); // the largest finite value
/// assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24)); // the smallest subnormal
/// assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
/// assert_eq!(f16_to_f32(0xFC00), f32::NEG_INFINITY);
/// assert!(f16_to_f32(0x7E00).is_nan());
/// ```
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits & 0x8000) << 16;
    let exponent = u32::from(bits >> 10) & 0x1F;
    let mantissa = u32::from(bits & 0x03FF);
    match exponent {
        0 => {
            // m·2⁻²⁴: m < 2¹⁰ is exact in f32, and scaling by a power of two is exact (the
            // result, at least 2⁻²⁴, is an f32 normal).
            let magnitude = mantissa as f32 * f32::from_bits(0x3380_0000);
            f32::from_bits(sign | magnitude.to_bits())
        }
        0x1F if mantissa == 0 => f32::from_bits(sign | 0x7F80_0000),
        0x1F => f32::from_bits(sign | 0x7FC0_0000 | (mantissa << 13)),
        // Rebias the exponent from 15 to 127; the mantissa gains 13 zero bits.
        _ => f32::from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13)),
    }
}

/// The `f32` value of bfloat16 (`BF16`) bits, exactly: bfloat16 is the top half of an f32
/// (sign, the same 8-bit exponent, 7 mantissa bits), so the value is `bits << 16` — zeros,
/// subnormals, infinities and NaN payloads included.
///
/// ```
/// use strata_layers::safetensors::bf16_to_f32;
///
/// assert_eq!(bf16_to_f32(0x3F80), 1.0);
/// assert_eq!(bf16_to_f32(0xC0A0), -5.0);
/// assert_eq!(bf16_to_f32(0x0001), 2f64.powi(-133) as f32); // the smallest subnormal
/// assert_eq!(bf16_to_f32(0xFF80), f32::NEG_INFINITY);
/// ```
pub fn bf16_to_f32(bits: u16) -> f32 {
    f32::from_bits(u32::from(bits) << 16)
}

/// The values of a tensor's little-endian data in `file` dtype as the module's `want` dtype
/// (`F32` or `F64`): the same dtype read as is, `F16` and `BF16` widened exactly.
fn decode(data: &[u8], file: Dtype, want: Dtype) -> TensorValues {
    let halves = |convert: fn(u16) -> f32| -> Vec<f32> {
        data.chunks_exact(2)
            .map(|c| convert(u16::from_le_bytes([c[0], c[1]])))
            .collect()
    };
    let narrow = match file {
        Dtype::F16 => halves(f16_to_f32),
        Dtype::BF16 => halves(bf16_to_f32),
        Dtype::F64 => {
            return TensorValues::F64(
                data.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            );
        }
        _ => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect(),
    };
    if want == Dtype::F64 {
        TensorValues::F64(narrow.into_iter().map(f64::from).collect())
    } else {
        TensorValues::F32(narrow)
    }
}

/// Whether `name` is PyTorch's batch-norm step counter, skipped when the module lacks it.
fn is_pytorch_counter(name: &str) -> bool {
    name == "num_batches_tracked" || name.ends_with(".num_batches_tracked")
}

/// Loads a safetensors file held in memory into `module`'s parameters and buffers, matched
/// by name.
///
/// # Errors
/// [`SafetensorsErrorKind::Truncated`] or [`SafetensorsErrorKind::Format`] if the data is
/// not valid safetensors; then, for the first problem in the module's order (parameters, then
/// buffers, then the file's extra names in sorted order):
/// [`SafetensorsErrorKind::MissingTensor`], [`SafetensorsErrorKind::DtypeMismatch`],
/// [`SafetensorsErrorKind::ShapeMismatch`], [`SafetensorsErrorKind::UnexpectedTensor`]
/// (also [`SafetensorsErrorKind::DuplicateName`] if the module lists a name twice). On error
/// the module is unchanged. The error names no file; [`import_safetensors`] adds it.
pub fn import_safetensors_bytes<T: Element, M: Module<T> + ?Sized>(
    module: &mut M,
    bytes: &[u8],
) -> Result<(), SafetensorsError> {
    let fail = |kind| Err(SafetensorsError::new(kind));
    let file_len = bytes.len() as u64;
    if bytes.len() < 8 {
        return fail(SafetensorsErrorKind::Truncated {
            file_len,
            expected_len: 8,
        });
    }
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
    if header_len.saturating_add(8) > file_len {
        return fail(SafetensorsErrorKind::Truncated {
            file_len,
            expected_len: header_len.saturating_add(8),
        });
    }
    let file = SafeTensors::deserialize(bytes).map_err(|e| {
        SafetensorsError::new(SafetensorsErrorKind::Format {
            message: format!(
                "{e} ({file_len} bytes, JSON header at bytes 8..{})",
                8 + header_len
            ),
        })
    })?;

    if let Some(name) = repeated_header_name(&bytes[8..8 + header_len as usize]) {
        return fail(SafetensorsErrorKind::DuplicateTensor { name });
    }

    let want = dtype_of::<T>();
    let mut expected: Vec<(TensorKind, String, Vec<usize>)> = module
        .params()
        .into_iter()
        .map(|(n, p)| (TensorKind::Parameter, n, p.shape().to_vec()))
        .collect();
    expected.extend(
        module
            .buffers()
            .into_iter()
            .map(|(n, b)| (TensorKind::Buffer, n, b.shape().to_vec())),
    );
    let mut known = HashSet::new();
    if let Some((_, name, _)) = expected.iter().find(|(_, n, _)| !known.insert(n.as_str())) {
        return fail(SafetensorsErrorKind::DuplicateName { name: name.clone() });
    }

    // Check and decode everything before writing anything.
    let mut decoded: HashMap<&str, Tensor<T>> = HashMap::with_capacity(expected.len());
    for (kind, name, shape) in &expected {
        let Ok(view) = file.tensor(name) else {
            return fail(SafetensorsErrorKind::MissingTensor {
                kind: *kind,
                name: name.clone(),
            });
        };
        let widened = matches!(view.dtype(), Dtype::F16 | Dtype::BF16);
        if view.dtype() != want && !widened {
            return fail(SafetensorsErrorKind::DtypeMismatch {
                kind: *kind,
                name: name.clone(),
                file: view.dtype().to_string(),
                model: if want == Dtype::F64 { "F64" } else { "F32" },
            });
        }
        if view.shape() != shape.as_slice() {
            return fail(SafetensorsErrorKind::ShapeMismatch {
                kind: *kind,
                name: name.clone(),
                file: view.shape().to_vec(),
                model: shape.clone(),
            });
        }
        // The parser has checked that the data length matches dtype and shape.
        let values = decode(view.data(), view.dtype(), want)
            .into_vec::<T>()
            .unwrap_or_else(|_| unreachable!("dtype matches T"));
        decoded.insert(name.as_str(), Tensor::from_vec(values, shape));
    }
    let mut extra: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| !known.contains(n) && !is_pytorch_counter(n))
        .collect();
    extra.sort_unstable();
    if let Some(name) = extra.first() {
        return fail(SafetensorsErrorKind::UnexpectedTensor {
            name: name.to_string(),
        });
    }

    for (name, p) in module.params_mut() {
        p.set(decoded.remove(name.as_str()).expect("decoded above"));
    }
    for (name, b) in module.buffers_mut() {
        *b = decoded.remove(name.as_str()).expect("decoded above");
    }
    Ok(())
}

/// Loads the safetensors file at `path` into `module` (see [`import_safetensors_bytes`]).
///
/// # Errors
/// [`SafetensorsErrorKind::Io`] if the file cannot be read; otherwise those of
/// [`import_safetensors_bytes`], naming `path`. On error the module is unchanged.
pub fn import_safetensors<T: Element, M: Module<T> + ?Sized>(
    module: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), SafetensorsError> {
    let path = path.as_ref();
    let bytes = read_file(path).map_err(|e| SafetensorsError::new(e.into()).with_path(path))?;
    import_safetensors_bytes(module, &bytes).map_err(|e| e.with_path(path))
}

/// The first key the JSON object `header` lists twice, if any.
fn repeated_header_name(header: &[u8]) -> Option<String> {
    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct FirstRepeat(Option<String>);

    impl<'de> Deserialize<'de> for FirstRepeat {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Keys;
            impl<'de> Visitor<'de> for Keys {
                type Value = FirstRepeat;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstRepeat, A::Error> {
                    let (mut seen, mut first) = (HashSet::new(), None);
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<IgnoredAny>()?;
                        if !seen.insert(key.clone()) && first.is_none() {
                            first = Some(key);
                        }
                    }
                    Ok(FirstRepeat(first))
                }
            }
            d.deserialize_map(Keys)
        }
    }

    serde_json::from_slice::<FirstRepeat>(header).ok()?.0
}
