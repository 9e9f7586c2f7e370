//! Every example's default run learns: each binary is run with no arguments but `--out` (a
//! fresh temporary folder) and its `RESULT {json}` line is held to a bar well past chance — a
//! test error far below the 90% of guessing among ten digits, a language model's validation
//! loss below its bigram baseline, RBM samples of many different digits.
//!
//! The binaries are those `cargo test` builds beside this test (`target/<profile>/examples`;
//! `cargo test -p strata-models --test example_defaults` alone does not rebuild them: build
//! them first with `cargo build --profile test -p strata-models --examples`);
//! `STRATA_EXAMPLES_DIR` points at others. The test profile is optimised but keeps debug
//! assertions, so runs take longer than in release: about 4 minutes for the file on 2 cores.
//!
//! Not run here, because their default run takes minutes in the test profile: `dcgan` (5
//! epochs of a DCGAN plus training the sample scorer's classifier), `generative_compare` (a
//! 784-500-500-2000 DBN, a VAE and a GAN, each for 5 epochs, plus the scorer), `seq2seq` (10
//! epochs of 200 steps; its learning is checked by `tests/sequence_examples.rs` with 6
//! epochs) and `ddp` (the data-parallel launcher, checked by `tests/mpi.rs` and
//! `tests/resume_examples.rs`).

mod common;

use std::process::Command;
use std::time::Instant;

use serde_json::Value;

/// A condition on one field of the RESULT line.
enum Bar {
    /// The number must be below this.
    Below(f64),
    /// The number must be above this.
    Above(f64),
    /// The number must be below that of the other field.
    BelowField(&'static str),
}

/// Runs `example` with `args` and `--out <temporary folder>` (unless `out` is false: the
/// example has no `--out`), in a temporary folder of the test `test`, and returns the fields of
/// each of its RESULT lines.
fn run(test: &str, example: &str, args: &[&str], out: bool) -> Vec<Value> {
    let path = common::examples_dir().join(example);
    assert!(
        path.exists(),
        "{} is missing (built by `cargo test`)",
        path.display()
    );
    let dir = std::env::temp_dir().join(format!(
        "strata-example-defaults-{test}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(&path);
    command.args(args).current_dir(&dir);
    if out {
        command.arg("--out").arg(&dir);
    }
    let start = Instant::now();
    let output = command.output().expect("the example starts");
    let seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{example} {args:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{example} {args:?}: {seconds:.1} s");
    let results: Vec<Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(|json| {
            println!("RESULT {json}");
            serde_json::from_str(json).expect("the RESULT line is JSON")
        })
        .collect();
    assert!(
        !results.is_empty(),
        "{example} printed no RESULT line:\n{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    results
}

/// The number at `field` of `result` (a dotted path: `models.0.confidence`).
fn number(result: &Value, field: &str) -> f64 {
    let mut value = result;
    for key in field.split('.') {
        value = match key.parse::<usize>() {
            Ok(i) => &value[i],
            Err(_) => &value[key],
        };
    }
    value
        .as_f64()
        .unwrap_or_else(|| panic!("RESULT field {field} is not a number: {result}"))
}

/// Runs `example` with `args` for the test `test` and asserts every bar on each of its RESULT
/// lines.
fn learns(test: &str, example: &str, args: &[&str], out: bool, bars: &[(&str, Bar)]) {
    for result in run(test, example, args, out) {
        check(example, args, &result, bars);
    }
}

fn check(example: &str, args: &[&str], result: &Value, bars: &[(&str, Bar)]) {
    for (field, bar) in bars {
        let x = number(result, field);
        match bar {
            Bar::Below(limit) => assert!(
                x < *limit,
                "{example} {args:?}: {field} = {x}, not below {limit}"
            ),
            Bar::Above(limit) => assert!(
                x > *limit,
                "{example} {args:?}: {field} = {x}, not above {limit}"
            ),
            Bar::BelowField(other) => {
                let y = number(result, other);
                assert!(
                    x < y,
                    "{example} {args:?}: {field} = {x}, not below {other} = {y}"
                );
            }
        }
    }
}

/// One test per example default: `name`, the example, extra arguments (only ones that do not
/// change what is trained), whether it takes `--out`, and its bars.
macro_rules! default_learns {
    ($($name:ident: $example:literal [$($arg:literal),*] out $out:literal => [$(($field:literal, $bar:expr)),* $(,)?];)*) => {
        $(
            #[test]
            fn $name() {
                learns(stringify!($name), $example, &[$($arg),*], $out, &[$(($field, $bar)),*]);
            }
        )*
    };
}

default_learns! {
    // LeNet-5, 5 epochs: about 2% test error.
    quickstart: "quickstart" [] out true => [("test_error", Bar::Below(0.05))];
    lenet5: "lenet5" [] out true => [("test_error", Bar::Below(0.05))];
    // The six toolbox NN experiments, 1 or 5 epochs each: 13–21% test error.
    dlt_nn: "dlt_nn" [] out false => [("test_error", Bar::Below(0.30))];
    // An LSTM over the rows, 3 epochs: about 7%.
    lstm_mnist: "lstm_mnist" [] out false => [("test_error", Bar::Below(0.15))];
    // 20 epochs of batch 10 at rate 2: about 2.3%.
    dlt_cnn: "dlt_cnn" [] out true => [("test_error", Bar::Below(0.05))];
    // About 5.5% from the DBN, about 31% from random initialisation.
    dlt_dbn: "dlt_dbn" [] out true => [
        ("test_error", Bar::Below(0.08)),
        ("test_error", Bar::BelowField("random_init_test_error")),
    ];
    // About 6.5%.
    dlt_sae: "dlt_sae" [] out true => [("test_error", Bar::Below(0.10))];
    // 5 epochs of each RBM, 10 of fine-tuning at rate 0.3: about 5%.
    dbn_hinton: "dbn_hinton" [] out true => [("test_error", Bar::Below(0.10))];
    // 100 samples whose nearest training images span most digits (one blurred 0 would be 1
    // class, entropy 0), and a reconstruction error far below the ~0.1 per pixel of an
    // untrained RBM.
    // (The former default, 1000 Gibbs steps, gives 6 classes and an entropy of 0.6.)
    rbm_samples: "rbm_samples" [] out true => [
        ("sample_classes", Bar::Above(7.0)),
        ("sample_class_entropy", Bar::Above(1.2)),
        ("recon_mse_test", Bar::Below(0.04)),
    ];
    // The LSTM, 10 epochs: about 1.73 nats per character, the bigram baseline 2.48.
    char_lm_lstm: "char_lm" ["--sample-len", "0"] out true => [
        ("val_loss", Bar::Below(2.0)),
        ("val_loss", Bar::BelowField("bigram_baseline")),
    ];
    // The Transformer's default settings, for 2 of its 4 default epochs (the full run takes
    // minutes in the test profile): about 2.28 nats per character, already below the bigram
    // baseline (its first epoch ends near 2.5).
    char_lm_transformer: "char_lm" ["--model", "transformer", "--epochs", "2", "--sample-len", "0"] out true => [
        ("val_loss", Bar::BelowField("bigram_baseline")),
    ];
    // The MLP VAE, 10 epochs: a test −ELBO far below the ~543 nats per image of an
    // untrained decoder (784·ln 2).
    vae: "vae" [] out true => [("test_neg_elbo", Bar::Below(130.0))];
}
