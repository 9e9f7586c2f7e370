//! [`CheckpointError`]: what went wrong reading or writing a checkpoint, and where.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{HEADER_LEN, MAGIC};

/// Whether a named tensor of a module is a trainable parameter or a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TensorKind {
    /// A trainable parameter ([`Module::params`](crate::Module::params)).
    Parameter,
    /// A non-trainable buffer ([`Module::buffers`](crate::Module::buffers)), e.g. `running_mean`.
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
        /// The newest version this build reads, [`FORMAT_VERSION`](super::FORMAT_VERSION) (it
        /// reads every version from 1 up to it).
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
    /// The kind label names another type than the one requested: the file holds another kind
    /// of state (an optimizer state, a training checkpoint) than the one being read (a module
    /// state).
    WrongKind {
        /// The kind the file holds ([`checkpoint_kind`](super::checkpoint_kind) of the type it
        /// was written as, `OptimizerState`).
        found: String,
        /// The kind requested (`ModuleState`).
        expected: String,
    },
    /// The saved state was taken from a model of another architecture: the first module
    /// (depth first, see [`describe_architecture`](super::describe_architecture)) whose path
    /// or description differs. Parameter names and shapes alone can agree between, say, a
    /// LeNet-5 with tanh and average pooling and one with ReLU and max pooling.
    ArchitectureMismatch {
        /// The saved state's module at that position (`None`: the saved model has fewer
        /// modules).
        saved: Option<super::LayerDescription>,
        /// The model's module at that position (`None`: the model has fewer modules).
        model: Option<super::LayerDescription>,
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
    /// [`ModuleState::converted`](super::ModuleState::converted) to convert on purpose).
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

    pub(super) fn at(path: &Path, kind: CheckpointErrorKind) -> Self {
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
                "unsupported format version {found} (bytes 8..12); this build reads versions 1 to {supported}"
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
            K::WrongKind { found, expected } => {
                let expected = kind_phrase(expected);
                write!(
                    f,
                    "{saved} is a Strata {}, not {} {expected}",
                    kind_phrase(found),
                    article(&expected)
                )
            }
            K::ArchitectureMismatch { saved: s, model } => {
                f.write_str("the saved state is of another architecture: ")?;
                match (s, model) {
                    (Some(s), Some(m)) if s.path == m.path => write!(
                        f,
                        "{} is {} in {saved} but {} in the model",
                        layer_name(&s.path),
                        s.kind,
                        m.kind
                    ),
                    (Some(s), Some(m)) => write!(
                        f,
                        "{saved} has {} ({}) where the model has {} ({})",
                        layer_name(&s.path),
                        s.kind,
                        layer_name(&m.path),
                        m.kind
                    ),
                    (Some(s), None) => write!(
                        f,
                        "{saved} has {} ({}), which the model does not have",
                        layer_name(&s.path),
                        s.kind
                    ),
                    (None, Some(m)) => write!(
                        f,
                        "the model has {} ({}), which {saved} does not have",
                        layer_name(&m.path),
                        m.kind
                    ),
                    (None, None) => f.write_str("they differ"),
                }
            }
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

/// `OptimizerState` → ``optimizer state (`OptimizerState`)`` (a CamelCase name in words);
/// anything else → ``a `(u8, u8)` value``.
fn kind_phrase(kind: &str) -> String {
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
        return format!("`{kind}` value");
    }
    let mut words = String::new();
    for (i, c) in kind.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    format!("{words} (`{kind}`)")
}

/// `a` or `an` before `phrase`.
fn article(phrase: &str) -> &'static str {
    if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// `features.1` → `layer "features.1"`; the empty path → `the model itself`.
fn layer_name(path: &str) -> String {
    if path.is_empty() {
        "the top-level module".to_string()
    } else {
        format!("layer {path:?}")
    }
}

impl From<super::IoFailure> for CheckpointErrorKind {
    fn from(e: super::IoFailure) -> Self {
        CheckpointErrorKind::Io {
            action: e.action,
            source: e.source,
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
