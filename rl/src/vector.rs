//! [`VecEnv`]: N copies of an environment stepped as one batch, resetting each copy as its
//! episode ends.

use serde::{Deserialize, Serialize};

use crate::{Env, EnvError};

/// What one batched step returns, copy `i`'s values at index `i`.
#[derive(Clone, Debug, PartialEq)]
pub struct VecTransition {
    /// The observations to act on next, `[N × obs_dim]` row-major: a copy whose episode ended
    /// this step already shows its new episode's first observation.
    pub observations: Vec<f32>,
    /// The rewards of the step.
    pub rewards: Vec<f64>,
    /// Which copies reached a terminal state.
    pub terminated: Vec<bool>,
    /// Which copies hit their time limit.
    pub truncated: Vec<bool>,
    /// The last observation of each episode that ended this step (`None` for the others):
    /// what a learner bootstraps from after a truncation.
    pub final_observations: Vec<Option<Vec<f32>>>,
}

/// N copies of an environment stepped together, with automatic reset in the same step (the
/// observation returned for a finished copy is its new episode's first, the finished
/// episode's last one is in [`VecTransition::final_observations`]) — Gymnasium's `SyncVectorEnv`
/// with `autoreset_mode = SAME_STEP`, so no step is spent on a reset.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VecEnv<E> {
    envs: Vec<E>,
    observations: Vec<f32>,
    dim: usize,
}

impl<E: Env + Clone> VecEnv<E> {
    /// `copies` clones of `env`.
    ///
    /// # Panics
    /// If `copies` is 0.
    pub fn new(env: E, copies: usize) -> Self {
        assert!(
            copies > 0,
            "VecEnv: needs at least one copy of {}",
            env.name()
        );
        let dim = env.observation_dim();
        VecEnv {
            envs: vec![env; copies],
            observations: vec![0.0; copies * dim],
            dim,
        }
    }

    /// The number of copies.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Always false: a vector holds at least one copy.
    pub fn is_empty(&self) -> bool {
        self.envs.is_empty()
    }

    /// The length of one observation.
    pub fn observation_dim(&self) -> usize {
        self.dim
    }

    /// The copies.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// Resets every copy, copy `i` with seed `seed + i` (as Gymnasium's vector `reset(seed)`),
    /// and returns the observations `[N × obs_dim]`.
    pub fn reset(&mut self, seed: Option<u64>) -> &[f32] {
        for (i, env) in self.envs.iter_mut().enumerate() {
            let obs = env.reset(seed.map(|s| s.wrapping_add(i as u64)));
            self.observations[i * self.dim..(i + 1) * self.dim].copy_from_slice(&obs);
        }
        &self.observations
    }

    /// The current observations `[N × obs_dim]`.
    pub fn observations(&self) -> &[f32] {
        &self.observations
    }

    /// Steps copy `i` with `actions[i]`, resetting the copies whose episode ended.
    ///
    /// # Errors
    /// [`EnvError::ActionCount`] if there is not one action per copy, or the first copy's
    /// [`EnvError`].
    pub fn step(&mut self, actions: &[usize]) -> Result<VecTransition, EnvError> {
        let n = self.envs.len();
        if actions.len() != n {
            return Err(EnvError::ActionCount {
                env: self.envs[0].name(),
                copies: n,
                got: actions.len(),
            });
        }
        let mut out = VecTransition {
            observations: Vec::with_capacity(n * self.dim),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            truncated: Vec::with_capacity(n),
            final_observations: Vec::with_capacity(n),
        };
        for (env, &action) in self.envs.iter_mut().zip(actions) {
            let t = env.step(action)?;
            out.rewards.push(t.reward);
            out.terminated.push(t.terminated);
            out.truncated.push(t.truncated);
            if t.done() {
                out.observations.extend(env.reset(None));
                out.final_observations.push(Some(t.observation));
            } else {
                out.observations.extend_from_slice(&t.observation);
                out.final_observations.push(None);
            }
        }
        self.observations.copy_from_slice(&out.observations);
        Ok(out)
    }
}
