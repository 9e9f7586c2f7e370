//! [`EpisodeLog`]: every finished episode's return, length and the environment step it ended
//! at — the learning curve, the "mean of the last 100" and the step it first solved the task.

use serde::{Deserialize, Serialize};

/// One finished episode.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// The sum of its rewards.
    pub score: f64,
    /// Its steps.
    pub length: u32,
    /// Environment steps taken in the whole run when it ended (all copies counted).
    pub env_step: u64,
}

/// The episodes of a training run, in the order they ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeLog {
    episodes: Vec<Episode>,
    solved_at: Option<u64>,
}

impl EpisodeLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an episode; if the mean of the last 100 first reaches `threshold`, remembers the
    /// step.
    pub fn push(&mut self, episode: Episode, threshold: f64) {
        self.episodes.push(episode);
        if self.solved_at.is_none()
            && self.episodes.len() >= 100
            && self.mean_last(100) >= threshold
        {
            self.solved_at = Some(episode.env_step);
        }
    }

    /// The episodes.
    pub fn episodes(&self) -> &[Episode] {
        &self.episodes
    }

    /// The number of episodes.
    pub fn len(&self) -> usize {
        self.episodes.len()
    }

    /// Whether no episode has finished.
    pub fn is_empty(&self) -> bool {
        self.episodes.is_empty()
    }

    /// The mean return of the last `n` episodes (fewer if fewer ended; NaN if none).
    pub fn mean_last(&self, n: usize) -> f64 {
        let tail = &self.episodes[self.episodes.len().saturating_sub(n)..];
        tail.iter().map(|e| e.score).sum::<f64>() / tail.len() as f64
    }

    /// The environment step at which the mean of the last 100 returns first reached the
    /// threshold given to [`push`](Self::push).
    pub fn solved_at(&self) -> Option<u64> {
        self.solved_at
    }

    /// The learning curve: for each episode, `(env_step, mean return of the last `window`
    /// episodes)`.
    pub fn curve(&self, window: usize) -> Vec<(f64, f64)> {
        let window = window.max(1);
        let mut sum = 0.0;
        self.episodes
            .iter()
            .enumerate()
            .map(|(i, e)| {
                sum += e.score;
                if i >= window {
                    sum -= self.episodes[i - window].score;
                }
                (e.env_step as f64, sum / (i + 1).min(window) as f64)
            })
            .collect()
    }
}

/// Keeps a running episode's return and length until it ends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeTally {
    score: f64,
    length: u32,
}

impl EpisodeTally {
    /// Adds one step's reward; if `done`, returns the finished episode (ending at `env_step`)
    /// and starts a new one.
    pub fn step(&mut self, reward: f64, done: bool, env_step: u64) -> Option<Episode> {
        self.score += reward;
        self.length += 1;
        done.then(|| {
            let e = Episode {
                score: self.score,
                length: self.length,
                env_step,
            };
            *self = EpisodeTally::default();
            e
        })
    }
}
