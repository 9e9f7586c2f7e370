//! The DeepLearnToolbox `test_example_CNN`: a 6c5-2s-12c5-2s sigmoid CNN with mean-pool
//! subsampling and a 192 → 10 sigmoid output layer, trained with `½·Σ(y − t)²/m`, plain SGD at
//! learning rate 1, batch 50, on inputs scaled to [0, 1].
//!
//!     cargo run --release -p strata-models --example dlt_cnn [-- --epochs N]

mod common;

use std::sync::Arc;

use clap::Parser;
use common::{CommonArgs, fail, print_result};
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::data::scaled;
use strata_models::recipes::dlt_cnn_trainer;
use strata_models::visualize::first_layer_filters;

/// Train the DeepLearnToolbox CNN.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Cli::parse().common;
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let epochs = args.epochs(1);
    let batch = args.batch_size(50, train.len());
    args.run(|| {
        let mut trainer = dlt_cnn_trainer(args.seed, epochs, batch).unwrap_or_else(|e| fail(e)).with_hparams(args.hparams(&name)).with_images(|m, _| first_layer_filters(m, 8));
        args.log_to(trainer.config_mut(), "dlt_cnn");
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!("DeepLearnToolbox CNN 6c5-2s-12c5-2s: {} parameters; {name}; {epochs_text} of batch {batch}, SGD lr 1", trainer.model.num_params());
        let history = trainer.fit(Arc::new(train), None).unwrap_or_else(|e| fail(e)).clone();
        let eval = trainer.evaluate(&test, 1000);
        let seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let examples: f64 = history.iter().map(|m| m.seconds * m.examples_per_second).sum();
        println!("test error {:.2}% after {epochs_text}, {seconds:.2}s of training", 100.0 * eval.error());
        print_result(serde_json::json!({
            "example": "dlt_cnn",
            "data": name,
            "epochs": epochs,
            "batch_size": batch,
            "test_error": eval.error(),
            "train_seconds": seconds,
            "epoch_seconds": history.iter().map(|m| m.seconds).collect::<Vec<_>>(),
            "examples_per_second": examples / seconds.max(1e-9),
        }));
    });
}
