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
use strata_datasets::Dataset;
use strata_models::data::{load_mnist, scaled};
use strata_models::dbn::Dbn;
use strata_models::rbm::{RbmConfig, RbmTraining};
use strata_models::{MlpOutput, Objective, Trainer, TrainerConfig};
use strata_optim::{Optimizer, SgdConfig};
use strata_tensor::Tensor;

/// Pretrain and fine-tune a 784-500-500-2000-10 DBN.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() {
    let args = Cli::parse().common;
    let (data, name) = load_mnist(&args.data).unwrap_or_else(|e| fail(e));
    let (train, test) = scaled(&data);
    let x = Tensor::from_vec(train.inputs().to_vec(), &[train.len(), train.feature_len()]);
    let epochs = args.epochs(5);
    let batch = args.batch_size(100);
    args.run(|| {
        let sizes = [784, 500, 500, 2000];
        let seed = args.seed;
        let mut dbn = Dbn::new(&sizes, |l, v, h| RbmConfig::new(v, h).weight_decay(2e-4).seed(strata_layers::child_seed(seed, l as u64)));
        let start = Instant::now();
        let mut input = x.clone();
        let mut running = Vec::new();
        for l in 0..dbn.rbms.len() {
            let rbm = &mut dbn.rbms[l];
            rbm.init_visible_bias_from_data(&input);
            let mut opt = SgdConfig::new(0.1).momentum(0.5).build::<f32>().unwrap_or_else(|e| fail(e));
            for e in 0..epochs {
                if e == 5 {
                    // Hinton's schedule: momentum 0.5 for the first five epochs, then 0.9.
                    opt = SgdConfig::new(opt.learning_rate()).momentum(0.9).build::<f32>().unwrap_or_else(|e| fail(e));
                }
                let r = rbm.fit(&input, &mut opt, &RbmTraining { epochs: 1, batch_size: batch, verbose: false });
                eprintln!("rbm {} ({}-{}) epoch {}/{epochs}: running reconstruction error {:.3}  {:.2}s", l + 1, rbm.visible(), rbm.hidden(), e + 1, r[0].running_error, r[0].seconds);
                running.push(r[0].running_error);
            }
            input = rbm.prob_h_given_v(&input);
        }
        let pretrain_seconds = start.elapsed().as_secs_f64();
        let mlp = dbn.unfold(10, MlpOutput::Linear, seed);
        let optimizer = SgdConfig::new(0.1).momentum(0.9).build().unwrap_or_else(|e| fail(e));
        let mut config = TrainerConfig::new(epochs, batch);
        config.seed = seed;
        config.flatten_inputs = true;
        let mut trainer = Trainer::new(mlp, optimizer, Objective::CrossEntropy, config, "dbn-hinton").unwrap_or_else(|e| fail(e));
        let history = trainer.fit(Arc::new(train.clone()), None).unwrap_or_else(|e| fail(e)).clone();
        let finetune_seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let error = trainer.evaluate(&test, 1000).error();
        println!("DBN 784-500-500-2000 → MLP 784-500-500-2000-10: test error {:.2}% ({epochs} epochs per RBM and of fine-tuning)", 100.0 * error);
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
