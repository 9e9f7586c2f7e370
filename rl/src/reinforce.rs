//! REINFORCE (Williams 1992) with a learned baseline: whole episodes, returns-to-go,
//! normalised advantages `Gₜ − V(sₜ)`.

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
use crate::policy::{Categorical, greedy_action, mlp};
use crate::returns::{normalize, returns_to_go};
use crate::settings::Check;
use crate::{Agent, Env, Episode, EpisodeLog, EpisodeTally, RlError, check_finite};

/// REINFORCE's settings: per update, `episodes_per_update` whole episodes; loss
///
/// ```text
/// −mean(log π(aₜ|sₜ) · Âₜ) + c_v·mean((Gₜ − V(sₜ))²) − c_H·mean(H(π(·|sₜ)))
/// ```
///
/// with `Gₜ` the discounted return-to-go and `Â = normalise(G − V)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReinforceConfig {
    /// Hidden widths of the policy and of the baseline.
    pub hidden: Vec<usize>,
    /// Adam's learning rate (one optimizer over both networks).
    pub learning_rate: f64,
    /// The discount γ.
    pub gamma: f64,
    /// Whole episodes per update.
    pub episodes_per_update: usize,
    /// Weight `c_v` of the baseline's squared error.
    pub value_coef: f64,
    /// Weight `c_H` of the entropy bonus.
    pub entropy_coef: f64,
    /// Normalise the advantages to mean 0 and standard deviation 1 over each update.
    pub normalize_advantages: bool,
    /// Clip the gradient's global norm to this, if set.
    pub max_grad_norm: Option<f64>,
    /// Seeds the initial weights, the environment and the action sampling.
    pub seed: u64,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        ReinforceConfig {
            hidden: vec![64, 64],
            learning_rate: 1e-3,
            gamma: 0.99,
            episodes_per_update: 4,
            value_coef: 0.5,
            entropy_coef: 0.0,
            normalize_advantages: true,
            max_grad_norm: Some(1.0),
            seed: 0,
        }
    }
}

impl ReinforceConfig {
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
    /// Sets the episodes per update.
    pub fn with_episodes_per_update(mut self, episodes: usize) -> Self {
        self.episodes_per_update = episodes;
        self
    }
    /// Sets the baseline loss weight.
    pub fn with_value_coef(mut self, coef: f64) -> Self {
        self.value_coef = coef;
        self
    }
    /// Sets the entropy bonus weight.
    pub fn with_entropy_coef(mut self, coef: f64) -> Self {
        self.entropy_coef = coef;
        self
    }
    /// Advantage normalisation on or off.
    pub fn with_normalize_advantages(mut self, on: bool) -> Self {
        self.normalize_advantages = on;
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

    /// Checks every setting.
    ///
    /// # Errors
    /// [`RlError::Config`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), RlError> {
        let check = Check("reinforce");
        if self.episodes_per_update == 0 || self.hidden.contains(&0) {
            return Err(check.fail(format!(
                "episodes_per_update ({}) and hidden widths ({:?}) must be positive",
                self.episodes_per_update, self.hidden
            )));
        }
        check.positive("learning_rate", self.learning_rate)?;
        check.unit("gamma", self.gamma)?;
        check.non_negative("value_coef", self.value_coef)?;
        check.non_negative("entropy_coef", self.entropy_coef)?;
        check.grad_norm(self.max_grad_norm)
    }
}

/// A REINFORCE agent with a learned baseline.
pub struct Reinforce<E> {
    config: ReinforceConfig,
    env: E,
    policy: Sequential,
    baseline: Sequential,
    optimizer: Adam,
    rng: ChaCha8Rng,
    log: EpisodeLog,
    steps: u64,
}

/// Everything a REINFORCE checkpoint holds (saved between updates, so no episode is open).
#[derive(Serialize, Deserialize)]
struct ReinforceState<E> {
    config: ReinforceConfig,
    env: E,
    policy: ModuleState,
    baseline: ModuleState,
    optimizer: OptimizerState,
    rng: ChaCha8Rng,
    log: EpisodeLog,
    steps: u64,
}

impl<E: Env + Clone + Serialize + DeserializeOwned> Reinforce<E> {
    /// A fresh agent: policy (tanh) and baseline initialised from `config.seed`, the
    /// environment's random stream seeded with it.
    ///
    /// # Errors
    /// [`RlError::Config`] if a setting is out of range or the action space is not discrete.
    pub fn new(mut env: E, config: ReinforceConfig) -> Result<Self, RlError> {
        config.validate()?;
        let (dim, actions) = (env.observation_dim(), discrete_actions(&env, "reinforce")?);
        strata_layers::init::manual_seed(config.seed);
        let policy = mlp(dim, &config.hidden, actions, Activation::Tanh);
        let baseline = mlp(dim, &config.hidden, 1, Activation::Tanh);
        env.reset(Some(config.seed));
        Ok(Reinforce {
            optimizer: AdamConfig::new(config.learning_rate).build()?,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x7e1f_07ce),
            log: EpisodeLog::new(),
            steps: 0,
            env,
            policy,
            baseline,
            config,
        })
    }

    /// Reads an agent written by [`Agent::save`].
    ///
    /// # Errors
    /// [`RlError::Checkpoint`] if the file is unreadable or corrupt, [`RlError::WrongCheckpoint`]
    /// if it holds another algorithm.
    pub fn load(path: &Path) -> Result<Self, RlError> {
        let s: ReinforceState<E> = load_state(path, "reinforce")?;
        let mut agent = Reinforce::new(s.env.clone(), s.config)?;
        s.policy
            .apply(&mut agent.policy)
            .map_err(|e| e.with_path(path))?;
        s.baseline
            .apply(&mut agent.baseline)
            .map_err(|e| e.with_path(path))?;
        agent
            .optimizer
            .load_state(&param_refs(&[&agent.policy, &agent.baseline]), &s.optimizer)?;
        (agent.env, agent.rng, agent.log, agent.steps) = (s.env, s.rng, s.log, s.steps);
        Ok(agent)
    }

    /// The settings.
    pub fn config(&self) -> &ReinforceConfig {
        &self.config
    }

    /// The policy network, `[N, obs_dim] → [N, actions]` logits.
    pub fn policy(&mut self) -> &mut Sequential {
        &mut self.policy
    }

    /// Plays `episodes_per_update` episodes with the current policy and takes one step.
    fn update(&mut self, on_episode: &mut dyn FnMut(&Episode, &EpisodeLog)) -> Result<(), RlError> {
        let dim = self.env.observation_dim();
        let threshold = self.env.reward_threshold().unwrap_or(f64::INFINITY);
        let (mut observations, mut actions, mut returns) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..self.config.episodes_per_update {
            let mut observation = self.env.reset(None);
            let (mut rewards, mut tally) = (Vec::new(), EpisodeTally::default());
            loop {
                check_finite(self.env.name(), &observation)?;
                let x = Var::constant(Tensor::from_vec(observation.clone(), &[1, dim]));
                let logits = no_grad(|| self.policy.forward(&x));
                let action = Categorical::from_logits(&logits).sample(&mut self.rng)[0];
                let t = self.env.step(action)?;
                self.steps += 1;
                observations.extend_from_slice(&observation);
                actions.push(action);
                rewards.push(t.reward);
                if let Some(episode) = tally.step(t.reward, t.done(), self.steps) {
                    // A time limit is not the end of the task: value what would have followed.
                    let bootstrap = if t.terminated {
                        0.0
                    } else {
                        let x = Var::constant(Tensor::from_vec(t.observation, &[1, dim]));
                        no_grad(|| self.baseline.forward(&x)).item() as f64
                    };
                    returns.extend(returns_to_go(&rewards, self.config.gamma, bootstrap));
                    self.log.push(episode, threshold);
                    on_episode(&episode, &self.log);
                    break;
                }
                observation = t.observation;
            }
        }
        let n = actions.len();
        let x = Var::constant(Tensor::from_vec(observations, &[n, dim]));
        let policy = Categorical::from_logits(&self.policy.forward(&x));
        let values = self.baseline.forward(&x).reshape(&[n]);
        let mut advantages: Vec<f64> = returns
            .iter()
            .zip(values.value().to_vec())
            .map(|(g, v)| g - v as f64)
            .collect();
        if self.config.normalize_advantages {
            normalize(&mut advantages);
        }
        let advantages = Var::constant(Tensor::from_vec(
            advantages.iter().map(|&a| a as f32).collect(),
            &[n],
        ));
        let targets = Var::constant(Tensor::from_vec(
            returns.iter().map(|&g| g as f32).collect(),
            &[n],
        ));
        let loss = policy
            .log_prob(&actions)
            .mul(&advantages)
            .mean()
            .neg()
            .add(
                &values
                    .mse_loss(&targets, Reduction::Mean)
                    .mul_scalar(self.config.value_coef as f32),
            )
            .sub(
                &policy
                    .entropy()
                    .mean()
                    .mul_scalar(self.config.entropy_coef as f32),
            );
        let value = loss.item() as f64;
        if !value.is_finite() {
            return Err(RlError::NonFiniteLoss {
                algorithm: "reinforce",
                value,
                step: self.steps,
            });
        }
        let mut grads = loss.backward();
        if let Some(max) = self.config.max_grad_norm {
            clip_grad_norm(&mut grads, max);
        }
        let mut params = params_of(&mut self.policy, &mut self.baseline);
        self.optimizer.step(&mut params, &grads);
        Ok(())
    }
}

impl<E: Env + Clone + Serialize + DeserializeOwned> Agent for Reinforce<E> {
    fn algorithm(&self) -> &'static str {
        "reinforce"
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
        while self.steps < env_steps {
            self.update(on_episode)?;
        }
        Ok(())
    }

    fn act(&mut self, observation: &[f32]) -> usize {
        greedy_action(&mut self.policy, observation)
    }

    fn save(&self, path: &Path) -> Result<(), RlError> {
        let state = ReinforceState {
            config: self.config.clone(),
            env: self.env.clone(),
            policy: ModuleState::capture(&self.policy),
            baseline: ModuleState::capture(&self.baseline),
            optimizer: self
                .optimizer
                .state(&param_refs(&[&self.policy, &self.baseline])),
            rng: self.rng.clone(),
            log: self.log.clone(),
            steps: self.steps,
        };
        save_state(path, "reinforce", self.env_name(), &state)
    }
}
