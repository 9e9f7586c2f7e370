//! Every example family resumes exactly: a run interrupted at an epoch boundary and resumed
//! ends with the same checkpoint state, bit for bit, as an uninterrupted run with the same seed
//! and thread count — a supervised `Trainer` (`lenet5`), an RBM through the `Trainer` (`ddp
//! --model rbm`, one process), and the hand-written loop of `char_lm` (a Transformer, whose
//! dropout streams must continue).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use strata_layers::checkpoint::{ModuleState, encode_checkpoint, read_checkpoint};
use strata_models::TrainingState;
use strata_models::plot::History;
use strata_optim::OptimizerState;

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

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs example `name` with `args`, asserting it succeeds; returns its standard output.
fn run(name: &str, args: &[&str]) -> String {
    let out = Command::new(example(name))
        .args(args)
        .output()
        .expect("the example runs");
    assert!(
        out.status.success(),
        "{name} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The model and optimizer state and the position of a `Trainer` checkpoint, encoded (the
/// history is left out: it records seconds).
fn trainer_state(path: &Path) -> (Vec<u8>, Vec<u8>, usize) {
    let state: TrainingState = read_checkpoint(path).unwrap();
    (
        encode_checkpoint(&state.model).unwrap(),
        encode_checkpoint(&state.optimizer).unwrap(),
        state.epoch,
    )
}

/// The checkpoint of `char_lm`, field for field (the network kind as its variant index).
#[derive(Deserialize)]
struct CharLmCheckpoint {
    model: u32,
    hidden: usize,
    seq_len: usize,
    step: u64,
    rng: u64,
    weights: ModuleState,
    optimizer: OptimizerState,
    epochs_done: usize,
    #[allow(dead_code)]
    history: History,
}

/// Everything of a `char_lm` checkpoint but its history (which records seconds), encoded.
fn char_lm_state(path: &Path) -> Vec<u8> {
    let c: CharLmCheckpoint = read_checkpoint(path).unwrap();
    encode_checkpoint(&(
        (c.model, c.hidden, c.seq_len, c.step, c.rng, c.epochs_done),
        encode_checkpoint(&c.weights).unwrap(),
        encode_checkpoint(&c.optimizer).unwrap(),
    ))
    .unwrap()
}

/// Runs `name` for 2 epochs straight into `dir/straight`, and for 1 then resumed to 2 into
/// `dir/resumed`, and compares the last checkpoints. Then resumes the finished run with the
/// same `--epochs` (the total): it trains no more and says so.
fn compare_trainer_example(name: &str, args: &[&str]) {
    let dir = scratch(name);
    let (straight, resumed) = (dir.join("straight"), dir.join("resumed"));
    let with = |out: &Path, epochs: &str, extra: &[&str]| -> String {
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "--threads",
            "1",
            "--epochs",
            epochs,
            "--out",
            out.to_str().unwrap(),
        ]);
        all.extend(extra);
        run(name, &all)
    };
    with(&straight, "2", &[]);
    with(&resumed, "1", &[]);
    let first = resumed.join("last.ckpt");
    let copy = dir.join("epoch1.ckpt");
    std::fs::copy(&first, &copy).unwrap();
    with(&resumed, "2", &["--resume", copy.to_str().unwrap()]);
    let (a, b) = (
        trainer_state(&straight.join("last.ckpt")),
        trainer_state(&first),
    );
    assert_eq!(a.2, 2);
    assert_eq!(b.2, 2);
    assert!(
        a.0 == b.0,
        "{name}: the resumed weights differ from the uninterrupted run's"
    );
    assert!(a.1 == b.1, "{name}: the resumed optimizer state differs");
    // `--epochs 2` again is the total, already reached: nothing trains, one line says so.
    let done = dir.join("epoch2.ckpt");
    std::fs::copy(&first, &done).unwrap();
    let stdout = with(&resumed, "2", &["--resume", done.to_str().unwrap()]);
    assert!(
        stdout.contains("nothing to train") && stdout.contains("--epochs 2"),
        "{name}: a finished resume does not say so:\n{stdout}"
    );
    assert_eq!(trainer_state(&first).2, 2, "{name}: trained past --epochs");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lenet5_resumes_bit_identically() {
    compare_trainer_example("lenet5", &[]);
}

#[test]
fn an_rbm_resumes_bit_identically() {
    compare_trainer_example("ddp", &["--model", "rbm"]);
}

#[test]
fn char_lm_transformer_resumes_bit_identically() {
    let dir = scratch("char-lm");
    let ckpt = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let common = [
        "--model",
        "transformer",
        "--steps-per-epoch",
        "4",
        "--batch-size",
        "8",
        "--eval-chars",
        "256",
        "--sample-len",
        "0",
        "--threads",
        "1",
        "--quiet",
    ];
    let with = |extra: &[&str]| {
        let mut all: Vec<&str> = common.to_vec();
        all.extend(extra);
        run("char_lm", &all);
    };
    let (straight, first, resumed) = (ckpt("straight"), ckpt("first"), ckpt("resumed"));
    with(&["--epochs", "2", "--out", &straight]);
    with(&["--epochs", "1", "--out", &first]);
    // On resume `--epochs` is the total, the checkpoint's epoch included.
    let first_ckpt = format!("{first}/last.ckpt");
    with(&["--epochs", "2", "--out", &resumed, "--resume", &first_ckpt]);
    let (a, b) = (
        char_lm_state(&dir.join("straight/last.ckpt")),
        char_lm_state(&dir.join("resumed/last.ckpt")),
    );
    assert!(
        a == b,
        "char_lm: the resumed checkpoint differs from the uninterrupted run's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
