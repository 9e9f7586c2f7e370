//! Trains a Bernoulli RBM on binarised-free [0, 1] pixels (CD-k or PCD-k, SGD with momentum)
//! and writes two pictures: the filters (each hidden unit's weights as a 28×28 tile) and
//! images drawn by long Gibbs chains. Also the timing run of the RBM benchmark: one epoch of
//! CD-1, batch 100, learning rate 0.1 on Fashion-MNIST with
//! `--data fashion --hidden 500 --epochs 1 --lr 0.1 --form dlt --threads 1`.
//!
//!     cargo run --release -p strata-models --example rbm_samples [-- --hidden 500 --pcd]

mod common;

use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset};
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::rbm::{Divergence, Rbm, RbmConfig, RbmInit};
use strata_models::visualize::{
    rbm_images, samples_grid, tensorboard_image, write_filters_png, write_samples_png,
};
use strata_models::{Trainer, TrainerConfig, cli};
use strata_optim::SgdConfig;
use strata_tensor::Tensor;

/// Which CD update.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Form {
    /// Hinton's guide: probabilities in the positive statistics and the reconstruction,
    /// visible biases from the data.
    Hinton,
    /// The DeepLearnToolbox `rbmtrain` form (sampled h₁ and v₂), with W ~ N(0, 0.01²).
    Dlt,
}

/// Train an RBM and picture its filters and samples.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Hidden units, 1..=65536.
    #[arg(long, default_value_t = 100, value_parser = cli::int_in(1, 65536), allow_negative_numbers = true)]
    hidden: usize,
    /// Learning rate, above 0.
    #[arg(long, default_value_t = 0.1, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// SGD momentum, in [0, 1).
    #[arg(long, default_value_t = 0.5, value_parser = cli::fraction, allow_negative_numbers = true)]
    momentum: f64,
    /// Gibbs steps per update (CD-k / PCD-k), 1..=1000.
    #[arg(long, default_value_t = 1, value_parser = cli::int_in(1, 1000), allow_negative_numbers = true)]
    k: usize,
    /// Persistent chains (PCD).
    #[arg(long)]
    pcd: bool,
    /// Update form.
    #[arg(long, value_enum, default_value_t = Form::Hinton)]
    form: Form,
    /// Gibbs steps of each sampling chain, 1..=1000000.
    #[arg(long, default_value_t = 1000, value_parser = cli::int_in(1, 1_000_000), allow_negative_numbers = true)]
    gibbs_steps: usize,
    /// Number of samples drawn, 1..=10000 (at most the test images).
    #[arg(long, default_value_t = 100, value_parser = cli::int_in(1, 10_000), allow_negative_numbers = true)]
    samples: usize,
    /// Filters picture.
    #[arg(long, default_value = "rbm_filters.png")]
    filters: String,
    /// Samples picture.
    #[arg(long, default_value = "rbm_samples.png")]
    samples_png: String,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let x = Tensor::from_vec(train.inputs().to_vec(), &[train.len(), train.feature_len()]);
    let xt = Tensor::from_vec(test.inputs().to_vec(), &[test.len(), test.feature_len()]);
    let epochs = args.epochs(5);
    let batch = args.batch_size(100, train.len());
    args.run(|| {
        let base = match cli.form {
            Form::Hinton => RbmConfig::new(784, cli.hidden),
            Form::Dlt => RbmConfig::dlt(784, cli.hidden).with_init(RbmInit::Hinton),
        };
        let divergence = if cli.pcd { Divergence::Persistent(cli.k) } else { Divergence::Cd(cli.k) };
        let rbm = Rbm::new(base.with_divergence(divergence).with_seed(args.seed));
        let step = ContrastiveDivergence::new().with_visible_bias_from_data(matches!(cli.form, Form::Hinton));
        let opt = SgdConfig::new(cli.lr).with_momentum(cli.momentum).build::<f32>().unwrap_or_else(|e| fail(e));
        let mut config = TrainerConfig::new(epochs, batch).with_seed(args.seed).with_flatten_inputs(true);
        args.log_to(&mut config, "rbm");
        let probe = xt.narrow(0, 0, 64.min(test.len()));
        let hparams = args.hparams(&name).with("hidden", cli.hidden).with("momentum", cli.momentum).with("cd_k", cli.k).with("persistent", cli.pcd).with("form", format!("{:?}", cli.form).to_lowercase());
        let mut trainer = Trainer::new(rbm, opt, step, config, "rbm").unwrap_or_else(|e| fail(e)).with_hparams(hparams).with_images(move |rbm, _| rbm_images(rbm, &probe, (28, 28)));
        let start = Instant::now();
        let records = trainer.fit(Arc::new(ArrayDataset::from_rows(&x)), None).unwrap_or_else(|e| fail(e)).clone();
        let train_seconds = start.elapsed().as_secs_f64();
        let rbm = &mut trainer.model;
        let (recon_train, recon_test) = (rbm.reconstruction_error(&x), rbm.reconstruction_error(&xt));
        println!("RBM 784-{}: reconstruction error (mean-field, per pixel) train {recon_train:.5}, test {recon_test:.5}", cli.hidden);
        write_filters_png(&cli.filters, rbm.weight.value(), (28, 28), 2).unwrap_or_else(|e| fail(e));
        // Chains started from test images, run for `gibbs_steps`; the picture shows E[v | h].
        let n = cli.samples.min(test.len());
        let start_v = xt.narrow(0, 0, n).gt_scalar(0.5);
        let v = rbm.gibbs(&start_v, cli.gibbs_steps);
        let (_, h) = rbm.sample_h(&v);
        let samples = rbm.prob_v_given_h(&h);
        write_samples_png(&cli.samples_png, &samples, (28, 28), 2).unwrap_or_else(|e| fail(e));
        let image = tensorboard_image(samples_grid(&samples, (28, 28), 2));
        trainer.log_images(&[(format!("samples/gibbs_{}", cli.gibbs_steps), image)]).unwrap_or_else(|e| fail(e));
        println!("filters: {}, samples after {} Gibbs steps: {}", cli.filters, cli.gibbs_steps, cli.samples_png);
        let epoch_seconds: Vec<f64> = records.iter().map(|r| r.seconds).collect();
        print_result(serde_json::json!({
            "example": "rbm_samples",
            "data": name,
            "hidden": cli.hidden,
            "epochs": epochs,
            "batch_size": batch,
            "cd_k": cli.k,
            "persistent": cli.pcd,
            "form": format!("{:?}", cli.form).to_lowercase(),
            "test_error": serde_json::Value::Null,
            "recon_mse_train": recon_train,
            "recon_mse_test": recon_test,
            "epoch_seconds": epoch_seconds,
            "pretrain_seconds": train_seconds,
            "finetune_seconds": 0.0,
            "train_seconds": train_seconds,
            "examples_per_second": (train.len() * epochs) as f64 / train_seconds.max(1e-9),
            "filters_png": cli.filters,
            "samples_png": cli.samples_png,
        }));
    });
}
