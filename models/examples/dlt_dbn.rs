//! The DeepLearnToolbox `test_example_DBN`: an RBM 784-100 (its filters written to a PNG), then
//! a DBN 784-100-100 pretrained greedily (CD-1, batch 100, learning rate 1, momentum 0,
//! zero-initialised weights, the second RBM trained on `p(h | v)` of the first), unfolded into a
//! 784-100-100-10 sigmoid MLP and fine-tuned with `½·Σ(y − t)²/N`, SGD learning rate 2,
//! momentum 0.5; compared with the same MLP from `nnsetup`'s random initialisation. Inputs are
//! the pixels scaled to [0, 1].
//!
//!     cargo run --release -p strata-models --example dlt_dbn [-- --epochs 6 --data fashion]

mod common;

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset};
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::dbn::{dlt_dbn, dlt_finetune_trainer, dlt_random_mlp, dlt_rbm_optimizer};
use strata_models::layerwise::Layerwise;
use strata_models::rbm::{Rbm, RbmConfig};
use strata_models::visualize::{rbm_images, write_filters_png};
use strata_models::{MlpOutput, Trainer, TrainerConfig};
use strata_tensor::Tensor;

/// Reproduce the DeepLearnToolbox DBN example.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Where to write the first RBM's filters.
    #[arg(long, default_value = "dlt_dbn_filters.png")]
    filters: String,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let x = Tensor::from_vec(train.inputs().to_vec(), &[train.len(), train.feature_len()]);
    let epochs = args.epochs(1);
    let batch = args.batch_size(100, train.len());
    let data_x = Arc::new(ArrayDataset::from_rows(&x));
    let training = TrainerConfig::new(epochs, batch).with_seed(args.seed);
    args.run(|| {
        // Ex. 1: one RBM 784-100, its filters visualised.
        let rbm = Rbm::new(RbmConfig::dlt(784, 100).with_seed(args.seed));
        let opt = dlt_rbm_optimizer(1.0, 0.0).unwrap_or_else(|e| fail(e));
        let mut config = training.clone();
        args.log_to(&mut config, "rbm");
        let probe = x.narrow(0, 0, 64.min(train.len()));
        let mut rbm_trainer = Trainer::new(rbm, opt, ContrastiveDivergence::new(), config, "rbm")
            .unwrap_or_else(|e| fail(e))
            .with_hparams(args.hparams(&name))
            .with_images(move |rbm, _| rbm_images(rbm, &probe, (28, 28)));
        rbm_trainer
            .fit(data_x.clone(), None)
            .unwrap_or_else(|e| fail(e));
        let rbm = rbm_trainer.model;
        write_filters_png(&cli.filters, rbm.weight.value(), (28, 28), 2)
            .unwrap_or_else(|e| fail(e));
        println!("RBM 784-100: filters written to {}", cli.filters);

        // Ex. 2: DBN 784-100-100, unfolded and fine-tuned.
        let start = Instant::now();
        let opt = dlt_rbm_optimizer(1.0, 0.0).unwrap_or_else(|e| fail(e));
        let step = Layerwise::new(ContrastiveDivergence::new());
        let mut config = training;
        args.log_to(&mut config, "dbn-pretrain");
        let probe = x.narrow(0, 0, 64.min(train.len()));
        let mut pretrainer = Trainer::new(
            dlt_dbn(&[784, 100, 100], args.seed),
            opt,
            step,
            config,
            "dbn",
        )
        .unwrap_or_else(|e| fail(e))
        .with_hparams(args.hparams(&name))
        .with_images(move |dbn, _| rbm_images(&dbn.rbms[0], &probe, (28, 28)));
        let records = pretrainer
            .fit(data_x, None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let dbn = pretrainer.model;
        let pretrain_seconds = start.elapsed().as_secs_f64();
        let layers = dbn.rbms.len();
        let mut trainer = dlt_finetune_trainer(
            dbn.unfold(10, MlpOutput::Sigmoid, args.seed),
            args.seed,
            epochs,
            batch,
        )
        .unwrap_or_else(|e| fail(e))
        .with_hparams(args.hparams(&name).with("init", "dbn"));
        args.log_to(trainer.config_mut(), "finetune");
        let history = trainer
            .fit(Arc::new(train.clone()), None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let finetune_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let error = trainer.evaluate(&test, 1000).error();
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!(
            "DBN 784-100-100 → MLP 784-100-100-10: test error {:.2}% after {epochs_text} per stage",
            100.0 * error
        );

        let mut scratch = dlt_finetune_trainer(
            dlt_random_mlp(&[784, 100, 100, 10], args.seed),
            args.seed,
            epochs,
            batch,
        )
        .unwrap_or_else(|e| fail(e))
        .with_hparams(args.hparams(&name).with("init", "random"));
        args.log_to(scratch.config_mut(), "random-init");
        let scratch_history = scratch
            .fit(Arc::new(train.clone()), None)
            .unwrap_or_else(|e| fail(e))
            .clone();
        let random_error = scratch.evaluate(&test, 1000).error();
        println!(
            "same MLP from random init: test error {:.2}%",
            100.0 * random_error
        );

        let train_seconds = pretrain_seconds + finetune_seconds;
        let examples = (train.len() * epochs * (layers + 1)) as f64;
        // The last epoch's running reconstruction error of each RBM.
        let running: Vec<f64> = (0..layers)
            .filter_map(|l| {
                records
                    .iter()
                    .rfind(|m| m.stage == Some(l))
                    .map(|m| m.train_loss)
            })
            .collect();
        print_result(serde_json::json!({
            "example": "dlt_dbn",
            "data": name,
            "epochs": epochs,
            "batch_size": batch,
            "test_error": error,
            "random_init_test_error": random_error,
            "random_init_finetune_seconds": scratch_history.iter().map(|m| m.seconds).sum::<f64>(),
            "rbm_running_errors": running,
            "pretrain_seconds": pretrain_seconds,
            "finetune_seconds": finetune_seconds,
            "train_seconds": train_seconds,
            "examples_per_second": examples / train_seconds.max(1e-9),
            "filters_png": cli.filters,
        }));
    });
}
