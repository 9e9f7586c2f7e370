//! The `onnx` example as a user runs it: export a model, import the file back and fine-tune it
//! on the bundled sample (the example is built by `cargo test` before the tests run).

use std::path::PathBuf;
use std::process::Command;

use strata_distributed::launch::built_example;

fn onnx_example() -> PathBuf {
    built_example(
        "onnx",
        "cargo build --profile test -p strata-onnx --example onnx",
    )
}

/// Runs the example with `args`, which must succeed; returns what it printed.
fn run(args: &[&str]) -> String {
    let output = Command::new(onnx_example())
        .args(args)
        .output()
        .expect("the onnx example starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "onnx {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The test error the example printed after `prefix` (e.g. "after 1 epoch of fine-tuning: test
/// error 9.28%" → 0.0928).
fn error_after(stdout: &str, prefix: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{stdout}"));
    let percent = line
        .rsplit("test error ")
        .next()
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no test error in {line:?}"));
    percent / 100.0
}

/// Each exported model imports back and learns when fine-tuned: the MLP takes its images
/// flattened (its graph input is `[N, 784]`), the convolutional nets as `[N, 1, 28, 28]`.
#[test]
fn exported_models_import_and_fine_tune() {
    let out = std::env::temp_dir().join(format!("strata-onnx-example-{}", std::process::id()));
    let out_text = out.to_str().expect("a UTF-8 temporary folder");
    for (model, bar) in [("mlp", 0.15), ("lenet5", 0.15)] {
        run(&["export", "--model", model, "--out", out_text]);
        let file = out.join(format!("{model}.onnx"));
        let stdout = run(&[
            "import",
            file.to_str().unwrap(),
            "--fine-tune",
            "1",
            "--out",
            out_text,
        ]);
        let error = error_after(&stdout, "after 1 epoch of fine-tuning");
        assert!(error < bar, "{model}: test error {error} after fine-tuning");
        assert!(out.join(format!("{model}_fine_tuned.onnx")).exists());
    }
    std::fs::remove_dir_all(&out).ok();
}
