//! Every example refuses nonsense: each binary is run over a table of bad command lines and must
//! exit with an error that names the flag — no panic, no abort, no hang, nothing accepted.
//!
//! The binaries are those `cargo test` builds beside this test (`target/<profile>/examples`);
//! `STRATA_EXAMPLES_DIR` points at others. Every outcome is printed, then the refusals are
//! asserted.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a bad command line may take to be refused (most take milliseconds; some load the
/// bundled data first).
const LIMIT: Duration = Duration::from_secs(30);

/// The examples that take the common image-data flags.
const IMAGE_EXAMPLES: [&str; 13] = [
    "quickstart",
    "lenet5",
    "dlt_nn",
    "dlt_cnn",
    "dlt_dbn",
    "dlt_sae",
    "dbn_hinton",
    "rbm_samples",
    "lstm_mnist",
    "ddp",
    "dcgan",
    "vae",
    "generative_compare",
];

/// Bad values of the flags every image example takes, with the flag the message must name.
const COMMON: &[(&[&str], &str)] = &[
    (&["--epochs", "-1"], "--epochs"),
    (&["--epochs", "0"], "--epochs"),
    (&["--epochs", "two"], "--epochs"),
    (&["--batch-size", "0"], "--batch-size"),
    (&["--batch-size", "1000000000"], "--batch-size"),
    (&["--batch-size", "18446744073709551615"], "--batch-size"),
    (&["--threads", "0"], "--threads"),
    (&["--threads", "100000"], "--threads"),
    (&["--seed", "-1"], "--seed"),
    (&["--data", "/nonexistent/strata"], "--data"),
    (&["--no-such-flag"], "--no-such-flag"),
];

/// Bad command lines of single examples.
const SPECIFIC: &[(&str, &[&str], &str)] = &[
    ("dlt_nn", &["--experiment", "7"], "--experiment"),
    ("dlt_nn", &["--experiment", "-1"], "--experiment"),
    ("lenet5", &["--style", "bogus"], "--style"),
    ("quickstart", &["--val-split", "1"], "--val-split"),
    ("lenet5", &["--val-split", "-0.1"], "--val-split"),
    ("lstm_mnist", &["--val-split", "1.5"], "--val-split"),
    ("vae", &["--val-split", "nan"], "--val-split"),
    ("ddp", &["--val-split", "tenth"], "--val-split"),
    (
        "lenet5",
        &["--resume", "/nonexistent/last.ckpt"],
        "--resume",
    ),
    ("ddp", &["--model", "bogus"], "--model"),
    ("ddp", &["--resume", "/nonexistent/last.ckpt"], "--resume"),
    ("rbm_samples", &["--hidden", "0"], "--hidden"),
    ("rbm_samples", &["--hidden", "100000000"], "--hidden"),
    ("rbm_samples", &["--lr", "NaN"], "--lr"),
    ("rbm_samples", &["--lr", "-0.1"], "--lr"),
    ("rbm_samples", &["--momentum", "1.5"], "--momentum"),
    ("rbm_samples", &["--k", "0"], "--k"),
    ("rbm_samples", &["--gibbs-steps", "0"], "--gibbs-steps"),
    ("rbm_samples", &["--samples", "0"], "--samples"),
    ("char_lm", &["--epochs", "-1"], "--epochs"),
    ("char_lm", &["--batch-size", "1000000000"], "--batch-size"),
    (
        "char_lm",
        &["--batch-size", "9223372036854775807"],
        "--batch-size",
    ),
    ("char_lm", &["--threads", "100000"], "--threads"),
    ("char_lm", &["--seq-len", "100000"], "--seq-len"),
    ("char_lm", &["--hidden", "0"], "--hidden"),
    ("char_lm", &["--lr", "inf"], "--lr"),
    ("char_lm", &["--clip", "NaN"], "--clip"),
    ("char_lm", &["--clip", "0"], "--clip"),
    ("char_lm", &["--minutes", "NaN"], "--minutes"),
    ("char_lm", &["--minutes", "-1"], "--minutes"),
    ("char_lm", &["--steps-per-epoch", "0"], "--steps-per-epoch"),
    ("char_lm", &["--temperature", "0"], "--temperature"),
    ("char_lm", &["--model", "bogus"], "--model"),
    (
        "char_lm",
        &["--resume", "/nonexistent/last.ckpt"],
        "--resume",
    ),
    ("seq2seq", &["--min-len", "0"], "--min-len"),
    (
        "seq2seq",
        &["--min-len", "10", "--max-len", "3"],
        "--max-len",
    ),
    ("seq2seq", &["--max-len", "100000"], "--max-len"),
    ("seq2seq", &["--hidden", "0"], "--hidden"),
    ("seq2seq", &["--lr", "NaN"], "--lr"),
    ("seq2seq", &["--test-size", "0"], "--test-size"),
    ("seq2seq", &["--steps-per-epoch", "0"], "--steps-per-epoch"),
    ("seq2seq", &["--batch-size", "1000000000"], "--batch-size"),
    ("seq2seq", &["--threads", "100000"], "--threads"),
    ("seq2seq", &["--epochs", "-1"], "--epochs"),
    // An output folder that cannot be created (a path under a file).
    ("seq2seq", &["--out", "/dev/null/seq2seq"], "--out"),
    ("lstm_mnist", &["--out", "/dev/null/lstm_mnist"], "--out"),
    ("dlt_nn", &["--out", "/dev/null/dlt_nn"], "--out"),
    ("lenet5", &["--out", "/dev/null/lenet5"], "--out"),
    ("dcgan", &["--latent", "0"], "--latent"),
    ("dcgan", &["--lr", "NaN"], "--lr"),
    ("dcgan", &["--label-smoothing", "1"], "--label-smoothing"),
    ("dcgan", &["--samples", "1"], "--samples"),
    ("dcgan", &["--model", "bogus"], "--model"),
    ("dcgan", &["--resume", "/nonexistent/last.ckpt"], "--resume"),
    ("vae", &["--latent", "0"], "--latent"),
    ("vae", &["--hidden", "0"], "--hidden"),
    ("vae", &["--lr", "-1"], "--lr"),
    ("vae", &["--model", "bogus"], "--model"),
    ("vae", &["--resume", "/nonexistent/last.ckpt"], "--resume"),
    ("generative_compare", &["--gan", "bogus"], "--gan"),
    (
        "generative_compare",
        &["--gibbs-steps", "0"],
        "--gibbs-steps",
    ),
    ("generative_compare", &["--samples", "1"], "--samples"),
];

/// What a bad command line did.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Exited non-zero without a panic, the flag named on stderr.
    Refused,
    /// Exited non-zero without naming the flag.
    Unnamed(String),
    /// Panicked.
    Panicked(String),
    /// Killed by a signal (abort, out of memory).
    Aborted(String),
    /// Still running after the limit.
    Hung,
    /// Exited 0.
    Accepted,
}

fn run(example: &str, args: &[&str], flag: &str) -> Outcome {
    let path = common::examples_dir().join(example);
    assert!(
        path.exists(),
        "{} is missing (built by `cargo test`)",
        path.display()
    );
    let scratch = std::env::temp_dir().join(format!("strata-bad-args-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut child = Command::new(&path)
        .args(args)
        .current_dir(&scratch)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    let first = |s: &str| {
        s.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string()
    };
    match status {
        None => Outcome::Hung,
        Some(_) if stderr.contains("panicked") => Outcome::Panicked(first(&stderr)),
        Some(s) if s.success() => Outcome::Accepted,
        Some(s) if s.code().is_none() => Outcome::Aborted(format!("{s}: {}", first(&stderr))),
        Some(_) if stderr.contains(flag) => Outcome::Refused,
        Some(_) => Outcome::Unnamed(first(&stderr)),
    }
}

#[test]
fn every_example_refuses_bad_arguments() {
    let mut cases: Vec<(&str, &[&str], &str)> = Vec::new();
    for example in IMAGE_EXAMPLES {
        cases.extend(COMMON.iter().map(|&(args, flag)| (example, args, flag)));
    }
    cases.extend(SPECIFIC.iter().copied());
    let mut failures = Vec::new();
    let mut tally = std::collections::BTreeMap::<&str, usize>::new();
    for (example, args, flag) in &cases {
        let outcome = run(example, args, flag);
        let kind = match &outcome {
            Outcome::Refused => "clear error",
            Outcome::Unnamed(_) => "error naming no flag",
            Outcome::Panicked(_) => "panic",
            Outcome::Aborted(_) => "abort",
            Outcome::Hung => "hang (or still running)",
            Outcome::Accepted => "silently accepted",
        };
        *tally.entry(kind).or_default() += 1;
        println!("{example} {}: {kind} {outcome:?}", args.join(" "));
        if outcome != Outcome::Refused {
            failures.push(format!("{example} {}: {outcome:?}", args.join(" ")));
        }
    }
    println!("{} command lines: {tally:?}", cases.len());
    assert!(
        failures.is_empty(),
        "{} not refused clearly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
