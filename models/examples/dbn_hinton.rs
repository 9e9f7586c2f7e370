//! Hinton & Salakhutdinov's MNIST DBN 784-500-500-2000: greedy CD-1 pretraining of each RBM
//! (Hinton's guide: W ~ N(0, 0.01²), visible biases from the data, learning rate 0.1, momentum
//! 0.5 then 0.9, weight decay 2·10⁻⁴, batch 100), then the stack unfolded into a
//! 784-500-500-2000-10 sigmoid MLP with a softmax output, fine-tuned by backpropagation
//! (cross-entropy, SGD with momentum 0.9, batch 100).
//!
//! Defaults: 5 epochs of each RBM, then 10 epochs of fine-tuning at learning rate 0.3 — about
//! 5% test error on the bundled 10k sample in about 30 s (release, 2 cores). (At learning rate
//! 0.1 fine-tuning is slower: 8.5% after 5 epochs of each stage.)
//! `--epochs` sets the fine-tuning epochs (and the pretraining epochs too, unless
//! `--pretrain-epochs` is given). With 1 or 2 epochs per RBM fine-tuning is known to stay at
//! chance (about 90% error: the loss stays at ln 10), which the example says in one line.
//!
//! Writes into `--out` (default `target/examples/dbn_hinton`): `pretraining.png` and
//! `pretraining.csv` (each RBM's reconstruction error per epoch), `learning_curves.png` and
//! `history.csv` (fine-tuning).
//!
//!     cargo run --release -p strata-models --example dbn_hinton
//!     cargo run --release -p strata-models --example dbn_hinton -- --epochs 10 --data fashion

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset};
use strata_models::cli;
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::dbn::Dbn;
use strata_models::layerwise::Layerwise;
use strata_models::plot::plot_series;
use strata_models::rbm::RbmConfig;
use strata_models::visualize::rbm_images;
use strata_models::{MlpOutput, Objective, Trainer, TrainerConfig};
use strata_optim::SgdConfig;
use strata_tensor::Tensor;

/// Epochs of each RBM by default.
const PRETRAIN_EPOCHS: usize = 5;
/// Epochs of fine-tuning by default.
const FINETUNE_EPOCHS: usize = 10;
/// Fine-tuning learning rate by default.
const LR: f64 = 0.3;
/// Pretraining epochs per RBM below which fine-tuning is known to stay at chance.
const UNDERFIT_PRETRAIN_EPOCHS: usize = 3;

/// Pretrain and fine-tune a 784-500-500-2000-10 DBN.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Epochs of each RBM, 1 or more (default: --epochs if given, else 5).
    #[arg(long, value_parser = cli::positive, allow_negative_numbers = true)]
    pretrain_epochs: Option<usize>,
    /// Fine-tuning SGD learning rate (momentum 0.9), above 0; default 0.3.
    #[arg(long, default_value_t = LR, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// Folder for the plots and the metrics CSVs.
    #[arg(long, default_value = "target/examples/dbn_hinton")]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let x = Tensor::from_vec(train.inputs().to_vec(), &[train.len(), train.feature_len()]);
    let epochs = args.epochs(FINETUNE_EPOCHS);
    let pretrain_epochs = cli
        .pretrain_epochs
        .or(args.epochs)
        .unwrap_or(PRETRAIN_EPOCHS);
    if pretrain_epochs < UNDERFIT_PRETRAIN_EPOCHS {
        eprintln!(
            "note: {} per RBM is known to leave fine-tuning at chance (1 or 2 epochs: about 90% test error on the 10k sample, the loss staying at ln 10); use --pretrain-epochs {UNDERFIT_PRETRAIN_EPOCHS} or more (default {PRETRAIN_EPOCHS})",
            cli::counted(pretrain_epochs, "epoch")
        );
    }
    let batch = args.batch_size(100, train.len());
    let out = &cli.out;
    std::fs::create_dir_all(out).unwrap_or_else(|e| {
        fail(format!(
            "--out {}: cannot create the folder: {e}",
            out.display()
        ))
    });
    args.run(|| {
        let sizes = [784, 500, 500, 2000];
        let seed = args.seed;
        let dbn = Dbn::new(&sizes, |l, v, h| {
            RbmConfig::new(v, h)
                .with_weight_decay(2e-4)
                .with_seed(strata_layers::child_seed(seed, l as u64))
        });
        let start = Instant::now();
        let opt = SgdConfig::new(0.1)
            .with_momentum(0.5)
            .build::<f32>()
            .unwrap_or_else(|e| fail(e));
        let step = Layerwise::new(ContrastiveDivergence::new().with_visible_bias_from_data(true));
        let mut config = TrainerConfig::new(pretrain_epochs, batch).with_seed(seed);
        args.log_to(&mut config, "pretrain");
        let probe = x.narrow(0, 0, 64.min(train.len()));
        let mut pretrainer = Trainer::new(dbn, opt, step, config, "dbn-hinton-pretraining")
            .unwrap_or_else(|e| fail(e))
            .with_hparams(args.hparams(&name))
            .with_images(move |dbn: &Dbn, _| rbm_images(&dbn.rbms[0], &probe, (28, 28)))
            // Hinton's schedule: momentum 0.5 for the first five epochs of each RBM, then 0.9.
            .with_epoch_hook(|opt, at| {
                opt.set_momentum(if at.epoch < 5 { 0.5 } else { 0.9 })
                    .expect("valid momentum")
            });
        let records = pretrainer
            .fit(Arc::new(ArrayDataset::from_rows(&x)), None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let dbn = pretrainer.model;
        let pretrain_seconds = start.elapsed().as_secs_f64();
        let curves: Vec<(String, Vec<(f64, f64)>)> = (0..sizes.len() - 1)
            .map(|l| {
                let points = records
                    .iter()
                    .filter(|m| m.stage == Some(l))
                    .enumerate()
                    .map(|(e, m)| ((e + 1) as f64, m.train_loss))
                    .collect();
                (format!("RBM {}-{}", sizes[l], sizes[l + 1]), points)
            })
            .collect();
        let series: Vec<(&str, &[(f64, f64)])> = curves
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        let pretraining_png = out.join("pretraining.png");
        plot_series(
            &pretraining_png,
            &format!("DBN 784-500-500-2000 pretraining on {name}"),
            "epoch",
            "reconstruction error, summed squared error per example",
            &series,
        )
        .unwrap_or_else(|e| fail(e));
        records
            .to_csv(out.join("pretraining.csv"))
            .unwrap_or_else(|e| fail(e));
        let last: Vec<String> = curves
            .iter()
            .filter_map(|(n, c)| c.last().map(|(_, e)| format!("{n} {e:.2}")))
            .collect();
        println!(
            "pretraining: last-epoch reconstruction error {} (squared error of the CD-1 reconstruction summed over the visible units — 784 pixels in [0, 1], or the 500 hidden probabilities below — per example); curves: {}",
            last.join(", "),
            pretraining_png.display()
        );
        let mlp = dbn.unfold(10, MlpOutput::Linear, seed);
        let optimizer = SgdConfig::new(cli.lr)
            .with_momentum(0.9)
            .build()
            .unwrap_or_else(|e| fail(e));
        let mut config = TrainerConfig::new(epochs, batch);
        config.seed = seed;
        config.flatten_inputs = true;
        args.log_to(&mut config, "finetune");
        let mut trainer = Trainer::new(
            mlp,
            optimizer,
            Objective::CrossEntropy,
            config,
            "dbn-hinton",
        )
        .unwrap_or_else(|e| fail(e))
        .with_hparams(args.hparams(&name).with("learning_rate", cli.lr));
        let history = trainer
            .fit(Arc::new(train.clone()), None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let finetune_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let error = trainer.evaluate(&test, 1000).error();
        let png = common::write_learning_curves(
            out,
            &history,
            &format!("DBN-initialised MLP 784-500-500-2000-10 on {name}"),
        );
        println!(
            "DBN 784-500-500-2000 → MLP 784-500-500-2000-10: test error {:.2}% after {} per RBM and {} of fine-tuning; learning curves: {}",
            100.0 * error,
            cli::counted(pretrain_epochs, "epoch"),
            cli::counted(epochs, "epoch"),
            png.display()
        );
        let train_seconds = pretrain_seconds + finetune_seconds;
        print_result(serde_json::json!({
            "example": "dbn_hinton",
            "data": name,
            "epochs": epochs,
            "pretrain_epochs": pretrain_epochs,
            "batch_size": batch,
            "learning_rate": cli.lr,
            "test_error": error,
            "pretrain_seconds": pretrain_seconds,
            "finetune_seconds": finetune_seconds,
            "train_seconds": train_seconds,
            "examples_per_second": (train.len() * (epochs + pretrain_epochs * (sizes.len() - 1))) as f64 / train_seconds.max(1e-9),
            "plot": png.display().to_string(),
        }));
    });
}
