//! [`TrainError`]: why training or resuming stopped.

use std::path::PathBuf;

use strata_layers::checkpoint::CheckpointError;

/// An error of the [`crate::Trainer`] or of an example's command line.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// An invalid setting (what, and what is accepted).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The loss, or a metric the step reported, became NaN or infinite (1-based epoch and
    /// batch).
    #[error(
        "the {quantity} became {loss} at epoch {epoch}, batch {batch}; training stopped (the last checkpoint, if any, is the last good state) — try a smaller learning rate or gradient clipping"
    )]
    NonFinite {
        /// Epoch, counting from 1.
        epoch: usize,
        /// Batch within the epoch, counting from 1.
        batch: usize,
        /// What became non-finite: `"loss"` or the name of a metric (`"free_energy"`).
        quantity: &'static str,
        /// Its value.
        loss: f64,
    },
    /// A checkpoint could not be written or read.
    #[error("{0}")]
    Checkpoint(CheckpointError),
    /// A checkpoint of another model.
    #[error("checkpoint {} holds a {found} model, not a {expected}", path.display())]
    WrongModel {
        /// The file.
        path: PathBuf,
        /// The model it holds.
        found: String,
        /// The model being trained.
        expected: String,
    },
    /// The optimizer state in a checkpoint does not fit.
    #[error("optimizer state: {0}")]
    Optimizer(String),
    /// A file-system error, with the path.
    #[error("{0}")]
    Io(String),
    /// A dataset could not be loaded.
    #[error("data: {0}")]
    Data(String),
}
