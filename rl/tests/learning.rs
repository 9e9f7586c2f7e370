//! Each algorithm learns CartPole-v1 on a small budget (the full 100k-step runs over five seeds
//! are in the CHANGELOG): the best periodic greedy evaluation (10 episodes) must clear a bar
//! far above a random policy's ≈ 22.

use strata_rl::envs::CartPole;
use strata_rl::{A2c, A2cConfig, Agent, Dqn, DqnConfig, Reinforce, ReinforceConfig, evaluate};

/// Trains `agent` for `steps` in chunks of `every`, evaluating greedily after each; returns the
/// best mean return.
fn best_evaluation(agent: &mut dyn Agent, steps: u64, every: u64) -> f64 {
    let mut env = CartPole::new();
    let mut best = f64::NEG_INFINITY;
    while agent.env_steps() < steps {
        agent
            .train_until(agent.env_steps() + every, &mut |_, _| {})
            .unwrap();
        best = best.max(evaluate(agent, &mut env, 10, 1 << 40).unwrap().mean());
    }
    best
}

#[test]
fn dqn_learns_cartpole() {
    let mut agent = Dqn::new(CartPole::new(), DqnConfig::default().with_seed(0)).unwrap();
    let best = best_evaluation(&mut agent, 20_000, 2_500);
    assert!(
        best >= 195.0,
        "DQN: best greedy return {best} after 20k steps, expected ≥ 195"
    );
    let log = agent.log();
    assert!(log.mean_last(20) > log.episodes()[..20].iter().map(|e| e.score).sum::<f64>() / 20.0);
}

#[test]
fn a2c_learns_cartpole() {
    let mut agent = A2c::new(CartPole::new(), A2cConfig::default().with_seed(0)).unwrap();
    let best = best_evaluation(&mut agent, 60_000, 5_000);
    assert!(
        best >= 475.0,
        "A2C: best greedy return {best} after 60k steps, expected ≥ 475"
    );
}

#[test]
fn reinforce_learns_cartpole() {
    let mut agent =
        Reinforce::new(CartPole::new(), ReinforceConfig::default().with_seed(0)).unwrap();
    let best = best_evaluation(&mut agent, 60_000, 5_000);
    assert!(
        best >= 195.0,
        "REINFORCE: best greedy return {best} after 60k steps, expected ≥ 195"
    );
}
