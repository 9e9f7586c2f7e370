//! A2C on CartPole-v1 (or `--env acrobot|mountaincar`): 8 environments stepped together,
//! 5-step rollouts, GAE (λ 0.95), an entropy bonus, separate 64-64 tanh actor and critic, one
//! Adam over both, gradient norm clipped to 0.5. Progress bar, learning curve, checkpoints,
//! episode strip and a `RESULT {json}` line, as the other reinforcement-learning examples.
//!
//!     cargo run --release -p strata-rl --example cartpole_a2c -- --steps 100000

mod common;

use clap::Parser;
use common::{RlArgs, run};
use strata_models::cli;
use strata_rl::envs::ClassicControl;
use strata_rl::{A2c, A2cConfig};

/// A2C on a classic-control environment.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    #[command(flatten)]
    rl: RlArgs,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 7e-4, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// Environment copies stepped together.
    #[arg(long, default_value_t = 8, value_parser = cli::positive, allow_negative_numbers = true)]
    envs: usize,
    /// Steps of each copy per update.
    #[arg(long, default_value_t = 5, value_parser = cli::positive, allow_negative_numbers = true)]
    rollout: usize,
    /// GAE's λ, in [0, 1].
    #[arg(long, default_value_t = 0.95, value_parser = cli::fraction, allow_negative_numbers = true)]
    gae_lambda: f64,
    /// Weight of the entropy bonus.
    #[arg(long, default_value_t = 0.01, value_parser = cli::fraction, allow_negative_numbers = true)]
    entropy_coef: f64,
}

fn main() {
    let args = Args::parse();
    let config = A2cConfig::default()
        .with_seed(args.rl.seed)
        .with_learning_rate(args.lr)
        .with_envs(args.envs)
        .with_rollout(args.rollout)
        .with_gae_lambda(args.gae_lambda)
        .with_entropy_coef(args.entropy_coef);
    run(
        "cartpole_a2c",
        &args.rl,
        |env| A2c::new(env, config),
        A2c::<ClassicControl>::load,
    );
}
