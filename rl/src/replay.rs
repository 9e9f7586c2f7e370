//! [`ReplayBuffer`]: DQN's experience memory, a ring of transitions sampled uniformly.

use rand::Rng;
use serde::{Deserialize, Serialize};
use strata_tensor::Tensor;

/// A mini-batch drawn from a [`ReplayBuffer`].
#[derive(Clone, Debug)]
pub struct ReplayBatch {
    /// Observations `[B, obs_dim]`.
    pub observations: Tensor,
    /// Actions taken, `B` of them.
    pub actions: Vec<usize>,
    /// Rewards `[B]`.
    pub rewards: Tensor,
    /// Observations after the step `[B, obs_dim]`.
    pub next_observations: Tensor,
    /// 1 where the step reached a terminal state (no bootstrap), else 0, `[B]`.
    pub terminated: Tensor,
}

/// The last `capacity` transitions `(s, a, r, s′, terminated)`, oldest overwritten first,
/// stored as flat arrays (≈ 4·(2·obs_dim + 3) bytes per transition).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplayBuffer {
    capacity: usize,
    dim: usize,
    len: usize,
    next: usize,
    observations: Vec<f32>,
    actions: Vec<u32>,
    rewards: Vec<f32>,
    next_observations: Vec<f32>,
    terminated: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of observations of length `dim`.
    ///
    /// # Panics
    /// If `capacity` or `dim` is 0.
    pub fn new(capacity: usize, dim: usize) -> Self {
        assert!(
            capacity > 0 && dim > 0,
            "ReplayBuffer: capacity {capacity} and observation length {dim} must be positive"
        );
        ReplayBuffer {
            capacity,
            dim,
            len: 0,
            next: 0,
            observations: vec![0.0; capacity * dim],
            actions: vec![0; capacity],
            rewards: vec![0.0; capacity],
            next_observations: vec![0.0; capacity * dim],
            terminated: vec![0.0; capacity],
        }
    }

    /// Transitions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no transition is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most transitions held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores one transition, overwriting the oldest when full.
    ///
    /// # Panics
    /// If an observation's length is not the buffer's.
    pub fn push(
        &mut self,
        observation: &[f32],
        action: usize,
        reward: f64,
        next_observation: &[f32],
        terminated: bool,
    ) {
        assert!(
            observation.len() == self.dim && next_observation.len() == self.dim,
            "ReplayBuffer::push: observations of length {} and {}, the buffer holds {}",
            observation.len(),
            next_observation.len(),
            self.dim
        );
        let i = self.next;
        self.observations[i * self.dim..(i + 1) * self.dim].copy_from_slice(observation);
        self.next_observations[i * self.dim..(i + 1) * self.dim].copy_from_slice(next_observation);
        self.actions[i] = action as u32;
        self.rewards[i] = reward as f32;
        self.terminated[i] = if terminated { 1.0 } else { 0.0 };
        self.next = (i + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    /// `batch` transitions drawn uniformly with replacement.
    ///
    /// # Panics
    /// If the buffer is empty.
    pub fn sample(&self, batch: usize, rng: &mut impl Rng) -> ReplayBatch {
        assert!(self.len > 0, "ReplayBuffer::sample: the buffer is empty");
        let (mut obs, mut next) = (
            Vec::with_capacity(batch * self.dim),
            Vec::with_capacity(batch * self.dim),
        );
        let (mut actions, mut rewards, mut terminated) = (
            Vec::with_capacity(batch),
            Vec::with_capacity(batch),
            Vec::with_capacity(batch),
        );
        for _ in 0..batch {
            let i = rng.random_range(0..self.len);
            obs.extend_from_slice(&self.observations[i * self.dim..(i + 1) * self.dim]);
            next.extend_from_slice(&self.next_observations[i * self.dim..(i + 1) * self.dim]);
            actions.push(self.actions[i] as usize);
            rewards.push(self.rewards[i]);
            terminated.push(self.terminated[i]);
        }
        ReplayBatch {
            observations: Tensor::from_vec(obs, &[batch, self.dim]),
            actions,
            rewards: Tensor::from_vec(rewards, &[batch]),
            next_observations: Tensor::from_vec(next, &[batch, self.dim]),
            terminated: Tensor::from_vec(terminated, &[batch]),
        }
    }
}
