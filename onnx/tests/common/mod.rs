//! Running exported models in ONNX Runtime (the `onnxruntime` Python package) beside Strata.
//!
//! The interpreter is `STRATA_PYTHON` when set (CI points it at a virtual environment with
//! `onnxruntime`; then a failure to run it fails the test), else `python3` if it can import
//! `onnxruntime`; otherwise the tests print one line saying they skipped the comparison.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use strata_layers::recurrent::{Lstm, RecurrentConfig};
use strata_layers::{
    Activation, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
    ConvTranspose2d, Dropout, Flatten, LayerNorm, Linear, MaxPool2d, Module, PRelu, Sequential,
    Unflatten,
};
use strata_models::autoencoder::{AutoEncoder, AutoEncoderConfig};
use strata_models::dbn::Dbn;
use strata_models::rbm::RbmConfig;
use strata_models::sequence::LstmClassifier;
use strata_models::stacked_autoencoder::StackedAutoEncoder;
use strata_models::{DltCnn, LeNet5, LeNetConfig, LeNetStyle, Mlp, MlpConfig, MlpOutput};
use strata_tensor::Tensor;

/// One model to run: its file, its input and where ONNX Runtime writes the output.
pub struct Job {
    pub model: PathBuf,
    pub input: Tensor,
    pub output: PathBuf,
}

/// A scratch folder under the target directory, emptied.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The Python interpreter with `onnxruntime`, or `None` (after printing why) if there is none
/// and `STRATA_PYTHON` is not set.
pub fn python() -> Option<String> {
    if let Ok(python) = std::env::var("STRATA_PYTHON") {
        return Some(python);
    }
    let works = Command::new("python3")
        .args(["-c", "import onnxruntime, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        Some("python3".to_string())
    } else {
        // Straight to the stream, past the test harness's capture, so the line shows.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the ONNX Runtime comparison: no Python with onnxruntime (set STRATA_PYTHON, or `pip install onnxruntime numpy`)"
        );
        None
    }
}

const RUN: &str = r#"
import json, sys
import numpy as np
import onnxruntime as ort
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
for job in json.load(open(sys.argv[1])):
    x = np.fromfile(job["input"], dtype="<f4").reshape(job["shape"])
    session = ort.InferenceSession(job["model"], opts, providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {session.get_inputs()[0].name: x})
    np.asarray(y, dtype="<f4").tofile(job["output"])
    json.dump(list(y.shape), open(job["output"] + ".json", "w"))
"#;

/// Runs every job in ONNX Runtime (one process) and returns the outputs.
pub fn run_in_onnxruntime(python: &str, dir: &Path, jobs: &[Job]) -> Vec<Tensor> {
    let manifest: Vec<serde_json::Value> = jobs
        .iter()
        .enumerate()
        .map(|(i, job)| {
            let input = dir.join(format!("input_{i}.f32"));
            let bytes: Vec<u8> = job
                .input
                .to_vec()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            std::fs::write(&input, bytes).unwrap();
            serde_json::json!({
                "model": job.model,
                "input": input,
                "shape": job.input.shape(),
                "output": job.output,
            })
        })
        .collect();
    let manifest_path = dir.join("jobs.json");
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let out = Command::new(python)
        .args(["-c", RUN])
        .arg(&manifest_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    assert!(
        out.status.success(),
        "ONNX Runtime failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    jobs.iter()
        .map(|job| {
            let bytes = std::fs::read(&job.output).unwrap();
            let values: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let shape_path = format!("{}.json", job.output.display());
            let shape: Vec<usize> =
                serde_json::from_slice(&std::fs::read(shape_path).unwrap()).unwrap();
            Tensor::from_vec(values, &shape)
        })
        .collect()
}

/// `max |a − b| / (1 + |b|)` over the elements, after checking the shapes agree.
pub fn max_relative_difference(what: &str, a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(&x, y)| (x as f64 - y as f64).abs() / (1.0 + (y as f64).abs()))
        .fold(0.0, f64::max)
}

/// A model, the shape of one example, and a name.
pub type Case = (&'static str, Box<dyn Module + Send>, Vec<usize>);

/// A convolutional stack using every image layer and option with an ONNX form.
fn conv_zoo() -> Sequential {
    let mut bn = BatchNorm2d::new(4);
    bn.running_mean = Some(Tensor::from_vec(vec![0.1, -0.2, 0.3, 0.0], &[4]));
    bn.running_var = Some(Tensor::from_vec(vec![0.5, 1.5, 2.0, 0.8], &[4]));
    Sequential::new()
        .add(
            Conv2d::new(3, 4, (3, 3))
                .with_stride((2, 1))
                .with_padding((1, 2))
                .with_dilation((1, 2)),
        )
        .add(bn)
        .add(Activation::Gelu)
        .add(MaxPool2d::new((2, 2)).with_ceil_mode(true))
        .add(
            ConvTranspose2d::new(4, 6, (3, 3))
                .with_stride_padding((2, 2), (1, 1), (1, 1))
                .with_groups(2),
        )
        .add(PRelu::new(6, 0.2))
        .add(
            AvgPool2d::new((3, 3))
                .with_stride_padding((2, 2), (1, 1))
                .with_count_include_pad(false),
        )
        .add(Activation::Silu)
        .add(Conv2d::new(6, 6, (1, 1)).with_groups(3).without_bias())
        .add(AdaptiveAvgPool2d::new((1, 1)))
        .add(Flatten)
        .add(Linear::new(6, 8))
        .add(Dropout::new(0.5))
        .add(Unflatten::new(&[2, 4]))
        .add(LayerNorm::new(&[4]))
        .add(Linear::new(4, 3))
        .add(Flatten)
        .add(Activation::LogSoftmax(1))
}

/// Every activation in turn, on rows of 12 features.
fn activation_zoo() -> Sequential {
    let mut bn = BatchNorm1d::new(12);
    bn.running_mean = Some(Tensor::full(&[12], 0.1));
    bn.running_var = Some(Tensor::full(&[12], 2.0));
    let mut s = Sequential::new().add(Linear::new(12, 12)).add(bn);
    for a in [
        Activation::Tanh,
        Activation::LecunTanh,
        Activation::LeakyRelu(0.1),
        Activation::Elu(0.7),
        Activation::Selu,
        Activation::GeluTanh,
        Activation::Mish,
        Activation::Softplus,
        Activation::LogSigmoid,
        Activation::Hardtanh(-1.5, 0.5),
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Softmax(1),
    ] {
        s = s.add(Linear::new(12, 12)).add(a);
    }
    s
}

/// Every exportable model type, small, seeded.
pub fn cases() -> Vec<Case> {
    strata_layers::manual_seed(7);
    let mut dbn = Dbn::new(&[20, 16, 12], |_, v, h| RbmConfig::new(v, h));
    let unfolded = dbn.unfold(5, MlpOutput::Softmax, 3);
    dbn.eval();
    vec![
        (
            "mlp",
            Box::new(Mlp::new(&MlpConfig::new(&[20, 16, 5]))),
            vec![20],
        ),
        (
            "mlp_tanh_sigmoid",
            Box::new(Mlp::new(
                &MlpConfig::new(&[20, 16, 16, 5])
                    .with_hidden(Activation::LecunTanh)
                    .with_output(MlpOutput::Sigmoid),
            )),
            vec![20],
        ),
        ("dbn_unfolded", Box::new(unfolded), vec![20]),
        (
            "lenet5",
            Box::new(LeNet5::new(LeNetConfig::default())),
            vec![1, 28, 28],
        ),
        (
            "lenet5_classic",
            Box::new(LeNet5::new(LeNetConfig {
                style: LeNetStyle::Classic,
                ..LeNetConfig::default()
            })),
            vec![1, 28, 28],
        ),
        ("dlt_cnn", Box::new(DltCnn::new()), vec![1, 28, 28]),
        (
            "lstm_classifier",
            Box::new(LstmClassifier::new(8, 16, 4)),
            vec![1, 8, 8],
        ),
        (
            "lstm_batch_first",
            Box::new(Lstm::with_config(
                RecurrentConfig::new(6, 5).with_batch_first(true),
            )),
            vec![7, 6],
        ),
        (
            "lstm_time_major_in_sequential",
            Box::new(Sequential::new().add(Lstm::new(6, 5))),
            vec![2, 6],
        ),
        (
            "autoencoder",
            Box::new(AutoEncoder::new(AutoEncoderConfig::new(30, 12))),
            vec![30],
        ),
        (
            "autoencoder_tied_images",
            Box::new(AutoEncoder::new(
                AutoEncoderConfig::new(36, 10)
                    .with_tied(true)
                    .with_activations(Activation::Relu, Activation::Sigmoid),
            )),
            vec![1, 6, 6],
        ),
        ("conv_zoo", Box::new(conv_zoo()), vec![3, 11, 13]),
        (
            "conv1d",
            Box::new(
                Sequential::new()
                    .add(Conv1d::new(3, 5, 3).with_stride_padding(2, 1))
                    .add(Activation::Relu),
            ),
            vec![3, 17],
        ),
        ("activation_zoo", Box::new(activation_zoo()), vec![12]),
        ("dbn_up", Box::new(dbn), vec![20]),
        (
            "stacked_autoencoder",
            Box::new(StackedAutoEncoder::new(
                &[16, 10, 6],
                &AutoEncoderConfig::new(1, 1),
            )),
            vec![1, 4, 4],
        ),
    ]
}
