//! The [`Env`] trait (Gymnasium's `reset`/`step` contract) and the [`EpisodeClock`] every
//! environment uses to enforce it: no step before `reset`, none after the episode ended, and
//! truncation at the time limit.

use serde::{Deserialize, Serialize};

use crate::{EnvError, Space};

/// What one step returns (Gymnasium's `obs, reward, terminated, truncated`).
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The observation after the step.
    pub observation: Vec<f32>,
    /// The reward for the step.
    pub reward: f64,
    /// The episode reached a terminal state (the pole fell, the goal was reached): the value
    /// of the next state is zero.
    pub terminated: bool,
    /// The time limit cut the episode short: the next state still has a value. Both flags can
    /// be set together, as in Gymnasium's `TimeLimit`.
    pub truncated: bool,
}

impl Transition {
    /// Whether the episode is over (terminated or truncated): `reset` must come next.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// An environment with Gymnasium semantics and a discrete action space.
///
/// `reset(Some(seed))` reseeds the environment's own random stream (and `reset(None)`
/// continues it), so a seeded sequence of episodes repeats exactly. `step` after the episode
/// ended, before the first `reset`, or with an action outside the action space returns an
/// [`EnvError`] naming the environment and the value instead of Gymnasium's undefined
/// behaviour.
pub trait Env {
    /// Gymnasium's id, e.g. `"CartPole-v1"`.
    fn name(&self) -> &'static str;
    /// The observation space (a `Box`).
    fn observation_space(&self) -> Space;
    /// The action space (`Discrete(n)`).
    fn action_space(&self) -> Space;
    /// Starts an episode and returns its first observation.
    fn reset(&mut self, seed: Option<u64>) -> Vec<f32>;
    /// Applies `action` and returns what followed.
    ///
    /// # Errors
    /// [`EnvError::InvalidAction`], [`EnvError::NotReset`], [`EnvError::EpisodeOver`], or
    /// [`EnvError::NonFiniteObservation`] if the dynamics produced a non-finite state.
    fn step(&mut self, action: usize) -> Result<Transition, EnvError>;
    /// The steps taken in the current episode.
    fn elapsed_steps(&self) -> u32;
    /// The observation of the current state (what the last `reset` or `step` returned).
    fn observation(&self) -> Vec<f32>;

    /// The return at which Gymnasium calls the task solved (its `reward_threshold`), if it
    /// names one.
    fn reward_threshold(&self) -> Option<f64> {
        None
    }
    /// The number of actions of the (discrete) action space.
    fn num_actions(&self) -> usize {
        self.action_space()
            .actions()
            .expect("Env::num_actions: the action space is not discrete")
    }
    /// The length of an observation.
    fn observation_dim(&self) -> usize {
        self.observation_space().dim()
    }
}

/// Where an episode stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EpisodeStatus {
    /// No `reset` yet.
    NotStarted,
    /// Steps may be taken.
    Running,
    /// A terminal state was reached.
    Terminated,
    /// The time limit was reached.
    Truncated,
}

/// Counts an episode's steps against its time limit and refuses steps that Gymnasium leaves
/// undefined. Every environment here holds one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeClock {
    /// Steps taken in the current episode.
    pub steps: u32,
    /// Gymnasium's `max_episode_steps`: the step at which the episode is truncated.
    pub max_steps: u32,
    /// Where the episode stands.
    pub status: EpisodeStatus,
}

impl EpisodeClock {
    /// A clock for episodes of at most `max_steps` steps.
    ///
    /// # Panics
    /// If `max_steps` is 0.
    pub fn new(max_steps: u32) -> Self {
        assert!(
            max_steps > 0,
            "EpisodeClock: the time limit must be at least one step"
        );
        EpisodeClock {
            steps: 0,
            max_steps,
            status: EpisodeStatus::NotStarted,
        }
    }

    /// Starts a new episode.
    pub fn reset(&mut self) {
        self.steps = 0;
        self.status = EpisodeStatus::Running;
    }

    /// Checks that `action` may be taken now.
    ///
    /// # Errors
    /// As [`Env::step`].
    pub fn check(&self, env: &'static str, action: usize, actions: usize) -> Result<(), EnvError> {
        match self.status {
            EpisodeStatus::NotStarted => return Err(EnvError::NotReset { env }),
            EpisodeStatus::Terminated => {
                return Err(EnvError::EpisodeOver {
                    env,
                    how: "terminated",
                    steps: self.steps,
                });
            }
            EpisodeStatus::Truncated => {
                return Err(EnvError::EpisodeOver {
                    env,
                    how: "truncated",
                    steps: self.steps,
                });
            }
            EpisodeStatus::Running => {}
        }
        if action >= actions {
            return Err(EnvError::InvalidAction {
                env,
                action,
                actions,
            });
        }
        Ok(())
    }

    /// Counts one step that ended in a terminal state or not, and returns
    /// `(terminated, truncated)`; truncated when the count reaches the limit (Gymnasium's
    /// `TimeLimit`, which sets it even when the step also terminated).
    pub fn tick(&mut self, terminated: bool) -> (bool, bool) {
        self.steps += 1;
        let truncated = self.steps >= self.max_steps;
        self.status = if terminated {
            EpisodeStatus::Terminated
        } else if truncated {
            EpisodeStatus::Truncated
        } else {
            EpisodeStatus::Running
        };
        (terminated, truncated)
    }
}

/// Checks that every component of a state or observation (`f64` or `f32`) is finite.
///
/// # Errors
/// [`EnvError::NonFiniteObservation`] naming the first bad component.
pub fn check_finite<V: Copy + Into<f64>>(env: &'static str, values: &[V]) -> Result<(), EnvError> {
    match values
        .iter()
        .map(|&v| v.into())
        .position(|v: f64| !v.is_finite())
    {
        Some(index) => Err(EnvError::NonFiniteObservation {
            env,
            index,
            value: values[index].into(),
        }),
        None => Ok(()),
    }
}
