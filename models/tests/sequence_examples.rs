//! The sequence examples reach their accuracy bars: `char_lm` (LSTM) below the bigram
//! baseline on Tiny Shakespeare's validation split, with checkpoint resume; `seq2seq` with
//! attention ≥ 95% exact match on held-out strings, and below 90% without.

#[path = "../examples/char_lm.rs"]
mod char_lm;
#[path = "../examples/seq2seq.rs"]
mod seq2seq;

use clap::Parser;

use char_lm::BIGRAM_NATS;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-seq-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn char_lm_lstm_beats_the_bigram_baseline() {
    let dir = temp_dir("char-lm");
    let ckpt = dir.join("last.ckpt");
    let resumed_dir = dir.join("resumed");
    let args = char_lm::CharLmArgs::parse_from([
        "char_lm",
        "--model",
        "lstm",
        "--epochs",
        "3",
        "--steps-per-epoch",
        "100",
        "--minutes",
        "1.0",
        "--sample-len",
        "100",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
        "--logdir",
        dir.join("tb").to_str().unwrap(),
    ]);
    let report = char_lm::run(&args).unwrap();
    println!(
        "char_lm LSTM: validation {:.4} nats/char after {} steps in {:.1} s",
        report.val_loss, report.steps, report.seconds
    );
    assert!(
        report.val_loss < BIGRAM_NATS,
        "validation loss {:.4} is not below the bigram baseline {BIGRAM_NATS}",
        report.val_loss
    );
    assert!(report.sample.starts_with("ROMEO:\n") && report.sample.chars().count() == 107);
    assert!(ckpt.exists());
    assert!(dir.join("learning_curves.png").exists() && dir.join("history.csv").exists());
    assert_eq!(report.history.len(), report.epochs);
    // Resuming continues the step count from the checkpoint; `--epochs` is the total.
    let total = (report.epochs + 1).to_string();
    let resumed = char_lm::CharLmArgs::parse_from([
        "char_lm",
        "--epochs",
        &total,
        "--steps-per-epoch",
        "5",
        "--eval-chars",
        "4096",
        "--sample-len",
        "0",
        "--quiet",
        "--out",
        resumed_dir.to_str().unwrap(),
        "--resume",
        ckpt.to_str().unwrap(),
        "--logdir",
        dir.join("tb").to_str().unwrap(),
    ]);
    let again = char_lm::run(&resumed).unwrap();
    assert_eq!(again.steps, report.steps + 5);
    assert_eq!(again.epochs, report.epochs + 1);
    assert_eq!(again.history.len(), report.epochs + 1);
    // The TensorBoard log continues: every step once, the epochs' losses at their steps.
    let log = strata_models::tensorboard::read_run(dir.join("tb/char_lm-lstm")).unwrap();
    let steps: Vec<i64> = log.scalars("step/loss").iter().map(|s| s.0).collect();
    assert_eq!(steps, (1..=again.steps as i64).collect::<Vec<_>>());
    let epochs: Vec<i64> = log.scalars("train/loss").iter().map(|s| s.0).collect();
    assert_eq!(epochs.last(), Some(&(again.steps as i64)));
    assert_eq!(log.scalars("val/loss").len(), 2);
    assert!(
        again.val_loss < BIGRAM_NATS,
        "resumed loss {}",
        again.val_loss
    );
    // A checkpoint of another architecture is refused with a message.
    let wrong = char_lm::CharLmArgs::parse_from([
        "char_lm",
        "--model",
        "transformer",
        "--quiet",
        "--out",
        dir.join("wrong").to_str().unwrap(),
        "--resume",
        ckpt.to_str().unwrap(),
    ]);
    let err = char_lm::run(&wrong).unwrap_err();
    assert!(err.contains("checkpoint is a Lstm"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn char_lm_transformer_trains() {
    let args = char_lm::CharLmArgs::parse_from([
        "char_lm",
        "--model",
        "transformer",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "30",
        "--eval-chars",
        "8192",
        "--sample-len",
        "20",
        "--quiet",
        "--out",
        temp_dir("char-lm-tr").to_str().unwrap(),
    ]);
    let report = char_lm::run(&args).unwrap();
    assert!(
        report.val_loss.is_finite() && report.val_loss < 3.6,
        "{report:?}"
    );
}

fn seq2seq_args(extra: &[&str]) -> seq2seq::Seq2SeqArgs {
    let mut argv = vec!["seq2seq", "--epochs", "6", "--quiet", "--test-size", "1000"];
    argv.extend_from_slice(extra);
    seq2seq::Seq2SeqArgs::parse_from(argv)
}

/// With attention: ≥ 95% exact match on 1000 held-out strings of 3–12 digits.
#[test]
fn seq2seq_with_attention_reaches_95_percent() {
    let dir = temp_dir("seq2seq");
    let plot = dir.join("attention.png");
    let with = seq2seq::run(&seq2seq_args(&["--out", dir.to_str().unwrap()])).unwrap();
    println!(
        "seq2seq exact match with attention: {:.1}% ({:.0} s)",
        100.0 * with.exact_match,
        with.seconds
    );
    assert!(with.exact_match >= 0.95, "with attention: {with:?}");
    assert_eq!(with.plot.as_deref(), Some(plot.as_path()));
    assert!(std::fs::metadata(&plot).unwrap().len() > 0);
    assert_eq!(with.learning_curves, dir.join("learning_curves.png"));
    let csv = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "a header and 6 epochs: {csv}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without attention, the same budget stays well short (about 60–75% exact match).
#[test]
fn seq2seq_without_attention_does_measurably_worse() {
    let dir = temp_dir("seq2seq-plain");
    let without = seq2seq::run(&seq2seq_args(&[
        "--no-attention",
        "--out",
        dir.to_str().unwrap(),
    ]))
    .unwrap();
    println!(
        "seq2seq exact match without attention: {:.1}% ({:.0} s)",
        100.0 * without.exact_match,
        without.seconds
    );
    assert!(without.exact_match < 0.90, "without attention: {without:?}");
    assert!(
        without.token_accuracy > 0.5,
        "the baseline learns something: {without:?}"
    );
    assert!(without.plot.is_none());
    assert!(!dir.join("attention.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
