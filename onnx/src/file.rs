//! Reading and writing ONNX files.

use std::path::Path;

use prost::Message;

use crate::OnnxError;
use crate::proto::ModelProto;

/// Writes `model` to `path` atomically (a temporary file renamed into place).
///
/// # Errors
/// [`OnnxError::Write`] naming the file.
pub fn save(model: &ModelProto, path: impl AsRef<Path>) -> Result<(), OnnxError> {
    Ok(strata_io::write_atomically(path, &model.encode_to_vec())?)
}

/// Reads an ONNX model from `path`.
///
/// # Errors
/// [`OnnxError::Io`] when the file cannot be read, [`OnnxError::Decode`] when it is not a
/// protocol-buffer ONNX model.
pub fn load(path: impl AsRef<Path>) -> Result<ModelProto, OnnxError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    decode(&bytes, &path.display().to_string())
}

/// Decodes an ONNX model from `bytes`; `what` names them in errors.
///
/// # Errors
/// [`OnnxError::Decode`] for bytes that are not a protocol-buffer ONNX model (a truncated
/// file, another format), or a model without a graph.
pub fn decode(bytes: &[u8], what: &str) -> Result<ModelProto, OnnxError> {
    let model = ModelProto::decode(bytes).map_err(|e| OnnxError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })?;
    if model.graph.is_none() {
        return Err(OnnxError::Decode {
            what: what.to_string(),
            reason: "it has no graph".to_string(),
        });
    }
    Ok(model)
}
