//! Advantage actor-critic (Mnih et al. 2016, synchronous): N environments stepped together,
//! short rollouts, generalised advantage estimation and an entropy bonus.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use strata_autograd::{Reduction, Var, no_grad};
use strata_layers::checkpoint::ModuleState;
use strata_layers::{Activation, Module, Sequential};
use strata_optim::{Adam, AdamConfig, Optimizer, OptimizerState, clip_grad_norm};
use strata_tensor::Tensor;

use crate::agent::{discrete_actions, load_state, param_refs, params_of, save_state};
use crate::policy::{Categorical, greedy_action, mlp, observation_batch};
use crate::returns::gae;
use crate::settings::Check;
use crate::{Agent, Env, Episode, EpisodeLog, EpisodeTally, RlError, VecEnv, check_finite};

/// A2C's settings. The defaults are those of `reference/rl.py --algo a2c`: 8 environments,
/// 5-step rollouts, separate 64-64 tanh actor and critic, Adam 7·10⁻⁴, γ 0.99, GAE λ 0.95,
/// value loss weight 0.5, entropy bonus 0.01, gradient norm clipped to 0.5.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct A2cConfig {
    /// Environment copies stepped together.
    pub envs: usize,
    /// Steps of each copy per update.
    pub rollout: usize,
    /// Hidden widths of the actor and of the critic.
    pub hidden: Vec<usize>,
    /// Adam's learning rate (one optimizer over both networks).
    pub learning_rate: f64,
    /// The discount γ.
    pub gamma: f64,
    /// GAE's λ (0: one-step TD advantages, 1: Monte-Carlo).
    pub gae_lambda: f64,
    /// Weight `c_v` of the critic's loss `c_v·mean((R − V)²)`.
    pub value_coef: f64,
    /// Weight of the entropy bonus.
    pub entropy_coef: f64,
    /// Clip the gradient's global norm to this, if set.
    pub max_grad_norm: Option<f64>,
    /// At a time-limit truncation, add `γ·V(s_final)` to the last reward (the episode did not
    /// really end); off, truncation counts as termination (as the reference script does).
    pub bootstrap_truncated: bool,
    /// Seeds the initial weights, the environments and the action sampling.
    pub seed: u64,
}

impl Default for A2cConfig {
    fn default() -> Self {
        A2cConfig {
            envs: 8,
            rollout: 5,
            hidden: vec![64, 64],
            learning_rate: 7e-4,
            gamma: 0.99,
            gae_lambda: 0.95,
            value_coef: 0.5,
            entropy_coef: 0.01,
            max_grad_norm: Some(0.5),
            bootstrap_truncated: true,
            seed: 0,
        }
    }
}

impl A2cConfig {
    /// Sets the number of environment copies.
    pub fn with_envs(mut self, envs: usize) -> Self {
        self.envs = envs;
        self
    }
    /// Sets the rollout length.
    pub fn with_rollout(mut self, steps: usize) -> Self {
        self.rollout = steps;
        self
    }
    /// Sets the hidden widths.
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
    /// Sets GAE's λ.
    pub fn with_gae_lambda(mut self, lambda: f64) -> Self {
        self.gae_lambda = lambda;
        self
    }
    /// Sets the value loss weight.
    pub fn with_value_coef(mut self, coef: f64) -> Self {
        self.value_coef = coef;
        self
    }
    /// Sets the entropy bonus weight.
    pub fn with_entropy_coef(mut self, coef: f64) -> Self {
        self.entropy_coef = coef;
        self
    }
    /// Clips the gradient's global norm (`None`: no clipping).
    pub fn with_max_grad_norm(mut self, norm: Option<f64>) -> Self {
        self.max_grad_norm = norm;
        self
    }
    /// Bootstrapping at truncation on or off.
    pub fn with_bootstrap_truncated(mut self, on: bool) -> Self {
        self.bootstrap_truncated = on;
        self
    }
    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`RlError::Config`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), RlError> {
        let check = Check("a2c");
        if self.envs == 0 || self.rollout == 0 || self.hidden.contains(&0) {
            return Err(check.fail(format!(
                "envs ({}), rollout ({}) and hidden widths ({:?}) must be positive",
                self.envs, self.rollout, self.hidden
            )));
        }
        check.positive("learning_rate", self.learning_rate)?;
        check.unit("gamma", self.gamma)?;
        check.unit("gae_lambda", self.gae_lambda)?;
        check.non_negative("value_coef", self.value_coef)?;
        check.non_negative("entropy_coef", self.entropy_coef)?;
        check.grad_norm(self.max_grad_norm)
    }
}

/// An A2C agent training in `config.envs` copies of an environment.
pub struct A2c<E> {
    config: A2cConfig,
    envs: VecEnv<E>,
    actor: Sequential,
    critic: Sequential,
    optimizer: Adam,
    rng: ChaCha8Rng,
    tallies: Vec<EpisodeTally>,
    log: EpisodeLog,
    steps: u64,
}

/// Everything an A2C checkpoint holds.
#[derive(Serialize, Deserialize)]
struct A2cState<E> {
    config: A2cConfig,
    envs: VecEnv<E>,
    actor: ModuleState,
    critic: ModuleState,
    optimizer: OptimizerState,
    rng: ChaCha8Rng,
    tallies: Vec<EpisodeTally>,
    log: EpisodeLog,
    steps: u64,
}

impl<E: Env + Clone + Serialize + DeserializeOwned> A2c<E> {
    /// A fresh agent: actor and critic initialised from `config.seed`, copy `i` of the
    /// environment reset with seed `config.seed + i`.
    ///
    /// # Errors
    /// [`RlError::Config`] if a setting is out of range or the action space is not discrete.
    pub fn new(env: E, config: A2cConfig) -> Result<Self, RlError> {
        config.validate()?;
        let (dim, actions) = (env.observation_dim(), discrete_actions(&env, "a2c")?);
        strata_layers::init::manual_seed(config.seed);
        let actor = mlp(dim, &config.hidden, actions, Activation::Tanh);
        let critic = mlp(dim, &config.hidden, 1, Activation::Tanh);
        let mut envs = VecEnv::new(env, config.envs);
        envs.reset(Some(config.seed));
        Ok(A2c {
            optimizer: AdamConfig::new(config.learning_rate).build()?,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0xa2c0_a2c0),
            tallies: vec![EpisodeTally::default(); config.envs],
            log: EpisodeLog::new(),
            steps: 0,
            envs,
            actor,
            critic,
            config,
        })
    }

    /// Reads an agent written by [`Agent::save`].
    ///
    /// # Errors
    /// [`RlError::Checkpoint`] if the file is unreadable or corrupt, [`RlError::WrongCheckpoint`]
    /// if it holds another algorithm.
    pub fn load(path: &Path) -> Result<Self, RlError> {
        let s: A2cState<E> = load_state(path, "a2c")?;
        let mut agent = A2c::new(s.envs.envs()[0].clone(), s.config)?;
        s.actor
            .apply(&mut agent.actor)
            .map_err(|e| e.with_path(path))?;
        s.critic
            .apply(&mut agent.critic)
            .map_err(|e| e.with_path(path))?;
        agent
            .optimizer
            .load_state(&param_refs(&[&agent.actor, &agent.critic]), &s.optimizer)?;
        (agent.envs, agent.rng, agent.tallies, agent.log, agent.steps) =
            (s.envs, s.rng, s.tallies, s.log, s.steps);
        Ok(agent)
    }

    /// The settings.
    pub fn config(&self) -> &A2cConfig {
        &self.config
    }

    /// The policy network, `[N, obs_dim] → [N, actions]` logits.
    pub fn actor(&mut self) -> &mut Sequential {
        &mut self.actor
    }

    /// The value network, `[N, obs_dim] → [N, 1]`.
    pub fn critic(&mut self) -> &mut Sequential {
        &mut self.critic
    }

    /// `V(s)` of a batch of observations `[N × obs_dim]`, without recording a graph.
    fn values(&mut self, observations: &[f32]) -> Vec<f32> {
        let x = Var::constant(observation_batch(observations, self.envs.observation_dim()));
        no_grad(|| self.critic.forward(&x)).into_value().to_vec()
    }

    /// Collects one rollout and takes one gradient step.
    fn update(&mut self, on_episode: &mut dyn FnMut(&Episode, &EpisodeLog)) -> Result<(), RlError> {
        let (n, steps, dim) = (
            self.config.envs,
            self.config.rollout,
            self.envs.observation_dim(),
        );
        let gamma = self.config.gamma;
        let threshold = self.envs.envs()[0]
            .reward_threshold()
            .unwrap_or(f64::INFINITY);
        let name = self.envs.envs()[0].name();
        let mut observations = Vec::with_capacity(steps * n * dim);
        let (mut actions, mut rewards, mut dones) = (
            Vec::with_capacity(steps * n),
            Vec::with_capacity(steps * n),
            Vec::with_capacity(steps * n),
        );
        for _ in 0..steps {
            let obs = self.envs.observations().to_vec();
            check_finite(name, &obs)?;
            let logits = no_grad(|| {
                self.actor
                    .forward(&Var::constant(observation_batch(&obs, dim)))
            });
            let chosen = Categorical::from_logits(&logits).sample(&mut self.rng);
            let t = self.envs.step(&chosen)?;
            self.steps += n as u64;
            for e in 0..n {
                let done = t.terminated[e] || t.truncated[e];
                let mut reward = t.rewards[e];
                if self.config.bootstrap_truncated && t.truncated[e] && !t.terminated[e] {
                    let last = t.final_observations[e]
                        .as_deref()
                        .expect("a finished copy keeps its last observation");
                    reward += gamma * self.values(last)[0] as f64;
                }
                if let Some(episode) = self.tallies[e].step(t.rewards[e], done, self.steps) {
                    self.log.push(episode, threshold);
                    on_episode(&episode, &self.log);
                }
                rewards.push(reward);
                dones.push(done);
            }
            observations.extend_from_slice(&obs);
            actions.extend(chosen);
        }
        let next_obs = self.envs.observations().to_vec();
        let next_values: Vec<f64> = self.values(&next_obs).iter().map(|&v| v as f64).collect();

        // One batched forward over the whole rollout: the parameters did not change during it.
        let x = Var::constant(Tensor::from_vec(observations, &[steps * n, dim]));
        let policy = Categorical::from_logits(&self.actor.forward(&x));
        let values = self.critic.forward(&x).reshape(&[steps * n]);
        let v: Vec<f64> = values.value().to_vec().iter().map(|&v| v as f64).collect();
        let advantages = gae(
            &rewards,
            &v,
            &next_values,
            &dones,
            gamma,
            self.config.gae_lambda,
        );
        let targets: Vec<f32> = advantages
            .iter()
            .zip(&v)
            .map(|(a, v)| (a + v) as f32)
            .collect();
        let advantages = Var::constant(Tensor::from_vec(
            advantages.iter().map(|&a| a as f32).collect(),
            &[steps * n],
        ));
        let policy_loss = policy.log_prob(&actions).mul(&advantages).mean().neg();
        let value_loss = values.mse_loss(
            &Var::constant(Tensor::from_vec(targets, &[steps * n])),
            Reduction::Mean,
        );
        let entropy = policy.entropy().mean();
        let loss = policy_loss
            .add(&value_loss.mul_scalar(self.config.value_coef as f32))
            .sub(&entropy.mul_scalar(self.config.entropy_coef as f32));
        let value = loss.item() as f64;
        if !value.is_finite() {
            return Err(RlError::NonFiniteLoss {
                algorithm: "a2c",
                value,
                step: self.steps,
            });
        }
        let mut grads = loss.backward();
        if let Some(max) = self.config.max_grad_norm {
            clip_grad_norm(&mut grads, max);
        }
        let mut params = params_of(&mut self.actor, &mut self.critic);
        self.optimizer.step(&mut params, &grads);
        Ok(())
    }
}

impl<E: Env + Clone + Serialize + DeserializeOwned> Agent for A2c<E> {
    fn algorithm(&self) -> &'static str {
        "a2c"
    }

    fn env_name(&self) -> &'static str {
        self.envs.envs()[0].name()
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
        while self.steps < env_steps {
            self.update(on_episode)?;
        }
        Ok(())
    }

    fn act(&mut self, observation: &[f32]) -> usize {
        greedy_action(&mut self.actor, observation)
    }

    fn save(&self, path: &Path) -> Result<(), RlError> {
        let state = A2cState {
            config: self.config.clone(),
            envs: self.envs.clone(),
            actor: ModuleState::capture(&self.actor),
            critic: ModuleState::capture(&self.critic),
            optimizer: self
                .optimizer
                .state(&param_refs(&[&self.actor, &self.critic])),
            rng: self.rng.clone(),
            tallies: self.tallies.clone(),
            log: self.log.clone(),
            steps: self.steps,
        };
        save_state(path, "a2c", self.env_name(), &state)
    }
}
