//! Deep reinforcement learning on Strata, with no Python: environments written in Rust with
//! Gymnasium's exact dynamics (CartPole-v1, Acrobot-v1, MountainCar-v0), a vectorised
//! wrapper, and three algorithms built from Strata's own modules, optimizers, gradient
//! clipping and checkpoints — REINFORCE with a learned baseline, A2C with generalised
//! advantage estimation, and DQN with a replay memory, a target network and Double-DQN
//! targets.
//!
//! ```
//! use strata_rl::{Agent, Dqn, DqnConfig, envs::CartPole, evaluate};
//!
//! let mut agent = Dqn::new(CartPole::new(), DqnConfig::default().with_seed(1)).unwrap();
//! agent.train_until(2_000, &mut |_episode, _log| {}).unwrap();
//! let eval = evaluate(&mut agent, &mut CartPole::new(), 3, 100).unwrap();
//! assert_eq!(eval.returns.len(), 3);
//! ```
//!
//! Every agent saves its whole state ([`Agent::save`]: networks, optimizer, replay memory,
//! environments, random streams), so a run resumed from a checkpoint repeats an
//! uninterrupted one step for step; the same seed gives the same learning curve.

pub mod a2c;
mod agent;
pub mod dqn;
mod env;
pub mod envs;
mod episodes;
mod error;
pub mod policy;
pub mod reinforce;
pub mod render;
mod replay;
pub mod returns;
mod settings;
mod space;
mod vector;

pub use a2c::{A2c, A2cConfig};
pub use agent::{Agent, Evaluation, evaluate};
pub use dqn::{Dqn, DqnConfig};
pub use env::{Env, EpisodeClock, EpisodeStatus, Transition, check_finite};
pub use episodes::{Episode, EpisodeLog, EpisodeTally};
pub use error::{EnvError, RlError};
pub use reinforce::{Reinforce, ReinforceConfig};
pub use replay::{ReplayBatch, ReplayBuffer};
pub use space::Space;
pub use vector::{VecEnv, VecTransition};
