//! The environment contract: seeded resets, the errors for a bad action, a step before reset or
//! after the end, a non-finite state; spaces; the vectorised wrapper's same-step reset; frames.

use strata_rl::envs::{Acrobot, CartPole, ClassicControl, MountainCar};
use strata_rl::render::{Render, write_strip};
use strata_rl::{Env, EnvError, Space, VecEnv};

fn all() -> Vec<ClassicControl> {
    ["cartpole", "acrobot", "mountaincar"]
        .map(|n| ClassicControl::from_name(n).unwrap())
        .to_vec()
}

#[test]
fn seeded_resets_repeat_and_stay_in_gymnasium_ranges() {
    for mut env in all() {
        let a = env.reset(Some(7));
        let b = env.reset(Some(7));
        assert_eq!(
            a,
            b,
            "{}: the same seed must give the same start",
            env.name()
        );
        assert_ne!(
            env.reset(None),
            a,
            "{}: an unseeded reset continues the stream",
            env.name()
        );
        for _ in 0..100 {
            env.reset(None);
            let s = env.state();
            let ok = match env.name() {
                "CartPole-v1" => s.iter().all(|v| (-0.05..0.05).contains(v)),
                "Acrobot-v1" => s.iter().all(|v| (-0.1..0.1).contains(v)),
                _ => (-0.6..-0.4).contains(&s[0]) && s[1] == 0.0,
            };
            assert!(
                ok,
                "{}: start state {s:?} outside Gymnasium's range",
                env.name()
            );
            assert!(env.observation_space().contains(&env.observation()));
        }
    }
}

#[test]
fn bad_steps_are_refused_with_the_environment_and_value_named() {
    for mut env in all() {
        let name = env.name();
        assert_eq!(env.step(0), Err(EnvError::NotReset { env: name }));
        env.reset(Some(0));
        let n = env.num_actions();
        let err = env.step(n).unwrap_err();
        assert_eq!(
            err,
            EnvError::InvalidAction {
                env: name,
                action: n,
                actions: n
            }
        );
        assert!(
            err.to_string().contains(name) && err.to_string().contains(&n.to_string()),
            "{err}"
        );
        let err = env
            .set_state(&vec![f64::NAN; env.state().len()])
            .unwrap_err();
        assert!(
            matches!(err, EnvError::NonFiniteObservation { index: 0, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("NaN"), "{err}");
        assert!(matches!(
            env.set_state(&[0.0]),
            Err(EnvError::StateSize { got: 1, .. })
        ));
    }
    let mut cart = CartPole::new();
    cart.set_state(&[2.39, 5.0, 0.0, 0.0]).unwrap();
    assert!(cart.step(1).unwrap().terminated);
    let err = cart.step(1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CartPole-v1: step called after the episode was terminated at step 1; call reset first"
    );
    let mut car = MountainCar::new().with_max_episode_steps(3);
    car.reset(Some(0));
    for _ in 0..3 {
        car.step(1).unwrap();
    }
    assert!(matches!(
        car.step(1),
        Err(EnvError::EpisodeOver {
            how: "truncated",
            steps: 3,
            ..
        })
    ));
}

#[test]
fn spaces_are_gymnasiums() {
    assert_eq!(CartPole::new().action_space(), Space::Discrete(2));
    assert_eq!(Acrobot::new().action_space(), Space::Discrete(3));
    assert_eq!(
        MountainCar::new().observation_space(),
        Space::bounded(&[-1.2, -0.07], &[0.6, 0.07])
    );
    assert_eq!(Acrobot::new().observation_dim(), 6);
    assert!(Space::Discrete(3).contains(&[2.0]) && !Space::Discrete(3).contains(&[3.0]));
    assert_eq!(
        ClassicControl::from_name("pong").unwrap_err(),
        "unknown environment \"pong\": expected cartpole, acrobot or mountaincar"
    );
}

#[test]
fn vector_env_resets_finished_copies_in_the_same_step() {
    let mut v = VecEnv::new(CartPole::new(), 3);
    let first = v.reset(Some(10)).to_vec();
    let mut single = CartPole::new();
    assert_eq!(
        &first[4..8],
        single.reset(Some(11)).as_slice(),
        "copy i is seeded with seed + i"
    );
    let mut steps = 0;
    loop {
        let t = v.step(&[1, 1, 1]).unwrap();
        steps += 1;
        if t.terminated.iter().any(|&d| d) {
            for i in 0..3 {
                assert_eq!(t.terminated[i], t.final_observations[i].is_some());
                if let Some(last) = &t.final_observations[i] {
                    assert!(
                        last[2].abs() > 0.2 || last[0].abs() > 2.4,
                        "the final observation is the terminal one"
                    );
                    assert!(
                        t.observations[i * 4 + 2].abs() < 0.05,
                        "the copy shows its new episode's start"
                    );
                    assert_eq!(v.envs()[i].elapsed_steps(), 0);
                }
            }
            break;
        }
        assert!(steps < 100);
    }
    assert!(matches!(
        v.step(&[0]),
        Err(EnvError::ActionCount {
            copies: 3,
            got: 1,
            ..
        })
    ));
}

#[test]
fn frames_show_the_state() {
    for mut env in all() {
        env.reset(Some(0));
        let a = env.render(240, 160);
        assert_eq!(a.pixels.len(), 240 * 160 * 3);
        assert!(
            a.pixels.iter().any(|&p| p < 128),
            "{}: nothing drawn",
            env.name()
        );
        let mut moved = env.state();
        moved[0] += 0.3;
        env.set_state(&moved).unwrap();
        assert_ne!(
            env.render(240, 160),
            a,
            "{}: a different state must look different",
            env.name()
        );
    }
    let dir = std::env::temp_dir().join(format!("strata-rl-frames-{}", std::process::id()));
    let frames: Vec<_> = all()
        .iter_mut()
        .map(|e| {
            e.reset(Some(1));
            e.render(120, 80)
        })
        .collect();
    write_strip(&frames, dir.join("strip.png")).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(dir.join("strip.png")).unwrap(),
    ));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (3 * 120 + 2 * 2, 80));
    assert!(
        write_strip(&[], dir.join("none.png"))
            .unwrap_err()
            .to_string()
            .contains("no frames")
    );
    std::fs::remove_dir_all(dir).unwrap();
}
