//! Quickstart: LeNet-5 (ReLU, max pooling) learns the bundled MNIST sample with Adam, then
//! reports its test accuracy and writes the learning curves as a PNG.
//!
//!     cargo run --release -p strata-models --example quickstart

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use common::{CommonArgs, ValidationArgs, fail, print_result};
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::LeNetStyle;
use strata_models::data::globally_standardized;
use strata_models::recipes::lenet5_trainer;
use strata_models::visualize::first_layer_filters;

/// Train LeNet-5 on MNIST digits.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    validation: ValidationArgs,
    /// Folder for the learning-curve PNG and the metrics CSV.
    #[arg(long, default_value = "target/examples/quickstart")]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = globally_standardized(&data);
    let (train, val) = cli.validation.split(&train, args.seed, true);
    let epochs = args.epochs(5);
    let batch = args.batch_size(64, train.len());
    common::create_out(&cli.out);
    args.run(|| {
        let mut trainer = lenet5_trainer(LeNetStyle::Modern, args.seed, epochs, batch).unwrap_or_else(|e| fail(e)).with_hparams(args.hparams(&name)).with_images(|m, _| first_layer_filters(m, 8));
        args.log_to(trainer.config_mut(), "quickstart");
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!("LeNet-5 (modern): {} parameters; {name}; {epochs_text} of batch {batch}, Adam 1e-3", trainer.model.num_params());
        let history = trainer.fit(Arc::new(train), val.as_ref()).unwrap_or_else(|e| fail(e)).clone();
        let eval = trainer.evaluate(&test, 1000);
        let png = common::write_learning_curves(&cli.out, &history, &format!("LeNet-5 on {name}"));
        let train_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let examples: f64 = history.iter().map(|m| m.seconds * m.examples_per_second).sum();
        println!("test accuracy {:.2}% (error {:.2}%) after {epochs_text}, {train_seconds:.1}s of training", 100.0 * eval.accuracy, 100.0 * eval.error());
        print_result(serde_json::json!({
            "example": "quickstart",
            "data": name,
            "epochs": epochs,
            "batch_size": batch,
            "test_error": eval.error(),
            "val_error": history.last().and_then(|m| m.val_error),
            "train_seconds": train_seconds,
            "examples_per_second": examples / train_seconds.max(1e-9),
            "plot": png.display().to_string(),
        }));
    });
}
