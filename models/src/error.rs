//! [`TrainError`]: why training or resuming stopped.

use std::fmt;
use std::path::PathBuf;

use strata_layers::checkpoint::CheckpointError;

/// An error of the [`crate::Trainer`] or of an example's command line.
#[derive(Debug)]
pub enum TrainError {
    /// An invalid setting (what, and what is accepted).
    Config(String),
    /// The loss, or a metric the step reported, became NaN or infinite (1-based epoch and
    /// batch).
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
    Checkpoint(CheckpointError),
    /// A checkpoint of another model.
    WrongModel {
        /// The file.
        path: PathBuf,
        /// The model it holds.
        found: String,
        /// The model being trained.
        expected: String,
    },
    /// The optimizer state in a checkpoint does not fit.
    Optimizer(String),
    /// A file-system error, with the path.
    Io(String),
    /// A dataset could not be loaded.
    Data(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Config(what) => write!(f, "invalid configuration: {what}"),
            TrainError::NonFinite {
                epoch,
                batch,
                quantity,
                loss,
            } => {
                write!(
                    f,
                    "the {quantity} became {loss} at epoch {epoch}, batch {batch}; training stopped (the last checkpoint, if any, is the last good state) — try a smaller learning rate or gradient clipping"
                )
            }
            TrainError::Checkpoint(e) => write!(f, "{e}"),
            TrainError::WrongModel {
                path,
                found,
                expected,
            } => {
                write!(
                    f,
                    "checkpoint {} holds a {found} model, not a {expected}",
                    path.display()
                )
            }
            TrainError::Optimizer(what) => write!(f, "optimizer state: {what}"),
            TrainError::Io(what) => write!(f, "{what}"),
            TrainError::Data(what) => write!(f, "data: {what}"),
        }
    }
}

impl std::error::Error for TrainError {}
