//! What can go wrong in a search.

use std::path::PathBuf;

/// A search failure: what, where and why.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A dimension of a search space is malformed.
    #[error("search space, dimension {dimension:?}: {reason}")]
    Space {
        /// The dimension's name.
        dimension: String,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A file's contents are not what was expected.
    #[error("{path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where known.
        reason: String,
    },
    /// Writing a file failed (it was left as it was).
    #[error(transparent)]
    Write(#[from] strata_io::WriteError),
    /// Drawing a plot failed.
    #[error("plotting {path}: {reason}")]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// The plotting library's reason.
        reason: String,
    },
    /// The settings of a study are unusable.
    #[error("study settings: {0}")]
    Settings(String),
}
