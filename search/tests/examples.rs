//! The search examples as a user runs them: `--help` states each example's own defaults, and
//! `search_lenet` on a small space finds a convolutional network that learns (the examples are
//! built by `cargo test` before the tests run).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use strata_distributed::launch::built_example;
use strata_search::Space;

fn example(name: &str) -> PathBuf {
    built_example(
        name,
        &format!("cargo build --profile test -p strata-search --example {name}"),
    )
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-search-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every example's `--help`: its name, its line and its defaults.
#[test]
fn help_states_each_examples_defaults() {
    let cases = [
        // (example, its --help must contain each of these)
        (
            "search_mlp",
            &[
                "Search MLP architectures",
                "[default: 60]",
                "[default: 9]",
                "[default: target/examples/search_mlp]",
            ],
        ),
        (
            "search_lenet",
            &[
                "Search LeNet-style convolutional",
                "[default: 40]",
                "[default: 6]",
                "[default: target/examples/search_lenet]",
            ],
        ),
    ];
    for (name, wanted) in cases {
        let output = Command::new(example(name))
            .arg("--help")
            .output()
            .expect("the example runs");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{name} --help failed:\n{help}");
        for w in wanted {
            assert!(help.contains(w), "{name} --help lacks {w:?}:\n{help}");
        }
    }
}

/// Two one-epoch trials of small LeNet-style networks, Adam at 10⁻³: the winner, retrained,
/// classifies the bundled sample's test set with an error under 20% (chance: 90%).
#[test]
fn search_lenet_finds_a_conv_net_that_learns() {
    let out = out_dir("lenet");
    std::fs::create_dir_all(&out).unwrap();
    let space = Space::new()
        .with_int("channels_1", 4, 6, false)
        .with_int("channels_2", 8, 12, false)
        .with_categorical("kernel", &["3", "5"])
        .with_int("hidden", 32, 48, false)
        .with_categorical("activation", &["relu"])
        .with_float("dropout", 0.0, 0.1, false)
        .with_categorical("optimizer", &["adam"])
        .with_float("lr", 1e-3, 2e-3, true)
        .with_categorical("batch_size", &["64"]);
    let space_file = out.join("space.json");
    std::fs::write(&space_file, serde_json::to_string(&space).unwrap()).unwrap();
    let output = Command::new(example("search_lenet"))
        .args([
            "--trials",
            "2",
            "--epochs",
            "1",
            "--workers",
            "2",
            "--seed",
            "3",
        ])
        .arg("--space")
        .arg(&space_file)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "search_lenet failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in\n{stdout}"));
    let result: Value = serde_json::from_str(line).expect("RESULT is JSON");
    assert_eq!(result["example"], "search_lenet");
    assert_eq!(result["trials"], 2);
    let test_error = result["test_error"].as_f64().expect("a test error");
    assert!(test_error < 0.2, "test error {test_error}:\n{stdout}");
    for file in ["search.jsonl", "trials.csv", "trials.json", "trials.png"] {
        assert!(out.join(file).exists(), "{file} is missing");
    }
    let _ = std::fs::remove_dir_all(&out);
}
