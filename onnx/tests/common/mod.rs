//! Running exported models in ONNX Runtime (the `onnxruntime` Python package) beside Strata.
//!
//! The interpreter is `STRATA_PYTHON` when set (CI points it at a virtual environment with
//! `onnxruntime`; then a failure to run it fails the test), else `python3` if it can import
//! `onnxruntime`; otherwise the tests print one line saying they skipped the comparison.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

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
        eprintln!(
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
