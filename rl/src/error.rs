//! [`EnvError`] (what an environment refuses) and [`RlError`] (what training, evaluation and
//! checkpoints can fail with).

use std::path::PathBuf;

use strata_layers::checkpoint::CheckpointError;
use strata_optim::OptimError;

/// What an environment refuses. Every variant names the environment (`CartPole-v1`, …) and the
/// offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// The action is not in the action space `{0, …, actions − 1}`.
    #[error("{env}: action {action} is outside the action space {{0, …, {}}}", actions - 1)]
    InvalidAction {
        /// The environment.
        env: &'static str,
        /// The action given.
        action: usize,
        /// The number of actions.
        actions: usize,
    },
    /// `step` was called before the first `reset`.
    #[error("{env}: step called before reset")]
    NotReset {
        /// The environment.
        env: &'static str,
    },
    /// `step` was called after the episode ended, without a `reset` in between.
    #[error("{env}: step called after the episode was {how} at step {steps}; call reset first")]
    EpisodeOver {
        /// The environment.
        env: &'static str,
        /// `"terminated"` or `"truncated"`.
        how: &'static str,
        /// The steps the episode lasted.
        steps: u32,
    },
    /// A state or observation component is NaN or infinite.
    #[error("{env}: observation component {index} is {value}; states must be finite")]
    NonFiniteObservation {
        /// The environment.
        env: &'static str,
        /// Which component.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A state given to `set_state` has the wrong number of components.
    #[error("{env}: a state has {expected} components, got {got}")]
    StateSize {
        /// The environment.
        env: &'static str,
        /// Components the environment's state has.
        expected: usize,
        /// Components given.
        got: usize,
    },
    /// A vectorised step got a different number of actions than it has copies.
    #[error("{env} ×{copies}: got {got} actions, one per copy expected")]
    ActionCount {
        /// The environment.
        env: &'static str,
        /// Copies in the vector.
        copies: usize,
        /// Actions given.
        got: usize,
    },
}

/// Why training, evaluation or a checkpoint failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RlError {
    /// The environment refused a step.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// A setting is out of range; the message names it.
    #[error("{algorithm}: {message}")]
    Config {
        /// `"dqn"`, `"a2c"` or `"reinforce"`.
        algorithm: &'static str,
        /// What is wrong, naming the setting and its value.
        message: String,
    },
    /// The optimizer refused its settings or a saved state.
    #[error(transparent)]
    Optim(#[from] OptimError),
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A checkpoint holds a different algorithm or environment than the one loading it.
    #[error("{}: holds a {found} checkpoint, expected {expected}", path.display())]
    WrongCheckpoint {
        /// The file.
        path: PathBuf,
        /// What it holds.
        found: String,
        /// What the caller asked for.
        expected: String,
    },
    /// The loss or a gradient became NaN or infinite.
    #[error("{algorithm}: the loss became {value} at environment step {step}")]
    NonFiniteLoss {
        /// The algorithm.
        algorithm: &'static str,
        /// The loss value.
        value: f64,
        /// Environment steps taken so far.
        step: u64,
    },
    /// An output file (a picture, a table) could not be written.
    #[error("{}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
