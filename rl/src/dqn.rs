//! Deep Q-learning (Mnih et al. 2015) with a replay memory, a target network, an ε-greedy
//! schedule, the Huber loss and Double-DQN targets (van Hasselt et al. 2016).

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use strata_autograd::{Reduction, Var, no_grad};
use strata_layers::checkpoint::ModuleState;
use strata_layers::{Activation, Module, Sequential};
use strata_optim::{Adam, AdamConfig, Optimizer, OptimizerState, clip_grad_norm};
use strata_tensor::{Indices, Tensor};

use crate::agent::{discrete_actions, load_state, save_state};
use crate::policy::{argmax_rows, copy_params, greedy_action, mlp, outputs};
use crate::settings::Check;
use crate::{Agent, Env, Episode, EpisodeLog, EpisodeTally, ReplayBuffer, RlError, check_finite};

/// DQN's settings. The defaults are those of `reference/rl.py --algo dqn` (a 64-64 ReLU
/// network, Adam 5·10⁻⁴, memory 50k, batch 64, γ 0.99, target synced every 500 steps, ε from 1
/// to 0.05 over 10k steps, learning from step 1000, one update per step, Double DQN).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DqnConfig {
    /// Hidden layer widths of the Q-network.
    pub hidden: Vec<usize>,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// The discount γ.
    pub gamma: f64,
    /// Transitions the replay memory holds.
    pub buffer_capacity: usize,
    /// Transitions per update.
    pub batch_size: usize,
    /// Environment steps before the first update.
    pub learning_starts: u64,
    /// An update every this many environment steps.
    pub train_every: u64,
    /// The target network copies the Q-network every this many environment steps.
    pub target_update_every: u64,
    /// ε at step 0.
    pub epsilon_start: f64,
    /// ε after the decay.
    pub epsilon_end: f64,
    /// Steps over which ε falls linearly from start to end.
    pub epsilon_decay_steps: u64,
    /// Double DQN: the online network picks the next action, the target network values it.
    pub double: bool,
    /// The Huber loss's δ.
    pub huber_delta: f64,
    /// Clip the gradient's global norm to this, if set.
    pub max_grad_norm: Option<f64>,
    /// Seeds the initial weights, exploration and replay sampling.
    pub seed: u64,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            hidden: vec![64, 64],
            learning_rate: 5e-4,
            gamma: 0.99,
            buffer_capacity: 50_000,
            batch_size: 64,
            learning_starts: 1000,
            train_every: 1,
            target_update_every: 500,
            epsilon_start: 1.0,
            epsilon_end: 0.05,
            epsilon_decay_steps: 10_000,
            double: true,
            huber_delta: 1.0,
            max_grad_norm: None,
            seed: 0,
        }
    }
}

impl DqnConfig {
    /// Sets the hidden layer widths.
    pub fn with_hidden(mut self, hidden: &[usize]) -> Self {
        self.hidden = hidden.to_vec();
        self
    }
    /// Sets the learning rate.
    pub fn with_learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }
    /// Sets γ.
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
    /// Sets the replay memory's capacity.
    pub fn with_buffer_capacity(mut self, capacity: usize) -> Self {
        self.buffer_capacity = capacity;
        self
    }
    /// Sets the batch size.
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch_size = batch;
        self
    }
    /// Sets the steps before learning starts.
    pub fn with_learning_starts(mut self, steps: u64) -> Self {
        self.learning_starts = steps;
        self
    }
    /// Sets the steps between updates.
    pub fn with_train_every(mut self, steps: u64) -> Self {
        self.train_every = steps;
        self
    }
    /// Sets the steps between target-network copies.
    pub fn with_target_update_every(mut self, steps: u64) -> Self {
        self.target_update_every = steps;
        self
    }
    /// Sets the ε schedule: from `start` to `end` linearly over `steps`.
    pub fn with_epsilon(mut self, start: f64, end: f64, steps: u64) -> Self {
        (
            self.epsilon_start,
            self.epsilon_end,
            self.epsilon_decay_steps,
        ) = (start, end, steps);
        self
    }
    /// Double-DQN targets on or off.
    pub fn with_double(mut self, double: bool) -> Self {
        self.double = double;
        self
    }
    /// Sets the Huber loss's δ.
    pub fn with_huber_delta(mut self, delta: f64) -> Self {
        self.huber_delta = delta;
        self
    }
    /// Clips the gradient's global norm (`None`: no clipping).
    pub fn with_max_grad_norm(mut self, norm: Option<f64>) -> Self {
        self.max_grad_norm = norm;
        self
    }
    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// ε at environment step `t`: `max(end, start − (start − end)·t/decay_steps)`.
    pub fn epsilon(&self, t: u64) -> f64 {
        let fraction = if self.epsilon_decay_steps == 0 {
            1.0
        } else {
            t as f64 / self.epsilon_decay_steps as f64
        };
        (self.epsilon_start - (self.epsilon_start - self.epsilon_end) * fraction)
            .max(self.epsilon_end)
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`RlError::Config`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), RlError> {
        let check = Check("dqn");
        if self.hidden.contains(&0) {
            return Err(check.fail(format!(
                "hidden widths must be positive, got {:?}",
                self.hidden
            )));
        }
        check.positive("learning_rate", self.learning_rate)?;
        check.unit("gamma", self.gamma)?;
        if self.buffer_capacity == 0
            || self.batch_size == 0
            || self.train_every == 0
            || self.target_update_every == 0
        {
            return Err(check.fail(format!(
                "buffer_capacity ({}), batch_size ({}), train_every ({}) and target_update_every ({}) must be positive",
                self.buffer_capacity, self.batch_size, self.train_every, self.target_update_every
            )));
        }
        if !(0.0..=1.0).contains(&self.epsilon_start) || !(0.0..=1.0).contains(&self.epsilon_end) {
            return Err(check.fail(format!(
                "epsilon must stay in [0, 1], got {} → {}",
                self.epsilon_start, self.epsilon_end
            )));
        }
        check.positive("huber_delta", self.huber_delta)?;
        check.grad_norm(self.max_grad_norm)
    }
}

/// A DQN agent training in its own copy of an environment.
pub struct Dqn<E> {
    config: DqnConfig,
    env: E,
    q: Sequential,
    target: Sequential,
    optimizer: Adam,
    replay: ReplayBuffer,
    rng: ChaCha8Rng,
    observation: Vec<f32>,
    tally: EpisodeTally,
    log: EpisodeLog,
    steps: u64,
}

/// Everything a DQN checkpoint holds.
#[derive(Serialize, Deserialize)]
struct DqnState<E> {
    config: DqnConfig,
    env: E,
    q: ModuleState,
    target: ModuleState,
    optimizer: OptimizerState,
    replay: ReplayBuffer,
    rng: ChaCha8Rng,
    observation: Vec<f32>,
    tally: EpisodeTally,
    log: EpisodeLog,
    steps: u64,
}

impl<E: Env + Clone + Serialize + DeserializeOwned> Dqn<E> {
    /// A fresh agent: the Q-network initialised from `config.seed` (through
    /// `strata_layers::init::manual_seed`), the target a copy of it, the environment reset with
    /// the seed.
    ///
    /// # Errors
    /// [`RlError::Config`] if a setting is out of range or the action space is not discrete.
    pub fn new(mut env: E, config: DqnConfig) -> Result<Self, RlError> {
        config.validate()?;
        let (dim, actions) = (env.observation_dim(), discrete_actions(&env, "dqn")?);
        strata_layers::init::manual_seed(config.seed);
        let q = mlp(dim, &config.hidden, actions, Activation::Relu);
        let mut target = mlp(dim, &config.hidden, actions, Activation::Relu);
        copy_params(&mut target, &q);
        let optimizer = AdamConfig::new(config.learning_rate).build()?;
        let observation = env.reset(Some(config.seed));
        Ok(Dqn {
            replay: ReplayBuffer::new(config.buffer_capacity, dim),
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_d0d0),
            env,
            q,
            target,
            optimizer,
            observation,
            tally: EpisodeTally::default(),
            log: EpisodeLog::new(),
            steps: 0,
            config,
        })
    }

    /// Reads an agent written by [`Agent::save`].
    ///
    /// # Errors
    /// [`RlError::Checkpoint`] if the file is unreadable or corrupt, [`RlError::WrongCheckpoint`]
    /// if it holds another algorithm.
    pub fn load(path: &Path) -> Result<Self, RlError> {
        let s: DqnState<E> = load_state(path, "dqn")?;
        let mut agent = Dqn::new(s.env.clone(), s.config)?;
        s.q.apply(&mut agent.q).map_err(|e| e.with_path(path))?;
        s.target
            .apply(&mut agent.target)
            .map_err(|e| e.with_path(path))?;
        let params: Vec<_> = agent.q.params().into_iter().map(|(_, p)| p).collect();
        agent.optimizer.load_state(&params, &s.optimizer)?;
        (agent.env, agent.replay, agent.rng, agent.observation) =
            (s.env, s.replay, s.rng, s.observation);
        (agent.tally, agent.log, agent.steps) = (s.tally, s.log, s.steps);
        Ok(agent)
    }

    /// The settings.
    pub fn config(&self) -> &DqnConfig {
        &self.config
    }

    /// The Q-network, `[N, obs_dim] → [N, actions]`.
    pub fn q_network(&mut self) -> &mut Sequential {
        &mut self.q
    }

    /// Q-values of one observation under the online network.
    pub fn q_values(&mut self, observation: &[f32]) -> Vec<f32> {
        outputs(&mut self.q, observation)
    }

    /// One gradient step on a replayed mini-batch; returns the loss.
    fn update(&mut self) -> Result<f64, RlError> {
        let c = &self.config;
        let batch = self.replay.sample(c.batch_size, &mut self.rng);
        let n = c.batch_size;
        let next = Var::constant(batch.next_observations);
        let (next_target, next_online) = no_grad(|| {
            let t = self.target.forward(&next).into_value();
            let o = c.double.then(|| self.q.forward(&next).into_value());
            (t, o)
        });
        let next_actions = argmax_rows(next_online.as_ref().unwrap_or(&next_target));
        let next_values = next_target.to_vec();
        let actions = next_target.shape()[1];
        let (rewards, terminated) = (batch.rewards.to_vec(), batch.terminated.to_vec());
        let y: Vec<f32> = (0..n)
            .map(|i| {
                rewards[i]
                    + (c.gamma as f32)
                        * (1.0 - terminated[i])
                        * next_values[i * actions + next_actions[i]]
            })
            .collect();
        let q_taken = self
            .q
            .forward(&Var::constant(batch.observations))
            .gather(1, &Indices::new(batch.actions, &[n, 1]))
            .reshape(&[n]);
        let loss = q_taken.huber_loss(
            &Var::constant(Tensor::from_vec(y, &[n])),
            c.huber_delta,
            Reduction::Mean,
        );
        let value = loss.item() as f64;
        if !value.is_finite() {
            return Err(RlError::NonFiniteLoss {
                algorithm: "dqn",
                value,
                step: self.steps,
            });
        }
        let mut grads = loss.backward();
        if let Some(max) = c.max_grad_norm {
            clip_grad_norm(&mut grads, max);
        }
        let mut params: Vec<_> = self.q.params_mut().into_iter().map(|(_, p)| p).collect();
        self.optimizer.step(&mut params, &grads);
        Ok(value)
    }
}

impl<E: Env + Clone + Serialize + DeserializeOwned> Agent for Dqn<E> {
    fn algorithm(&self) -> &'static str {
        "dqn"
    }

    fn env_name(&self) -> &'static str {
        self.env.name()
    }

    fn env_steps(&self) -> u64 {
        self.steps
    }

    fn log(&self) -> &EpisodeLog {
        &self.log
    }

    fn train_until(
        &mut self,
        env_steps: u64,
        on_episode: &mut dyn FnMut(&Episode, &EpisodeLog),
    ) -> Result<(), RlError> {
        let actions = self.env.num_actions();
        let threshold = self.env.reward_threshold().unwrap_or(f64::INFINITY);
        while self.steps < env_steps {
            check_finite(self.env.name(), &self.observation)?;
            let action = if self.rng.random::<f64>() < self.config.epsilon(self.steps) {
                self.rng.random_range(0..actions)
            } else {
                let obs = self.observation.clone();
                self.act(&obs)
            };
            let t = self.env.step(action)?;
            self.replay.push(
                &self.observation,
                action,
                t.reward,
                &t.observation,
                t.terminated,
            );
            self.steps += 1;
            self.observation = match self.tally.step(t.reward, t.done(), self.steps) {
                Some(episode) => {
                    self.log.push(episode, threshold);
                    on_episode(&episode, &self.log);
                    self.env.reset(None)
                }
                None => t.observation,
            };
            if self.steps > self.config.learning_starts
                && self.steps.is_multiple_of(self.config.train_every)
            {
                self.update()?;
            }
            if self.steps.is_multiple_of(self.config.target_update_every) {
                copy_params(&mut self.target, &self.q);
            }
        }
        Ok(())
    }

    fn act(&mut self, observation: &[f32]) -> usize {
        greedy_action(&mut self.q, observation)
    }

    fn save(&self, path: &Path) -> Result<(), RlError> {
        let params: Vec<_> = self.q.params().into_iter().map(|(_, p)| p).collect();
        let state = DqnState {
            config: self.config.clone(),
            env: self.env.clone(),
            q: ModuleState::capture(&self.q),
            target: ModuleState::capture(&self.target),
            optimizer: self.optimizer.state(&params),
            replay: self.replay.clone(),
            rng: self.rng.clone(),
            observation: self.observation.clone(),
            tally: self.tally.clone(),
            log: self.log.clone(),
            steps: self.steps,
        };
        save_state(path, "dqn", self.env.name(), &state)
    }
}
