//! The DeepLearnToolbox `test_example_SAE`: a 784-100 sigmoid denoising autoencoder (masking
//! fraction 0.5, `nnsetup` init, `½·Σ(x̂ − x)²/m`, SGD lr 1 with momentum 0.5, batch 100) is
//! pretrained on the inputs scaled to [0, 1]; its encoder then initialises the first layer of
//! a 784-100-10 sigmoid MLP fine-tuned on `½·Σ(y − t)²/m` with the same optimizer settings.
//!
//! Defaults (`--preset default`): 10 epochs of pretraining and 20 of fine-tuning in batches of
//! 50 — about 6.5% test error on the bundled 10k sample in about 5 s (release, 2 cores).
//! `--preset dlt` takes the toolbox's 1 + 1 epochs of batch 100: made for 60,000 training
//! images, on the 10k sample that is 100 fine-tuning steps, ending near 35% error, which the
//! example says in one line. `--epochs` sets the fine-tuning epochs (and the pretraining epochs
//! too, unless `--pretrain-epochs` is given); they and `--batch-size` override the preset.
//!
//! Writes into `--out` (default `target/examples/dlt_sae`): `filters.png` (the 100 encoder
//! filters as a 10×10 grid of 28×28 tiles), `pretraining.png` and `pretraining.csv` (the
//! autoencoder's loss per epoch), `learning_curves.png` and `history.csv` (fine-tuning).
//!
//!     cargo run --release -p strata-models --example dlt_sae
//!     cargo run --release -p strata-models --example dlt_sae -- --preset dlt --epochs 5

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, fail, print_result};
use strata_datasets::{Dataset, Grid, GridScaling};
use strata_models::cli;
use strata_models::data::scaled;
use strata_models::plot::plot_series;
use strata_models::stacked_autoencoder::DltSae;
use strata_models::visualize::first_layer_filters;

/// The settings the flags left unset take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// 10 epochs of pretraining, 20 of fine-tuning, batch 50: about 6.5% test error on the
    /// 10k sample.
    Default,
    /// The toolbox's `test_example_SAE`: 1 epoch of each, batch 100 (on the 10k sample this
    /// underfits: about 35% test error).
    Dlt,
}

/// Pretraining epochs, fine-tuning epochs and batch size.
struct Settings {
    pretrain_epochs: usize,
    epochs: usize,
    batch: usize,
}

impl Preset {
    fn settings(self) -> Settings {
        match self {
            Preset::Default => Settings {
                pretrain_epochs: 10,
                epochs: 20,
                batch: 50,
            },
            Preset::Dlt => Settings {
                pretrain_epochs: 1,
                epochs: 1,
                batch: 100,
            },
        }
    }
}

/// Fine-tuning SGD steps below which the network is known to underfit: on the 10k sample,
/// 1000 steps (10 epochs of batch 100) still end near 17% test error, 100 near 35%.
const UNDERFIT_STEPS: usize = 2000;

/// Pretrain a denoising autoencoder and fine-tune it as a classifier.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Settings for --pretrain-epochs, --epochs and --batch-size where they are not given:
    /// `default` (10 epochs of pretraining, 20 of fine-tuning, batch 50) or `dlt` (the
    /// toolbox's 1 epoch of each, batch 100).
    #[arg(long, value_enum, default_value = "default")]
    preset: Preset,
    /// Epochs of autoencoder pretraining, 1 or more (default: --epochs if given, else the
    /// preset's: 10, or 1 with --preset dlt).
    #[arg(long, value_parser = cli::positive, allow_negative_numbers = true)]
    pretrain_epochs: Option<usize>,
    /// Folder for the filters, the plots and the metrics CSVs.
    #[arg(long, default_value = "target/examples/dlt_sae")]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let preset = cli.preset.settings();
    let epochs = args.epochs(preset.epochs);
    let pretrain_epochs = cli
        .pretrain_epochs
        .or(args.epochs)
        .unwrap_or(preset.pretrain_epochs);
    let sae = DltSae {
        batch: args.batch_size(preset.batch, train.len()),
        ..DltSae::default()
    };
    let steps = epochs * train.len().div_ceil(sae.batch);
    if steps < UNDERFIT_STEPS {
        eprintln!(
            "note: {} of fine-tuning ({} of batch {}) are known to underfit this network (100 steps end near 35% test error on the 10k sample, 1000 near 17%, 4000 near 6.5%); raise --epochs or lower --batch-size (the default preset: 20 epochs of batch 50)",
            cli::counted(steps, "SGD step"),
            cli::counted(epochs, "epoch"),
            sae.batch
        );
    }
    let train = Arc::new(train);
    let out = &cli.out;
    std::fs::create_dir_all(out).unwrap_or_else(|e| {
        fail(format!(
            "--out {}: cannot create the folder: {e}",
            out.display()
        ))
    });
    args.run(|| {
        println!(
            "DeepLearnToolbox SAE: 784-{} denoising AE (masking {}), then 784-{}-10 sigmoid MLP; {name}; {} of pretraining and {} of fine-tuning, batch {}, SGD lr {} momentum {}",
            sae.hidden,
            sae.mask_fraction,
            sae.hidden,
            cli::counted(pretrain_epochs, "epoch"),
            cli::counted(epochs, "epoch"),
            sae.batch,
            sae.lr,
            sae.momentum
        );
        let start = Instant::now();
        let mut pretrainer = sae
            .pretrain_trainer(sae.autoencoder(784, args.seed), args.seed, pretrain_epochs)
            .unwrap_or_else(|e| fail(e));
        args.log_to(pretrainer.config_mut(), "pretrain");
        let mut pretrainer = pretrainer
            .with_hparams(args.hparams(&name))
            .with_images(|ae, _| first_layer_filters(ae, 2));
        let pre = pretrainer
            .fit(train.clone(), None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let ae = pretrainer.model;
        let pretrain_seconds: f64 = pre.iter().map(|e| e.seconds).sum();
        let points: Vec<(f64, f64)> = pre
            .iter()
            .enumerate()
            .map(|(e, m)| ((e + 1) as f64, m.train_loss))
            .collect();
        let pretraining_png = out.join("pretraining.png");
        plot_series(
            &pretraining_png,
            &format!("Denoising autoencoder 784-{} on {name}", sae.hidden),
            "epoch",
            "½ · summed squared error per image",
            &[("training (masked inputs)", &points)],
        )
        .unwrap_or_else(|e| fail(e));
        pre.to_csv(out.join("pretraining.csv"))
            .unwrap_or_else(|e| fail(e));
        if let Some(last) = pre.last() {
            println!(
                "pretraining: reconstruction loss {:.4} (½ · squared error summed over the 784 pixels in [0, 1], per image, inputs masked) after {}; curve: {}",
                last.train_loss,
                cli::counted(pre.len(), "epoch"),
                pretraining_png.display()
            );
        }
        let mut trainer = sae
            .finetune_trainer(&ae, 10, args.seed, epochs)
            .unwrap_or_else(|e| fail(e));
        args.log_to(trainer.config_mut(), "finetune");
        let mut trainer = trainer.with_hparams(args.hparams(&name));
        let history = trainer
            .fit(train.clone(), None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let finetune_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let wall = start.elapsed().as_secs_f64();
        let eval = trainer.evaluate(&test, 1000);
        let png = common::write_learning_curves(
            out,
            &history,
            &format!("SAE-initialised MLP 784-{}-10 on {name}", sae.hidden),
        );
        let train_seconds = pretrain_seconds + finetune_seconds;
        let examples = (pre.len() + history.len()) as f64 * train.len() as f64;
        println!(
            "test error {:.2}%: {pretrain_seconds:.2}s pretraining, {finetune_seconds:.2}s fine-tuning ({wall:.2}s wall); learning curves: {}",
            100.0 * eval.error(),
            png.display()
        );
        let filters = out.join("filters.png");
        let tiles = ae.encoder.weight.value().to_vec();
        let rows = sae.hidden.div_ceil(10);
        Grid::new(rows, 10, 28, 28)
            .with_scaling(GridScaling::PerTile)
            .with_zoom(2)
            .write_png(&tiles, &filters)
            .unwrap_or_else(|e| fail(e));
        println!("filters: {}", filters.display());
        print_result(serde_json::json!({
            "example": "dlt_sae",
            "data": name,
            "preset": format!("{:?}", cli.preset).to_lowercase(),
            "epochs": epochs,
            "pretrain_epochs": pretrain_epochs,
            "batch_size": sae.batch,
            "test_error": eval.error(),
            "train_seconds": train_seconds,
            "pretrain_seconds": pretrain_seconds,
            "finetune_seconds": finetune_seconds,
            "pretrain_loss": pre.last().map(|e| e.train_loss),
            "examples_per_second": examples / train_seconds.max(1e-9),
            "filters_png": filters.display().to_string(),
            "plot": png.display().to_string(),
        }));
    });
}
