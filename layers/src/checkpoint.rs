//! Checkpoint files: any serde value in a checked, atomically written container, and
//! [`ModuleState`], a module's named parameters and buffers as such a value.
//!
//! # File layout
//!
//! A checkpoint is a fixed 24-byte header followed by the payload. All integers are
//! little-endian.
//!
//! | bytes      | field            | contents                                              |
//! |------------|------------------|-------------------------------------------------------|
//! | `0..8`     | magic            | [`MAGIC`], `b"STRATACK"`                              |
//! | `8..12`    | format version   | `u32`, [`FORMAT_VERSION`]                             |
//! | `12..20`   | payload length   | `u64`, the number of payload bytes `n`                |
//! | `20..24`   | payload checksum | `u32`, CRC-32 (IEEE 802.3, as zlib and PNG) of the payload |
//! | `24..24+n` | payload          | the value, bincode 2 (serde, `config::standard()`)    |
//!
//! The file ends exactly after the payload. Reading checks the magic, the version, the
//! length and the checksum before decoding a single value, so a truncated, padded or
//! corrupted file is reported as such rather than decoded into garbage.
//!
//! bincode is not self-describing: a payload must be read back as the type it was written as
//! (or one with the same serde layout). Callers storing several things — the training loop
//! stores model, optimizer state, epoch, random state and configuration — wrap them in one
//! struct of their own and pass it to [`write_checkpoint`] / [`read_checkpoint`].
//!
//! # Atomic writes
//!
//! [`write_checkpoint`] (and [`save_module`]) write to a temporary file in the target's
//! directory, flush it to disk (`sync_all`), rename it over the target and then flush the
//! directory entry (best effort). A crash or a failed write never leaves a half-written file
//! in place of a good one: the target holds either the old checkpoint or the new one.
//!
//! ```
//! use strata_layers::checkpoint::{load_module, save_module};
//! use strata_layers::{Linear, Module, Sequential, Activation};
//!
//! let dir = std::env::temp_dir().join(format!("strata-doc-ckpt-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("mlp.ckpt");
//!
//! let net = Sequential::<f32>::new().add(Linear::new(4, 8)).add(Activation::Relu).add(Linear::new(8, 2));
//! save_module(&net, &path).unwrap();
//!
//! let mut fresh = Sequential::<f32>::new().add(Linear::new(4, 8)).add(Activation::Relu).add(Linear::new(8, 2));
//! load_module(&mut fresh, &path).unwrap();
//! assert_eq!(fresh.params()[0].1.value().to_vec(), net.params()[0].1.value().to_vec());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use strata_tensor::{Element, Tensor};

use crate::Module;

/// The first eight bytes of every checkpoint file.
pub const MAGIC: [u8; 8] = *b"STRATACK";

/// The format version this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Length of the header in bytes: magic (8), version (4), payload length (8), CRC-32 (4).
pub const HEADER_LEN: usize = 24;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Whether a named tensor of a module is a trainable parameter or a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TensorKind {
    /// A trainable parameter ([`Module::params`]).
    Parameter,
    /// A non-trainable buffer ([`Module::buffers`]), e.g. `running_mean`.
    Buffer,
}

impl fmt::Display for TensorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TensorKind::Parameter => "parameter",
            TensorKind::Buffer => "buffer",
        })
    }
}

/// A checkpoint could not be written, read or applied to a module.
///
/// Carries the file involved (when there is one) and a [`CheckpointErrorKind`] saying what
/// went wrong; the `Display` form reads like
/// `checkpoint /tmp/x.ckpt: parameter "fc2.weight" has shape [10, 100] in the file but [10, 50] in the model`.
#[derive(Debug)]
pub struct CheckpointError {
    path: Option<PathBuf>,
    kind: CheckpointErrorKind,
}

/// What went wrong with a checkpoint. Byte offsets count from the start of the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckpointErrorKind {
    /// A file-system operation failed (`action` says which, e.g. `cannot open the file`).
    Io {
        /// What was being done, naming the temporary file where one is involved.
        action: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The file ends before the header or the payload does.
    Truncated {
        /// The file's length in bytes (where it ends).
        file_len: u64,
        /// The length the header (or, once read, the header's payload length) calls for.
        expected_len: u64,
    },
    /// The file continues after the payload the header announces.
    TrailingBytes {
        /// The file's length in bytes.
        file_len: u64,
        /// Header plus announced payload length.
        expected_len: u64,
    },
    /// Bytes `0..8` are not [`MAGIC`]: not a Strata checkpoint.
    BadMagic {
        /// The bytes found (fewer than 8 if the file is shorter).
        found: Vec<u8>,
    },
    /// The format version (bytes `8..12`) is not one this build reads.
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads, [`FORMAT_VERSION`].
        supported: u32,
    },
    /// The payload's CRC-32 differs from the one recorded in the header: the file is corrupt.
    ChecksumMismatch {
        /// The checksum recorded in the header (bytes `20..24`).
        stored: u32,
        /// The checksum of the payload as read.
        computed: u32,
    },
    /// The payload passed its checksum but is not a bincode encoding of the requested type
    /// (it was written as another type), or leaves bytes over.
    Decode {
        /// The Rust type that was requested.
        type_name: &'static str,
        /// Why decoding failed.
        message: String,
    },
    /// The value could not be encoded (a serde `Serialize` implementation failed).
    Encode {
        /// Why encoding failed.
        message: String,
    },
    /// The module has a parameter or buffer the saved state lacks.
    MissingTensor {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
    },
    /// The saved state has a parameter or buffer the module lacks.
    UnexpectedTensor {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
    },
    /// The saved state lists the same name twice.
    DuplicateTensor {
        /// Parameter or buffer.
        kind: TensorKind,
        /// The repeated dotted name.
        name: String,
    },
    /// A saved tensor's shape differs from the module's.
    ShapeMismatch {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
        /// The shape in the saved state.
        saved: Vec<usize>,
        /// The shape in the module.
        model: Vec<usize>,
    },
    /// A saved tensor's element type differs from the module's (see
    /// [`ModuleState::converted`] to convert on purpose).
    DtypeMismatch {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
        /// The element type in the saved state (`"f32"` or `"f64"`).
        saved: &'static str,
        /// The module's element type.
        model: &'static str,
    },
    /// A saved tensor holds a different number of values than its shape calls for.
    ValueCount {
        /// Parameter or buffer.
        kind: TensorKind,
        /// Its dotted name.
        name: String,
        /// Its saved shape.
        shape: Vec<usize>,
        /// The number of values saved.
        values: usize,
    },
}

impl CheckpointError {
    /// An error of `kind` not tied to a file.
    pub fn new(kind: CheckpointErrorKind) -> Self {
        CheckpointError { path: None, kind }
    }

    /// The same error, naming `path` as the file involved.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &CheckpointErrorKind {
        &self.kind
    }

    /// The file involved, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The kind, by value.
    pub fn into_kind(self) -> CheckpointErrorKind {
        self.kind
    }

    fn at(path: &Path, kind: CheckpointErrorKind) -> Self {
        CheckpointError::new(kind).with_path(path)
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CheckpointErrorKind as K;
        let saved = match &self.path {
            Some(path) => {
                write!(f, "checkpoint {}: ", path.display())?;
                "the file"
            }
            None => {
                f.write_str("checkpoint: ")?;
                "the saved state"
            }
        };
        match &self.kind {
            K::Io { action, source } => write!(f, "{action}: {source}"),
            K::Truncated {
                file_len,
                expected_len,
            } if *expected_len <= HEADER_LEN as u64 => write!(
                f,
                "truncated: the file ends at byte {file_len}, inside the {HEADER_LEN}-byte header"
            ),
            K::Truncated {
                file_len,
                expected_len,
            } => write!(
                f,
                "truncated: the header announces a payload at bytes {HEADER_LEN}..{expected_len}, \
                 but the file ends at byte {file_len}"
            ),
            K::TrailingBytes {
                file_len,
                expected_len,
            } => write!(
                f,
                "the header announces a payload ending at byte {expected_len}, but the file has \
                 {file_len} bytes ({} unexpected {} at the end)",
                file_len - expected_len,
                if file_len - expected_len == 1 {
                    "byte"
                } else {
                    "bytes"
                }
            ),
            K::BadMagic { found } => write!(
                f,
                "not a Strata checkpoint: bytes 0..{} are \"{}\", expected \"{}\"",
                found.len(),
                found.escape_ascii(),
                MAGIC.escape_ascii()
            ),
            K::UnsupportedVersion { found, supported } => write!(
                f,
                "unsupported format version {found} (bytes 8..12); this build reads version {supported}"
            ),
            K::ChecksumMismatch { stored, computed } => write!(
                f,
                "corrupt payload: its CRC-32 is {computed:#010x} but the header (bytes 20..24) \
                 records {stored:#010x}"
            ),
            K::Decode { type_name, message } => write!(
                f,
                "the payload (from byte {HEADER_LEN}) is not a valid `{type_name}` (was it \
                 written as another type?): {message}"
            ),
            K::Encode { message } => write!(f, "cannot encode the payload: {message}"),
            K::MissingTensor { kind, name } => {
                write!(f, "{kind} {name:?} of the model is missing from {saved}")
            }
            K::UnexpectedTensor { kind, name } => {
                write!(
                    f,
                    "{saved} has {kind} {name:?}, which the model does not have"
                )
            }
            K::DuplicateTensor { kind, name } => write!(f, "{saved} lists {kind} {name:?} twice"),
            K::ShapeMismatch {
                kind,
                name,
                saved: s,
                model,
            } => write!(
                f,
                "{kind} {name:?} has shape {s:?} in {saved} but {model:?} in the model"
            ),
            K::DtypeMismatch {
                kind,
                name,
                saved: s,
                model,
            } => write!(
                f,
                "{kind} {name:?} is {s} in {saved} but {model} in the model \
                 (convert the state with `ModuleState::converted`)"
            ),
            K::ValueCount {
                kind,
                name,
                shape,
                values,
            } => write!(
                f,
                "{kind} {name:?} has shape {shape:?} ({} elements) but {values} values in {saved}",
                shape.iter().product::<usize>()
            ),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            CheckpointErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The container: header + bincode payload
// ---------------------------------------------------------------------------------------------

/// Encodes `payload` as a complete checkpoint (header and payload) in memory.
///
/// # Errors
/// [`CheckpointErrorKind::Encode`] if the value's `Serialize` implementation fails.
pub fn encode_checkpoint<P: Serialize + ?Sized>(payload: &P) -> Result<Vec<u8>, CheckpointError> {
    // Header first with a zero length and checksum, patched once the payload is known, so
    // the payload is encoded straight into the output buffer.
    let mut bytes = Vec::with_capacity(4096);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&[0; 12]);
    bincode::serde::encode_into_std_write(payload, &mut bytes, bincode::config::standard())
        .map_err(|e| {
            CheckpointError::new(CheckpointErrorKind::Encode {
                message: e.to_string(),
            })
        })?;
    let payload_len = (bytes.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
    bytes[12..20].copy_from_slice(&payload_len.to_le_bytes());
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Decodes a complete checkpoint (header and payload) held in memory as a `P`.
///
/// # Errors
/// In the order checked: [`CheckpointErrorKind::BadMagic`] (bytes `0..8`),
/// [`CheckpointErrorKind::UnsupportedVersion`] (bytes `8..12`),
/// [`CheckpointErrorKind::Truncated`] (shorter than the header, or than the payload length it
/// records), [`CheckpointErrorKind::TrailingBytes`], [`CheckpointErrorKind::ChecksumMismatch`],
/// [`CheckpointErrorKind::Decode`] (not an encoding of `P`, or bytes left over). The error
/// names no file; [`read_checkpoint`] adds it.
pub fn decode_checkpoint<P: DeserializeOwned>(bytes: &[u8]) -> Result<P, CheckpointError> {
    let err = |kind| Err(CheckpointError::new(kind));
    let file_len = bytes.len() as u64;
    let magic = &bytes[..bytes.len().min(MAGIC.len())];
    if magic != &MAGIC[..magic.len()] {
        return err(CheckpointErrorKind::BadMagic {
            found: magic.to_vec(),
        });
    }
    if bytes.len() >= 12 {
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return err(CheckpointErrorKind::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
    }
    if bytes.len() < HEADER_LEN {
        return err(CheckpointErrorKind::Truncated {
            file_len,
            expected_len: HEADER_LEN as u64,
        });
    }
    let payload_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let stored = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    let expected_len = (HEADER_LEN as u64).saturating_add(payload_len);
    if file_len < expected_len {
        return err(CheckpointErrorKind::Truncated {
            file_len,
            expected_len,
        });
    }
    if file_len > expected_len {
        return err(CheckpointErrorKind::TrailingBytes {
            file_len,
            expected_len,
        });
    }
    let payload = &bytes[HEADER_LEN..];
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return err(CheckpointErrorKind::ChecksumMismatch { stored, computed });
    }
    let type_name = std::any::type_name::<P>();
    match bincode::serde::decode_from_slice::<P, _>(payload, bincode::config::standard()) {
        Ok((value, read)) if read == payload.len() => Ok(value),
        Ok((_, read)) => err(CheckpointErrorKind::Decode {
            type_name,
            message: format!(
                "it ends at byte {}, leaving {} of the {} payload bytes unread",
                HEADER_LEN + read,
                payload.len() - read,
                payload.len()
            ),
        }),
        Err(bincode::error::DecodeError::UnexpectedEnd { additional }) => {
            err(CheckpointErrorKind::Decode {
                type_name,
                message: format!("the payload ends at least {additional} bytes too early"),
            })
        }
        Err(e) => err(CheckpointErrorKind::Decode {
            type_name,
            message: e.to_string(),
        }),
    }
}

/// Writes `payload` to `path` as a checkpoint (see the [module docs](self) for the layout),
/// atomically: through a temporary file in the same directory that is synced to disk and then
/// renamed over `path`. `payload` is any serde value — a [`ModuleState`], an optimizer's
/// state, or a struct bundling everything a training run needs to resume.
///
/// # Errors
/// [`CheckpointErrorKind::Encode`] if the value cannot be encoded;
/// [`CheckpointErrorKind::Io`] if the temporary file cannot be created, written or synced, or
/// cannot be renamed over `path` (e.g. the directory does not exist). On error the temporary
/// file is removed and any existing file at `path` is left as it was.
pub fn write_checkpoint<P: Serialize + ?Sized>(
    path: impl AsRef<Path>,
    payload: &P,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let bytes = encode_checkpoint(payload).map_err(|e| e.with_path(path))?;
    write_atomically(path, &bytes).map_err(|(action, source)| {
        CheckpointError::at(path, CheckpointErrorKind::Io { action, source })
    })
}

/// Reads the checkpoint at `path` and decodes its payload as a `P` (the type it was written
/// as).
///
/// # Errors
/// [`CheckpointErrorKind::Io`] if the file cannot be read; otherwise those of
/// [`decode_checkpoint`] — truncated, padded, wrong magic, unsupported version, bad checksum,
/// undecodable payload — each naming `path`.
pub fn read_checkpoint<P: DeserializeOwned>(path: impl AsRef<Path>) -> Result<P, CheckpointError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| {
        CheckpointError::at(
            path,
            CheckpointErrorKind::Io {
                action: "cannot read the file".into(),
                source,
            },
        )
    })?;
    decode_checkpoint(&bytes).map_err(|e| e.with_path(path))
}

/// Writes `bytes` to `path` with the one atomic writer ([`strata_io::write_atomically`]:
/// temporary file, sync, rename, folder sync; stale temporaries of killed writers removed). On
/// failure returns what was being done and the I/O error.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), (String, io::Error)> {
    strata_io::write_atomically(path, bytes).map_err(|e| (e.action, e.source))
}

// ---------------------------------------------------------------------------------------------
// ModuleState
// ---------------------------------------------------------------------------------------------

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
/// module's order ([`Module::params`], [`Module::buffers`]) but matched by name when applied.
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModuleState {
    /// The trainable parameters.
    pub params: Vec<NamedTensor>,
    /// The buffers (running statistics and other non-trainable state).
    pub buffers: Vec<NamedTensor>,
}

impl ModuleState {
    /// A copy of every parameter and buffer of `module`.
    pub fn capture<T: Element, M: Module<T> + ?Sized>(module: &M) -> Self {
        ModuleState {
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

    /// Copies the saved values into `module`'s parameters and buffers, matched by name.
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
    /// [`CheckpointErrorKind::DuplicateTensor`]. The error names no file; [`load_module`]
    /// adds it.
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
/// `path`, atomically (see [`write_checkpoint`]).
///
/// # Errors
/// As [`write_checkpoint`]; an existing file at `path` is left intact on error.
pub fn save_module<T: Element, M: Module<T> + ?Sized>(
    module: &M,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    write_checkpoint(path, &ModuleState::capture(module))
}

/// Loads a checkpoint written by [`save_module`] into `module`, whose architecture must match
/// (same names, shapes and element type).
///
/// # Errors
/// Those of [`read_checkpoint`] (unreadable, truncated or corrupt file) and of
/// [`ModuleState::apply`] (missing, extra or mis-shaped parameter or buffer), naming `path`.
/// On error the module is unchanged.
pub fn load_module<T: Element, M: Module<T> + ?Sized>(
    module: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let state: ModuleState = read_checkpoint(path)?;
    state.apply_owned(module).map_err(|e| e.with_path(path))
}
