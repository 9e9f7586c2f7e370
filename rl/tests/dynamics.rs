//! The environments against Gymnasium 1.4.0 itself: one step from a grid of states with every
//! action (the state after it to 1e-9, the reward, termination), and the step at which fixed
//! policies end an episode (termination, or truncation by the time limit). The vectors come
//! from `tests/reference/gymnasium_vectors.py`.

use strata_rl::envs::ClassicControl;
use strata_rl::{Env, EnvError};

/// One step: state, action, Gymnasium's state after it, reward, terminated.
type StepRow = (&'static [f64], usize, &'static [f64], f64, bool);
/// An episode: environment, start state, policy, the step it ends at, terminated, truncated.
type EpisodeEnd = (&'static str, &'static [f64], &'static str, u32, bool, bool);

include!("reference/gymnasium_vectors.rs");

fn check_steps(env_name: &str, rows: &[StepRow]) {
    let mut env = ClassicControl::from_name(env_name).unwrap();
    for (i, &(state, action, next, reward, terminated)) in rows.iter().enumerate() {
        env.set_state(state).unwrap();
        let t = env.step(action).unwrap();
        let got = env.state();
        for (k, (g, w)) in got.iter().zip(next).enumerate() {
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{env_name} row {i}: state {state:?}, action {action}: component {k} is {g}, Gymnasium {w}"
            );
        }
        assert_eq!(t.reward, reward, "{env_name} row {i}: reward");
        assert_eq!(t.terminated, terminated, "{env_name} row {i}: terminated");
        let obs = env.observation();
        assert!(
            obs.iter().all(|v| v.is_finite()),
            "{env_name} row {i}: observation {obs:?}"
        );
    }
}

#[test]
fn cartpole_steps_match_gymnasium() {
    check_steps("cartpole", CARTPOLE);
}

#[test]
fn acrobot_steps_match_gymnasium() {
    check_steps("acrobot", ACROBOT);
}

#[test]
fn mountain_car_steps_match_gymnasium() {
    check_steps("mountaincar", MOUNTAIN_CAR);
}

/// The policies of `gymnasium_vectors.py`, by name: `(step from 1, state) → action`.
fn policy(name: &str) -> fn(u32, &[f64]) -> usize {
    match name {
        "right" => |_, _| usize::MAX, // resolved below to the environment's last action
        "alternate" => |t, _| (t % 2) as usize,
        "balance" => |_, s| (s[2] + 0.5 * s[3] > 0.0) as usize,
        "none" => |_, _| 1,
        "pump" => |_, s| {
            if s.len() == 4 {
                if s[3] > 0.0 { 2 } else { 0 }
            } else if s[1] >= 0.0 {
                2
            } else {
                0
            }
        },
        other => panic!("unknown policy {other}"),
    }
}

#[test]
fn episodes_end_at_the_same_step_as_in_gymnasium() {
    for &(id, start, name, steps, terminated, truncated) in EPISODE_ENDS {
        let mut env = ClassicControl::from_name(id).unwrap();
        env.set_state(start).unwrap();
        // "right" pushes right: action 1 of CartPole's two, action 2 of MountainCar's three.
        let right = env.num_actions() - 1;
        let act = policy(name);
        let mut t = 0;
        let last = loop {
            t += 1;
            let a = match act(t, &env.state()) {
                usize::MAX => right,
                a => a,
            };
            let step = env.step(a).unwrap();
            if step.done() {
                break step;
            }
        };
        assert_eq!(
            (t, last.terminated, last.truncated),
            (steps, terminated, truncated),
            "{id} from {start:?} with policy {name}"
        );
        assert_eq!(env.elapsed_steps(), steps);
        assert!(
            matches!(env.step(0), Err(EnvError::EpisodeOver { .. })),
            "{id}: a step after the end must be refused"
        );
    }
}
