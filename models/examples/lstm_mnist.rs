//! An LSTM that reads each image row by row — 28 steps of 28 features — and classifies it from
//! its last hidden state (LSTM 128 → Linear 10), on the bundled MNIST sample or, with
//! `--data fashion`, on full Fashion-MNIST: softmax cross-entropy, Adam 1e-3, batch 64 (the
//! last partial batch dropped), inputs scaled to [0, 1] then standardised with the training
//! set's mean and standard deviation.
//!
//!     cargo run --release -p strata-models --example lstm_mnist -- --data fashion --epochs 3
//!
//! Writes `learning_curves.png` and `history.csv` into `--out` (default
//! `target/examples/lstm_mnist`). Ends with one line `RESULT {json}` (test_error, train_seconds, epochs, examples_per_second).
//! Timing against the PyTorch script, which trains on the whole training set, takes
//! `--val-split 0`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use common::{CommonArgs, ValidationArgs, fail, print_result};
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::data::globally_standardized;
use strata_models::sequence::lstm_mnist_trainer;

/// Train a row-by-row LSTM classifier.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    validation: ValidationArgs,
    /// Folder for every file written: the learning-curve PNG and the metrics CSV.
    #[arg(long, value_name = "DIR", default_value = "target/examples/lstm_mnist")]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = globally_standardized(&data);
    let (train, val) = cli.validation.split(&train, args.seed, true);
    let epochs = args.epochs(3);
    let batch = args.batch_size(64, train.len());
    common::create_out(&cli.out);
    args.run(|| {
        let threads = strata_tensor::threads::num_threads();
        let mut trainer = lstm_mnist_trainer(args.seed, epochs, batch).unwrap_or_else(|e| fail(e)).with_hparams(args.hparams(&name));
        args.log_to(trainer.config_mut(), "lstm_mnist");
        println!(
            "LSTM classifier (28 steps × 28 features → LSTM 128 → Linear 10): {} parameters; {name}; \
             {} of batch {batch}, Adam 1e-3, {threads} thread(s)",
            trainer.model.num_params(),
            strata_models::cli::counted(epochs, "epoch")
        );
        let history = trainer.fit(Arc::new(train), val.as_ref()).unwrap_or_else(|e| fail(e)).clone();
        let eval = trainer.evaluate(&test, 1000);
        common::write_learning_curves(&cli.out, &history, &format!("Row-by-row LSTM on {name}"));
        let seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let examples: f64 = history.iter().map(|m| m.seconds * m.examples_per_second).sum();
        println!(
            "test error {:.2}% (accuracy {:.2}%) after {}, {seconds:.1}s of training ({:.1}s per epoch)",
            100.0 * eval.error(),
            100.0 * (1.0 - eval.error()),
            strata_models::cli::counted(trainer.epochs_done(), "epoch"),
            seconds / trainer.epochs_done().max(1) as f64
        );
        print_result(serde_json::json!({
            "example": "lstm_mnist",
            "data": name,
            "threads": threads,
            "epochs": trainer.epochs_done(),
            "batch_size": batch,
            "test_error": eval.error(),
            "train_seconds": seconds,
            "epoch_seconds": history.iter().map(|m| m.seconds).collect::<Vec<_>>(),
            "examples_per_second": examples / seconds.max(1e-9),
        }));
    });
}
