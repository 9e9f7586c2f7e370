//! Hinton & Salakhutdinov's MNIST DBN 784-500-500-2000: greedy CD-1 pretraining of each RBM
//! (Hinton's guide: W ~ N(0, 0.01²), visible biases from the data, learning rate 0.1, momentum
//! 0.5 then 0.9, weight decay 2·10⁻⁴, batch 100), then the stack unfolded into a
//! 784-500-500-2000-10 sigmoid MLP with a softmax output, fine-tuned by backpropagation
//! (cross-entropy, SGD learning rate 0.1, momentum 0.9). `--epochs` applies to each RBM and to
//! fine-tuning.
//!
//!     cargo run --release -p strata-models --example dbn_hinton [-- --epochs 10 --data fashion]

mod common;

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset};
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::dbn::Dbn;
use strata_models::layerwise::Layerwise;
use strata_models::rbm::RbmConfig;
use strata_models::visualize::rbm_images;
use strata_models::{MlpOutput, Objective, Trainer, TrainerConfig};
use strata_optim::SgdConfig;
use strata_tensor::Tensor;

/// Pretrain and fine-tune a 784-500-500-2000-10 DBN.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Cli::parse().common;
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let x = Tensor::from_vec(train.inputs().to_vec(), &[train.len(), train.feature_len()]);
    let epochs = args.epochs(5);
    let batch = args.batch_size(100, train.len());
    args.run(|| {
        let sizes = [784, 500, 500, 2000];
        let seed = args.seed;
        let dbn = Dbn::new(&sizes, |l, v, h| {
            RbmConfig::new(v, h)
                .with_weight_decay(2e-4)
                .with_seed(strata_layers::child_seed(seed, l as u64))
        });
        let start = Instant::now();
        let opt = SgdConfig::new(0.1).with_momentum(0.5).build::<f32>().unwrap_or_else(|e| fail(e));
        let step = Layerwise::new(ContrastiveDivergence::new().with_visible_bias_from_data(true));
        let mut config = TrainerConfig::new(epochs, batch).with_seed(seed);
        args.log_to(&mut config, "pretrain");
        let probe = x.narrow(0, 0, 64.min(train.len()));
        let mut pretrainer = Trainer::new(dbn, opt, step, config, "dbn-hinton-pretraining")
            .unwrap_or_else(|e| fail(e))
            .with_hparams(args.hparams(&name))
            .with_images(move |dbn: &Dbn, _| rbm_images(&dbn.rbms[0], &probe, (28, 28)))
            // Hinton's schedule: momentum 0.5 for the first five epochs of each RBM, then 0.9.
            .with_epoch_hook(|opt, at| opt.set_momentum(if at.epoch < 5 { 0.5 } else { 0.9 }).expect("valid momentum"));
        pretrainer.fit(Arc::new(ArrayDataset::from_rows(&x)), None).unwrap_or_else(|e| fail(e));
        let dbn = pretrainer.model;
        let pretrain_seconds = start.elapsed().as_secs_f64();
        let mlp = dbn.unfold(10, MlpOutput::Linear, seed);
        let optimizer = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap_or_else(|e| fail(e));
        let mut config = TrainerConfig::new(epochs, batch);
        config.seed = seed;
        config.flatten_inputs = true;
        args.log_to(&mut config, "finetune");
        let mut trainer = Trainer::new(mlp, optimizer, Objective::CrossEntropy, config, "dbn-hinton").unwrap_or_else(|e| fail(e)).with_hparams(args.hparams(&name));
        let history = trainer.fit(Arc::new(train.clone()), None).unwrap_or_else(|e| fail(e)).clone();
        let finetune_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let error = trainer.evaluate(&test, 1000).error();
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!("DBN 784-500-500-2000 → MLP 784-500-500-2000-10: test error {:.2}% ({epochs_text} per RBM and of fine-tuning)", 100.0 * error);
        let train_seconds = pretrain_seconds + finetune_seconds;
        print_result(serde_json::json!({
            "example": "dbn_hinton",
            "data": name,
            "epochs": epochs,
            "batch_size": batch,
            "test_error": error,
            "pretrain_seconds": pretrain_seconds,
            "finetune_seconds": finetune_seconds,
            "train_seconds": train_seconds,
            "examples_per_second": (train.len() * epochs * (sizes.len())) as f64 / train_seconds.max(1e-9),
        }));
    });
}
