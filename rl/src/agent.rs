//! The [`Agent`] trait every algorithm implements, greedy [`evaluate`]-ion, and the checkpoint
//! envelope that records which algorithm and environment a file holds.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use strata_autograd::Param;
use strata_layers::Module;
use strata_layers::checkpoint::{
    CheckpointErrorKind, decode_checkpoint, encode_checkpoint, read_checkpoint, write_checkpoint,
};

use crate::{Env, Episode, EpisodeLog, RlError};

/// A learner that acts in an environment and improves from what it sees.
pub trait Agent {
    /// The algorithm: `"dqn"`, `"a2c"` or `"reinforce"`.
    fn algorithm(&self) -> &'static str;
    /// The environment it trains in (Gymnasium's id).
    fn env_name(&self) -> &'static str;
    /// Environment steps taken in training so far (all copies counted).
    fn env_steps(&self) -> u64;
    /// The training episodes so far.
    fn log(&self) -> &EpisodeLog;
    /// Trains until [`env_steps`](Self::env_steps) reaches `env_steps`, calling `on_episode`
    /// as each training episode ends. An agent stops only between updates, so it may overshoot
    /// to the end of its rollout (A2C) or batch of episodes (REINFORCE); because the target is
    /// a total, a run stopped at any target and resumed repeats an uninterrupted one.
    ///
    /// # Errors
    /// [`RlError::Env`] if the environment refuses a step, [`RlError::NonFiniteLoss`] if the
    /// loss diverges.
    fn train_until(
        &mut self,
        env_steps: u64,
        on_episode: &mut dyn FnMut(&Episode, &EpisodeLog),
    ) -> Result<(), RlError>;
    /// The greedy action for one observation (the most probable, or the highest value).
    fn act(&mut self, observation: &[f32]) -> usize;
    /// Writes the whole training state — networks, optimizer, replay memory, environments,
    /// random streams, episode log — atomically to `path`, so that loading it and training on
    /// repeats an uninterrupted run exactly.
    ///
    /// # Errors
    /// [`RlError::Checkpoint`] if the file cannot be written.
    fn save(&self, path: &Path) -> Result<(), RlError>;
}

/// The returns of greedy evaluation episodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Each episode's return.
    pub returns: Vec<f64>,
}

impl Evaluation {
    /// The mean return.
    pub fn mean(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len() as f64
    }

    /// The population standard deviation of the returns.
    pub fn std(&self) -> f64 {
        let m = self.mean();
        (self.returns.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / self.returns.len() as f64)
            .sqrt()
    }
}

/// Runs `episodes` greedy episodes of `agent` in `env` (episode `i` reset with seed
/// `seed + i`) and returns their returns. The agent does not learn.
///
/// # Errors
/// [`RlError::Env`] if the environment refuses a step.
pub fn evaluate<A: Agent + ?Sized, E: Env + ?Sized>(
    agent: &mut A,
    env: &mut E,
    episodes: usize,
    seed: u64,
) -> Result<Evaluation, RlError> {
    let mut returns = Vec::with_capacity(episodes);
    for i in 0..episodes {
        let mut observation = env.reset(Some(seed.wrapping_add(i as u64)));
        let mut score = 0.0;
        loop {
            let t = env.step(agent.act(&observation))?;
            score += t.reward;
            if t.done() {
                break;
            }
            observation = t.observation;
        }
        returns.push(score);
    }
    Ok(Evaluation { returns })
}

/// The number of actions of a discrete action space, or a configuration error of `algorithm`.
pub(crate) fn discrete_actions<E: Env>(env: &E, algorithm: &'static str) -> Result<usize, RlError> {
    env.action_space().actions().ok_or_else(|| RlError::Config {
        algorithm,
        message: format!(
            "{} has a continuous action space; only discrete actions are supported",
            env.name()
        ),
    })
}

/// The parameters of two modules, `a`'s first, for one optimizer.
pub(crate) fn params_of<'a>(a: &'a mut dyn Module, b: &'a mut dyn Module) -> Vec<&'a mut Param> {
    a.params_mut()
        .into_iter()
        .chain(b.params_mut())
        .map(|(_, p)| p)
        .collect()
}

/// The parameters of several modules, read-only.
pub(crate) fn param_refs<'a>(modules: &[&'a dyn Module]) -> Vec<&'a Param> {
    modules
        .iter()
        .flat_map(|m| m.params().into_iter().map(|(_, p)| p))
        .collect()
}

/// What every agent checkpoint holds around the algorithm's own state: the algorithm and the
/// environment, checked before the state is decoded.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    algorithm: String,
    env: String,
    state: Vec<u8>,
}

const FORMAT: &str = "strata-rl agent";

/// Writes `state` of `algorithm` in `env` to `path` (atomically, in the checked container).
pub(crate) fn save_state<S: Serialize>(
    path: &Path,
    algorithm: &str,
    env: &str,
    state: &S,
) -> Result<(), RlError> {
    let envelope = Envelope {
        format: FORMAT.into(),
        algorithm: algorithm.into(),
        env: env.into(),
        state: encode_checkpoint(state).map_err(|e| e.with_path(path))?,
    };
    Ok(write_checkpoint(path, &envelope)?)
}

/// Reads what [`save_state`] wrote, refusing another algorithm's file.
pub(crate) fn load_state<S: DeserializeOwned>(path: &Path, algorithm: &str) -> Result<S, RlError> {
    let envelope: Envelope = read_checkpoint(path).map_err(|e| match e.kind() {
        CheckpointErrorKind::Decode { .. } => RlError::WrongCheckpoint {
            path: path.to_path_buf(),
            found: "Strata checkpoint that is not an agent's".into(),
            expected: algorithm.into(),
        },
        CheckpointErrorKind::WrongKind { found, .. } => RlError::WrongCheckpoint {
            path: path.to_path_buf(),
            found: format!("Strata `{found}`"),
            expected: algorithm.into(),
        },
        _ => RlError::Checkpoint(e),
    })?;
    if envelope.format != FORMAT || envelope.algorithm != algorithm {
        return Err(RlError::WrongCheckpoint {
            path: path.to_path_buf(),
            found: format!(
                "{} {} ({})",
                envelope.algorithm, envelope.env, envelope.format
            ),
            expected: algorithm.into(),
        });
    }
    Ok(decode_checkpoint(&envelope.state).map_err(|e| e.with_path(path))?)
}
