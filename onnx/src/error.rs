//! What can go wrong exporting or importing an ONNX model.

use std::path::PathBuf;

/// An ONNX export or import failure. Each variant says what failed, where and why.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "reading".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Writing a file failed (it was left as it was).
    #[error(transparent)]
    Write(#[from] strata_io::WriteError),
    /// The bytes are not an ONNX protocol-buffer message (truncated, or another format).
    #[error("{what} is not a valid ONNX model: {reason}")]
    Decode {
        /// The file or buffer.
        what: String,
        /// The decoder's reason.
        reason: String,
    },
    /// The model is well-formed but asks for something Strata does not run (an operator set
    /// version, an element type, external data, a subgraph).
    #[error("{what}: {reason}")]
    Unsupported {
        /// Where: the model, a node or a tensor.
        what: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A node uses an operator Strata does not implement.
    #[error("node {node:?}: operator {op:?} is not supported (supported: {supported})")]
    UnknownOp {
        /// The node's name (or its index when unnamed).
        node: String,
        /// The operator type.
        op: String,
        /// The operators Strata imports.
        supported: String,
    },
    /// The graph is inconsistent: a missing value, a bad attribute, shapes that do not fit.
    #[error("node {node:?} ({op}): {reason}")]
    Invalid {
        /// The node's name (or its index when unnamed).
        node: String,
        /// The operator type.
        op: String,
        /// What is wrong.
        reason: String,
    },
    /// A Strata module that cannot be written as ONNX (an unknown layer type, or a setting ONNX
    /// has no operator for).
    #[error("cannot export {module} at {path:?}: {reason}")]
    Export {
        /// The module's type.
        module: String,
        /// Its parameter path in the model (`""` for the root).
        path: String,
        /// Why.
        reason: String,
    },
}
