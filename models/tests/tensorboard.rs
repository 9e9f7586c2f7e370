//! The Trainer's TensorBoard log: every figure of the history comes back from the event files,
//! histograms and images are there, a resumed run continues the log without a duplicate step,
//! and TensorBoard's own reader (Python, installed into a virtual environment) loads it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use strata_datasets::{ArrayDataset, Mnist};
use strata_models::data::scaled;
use strata_models::plot::History;
use strata_models::tensorboard::{EventLog, read_run};
use strata_models::visualize::first_layer_filters;
use strata_models::{Mlp, MlpConfig, Objective, Trainer, TrainerConfig};
use strata_optim::{Sgd, SgdConfig};

/// Steps per epoch: 1000 examples in batches of 100.
const STEPS: usize = 10;

/// The first 1000 training and 200 test images of the bundled MNIST sample, in [0, 1].
fn mnist() -> &'static (ArrayDataset, ArrayDataset) {
    static DATA: OnceLock<(ArrayDataset, ArrayDataset)> = OnceLock::new();
    DATA.get_or_init(|| {
        let (train, test) = scaled(&Mnist::bundled().expect("bundled MNIST sample"));
        let first = |d: &ArrayDataset, n: usize| d.select(&(0..n).collect::<Vec<_>>());
        (first(&train, 1000), first(&test, 200))
    })
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-tb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An MLP 784-32-10 trainer logging to `dir/run` (checkpoints in `dir/ckpt`), with its
/// first-layer filters as an image every epoch.
fn trainer(dir: &Path, epochs: usize) -> Trainer<Mlp, Sgd> {
    let model = Mlp::new(&MlpConfig::new(&[784, 32, 10]));
    let optimizer = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap();
    let config = TrainerConfig::new(epochs, 100)
        .with_seed(5)
        .with_flatten_inputs(true)
        .with_verbose(false)
        .with_checkpoints(dir.join("ckpt"), 1)
        .with_tensorboard(dir.join("run"));
    Trainer::new(model, optimizer, Objective::CrossEntropy, config, "mlp")
        .unwrap()
        .with_hparams(strata_models::tensorboard::HParams::new().with("width", 32))
        .with_images(|mlp: &Mlp, _| first_layer_filters(mlp, 1))
}

/// Every epoch figure of `history` is in `log` at its epoch, exactly (as f32).
fn assert_epochs_logged(log: &EventLog, history: &History) {
    let series = |tag: &str| log.scalars(tag);
    let want = |f: &dyn Fn(&strata_models::plot::EpochMetrics) -> Option<f64>| -> Vec<(i64, f32)> {
        history
            .iter()
            .filter_map(|m| f(m).map(|v| (m.epoch as i64, v as f32)))
            .collect()
    };
    assert_eq!(series("train/loss"), want(&|m| Some(m.train_loss)));
    assert_eq!(series("train/error"), want(&|m| m.train_error));
    assert_eq!(series("val/loss"), want(&|m| m.val_loss));
    assert_eq!(series("val/error"), want(&|m| m.val_error));
    assert_eq!(
        series("epoch/learning_rate"),
        want(&|m| Some(m.learning_rate))
    );
    assert_eq!(series("epoch/seconds"), want(&|m| Some(m.seconds)));
}

#[test]
fn every_figure_histogram_and_image_is_logged() {
    let (train, test) = mnist();
    let dir = tmp_dir("figures");
    let mut t = trainer(&dir, 2);
    let history = t.fit(Arc::new(train.clone()), Some(test)).unwrap().clone();
    let log = read_run(dir.join("run")).unwrap();
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    assert_epochs_logged(&log, &history);

    let steps: Vec<i64> = log.scalars("step/loss").iter().map(|s| s.0).collect();
    assert_eq!(steps, (1..=2 * STEPS as i64).collect::<Vec<_>>());
    // The per-step losses average to the epoch's loss (every batch holds 100 examples).
    let first: f64 = log.scalars("step/loss")[..STEPS]
        .iter()
        .map(|s| f64::from(s.1))
        .sum();
    assert!((first / STEPS as f64 - history.as_slice()[0].train_loss).abs() < 1e-5);
    assert_eq!(log.scalars("step/grad_norm").len(), 2 * STEPS);
    assert!(log.scalars("step/grad_norm").iter().all(|s| s.1 > 0.0));

    for name in [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ] {
        for kind in ["params", "grads"] {
            let h = log.histograms(&format!("{kind}/{name}"));
            assert_eq!(
                h.iter().map(|x| x.0).collect::<Vec<_>>(),
                vec![1, 2],
                "{kind}/{name}"
            );
            assert!(h[0].1.num > 0.0);
        }
    }
    let images = log.images("filters/layers.0.weight");
    assert_eq!(images.len(), 2);
    assert_eq!(
        (images[0].1.width, images[0].1.height),
        (6 * 28 + 7, 6 * 28 + 7)
    );
    assert!(log.texts("config")[0].1.contains("\"batch_size\": 100"));
    for tag in ["_hparams_/session_start_info", "_hparams_/session_end_info"] {
        assert!(log.tags().contains(tag), "{tag}");
    }
    tensorboard_reads(&dir.join("run"), &history);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run interrupted after epoch 3 and resumed from its epoch-2 checkpoint logs epoch 3 again:
/// the log holds each epoch and step once, with the resumed run's (identical) values.
#[test]
fn a_resumed_run_continues_the_log_without_duplicates() {
    let (train, test) = mnist();
    let dir = tmp_dir("resume");
    let mut t = trainer(&dir, 2);
    t.fit(Arc::new(train.clone()), Some(test)).unwrap();
    std::fs::copy(dir.join("ckpt/last.ckpt"), dir.join("epoch2.ckpt")).unwrap();
    t.config_mut().epochs = 3;
    let uninterrupted = t.fit(Arc::new(train.clone()), Some(test)).unwrap().clone();
    drop(t);
    let before = read_run(dir.join("run")).unwrap();

    let mut resumed = trainer(&dir, 3);
    resumed.resume(&dir.join("epoch2.ckpt")).unwrap();
    let history = resumed
        .fit(Arc::new(train.clone()), Some(test))
        .unwrap()
        .clone();
    assert_eq!(history.len(), 3);
    let log = read_run(dir.join("run")).unwrap();
    assert_epochs_logged(&log, &history);
    let steps: Vec<i64> = log.scalars("step/loss").iter().map(|s| s.0).collect();
    assert_eq!(steps, (1..=3 * STEPS as i64).collect::<Vec<_>>());
    // Resume is bit-identical, so the re-logged epoch equals the first run's.
    assert_eq!(log.scalars("train/loss"), before.scalars("train/loss"));
    assert_eq!(
        uninterrupted.as_slice()[2].train_loss,
        history.as_slice()[2].train_loss
    );
    assert_eq!(log.histograms("params/layers.0.weight").len(), 3);
    assert_eq!(
        log.texts("config").len(),
        1,
        "the configuration is logged once"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A Python with TensorBoard: `STRATA_TENSORBOARD_PYTHON`, or a virtual environment made in
/// the target folder (`pip install tensorboard`); `None` only where there is no Python.
fn tensorboard_python() -> Option<PathBuf> {
    if let Ok(python) = std::env::var("STRATA_TENSORBOARD_PYTHON") {
        return Some(PathBuf::from(python));
    }
    let python3 = Command::new("python3").arg("--version").output();
    if !python3.is_ok_and(|o| o.status.success()) {
        return None;
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tensorboard-venv");
    let python = venv.join("bin/python");
    let has_tensorboard = |p: &Path| {
        Command::new(p)
            .args(["-c", "import tensorboard"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has_tensorboard(&python) {
        let run = |cmd: &mut Command| {
            let out = cmd.output().expect("running python3");
            assert!(
                out.status.success(),
                "{cmd:?} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(venv.join("bin/pip")).args(["install", "-q", "tensorboard==2.21.0"]));
    }
    Some(python)
}

/// Loads the run with TensorBoard's `EventAccumulator` and checks the scalar series, an
/// image's size and a histogram's bucket count.
fn tensorboard_reads(run: &Path, history: &History) {
    let Some(python) = tensorboard_python() else {
        println!("SKIPPED: TensorBoard's reader check: no python3 on this machine");
        return;
    };
    let losses: Vec<String> = history
        .iter()
        .map(|m| format!("{:?}", m.train_loss as f32))
        .collect();
    let script = format!(
        r#"
import struct, sys
from tensorboard.backend.event_processing import event_accumulator as ea
acc = ea.EventAccumulator(sys.argv[1], size_guidance={{ea.SCALARS: 0, ea.IMAGES: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0}})
acc.Reload()
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
loss = [(s.step, s.value) for s in acc.Scalars("train/loss")]
assert loss == [(e + 1, f32(x)) for e, x in enumerate([{losses}])], loss
assert len(acc.Scalars("step/loss")) == {steps}, len(acc.Scalars("step/loss"))
image = acc.Images("filters/layers.0.weight")[-1]
assert (image.width, image.height) == (175, 175), (image.width, image.height)
h = acc.Histograms("params/layers.0.weight")[-1].histogram_value
assert len(h.bucket) == 31 and len(h.bucket_limit) == 31 and h.num == 784 * 32, h
assert "_hparams_/session_start_info" in acc.PluginTagToContent("hparams")
print("tensorboard read", len(loss), "epochs")
"#,
        losses = losses.join(", "),
        steps = 2 * STEPS,
    );
    let out = Command::new(&python)
        .arg("-c")
        .arg(&script)
        .arg(run)
        .output()
        .expect("running the TensorBoard reader");
    assert!(
        out.status.success(),
        "TensorBoard's reader refused the log:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{}", String::from_utf8_lossy(&out.stdout));
}
