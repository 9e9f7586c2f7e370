//! Checkpoints of the training loop: [`TrainingState`], [`Trainer::save_checkpoint`] and
//! [`Trainer::resume`].

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};
use strata_autograd::Param;
use strata_layers::Module;
use strata_layers::checkpoint::{ModuleState, decoding_version, read_checkpoint, write_checkpoint};
use strata_optim::{Optimizer, OptimizerState};

use crate::TrainError;
use crate::history::History;
use crate::preprocessing::Preprocessing;
use crate::step::Step;
use crate::trainer::{Position, Trainer};

/// Everything needed to resume training, as written to a checkpoint.
#[derive(Serialize, Deserialize)]
pub struct TrainingState {
    /// A name of the model's architecture; a checkpoint of another model is refused.
    pub model_kind: String,
    /// Parameters and buffers.
    pub model: ModuleState,
    /// The optimizer's buffers and step count, by parameter position.
    pub optimizer: OptimizerState,
    /// Epochs completed, over all stages.
    pub epoch: usize,
    /// Where the run stands: the stage (layer of a layer-wise schedule) and the epochs
    /// completed within it.
    pub position: Position,
    /// The run's seed.
    pub seed: u64,
    /// Metrics of the completed epochs.
    pub history: History,
    /// The settings, as JSON (for the record).
    pub config_json: String,
    /// How the inputs were prepared ([`Trainer::with_preprocessing`]), if recorded (never in
    /// files of checkpoint format version 1, which had no such field).
    #[serde(deserialize_with = "since_format_version_2")]
    pub preprocessing: Option<Preprocessing>,
}

/// The `preprocessing` field: read from files of format version 2 on, `None` in version-1
/// files (which end before it; bincode cannot tell a missing field).
fn since_format_version_2<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Preprocessing>, D::Error> {
    if decoding_version() < 2 {
        Ok(None)
    } else {
        Option::<Preprocessing>::deserialize(deserializer)
    }
}

impl<M: Module, O: Optimizer, S: Step<M>> Trainer<M, O, S> {
    /// Writes the full training state (model, optimizer, position, seed, history) to `path`
    /// atomically: a crash never leaves a half-written file in place of a good one.
    ///
    /// # Errors
    /// [`TrainError::Io`] if the folder cannot be created; [`TrainError::Checkpoint`] if the
    /// file cannot be written.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), TrainError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| TrainError::Io(format!("creating {}: {e}", dir.display())))?;
        }
        let named = self.model.params();
        let params: Vec<&Param> = named.iter().map(|(_, p)| *p).collect();
        let state = TrainingState {
            model_kind: self.model_kind.clone(),
            model: ModuleState::capture(&self.model),
            optimizer: self.optimizer.state(&params),
            epoch: self.epochs_done,
            position: self.position,
            seed: self.config.seed,
            history: self.history.clone(),
            config_json: serde_json::to_string(&self.config).unwrap_or_default(),
            preprocessing: self.preprocessing.clone(),
        };
        write_checkpoint(path, &state).map_err(TrainError::Checkpoint)
    }

    /// Restores model, optimizer, position (stage and epoch), seed and history from a
    /// checkpoint written by [`Trainer::save_checkpoint`]; [`Trainer::fit`] then continues
    /// with the next epoch and the same random streams as an uninterrupted run, so it ends
    /// with the same weights bit for bit.
    ///
    /// # Errors
    /// [`TrainError::Checkpoint`] for an unreadable or corrupt file or one whose parameters do
    /// not fit the model; [`TrainError::WrongModel`] for a checkpoint of another model;
    /// [`TrainError::Optimizer`] for optimizer state of another kind. The trainer is
    /// unchanged on error.
    pub fn resume(&mut self, path: &Path) -> Result<(), TrainError> {
        let state: TrainingState = read_checkpoint(path).map_err(TrainError::Checkpoint)?;
        if state.model_kind != self.model_kind {
            return Err(TrainError::WrongModel {
                path: path.to_path_buf(),
                found: state.model_kind,
                expected: self.model_kind.clone(),
            });
        }
        // Weights first (validated before anything is written), then the optimizer state; if
        // the latter is refused, the previous weights are put back so nothing has changed.
        let previous = ModuleState::capture(&self.model);
        state
            .model
            .apply(&mut self.model)
            .map_err(|e| TrainError::Checkpoint(e.with_path(path)))?;
        let named = self.model.params();
        let params: Vec<&Param> = named.iter().map(|(_, p)| *p).collect();
        let loaded = self.optimizer.load_state(&params, &state.optimizer);
        drop(named);
        if let Err(e) = loaded {
            previous
                .apply_owned(&mut self.model)
                .expect("the model's own state fits it");
            return Err(TrainError::Optimizer(format!("{}: {e}", path.display())));
        }
        self.epochs_done = state.epoch;
        self.position = state.position;
        self.config.seed = state.seed;
        self.history = state.history;
        if state.preprocessing.is_some() {
            self.preprocessing = state.preprocessing;
        }
        Ok(())
    }
}

/// Loads the weights of a checkpoint written by [`Trainer::save_checkpoint`] (`best.ckpt`,
/// `last.ckpt`) into `model`, for inference, and returns the preprocessing the model was
/// trained with (`None` if the run recorded none): apply it to pixels in [0, 1] before
/// [`Module::predict`] to reproduce the accuracy the training run measured.
///
/// # Errors
/// [`TrainError::Checkpoint`] for an unreadable or corrupt file or one whose parameters do not
/// fit `model` (the model is then unchanged).
pub fn load_model<M: Module + ?Sized>(
    path: &Path,
    model: &mut M,
) -> Result<Option<Preprocessing>, TrainError> {
    let state: TrainingState = read_checkpoint(path).map_err(TrainError::Checkpoint)?;
    state
        .model
        .apply_owned(model)
        .map_err(|e| TrainError::Checkpoint(e.with_path(path)))?;
    Ok(state.preprocessing)
}
