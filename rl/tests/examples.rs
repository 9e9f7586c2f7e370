//! The three examples as a user runs them: a short training run with its files and RESULT line,
//! a resume to a larger total, the evaluation mode, and command lines that must be refused with
//! the flag named (no panic, no hang).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXAMPLES: [&str; 3] = ["cartpole_dqn", "cartpole_a2c", "cartpole_pg"];

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing (built by `cargo test`)",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .output()
        .expect("the example starts")
}

fn result_line(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "no RESULT line:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

#[test]
fn train_resume_and_evaluate() {
    for name in EXAMPLES {
        let dir = std::env::temp_dir().join(format!("strata-rl-{name}-{}", std::process::id()));
        let out = dir.to_str().unwrap();
        let common = [
            "--quiet",
            "--eval-every",
            "1000",
            "--eval-episodes",
            "2",
            "--final-episodes",
            "3",
            "--out",
            out,
        ];
        let first = run(name, &[&["--steps", "2000"][..], &common].concat());
        assert!(
            first.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let r = result_line(&first);
        assert!(
            r["env_steps"].as_u64().unwrap() >= 2000 && r["eval_episodes"] == 3,
            "{name}: {r}"
        );
        for file in [
            "last.ckpt",
            "best.ckpt",
            "learning_curves.png",
            "episodes.csv",
            "evaluations.csv",
            "episode.png",
        ] {
            assert!(Path::new(out).join(file).exists(), "{name}: {file} missing");
        }
        let last = format!("{out}/last.ckpt");
        let resumed = run(
            name,
            &[&["--steps", "3000", "--resume", &last][..], &common].concat(),
        );
        assert!(
            resumed.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert!(result_line(&resumed)["env_steps"].as_u64().unwrap() >= 3000);
        let again = run(
            name,
            &[&["--steps", "2000", "--resume", &last][..], &common].concat(),
        );
        let err = String::from_utf8_lossy(&again.stderr);
        assert!(
            !again.status.success() && err.contains("--steps is the total"),
            "{name}: {err}"
        );
        let eval = run(
            name,
            &[
                "--evaluate",
                &format!("{out}/best.ckpt"),
                "--final-episodes",
                "2",
                "--out",
                out,
            ],
        );
        assert!(
            eval.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&eval.stderr)
        );
        assert_eq!(result_line(&eval)["eval_episodes"], 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn bad_command_lines_name_the_flag() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("cartpole_dqn", &["--steps", "0"], "--steps"),
        ("cartpole_dqn", &["--steps", "-5"], "--steps"),
        ("cartpole_dqn", &["--lr", "NaN"], "--lr"),
        ("cartpole_dqn", &["--epsilon-end", "1.5"], "--epsilon-end"),
        ("cartpole_dqn", &["--env", "pong"], "--env"),
        ("cartpole_dqn", &["--threads", "100000"], "--threads"),
        (
            "cartpole_dqn",
            &["--resume", "/nonexistent/last.ckpt"],
            "--resume /nonexistent/last.ckpt",
        ),
        ("cartpole_a2c", &["--envs", "0"], "--envs"),
        ("cartpole_a2c", &["--gae-lambda", "-0.5"], "--gae-lambda"),
        (
            "cartpole_a2c",
            &["--evaluate", "x.ckpt", "--resume", "y.ckpt"],
            "--evaluate",
        ),
        (
            "cartpole_pg",
            &["--episodes-per-update", "0"],
            "--episodes-per-update",
        ),
        ("cartpole_pg", &["--gamma", "inf"], "--gamma"),
        ("cartpole_pg", &["--seed", "-1"], "--seed"),
    ];
    for (name, args, flag) in cases {
        let out = run(name, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} {args:?} was accepted");
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
        assert!(
            err.contains(flag),
            "{name} {args:?}: the message does not name {flag}: {err}"
        );
    }
}

#[test]
fn a_checkpoint_of_another_algorithm_is_refused() {
    let dir = std::env::temp_dir().join(format!("strata-rl-cross-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let a2c = run(
        "cartpole_a2c",
        &[
            "--steps",
            "400",
            "--eval-every",
            "400",
            "--eval-episodes",
            "1",
            "--final-episodes",
            "1",
            "--quiet",
            "--out",
            out,
        ],
    );
    assert!(
        a2c.status.success(),
        "{}",
        String::from_utf8_lossy(&a2c.stderr)
    );
    let dqn = run("cartpole_dqn", &["--evaluate", &format!("{out}/last.ckpt")]);
    let err = String::from_utf8_lossy(&dqn.stderr);
    assert!(
        err.contains("holds a a2c CartPole-v1") && err.contains("expected dqn"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
