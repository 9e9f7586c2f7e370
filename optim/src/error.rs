//! [`OptimError`]: what can go wrong building an optimizer or schedule, or loading saved state.

/// An invalid configuration (rejected when an optimizer, schedule or early-stopping rule is
/// built) or a saved state that does not fit the optimizer and parameters it is loaded into.
///
/// Every variant names what was wrong and, for per-parameter problems, the parameter's
/// position in the slice given to [`crate::Optimizer::load_state`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// A hyper-parameter is outside its valid range (or not finite).
    #[error("{owner}: invalid {name} = {value} (expected {expected})")]
    InvalidHyperParameter {
        /// The optimizer or schedule being configured (`"Adam"`, `"StepLr"`, …).
        owner: &'static str,
        /// The hyper-parameter's name (`"lr"`, `"beta1"`, …).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range, in words (`"in [0, 1)"`).
        expected: &'static str,
    },
    /// Options that are valid one by one but not together (Nesterov momentum without
    /// momentum, or with dampening).
    #[error("{owner}: {reason}")]
    IncompatibleOptions {
        /// The optimizer being configured.
        owner: &'static str,
        /// Why the combination is rejected.
        reason: &'static str,
    },
    /// The state was saved by another kind of optimizer.
    #[error("optimizer state was saved by '{found}' and cannot be loaded into '{expected}'")]
    KindMismatch {
        /// The kind of the optimizer loading the state (`"adam"`).
        expected: &'static str,
        /// The kind written in the state.
        found: String,
    },
    /// The state holds entries for a different number of parameters than were given.
    #[error("optimizer state holds {found} parameter entries but {expected} parameters were given")]
    ParamCountMismatch {
        /// Number of parameters given to `load_state`.
        expected: usize,
        /// Number of parameter entries in the state.
        found: usize,
    },
    /// A hyper-parameter the optimizer needs is absent from a state of the unversioned format
    /// (written before [`crate::OptimizerState::FORMAT`]).
    #[error("{kind} state: hyper-parameter '{name}' is missing")]
    MissingHyperParameter {
        /// The optimizer kind.
        kind: &'static str,
        /// The missing hyper-parameter.
        name: &'static str,
    },
    /// A state of the unversioned format (written before [`crate::OptimizerState::FORMAT`])
    /// carries a hyper-parameter its optimizer does not have.
    #[error("{kind} state: unknown hyper-parameter '{name}'")]
    UnknownHyperParameter {
        /// The optimizer kind.
        kind: &'static str,
        /// The unknown name.
        name: String,
    },
    /// A parameter's entry lacks a buffer the (loaded) configuration needs.
    #[error("{kind} state, parameter {index}: buffer '{buffer}' is missing")]
    MissingBuffer {
        /// The optimizer kind.
        kind: &'static str,
        /// Position of the parameter in the slice given to `load_state`.
        index: usize,
        /// The missing buffer (`"exp_avg"`, …).
        buffer: &'static str,
    },
    /// A parameter's entry carries a buffer the (loaded) configuration does not use.
    #[error("{kind} state, parameter {index}: buffer '{buffer}' is not used by this configuration")]
    UnexpectedBuffer {
        /// The optimizer kind.
        kind: &'static str,
        /// Position of the parameter in the slice given to `load_state`.
        index: usize,
        /// The unexpected buffer's name.
        buffer: String,
    },
    /// A buffer's shape differs from its parameter's.
    #[error(
        "{kind} state, parameter {index}: buffer '{buffer}' has shape {found:?} but the parameter has shape {expected:?}"
    )]
    BufferShapeMismatch {
        /// The optimizer kind.
        kind: &'static str,
        /// Position of the parameter in the slice given to `load_state`.
        index: usize,
        /// The buffer's name.
        buffer: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The buffer's shape in the state.
        found: Vec<usize>,
    },
    /// A buffer holds a number of values other than the product of its shape.
    #[error(
        "{kind} state, parameter {index}: buffer '{buffer}' of shape {shape:?} holds {len} values"
    )]
    BufferLengthMismatch {
        /// The optimizer kind.
        kind: &'static str,
        /// Position of the parameter in the slice given to `load_state`.
        index: usize,
        /// The buffer's name.
        buffer: String,
        /// The buffer's declared shape.
        shape: Vec<usize>,
        /// Number of values it holds.
        len: usize,
    },
    /// A parameter group ([`crate::ParamGroup`]) that cannot be added, or a saved group that
    /// cannot be loaded: a learning rate, scale or weight decay that is negative or not finite,
    /// a parameter already in another group, a group of no parameter, a position past the
    /// parameters given.
    #[error("{owner}::{method}: parameter group {group}: {reason}")]
    InvalidParamGroup {
        /// The optimizer (`"Sgd"`, `"AdamW"`, …).
        owner: &'static str,
        /// The method refusing the group (`"add_param_group"`, `"load_state"`).
        method: &'static str,
        /// The group's index (the one it would have had, for a group being added).
        group: usize,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// A saved schedule or early-stopping state is inconsistent with the object loading it, or
    /// an optimizer state of the unversioned format names an unknown kind.
    #[error("{owner} state: {reason}")]
    InvalidState {
        /// The schedule or rule loading the state.
        owner: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// `Ok` for a count of at least one step (a period, a phase, a multiplier), else
/// [`OptimError::InvalidHyperParameter`] naming `owner`, `name` and the 0.
pub(crate) fn at_least_one(
    owner: &'static str,
    name: &'static str,
    value: u64,
) -> Result<(), OptimError> {
    if value >= 1 {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            owner,
            name,
            value: value as f64,
            expected: "≥ 1",
        })
    }
}

/// Checks `0 ≤ value` (and finiteness).
pub(crate) fn non_negative(
    owner: &'static str,
    name: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            owner,
            name,
            value,
            expected: "finite and ≥ 0",
        })
    }
}

/// Checks `0 ≤ value < 1`.
pub(crate) fn unit_half_open(
    owner: &'static str,
    name: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            owner,
            name,
            value,
            expected: "in [0, 1)",
        })
    }
}

/// Checks `0 ≤ value ≤ 1`.
pub(crate) fn unit_closed(
    owner: &'static str,
    name: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            owner,
            name,
            value,
            expected: "in [0, 1]",
        })
    }
}
