//! Same seed, same run; a run resumed from a checkpoint repeats an uninterrupted one exactly
//! (episode log, network outputs, the checkpoint bytes themselves); a checkpoint of another
//! algorithm, a corrupt file and bad settings are refused with a message that says why.

use std::path::{Path, PathBuf};

use strata_autograd::{Var, no_grad};
use strata_layers::Module;
use strata_rl::envs::{CartPole, ClassicControl};
use strata_rl::{A2c, A2cConfig, Agent, Dqn, DqnConfig, Reinforce, ReinforceConfig, RlError};
use strata_tensor::Tensor;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-rl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Trains `fresh()` for `2·half` steps straight and for `half`, save, load, `half` more; the
/// two runs must agree bit for bit.
fn resume_repeats<A: Agent>(
    name: &str,
    fresh: impl Fn() -> A,
    load: impl Fn(&Path) -> Result<A, RlError>,
    half: u64,
) {
    let dir = scratch(name);
    let mut straight = fresh();
    straight.train_until(2 * half, &mut |_, _| {}).unwrap();
    let mut first = fresh();
    first.train_until(half, &mut |_, _| {}).unwrap();
    first.save(&dir.join("half.ckpt")).unwrap();
    drop(first);
    let mut resumed = load(&dir.join("half.ckpt")).unwrap();
    resumed.train_until(2 * half, &mut |_, _| {}).unwrap();
    assert_eq!(straight.env_steps(), resumed.env_steps(), "{name}");
    assert_eq!(
        straight.log(),
        resumed.log(),
        "{name}: the episode logs differ"
    );
    assert!(
        straight.log().len() > 5,
        "{name}: too few episodes to compare"
    );
    let probe = [0.01, -0.3, 0.02, 0.4];
    assert_eq!(straight.act(&probe), resumed.act(&probe));
    straight.save(&dir.join("a.ckpt")).unwrap();
    resumed.save(&dir.join("b.ckpt")).unwrap();
    assert!(
        std::fs::read(dir.join("a.ckpt")).unwrap() == std::fs::read(dir.join("b.ckpt")).unwrap(),
        "{name}: the final states differ"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn dqn_resumes_exactly() {
    let config = DqnConfig::default().with_learning_starts(500).with_seed(4);
    resume_repeats(
        "dqn",
        || Dqn::new(ClassicControl::CartPole(CartPole::new()), config.clone()).unwrap(),
        Dqn::load,
        1500,
    );
}

#[test]
fn a2c_resumes_exactly() {
    resume_repeats(
        "a2c",
        || A2c::new(CartPole::new(), A2cConfig::default().with_seed(4)).unwrap(),
        A2c::load,
        2000,
    );
}

#[test]
fn reinforce_resumes_exactly() {
    let config = ReinforceConfig::default().with_seed(4);
    resume_repeats(
        "reinforce",
        || Reinforce::new(CartPole::new(), config.clone()).unwrap(),
        Reinforce::load,
        2000,
    );
}

#[test]
fn the_same_seed_gives_the_same_curve() {
    let run = |seed| {
        let mut a = A2c::new(CartPole::new(), A2cConfig::default().with_seed(seed)).unwrap();
        a.train_until(4000, &mut |_, _| {}).unwrap();
        a.log().clone()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn wrong_and_corrupt_checkpoints_are_refused() {
    let dir = scratch("wrong");
    let a2c = A2c::new(CartPole::new(), A2cConfig::default()).unwrap();
    a2c.save(&dir.join("a2c.ckpt")).unwrap();
    let err = Dqn::<CartPole>::load(&dir.join("a2c.ckpt")).err().unwrap();
    assert!(matches!(err, RlError::WrongCheckpoint { .. }), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("holds a a2c CartPole-v1 (strata-rl agent) checkpoint, expected dqn"),
        "{err}"
    );
    let mut bytes = std::fs::read(dir.join("a2c.ckpt")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(dir.join("corrupt.ckpt"), &bytes).unwrap();
    let err = A2c::<CartPole>::load(&dir.join("corrupt.ckpt"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("corrupt payload"), "{err}");
    let err = A2c::<CartPole>::load(&dir.join("missing.ckpt"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("missing.ckpt"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_settings_name_the_setting() {
    let cases: Vec<(RlError, &str)> = vec![
        (
            Dqn::new(
                CartPole::new(),
                DqnConfig::default().with_learning_rate(f64::NAN),
            )
            .err()
            .unwrap(),
            "dqn: learning_rate must be positive and finite, got NaN",
        ),
        (
            Dqn::new(CartPole::new(), DqnConfig::default().with_gamma(1.5))
                .err()
                .unwrap(),
            "dqn: gamma must be in [0, 1], got 1.5",
        ),
        (
            Dqn::new(
                CartPole::new(),
                DqnConfig::default().with_epsilon(1.0, -0.1, 10),
            )
            .err()
            .unwrap(),
            "dqn: epsilon must stay in [0, 1], got 1 → -0.1",
        ),
        (
            A2c::new(CartPole::new(), A2cConfig::default().with_envs(0))
                .err()
                .unwrap(),
            "a2c: envs (0), rollout (5) and hidden widths ([64, 64]) must be positive",
        ),
        (
            A2c::new(CartPole::new(), A2cConfig::default().with_gae_lambda(2.0))
                .err()
                .unwrap(),
            "a2c: gae_lambda must be in [0, 1], got 2",
        ),
        (
            Reinforce::new(
                CartPole::new(),
                ReinforceConfig::default().with_max_grad_norm(Some(0.0)),
            )
            .err()
            .unwrap(),
            "reinforce: max_grad_norm must be positive and finite, got 0",
        ),
    ];
    for (err, message) in cases {
        assert_eq!(err.to_string(), message);
    }
}

/// Every builder sets its own field: all of them applied give the configuration written out.
#[test]
fn the_builders_set_their_settings() {
    let a2c = A2cConfig::default()
        .with_envs(3)
        .with_rollout(7)
        .with_hidden(&[16])
        .with_learning_rate(0.01)
        .with_gamma(0.9)
        .with_gae_lambda(0.8)
        .with_value_coef(0.25)
        .with_entropy_coef(0.02)
        .with_max_grad_norm(None)
        .with_bootstrap_truncated(false)
        .with_seed(5);
    let want = A2cConfig {
        envs: 3,
        rollout: 7,
        hidden: vec![16],
        learning_rate: 0.01,
        gamma: 0.9,
        gae_lambda: 0.8,
        value_coef: 0.25,
        entropy_coef: 0.02,
        max_grad_norm: None,
        bootstrap_truncated: false,
        seed: 5,
    };
    assert_eq!(a2c, want);

    let reinforce = ReinforceConfig::default()
        .with_hidden(&[8, 8])
        .with_learning_rate(0.02)
        .with_gamma(0.95)
        .with_episodes_per_update(2)
        .with_value_coef(1.0)
        .with_entropy_coef(0.05)
        .with_normalize_advantages(false)
        .with_max_grad_norm(Some(2.0))
        .with_seed(6);
    let want = ReinforceConfig {
        hidden: vec![8, 8],
        learning_rate: 0.02,
        gamma: 0.95,
        episodes_per_update: 2,
        value_coef: 1.0,
        entropy_coef: 0.05,
        normalize_advantages: false,
        max_grad_norm: Some(2.0),
        seed: 6,
    };
    assert_eq!(reinforce, want);

    let dqn = DqnConfig::default()
        .with_hidden(&[32])
        .with_learning_rate(0.003)
        .with_gamma(0.98)
        .with_buffer_capacity(1000)
        .with_batch_size(16)
        .with_learning_starts(100)
        .with_train_every(4)
        .with_target_update_every(50)
        .with_epsilon(0.9, 0.1, 200)
        .with_double(false)
        .with_huber_delta(2.0)
        .with_max_grad_norm(Some(10.0))
        .with_seed(7);
    let want = DqnConfig {
        hidden: vec![32],
        learning_rate: 0.003,
        gamma: 0.98,
        buffer_capacity: 1000,
        batch_size: 16,
        learning_starts: 100,
        train_every: 4,
        target_update_every: 50,
        epsilon_start: 0.9,
        epsilon_end: 0.1,
        epsilon_decay_steps: 200,
        double: false,
        huber_delta: 2.0,
        max_grad_norm: Some(10.0),
        seed: 7,
    };
    assert_eq!(dqn, want);
}

#[test]
fn dqn_q_values_are_the_outputs_of_its_q_network() {
    let config = DqnConfig::default().with_hidden(&[8]).with_seed(3);
    let mut agent = Dqn::new(CartPole::new(), config).unwrap();
    let observation = [0.01, -0.02, 0.03, 0.04];
    let q = agent.q_values(&observation);
    assert_eq!(q.len(), 2, "one Q-value per CartPole action");
    let x = Var::constant(Tensor::from_vec(observation.to_vec(), &[1, 4]));
    let net = agent.q_network();
    assert_eq!(no_grad(|| net.forward(&x)).into_value().to_vec(), q);
    // The network is the agent's own: changing it changes the Q-values.
    for (_, p) in net.params_mut() {
        p.value_mut().fill_(0.0);
    }
    assert_eq!(agent.q_values(&observation), vec![0.0, 0.0]);
}
