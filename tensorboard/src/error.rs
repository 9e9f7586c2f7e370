//! [`TensorBoardError`]: what can go wrong writing or reading an event file.

use std::path::PathBuf;

/// An error writing or reading a TensorBoard log: what, where (path, byte offset) and why.
#[derive(Debug, thiserror::Error)]
pub enum TensorBoardError {
    /// A file or folder could not be created, written, read or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A complete record whose checksum does not match: the file was damaged after it was
    /// written (a crash only ever cuts the last record short, which is not an error).
    #[error("{}: byte {offset}: the record's {what} does not match (the file is damaged)", path.display())]
    Corrupt {
        /// The event file.
        path: PathBuf,
        /// Byte offset of the record.
        offset: usize,
        /// Which checksum failed.
        what: &'static str,
    },
    /// A record with good checksums whose payload is not an `Event` message.
    #[error("{}: byte {offset}: the record is not an event: {message}", path.display())]
    Decode {
        /// The event file.
        path: PathBuf,
        /// Byte offset of the record.
        offset: usize,
        /// The decoder's message.
        message: String,
    },
    /// An image that cannot be encoded (zero or oversized dimensions).
    #[error("image `{tag}`: {message}")]
    Image {
        /// The image's tag.
        tag: String,
        /// Why.
        message: String,
    },
}

impl TensorBoardError {
    /// An [`TensorBoardError::Io`] error about `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TensorBoardError::Io { path, source }
    }
}
