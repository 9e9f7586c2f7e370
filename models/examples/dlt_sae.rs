//! The DeepLearnToolbox `test_example_SAE`: a 784-100 sigmoid denoising autoencoder (masking
//! fraction 0.5, `nnsetup` init, `½·Σ(x̂ − x)²/m`, SGD lr 1 with momentum 0.5, batch 100) is
//! pretrained on the inputs scaled to [0, 1]; its encoder then initialises the first layer of
//! a 784-100-10 sigmoid MLP fine-tuned on `½·Σ(y − t)²/m` with the same optimizer settings.
//! `--epochs` sets both the pretraining and the fine-tuning epochs (default 1 each).
//!
//!     cargo run --release -p strata-models --example dlt_sae [-- --epochs N --filters sae.png]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use common::{CommonArgs, fail, print_result};
use strata_datasets::{Dataset, Grid, GridScaling};
use strata_models::data::scaled;
use strata_models::stacked_autoencoder::DltSae;
use strata_models::visualize::first_layer_filters;

/// Pretrain a denoising autoencoder and fine-tune it as a classifier.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Write the 100 learned encoder filters as a 10×10 grid of 28×28 tiles to this PNG file.
    #[arg(long)]
    filters: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let epochs = args.epochs(1);
    let sae = DltSae {
        batch: args.batch_size(100, train.len()),
        ..DltSae::default()
    };
    let train = Arc::new(train);
    args.run(|| {
        println!(
            "DeepLearnToolbox SAE: 784-{} denoising AE (masking {}), then 784-{}-10 sigmoid MLP; {name}; {epochs}+{epochs} epoch(s) of batch {}, SGD lr {} momentum {}",
            sae.hidden, sae.mask_fraction, sae.hidden, sae.batch, sae.lr, sae.momentum
        );
        let start = Instant::now();
        let mut pretrainer = sae.pretrain_trainer(sae.autoencoder(784, args.seed), args.seed, epochs).unwrap_or_else(|e| fail(e));
        pretrainer.config_mut().verbose = false;
        args.log_to(pretrainer.config_mut(), "pretrain");
        let mut pretrainer = pretrainer.with_hparams(args.hparams(&name)).with_images(|ae, _| first_layer_filters(ae, 2));
        let pre = pretrainer.fit(train.clone(), None).unwrap_or_else(|e| fail(e)).clone();
        let ae = pretrainer.model;
        let pretrain_seconds: f64 = pre.iter().map(|e| e.seconds).sum();
        for e in &pre {
            println!("pretraining epoch {}: loss {:.4}, {:.2}s", e.epoch, e.train_loss, e.seconds);
        }
        let mut trainer = sae.finetune_trainer(&ae, 10, args.seed, epochs).unwrap_or_else(|e| fail(e));
        trainer.config_mut().verbose = false;
        args.log_to(trainer.config_mut(), "finetune");
        let mut trainer = trainer.with_hparams(args.hparams(&name));
        let history = trainer.fit(train.clone(), None).unwrap_or_else(|e| fail(e)).clone();
        let finetune_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let wall = start.elapsed().as_secs_f64();
        let eval = trainer.evaluate(&test, 1000);
        let train_seconds = pretrain_seconds + finetune_seconds;
        let examples = (pre.len() + history.len()) as f64 * train.len() as f64;
        println!(
            "test error {:.2}% after {epochs}+{epochs} epoch(s): {pretrain_seconds:.2}s pretraining, {finetune_seconds:.2}s fine-tuning ({wall:.2}s wall)",
            100.0 * eval.error()
        );
        if let Some(path) = &cli.filters {
            let tiles = ae.encoder.weight.value().to_vec();
            let rows = sae.hidden.div_ceil(10);
            match Grid::new(rows, 10, 28, 28)
                .with_scaling(GridScaling::PerTile)
                .with_zoom(2)
                .write_png(&tiles, path)
            {
                Ok(()) => println!("filters: {}", path.display()),
                Err(e) => fail(e),
            }
        }
        print_result(serde_json::json!({
            "example": "dlt_sae",
            "data": name,
            "epochs": epochs,
            "batch_size": sae.batch,
            "test_error": eval.error(),
            "train_seconds": train_seconds,
            "pretrain_seconds": pretrain_seconds,
            "finetune_seconds": finetune_seconds,
            "pretrain_loss": pre.last().map(|e| e.train_loss),
            "examples_per_second": examples / train_seconds.max(1e-9),
        }));
    });
}
