//! DQN on CartPole-v1 (or `--env acrobot|mountaincar`): a 64-64 ReLU Q-network, replay memory,
//! target network, ε-greedy exploration, Huber loss and Double-DQN targets, trained in Rust
//! with no Python. Prints a progress bar with the running mean return, writes the learning
//! curve, checkpoints and an episode strip to --out, and ends with a `RESULT {json}` line.
//!
//!     cargo run --release -p strata-rl --example cartpole_dqn -- --steps 100000
//!     cargo run --release -p strata-rl --example cartpole_dqn -- --evaluate target/examples/cartpole_dqn/best.ckpt

mod common;

use clap::Parser;
use common::{RlArgs, run};
use strata_models::cli;
use strata_rl::envs::ClassicControl;
use strata_rl::{Dqn, DqnConfig};

/// DQN on a classic-control environment.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    #[command(flatten)]
    rl: RlArgs,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 5e-4, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// Replayed transitions per update.
    #[arg(long, default_value_t = 64, value_parser = cli::positive, allow_negative_numbers = true)]
    batch_size: usize,
    /// Transitions the replay memory holds.
    #[arg(long, default_value_t = 50_000, value_parser = cli::positive, allow_negative_numbers = true)]
    buffer: usize,
    /// Steps before learning starts.
    #[arg(long, default_value_t = 1_000, value_parser = cli::count, allow_negative_numbers = true)]
    learning_starts: usize,
    /// Copy the Q-network into the target network every this many steps.
    #[arg(long, default_value_t = 500, value_parser = cli::positive, allow_negative_numbers = true)]
    target_every: usize,
    /// Steps over which ε falls from 1 to its final value.
    #[arg(long, default_value_t = 10_000, value_parser = cli::count, allow_negative_numbers = true)]
    epsilon_steps: usize,
    /// ε after the decay.
    #[arg(long, default_value_t = 0.05, value_parser = cli::fraction, allow_negative_numbers = true)]
    epsilon_end: f64,
    /// Plain DQN targets instead of Double DQN.
    #[arg(long)]
    no_double: bool,
}

fn main() {
    let args = Args::parse();
    let config = DqnConfig::default()
        .with_seed(args.rl.seed)
        .with_learning_rate(args.lr)
        .with_batch_size(args.batch_size)
        .with_buffer_capacity(args.buffer)
        .with_learning_starts(args.learning_starts as u64)
        .with_target_update_every(args.target_every as u64)
        .with_epsilon(1.0, args.epsilon_end, args.epsilon_steps as u64)
        .with_double(!args.no_double);
    run(
        "cartpole_dqn",
        &args.rl,
        |env| Dqn::new(env, config),
        Dqn::<ClassicControl>::load,
    );
}
