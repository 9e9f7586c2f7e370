//! REINFORCE with a learned baseline on CartPole-v1 (or `--env acrobot|mountaincar`): whole
//! episodes, discounted returns-to-go, normalised advantages, a 64-64 tanh policy and baseline.
//! Progress bar, learning curve, checkpoints, episode strip and a `RESULT {json}` line, as the
//! other reinforcement-learning examples.
//!
//!     cargo run --release -p strata-rl --example cartpole_pg -- --steps 100000

mod common;

use clap::Parser;
use common::{RlArgs, run};
use strata_models::cli;
use strata_rl::envs::ClassicControl;
use strata_rl::{Reinforce, ReinforceConfig};

/// REINFORCE with a baseline on a classic-control environment.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    #[command(flatten)]
    rl: RlArgs,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// Whole episodes per update.
    #[arg(long, default_value_t = 4, value_parser = cli::positive, allow_negative_numbers = true)]
    episodes_per_update: usize,
    /// The discount γ, in [0, 1].
    #[arg(long, default_value_t = 0.99, value_parser = cli::fraction, allow_negative_numbers = true)]
    gamma: f64,
}

fn main() {
    let args = Args::parse();
    let config = ReinforceConfig::default()
        .with_seed(args.rl.seed)
        .with_learning_rate(args.lr)
        .with_episodes_per_update(args.episodes_per_update)
        .with_gamma(args.gamma);
    run(
        "cartpole_pg",
        &args.rl,
        |env| Reinforce::new(env, config),
        Reinforce::<ClassicControl>::load,
    );
}
