//! [`OptimError`]: what can go wrong building an optimizer or schedule, or loading saved state.

use std::fmt;

/// An invalid configuration (rejected when an optimizer, schedule or early-stopping rule is
/// built) or a saved state that does not fit the optimizer and parameters it is loaded into.
///
/// Every variant names what was wrong and, for per-parameter problems, the parameter's
/// position in the slice given to [`crate::Optimizer::load_state`].
#[derive(Clone, Debug, PartialEq)]
pub enum OptimError {
    /// A hyper-parameter is outside its valid range (or not finite).
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
    IncompatibleOptions {
        /// The optimizer being configured.
        owner: &'static str,
        /// Why the combination is rejected.
        reason: &'static str,
    },
    /// The state was saved by another kind of optimizer.
    KindMismatch {
        /// The kind of the optimizer loading the state (`"adam"`).
        expected: &'static str,
        /// The kind written in the state.
        found: String,
    },
    /// The state holds entries for a different number of parameters than were given.
    ParamCountMismatch {
        /// Number of parameters given to `load_state`.
        expected: usize,
        /// Number of parameter entries in the state.
        found: usize,
    },
    /// A hyper-parameter this optimizer needs is absent from the state.
    MissingHyperParameter {
        /// The optimizer kind.
        kind: &'static str,
        /// The missing hyper-parameter.
        name: &'static str,
    },
    /// The state carries a hyper-parameter this optimizer does not have.
    UnknownHyperParameter {
        /// The optimizer kind.
        kind: &'static str,
        /// The unknown name.
        name: String,
    },
    /// A parameter's entry lacks a buffer the (loaded) configuration needs.
    MissingBuffer {
        /// The optimizer kind.
        kind: &'static str,
        /// Position of the parameter in the slice given to `load_state`.
        index: usize,
        /// The missing buffer (`"exp_avg"`, …).
        buffer: &'static str,
    },
    /// A parameter's entry carries a buffer the (loaded) configuration does not use.
    UnexpectedBuffer {
        /// The optimizer kind.
        kind: &'static str,
        /// Position of the parameter in the slice given to `load_state`.
        index: usize,
        /// The unexpected buffer's name.
        buffer: String,
    },
    /// A buffer's shape differs from its parameter's.
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
    /// A saved schedule or early-stopping state is inconsistent with the object loading it.
    InvalidState {
        /// The schedule or rule loading the state.
        owner: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::InvalidHyperParameter {
                owner,
                name,
                value,
                expected,
            } => write!(f, "{owner}: invalid {name} = {value} (expected {expected})"),
            OptimError::IncompatibleOptions { owner, reason } => write!(f, "{owner}: {reason}"),
            OptimError::KindMismatch { expected, found } => write!(
                f,
                "optimizer state was saved by '{found}' and cannot be loaded into '{expected}'"
            ),
            OptimError::ParamCountMismatch { expected, found } => write!(
                f,
                "optimizer state holds {found} parameter entries but {expected} parameters were given"
            ),
            OptimError::MissingHyperParameter { kind, name } => {
                write!(f, "{kind} state: hyper-parameter '{name}' is missing")
            }
            OptimError::UnknownHyperParameter { kind, name } => {
                write!(f, "{kind} state: unknown hyper-parameter '{name}'")
            }
            OptimError::MissingBuffer {
                kind,
                index,
                buffer,
            } => write!(
                f,
                "{kind} state, parameter {index}: buffer '{buffer}' is missing"
            ),
            OptimError::UnexpectedBuffer {
                kind,
                index,
                buffer,
            } => write!(
                f,
                "{kind} state, parameter {index}: buffer '{buffer}' is not used by this configuration"
            ),
            OptimError::BufferShapeMismatch {
                kind,
                index,
                buffer,
                expected,
                found,
            } => write!(
                f,
                "{kind} state, parameter {index}: buffer '{buffer}' has shape {found:?} but the parameter has shape {expected:?}"
            ),
            OptimError::BufferLengthMismatch {
                kind,
                index,
                buffer,
                shape,
                len,
            } => write!(
                f,
                "{kind} state, parameter {index}: buffer '{buffer}' of shape {shape:?} holds {len} values"
            ),
            OptimError::InvalidState { owner, reason } => write!(f, "{owner} state: {reason}"),
        }
    }
}

impl std::error::Error for OptimError {}

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
