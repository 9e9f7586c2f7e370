//! The six DeepLearnToolbox `test_example_NN` experiments: a 784-100-10 network with the
//! toolbox's `nnsetup` defaults (scaled tanh hidden units, sigmoid outputs, `½·Σ(y − t)²/m`
//! loss, learning rate 2, momentum 0.5, per-pixel z-scored inputs, batch 100, 1 epoch), then
//! the same with L2 weight decay, with dropout, with sigmoid units, and a 784-20-10 softmax
//! network (batch 1000, 5 epochs) without and with a validation split.
//!
//! Writes each experiment's learning curves into `--out` (default `target/examples/dlt_nn`):
//! `ex<N>/learning_curves.png` and `ex<N>/history.csv`.
//!
//!     cargo run --release -p strata-models --example dlt_nn [-- --experiment N]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset};
use strata_layers::Module;
use strata_models::data::zscored;
use strata_models::recipes::{NN_EXPERIMENTS, NnExperiment, dlt_nn_trainer};
use strata_models::visualize::first_layer_filters;

/// Reproduce the DeepLearnToolbox NN examples.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Run only experiment N (1–6).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=6), allow_negative_numbers = true)]
    experiment: Option<u8>,
    /// Folder for every file written: each experiment's learning curves and metrics CSV in
    /// `ex<N>/`.
    #[arg(long, value_name = "DIR", default_value = "target/examples/dlt_nn")]
    out: PathBuf,
}

fn run(
    ex: &NnExperiment,
    args: &CommonArgs,
    train: &ArrayDataset,
    test: &ArrayDataset,
    data_name: &str,
    out: &Path,
) {
    let epochs = args.epochs(ex.epochs);
    let batch = args.batch_size(ex.batch, train.len());
    let mut trainer = dlt_nn_trainer(ex, args.seed, epochs, batch)
        .unwrap_or_else(|e| fail(e))
        .with_hparams(args.hparams(data_name).with("experiment", ex.name))
        .with_images(|m, _| first_layer_filters(m, 2));
    args.log_to(trainer.config_mut(), &format!("ex{}", ex.number));
    let (fit_set, val_set) = if ex.validation {
        train.split_at(train.len() - train.len() / 6)
    } else {
        (train.clone(), train.select(&[]))
    };
    let history = trainer
        .fit(Arc::new(fit_set), ex.validation.then_some(&val_set))
        .unwrap_or_else(|e| fail(e))
        .clone();
    let eval = trainer.evaluate(test, 1000);
    let title = format!(
        "DeepLearnToolbox NN ex{} ({}) on {data_name}",
        ex.number, ex.name
    );
    common::write_learning_curves(&out.join(format!("ex{}", ex.number)), &history, &title);
    let seconds: f64 = history.iter().map(|m| m.seconds).sum();
    let examples: f64 = history
        .iter()
        .map(|m| m.seconds * m.examples_per_second)
        .sum();
    let epochs_text = strata_models::cli::counted(epochs, "epoch");
    println!(
        "ex{} {}: test error {:.2}% after {epochs_text}, {seconds:.2}s",
        ex.number,
        ex.name,
        100.0 * eval.error()
    );
    print_result(serde_json::json!({
        "example": "dlt_nn",
        "experiment": ex.number,
        "name": ex.name,
        "data": data_name,
        "epochs": epochs,
        "batch_size": batch,
        "test_error": eval.error(),
        "val_error": history.last().and_then(|m| m.val_error),
        "train_seconds": seconds,
        "examples_per_second": examples / seconds.max(1e-9),
        "parameters": trainer.model.num_params(),
    }));
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = zscored(&data);
    common::create_out(&cli.out);
    args.run(|| {
        for ex in NN_EXPERIMENTS
            .iter()
            .filter(|e| cli.experiment.is_none_or(|n| n == e.number))
        {
            run(ex, &args, &train, &test, &name, &cli.out);
        }
    });
}
