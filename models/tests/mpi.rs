//! Data-parallel training on several MPI processes (`--features mpi`, needs `mpirun`): the
//! `ddp` example on 2 and 4 ranks (oversubscribed on a small machine) reaches the per-epoch
//! losses and final weights of one process with the same global batch and seed; a rank that is
//! killed or hangs stops the whole job with a message, and the last checkpoint resumes on
//! another number of ranks.
//!
//! Run by `cargo xtask ci` whenever `mpirun` is on the PATH, after it builds the example:
//! `cargo build --profile test -p strata-models --features mpi --example ddp`.
#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use strata_distributed::launch::{built_example, on_ranks};
use strata_layers::Module;
use strata_layers::checkpoint::read_checkpoint;
use strata_layers::safetensors::import_safetensors;
use strata_models::rbm::{Rbm, RbmConfig};
use strata_models::{LeNet5, LeNetConfig, Mlp, MlpConfig, TrainingState};

/// The relative tolerance of every comparison with one process (f32 sums in another order).
const TOLERANCE: f64 = 1e-4;

/// The `ddp` example of this build (target/<profile>/examples/ddp).
fn example() -> PathBuf {
    built_example(
        "ddp",
        "cargo build --profile test -p strata-models --features mpi --example ddp",
    )
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-mpi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the example for `args` on `ranks` ranks (plainly, without MPI, for 1) and returns its
/// RESULT object.
fn train(ranks: usize, args: &[&str], out: &Path) -> Value {
    let mut cmd = on_ranks(ranks, &example());
    // Every run trains on all 10,000 images of the bundled sample (no held-out part): the
    // comparisons are of training, and one LeNet-5 trajectory on a 9,000-image split differed
    // by 5e-4 after two epochs on 2 ranks — a max-pool or ReLU decision flipped by f32
    // rounding, which the 10,000-image runs do not meet.
    cmd.args(args)
        .args(["--threads", "1", "--val-split", "0", "--out"])
        .arg(out);
    let output = cmd.output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{ranks} rank(s) {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in\n{stdout}"));
    serde_json::from_str(line).expect("RESULT is JSON")
}

/// The numbers under `key`: an array of them, or one.
fn numbers(v: &Value, key: &str) -> Vec<f64> {
    match &v[key] {
        Value::Array(items) => items
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect(),
        Value::Number(x) => vec![x.as_f64().unwrap_or(f64::NAN)],
        other => panic!("{key} is {other} in {v}"),
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        let rel = (g - w).abs() / w.abs().max(1e-12);
        assert!(
            rel <= TOLERANCE,
            "{what}: {got:?} vs {want:?} (relative {rel:.2e})"
        );
    }
}

/// The relative L2 distance ‖a − b‖ / ‖b‖ between the weights of two saved models (all
/// parameters as one vector), and the largest per-parameter distance with its name.
fn weight_distance<M: Module>(
    mut make: impl FnMut() -> M,
    a: &Path,
    b: &Path,
) -> (f64, (String, f64)) {
    let (mut ma, mut mb) = (make(), make());
    import_safetensors(&mut ma, a).unwrap();
    import_safetensors(&mut mb, b).unwrap();
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    let mut worst = (String::new(), 0.0f64);
    for ((name, pa), (_, pb)) in ma.params().into_iter().zip(mb.params()) {
        let (va, vb) = (pa.value().to_vec(), pb.value().to_vec());
        let d: f64 = va
            .iter()
            .zip(&vb)
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum();
        let n: f64 = vb.iter().map(|y| (*y as f64).powi(2)).sum();
        let relative = (d / n.max(1e-30)).sqrt();
        if relative > worst.1 {
            worst = (name, relative);
        }
        diff += d;
        norm += n;
    }
    ((diff / norm).sqrt(), worst)
}

/// Trains `model` for `epochs` on 1, 2 and 4 ranks and compares losses and weights with one
/// process.
fn compare<M: Module>(model: &str, epochs: &str, make: impl FnMut() -> M + Copy) {
    let args = ["--model", model, "--epochs", epochs];
    let single_dir = out_dir(&format!("{model}-1"));
    let single = train(1, &args, &single_dir);
    for ranks in [2, 4] {
        let dir = out_dir(&format!("{model}-{ranks}"));
        let run = train(ranks, &args, &dir);
        assert_eq!(run["ranks"], ranks);
        eprintln!(
            "{model} on {ranks} ranks: train losses {:?} (one process {:?})",
            numbers(&run, "train_losses"),
            numbers(&single, "train_losses")
        );
        for key in ["train_losses", "test_loss"] {
            assert_close(
                &format!("{model} {key}, {ranks} ranks"),
                &numbers(&run, key),
                &numbers(&single, key),
            );
        }
        let (distance, (worst, worst_distance)) = weight_distance(
            make,
            &dir.join("weights.safetensors"),
            &single_dir.join("weights.safetensors"),
        );
        eprintln!(
            "{model} on {ranks} ranks: weights at relative distance {distance:.2e} (largest for one parameter: {worst} {worst_distance:.2e})"
        );
        assert!(
            distance <= TOLERANCE,
            "{model} weights on {ranks} ranks: relative distance {distance:.2e}"
        );
        std::fs::remove_dir_all(dir).ok();
    }
    std::fs::remove_dir_all(single_dir).ok();
}

#[test]
fn mlp_and_lenet5_on_2_and_4_ranks_match_one_process() {
    compare("mlp", "2", || Mlp::new(&MlpConfig::new(&[784, 100, 10])));
    compare("lenet", "2", || LeNet5::new(LeNetConfig::default()));
}

/// On two ranks only rank 0 writes the TensorBoard log; each step's loss is the global
/// batch's (summed over the ranks), so the steps of an epoch average to its loss.
#[test]
fn only_rank_zero_writes_the_tensorboard_log() {
    let dir = out_dir("tensorboard");
    let logdir = dir.join("tb");
    let logdir_arg = logdir.to_str().unwrap();
    train(
        2,
        &["--model", "mlp", "--epochs", "1", "--logdir", logdir_arg],
        &dir,
    );
    let run = logdir.join("ddp-mlp");
    assert_eq!(
        strata_models::tensorboard::event_files(&run).unwrap().len(),
        1
    );
    let log = strata_models::tensorboard::read_run(&run).unwrap();
    let steps = log.scalars("step/loss");
    let numbers: Vec<i64> = steps.iter().map(|s| s.0).collect();
    assert!(!steps.is_empty());
    assert_eq!(numbers, (1..=steps.len() as i64).collect::<Vec<_>>());
    // Batches of 64 of the 10,000 examples of the bundled sample; the last one is smaller.
    let size = |i: usize| {
        if i + 1 < steps.len() {
            64
        } else {
            10_000 - 64 * i
        }
    };
    let total: f64 = steps
        .iter()
        .enumerate()
        .map(|(i, s)| f64::from(s.1) * size(i) as f64)
        .sum();
    let mean = total / 10_000.0;
    let epoch = f64::from(log.scalars("train/loss")[0].1);
    assert!(
        (mean - epoch).abs() < 1e-5 * epoch,
        "weighted step mean {mean} vs epoch {epoch}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_rbm_epoch_on_2_and_4_ranks_matches_one_process() {
    compare("rbm", "1", || Rbm::new(RbmConfig::new(784, 100)));
}

/// The pid of rank `rank` of the job writing to `out` (read from /proc).
fn rank_pid(rank: usize, out: &Path) -> Option<u32> {
    let marker = out.to_string_lossy().to_string();
    let wanted = format!("OMPI_COMM_WORLD_RANK={rank}");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline);
            if !cmdline.contains(&marker) || cmdline.contains("mpirun") {
                return None;
            }
            let environ = std::fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|&b| b == 0)
                .any(|kv| kv == wanted.as_bytes())
                .then_some(pid)
        })
}

/// Starts a long 2-rank LeNet run, waits for its first checkpoint, sends `signal` to rank 1
/// and returns the job's output (and the time from the signal to the end).
fn disturb(name: &str, signal: &str, timeout_secs: &str) -> (Output, Duration, PathBuf) {
    let out = out_dir(name);
    // mpirun passes its environment on to the ranks it starts on this machine.
    let child = on_ranks(2, &example())
        .env("STRATA_MPI_TIMEOUT", timeout_secs)
        .args([
            "--model",
            "lenet",
            "--epochs",
            "40",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpirun starts");
    let ckpt = out.join("last.ckpt");
    let start = Instant::now();
    while !ckpt.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no checkpoint after 120 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = rank_pid(1, &out).expect("rank 1 is running");
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let signalled = Instant::now();
    let output = child.wait_with_output().expect("mpirun ends");
    // A stopped process must not outlive the test.
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    (output, signalled.elapsed(), out)
}

/// The checkpoint in `out` is intact and resumes to `epochs` on one process.
fn resumes_elsewhere(out: &Path) {
    let state: TrainingState =
        read_checkpoint(out.join("last.ckpt")).expect("the last checkpoint is intact");
    assert!(
        state.epoch >= 1 && state.epoch < 40,
        "checkpoint after epoch {}",
        state.epoch
    );
    let epochs = (state.epoch + 1).to_string();
    let resume = out.join("last.ckpt");
    let resumed = train(
        1,
        &[
            "--model",
            "lenet",
            "--epochs",
            &epochs,
            "--resume",
            resume.to_str().unwrap(),
        ],
        &out.join("resumed"),
    );
    assert_eq!(resumed["epochs"], state.epoch + 1, "{resumed}");
    assert_eq!(numbers(&resumed, "train_losses").len(), state.epoch + 1);
}

#[test]
fn a_killed_rank_stops_the_job_and_the_checkpoint_resumes_on_another_rank_count() {
    let (output, after_kill, out) = disturb("killed", "-KILL", "60");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the job must fail");
    assert!(
        after_kill < Duration::from_secs(30),
        "stopped {after_kill:?} after the kill"
    );
    assert!(
        stderr.contains("rank 1"),
        "the launcher names the dead rank:\n{stderr}"
    );
    resumes_elsewhere(&out);
    std::fs::remove_dir_all(out).ok();
}

#[test]
fn a_hung_rank_is_stopped_by_the_timeout_with_a_message() {
    let (output, after_stop, out) = disturb("hung", "-STOP", "3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the job must fail");
    assert!(
        after_stop < Duration::from_secs(30),
        "stopped {after_stop:?} after the hang"
    );
    assert!(
        stderr.contains("rank 0 of 2 waited") && stderr.contains("timeout"),
        "the waiting rank says why it stops:\n{stderr}"
    );
    resumes_elsewhere(&out);
    std::fs::remove_dir_all(out).ok();
}
