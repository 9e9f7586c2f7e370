//! What a trial was and how it ended.

use serde::{Deserialize, Serialize};

use crate::space::Config;

/// How a trial ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialState {
    /// It ran to the end; its value counts.
    Complete,
    /// The pruner stopped it early; its value is the last one reported.
    Pruned,
    /// The objective returned an error (kept with the message).
    Failed,
}

/// One evaluated configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Its number, from 0 in the order trials were started.
    pub id: usize,
    /// The configuration.
    pub config: Config,
    /// How it ended.
    pub state: TrialState,
    /// The objective (lower is better): the final value of a complete trial, the last
    /// reported value of a pruned one, `None` for a failed one.
    pub value: Option<f64>,
    /// The values reported after each epoch (the validation metric).
    pub intermediate: Vec<f64>,
    /// Wall-clock seconds the trial took.
    pub seconds: f64,
    /// The objective's error, for a failed trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Trial {
    /// Epochs run (values reported).
    pub fn epochs(&self) -> usize {
        self.intermediate.len()
    }

    /// The value if the trial completed.
    pub fn complete_value(&self) -> Option<f64> {
        (self.state == TrialState::Complete)
            .then_some(self.value)
            .flatten()
    }
}

/// The best complete trial (lowest value; the earliest on ties).
pub fn best(trials: &[Trial]) -> Option<&Trial> {
    trials
        .iter()
        .filter(|t| t.complete_value().is_some_and(f64::is_finite))
        .min_by(|a, b| {
            a.value
                .partial_cmp(&b.value)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.id.cmp(&b.id))
        })
}
