//! Trials across MPI ranks (`--features mpi`, needs `mpirun`): the `search_mlp` example on 2
//! ranks runs the trials of a random search that one process runs, with the same
//! configurations and the same validation errors, each trial on one of the ranks; rank 0 alone
//! writes the log, which resumes.
//!
//! Run by `cargo xtask ci` whenever `mpirun` is on the PATH, after it builds the example:
//! `cargo build --profile test -p strata-search --features mpi --example search_mlp`.
#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_distributed::launch::{built_example, on_ranks};
use strata_search::{Condition, Space};

/// The `search_mlp` example of this build (target/<profile>/examples/search_mlp).
fn example() -> PathBuf {
    built_example(
        "search_mlp",
        "cargo build --profile test -p strata-search --features mpi --example search_mlp",
    )
}

/// A small space, so that each trial takes a second or two.
fn small_space(dir: &Path) -> PathBuf {
    let space = Space::new()
        .with_int("layers", 1, 2, false)
        .with_int_if(
            "units_1",
            16,
            64,
            true,
            Condition::AtLeast {
                parent: "layers".into(),
                min: 1,
            },
        )
        .with_int_if(
            "units_2",
            16,
            64,
            true,
            Condition::AtLeast {
                parent: "layers".into(),
                min: 2,
            },
        )
        .with_categorical("activation", &["relu", "tanh"])
        .with_float("dropout", 0.0, 0.2, false)
        .with_categorical("optimizer", &["sgd", "adam"])
        .with_float_if(
            "momentum",
            0.0,
            0.9,
            false,
            Condition::OneOf {
                parent: "optimizer".into(),
                choices: vec!["sgd".into()],
            },
        )
        .with_float("lr", 1e-3, 0.1, true)
        .with_categorical("batch_size", &["128", "256"]);
    let path = dir.join("space.json");
    std::fs::write(&path, serde_json::to_string(&space).unwrap()).unwrap();
    path
}

/// Runs the search on `ranks` ranks (plainly, without MPI, for 1) and returns its RESULT
/// object and its stdout.
fn search(ranks: usize, trials: usize, space: &Path, out: &Path) -> (Value, String) {
    let mut cmd = on_ranks(ranks, &example());
    cmd.args(["--sampler", "random", "--workers", "1", "--epochs", "2"])
        .args(["--seed", "7", "--minutes", "30", "--trials"])
        .arg(trials.to_string())
        .arg("--space")
        .arg(space)
        .arg("--out")
        .arg(out);
    let output = cmd.output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{ranks} rank(s) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("RESULT "))
        .collect();
    assert_eq!(results.len(), 1, "one RESULT line (rank 0's):\n{stdout}");
    let result = serde_json::from_str(&results[0]["RESULT ".len()..]).expect("RESULT is JSON");
    (result, stdout)
}

/// The ended trials of a search's `trials.json`.
fn trials(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("trials.json")).expect("trials.json");
    let v: Value = serde_json::from_str(&text).expect("trials.json is JSON");
    let mut trials = v.as_array().cloned().unwrap_or_else(|| {
        v["trials"]
            .as_array()
            .cloned()
            .expect("trials.json holds the trials")
    });
    trials.sort_by_key(|t| t["id"].as_u64());
    trials
}

#[test]
fn two_ranks_run_the_trials_of_one_process_and_resume_from_the_log() {
    let dir = std::env::temp_dir().join(format!("strata-search-mpi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let space = small_space(&dir);
    let (one_out, two_out) = (dir.join("one"), dir.join("two"));

    let (one, _) = search(1, 4, &space, &one_out);
    let (two, stdout) = search(2, 4, &space, &two_out);
    assert_eq!(one["trials"], 4);
    assert_eq!(two["trials"], 4);
    // Both ranks ran trials.
    for rank in 0..2 {
        assert!(
            stdout.contains(&format!("(rank {rank}): validation error")),
            "rank {rank} ran no trial:\n{stdout}"
        );
    }
    // Random search: the configurations do not depend on earlier results, and a trial's seed is
    // its number, so each trial's first epoch is the same wherever it ran (pruning may differ:
    // on 2 ranks a trial does not see the other rank's trial of its round).
    let (a, b) = (trials(&one_out), trials(&two_out));
    assert_eq!(a.len(), 4);
    assert_eq!(b.len(), 4);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["id"], y["id"]);
        assert_eq!(x["config"], y["config"], "trial {}", x["id"]);
        assert_eq!(
            x["intermediate"][0], y["intermediate"][0],
            "trial {}: first-epoch validation error",
            x["id"]
        );
    }

    // Resuming: two more trials on 2 ranks continue the log of the first four.
    let (more, _) = search(2, 6, &space, &two_out);
    assert_eq!(more["trials"], 6);
    let log = std::fs::read_to_string(two_out.join("search.jsonl")).unwrap();
    assert_eq!(
        log.lines().count(),
        1 + 6,
        "a header and six trials:\n{log}"
    );
    let c = trials(&two_out);
    assert_eq!(
        &c[..4],
        &b[..],
        "the first four trials are kept as they were"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
