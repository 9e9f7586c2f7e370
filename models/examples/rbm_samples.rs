//! Trains a Bernoulli RBM on [0, 1] pixels (not binarised; CD-k or PCD-k, SGD with momentum)
//! and writes two pictures: the filters (each hidden unit's weights as a 28×28 tile) and
//! images drawn by Gibbs chains, one chain per test image it starts from. Also the timing run
//! of the RBM benchmark: one epoch of CD-1, batch 100, learning rate 0.1 on Fashion-MNIST with
//! `--data fashion --hidden 500 --epochs 1 --lr 0.1 --form dlt --threads 1`.
//!
//! Defaults: 100 hidden units, 5 epochs of CD-1 (batch 100, learning rate 0.1, momentum 0.5,
//! Hinton's form), then 100 chains of 100 Gibbs steps started from the first 100 test images —
//! far enough for the samples to leave their starting digits, short of the few modes that the
//! long chains of a CD-1-trained RBM end in (after 1000 steps nearly every chain shows the same
//! blurred 0). A few seconds in release. The samples' variety is measured by the digit of each
//! one's nearest training image (`sample_classes`, `sample_class_entropy` in the RESULT line).
//!
//! Writes into `--out` (default `target/examples/rbm_samples`): `filters.png`, `samples.png`,
//! and the reconstruction error per epoch (`reconstruction.png`, `history.csv`).
//!
//!     cargo run --release -p strata-models --example rbm_samples [-- --hidden 500 --pcd]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset};
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::plot::plot_series;
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
    /// Gibbs steps of each sampling chain, 1..=1000000 (longer chains of a CD-1-trained RBM
    /// collapse onto a few blurred modes).
    #[arg(long, default_value_t = 100, value_parser = cli::int_in(1, 1_000_000), allow_negative_numbers = true)]
    gibbs_steps: usize,
    /// Number of samples drawn, 1..=10000 (at most the test images): one chain from each of
    /// the first test images.
    #[arg(long, default_value_t = 100, value_parser = cli::int_in(1, 10_000), allow_negative_numbers = true)]
    samples: usize,
    /// Folder for the pictures, the reconstruction-error plot and the metrics CSV.
    #[arg(long, default_value = "target/examples/rbm_samples")]
    out: PathBuf,
}

/// The label of the nearest (Euclidean) row of `train: [M, V]` to each row of
/// `samples: [N, V]`.
fn nearest_labels(samples: &Tensor, train: &Tensor, labels: &[usize]) -> Vec<usize> {
    // ‖s − x‖² = ‖s‖² − 2·s·x + ‖x‖²; ‖s‖² is the same for every x of one sample.
    let norms = train.square().sum_axis(1, false);
    let distance = norms
        .reshape(&[1, train.shape()[0]])
        .sub(&samples.matmul(&train.t()).mul_scalar(2.0));
    distance
        .argmin_axis(1)
        .as_slice()
        .iter()
        .map(|&i| labels[i])
        .collect()
}

/// `(distinct classes, entropy of the class histogram in nats)` of `labels`.
fn class_spread(labels: &[usize]) -> (usize, f64) {
    let mut counts = std::collections::BTreeMap::new();
    for &l in labels {
        *counts.entry(l).or_insert(0usize) += 1;
    }
    let n = labels.len().max(1) as f64;
    let entropy = counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum();
    (counts.len(), entropy)
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
    let out = &cli.out;
    std::fs::create_dir_all(out).unwrap_or_else(|e| {
        fail(format!(
            "--out {}: cannot create the folder: {e}",
            out.display()
        ))
    });
    let labels = train
        .labels()
        .unwrap_or_else(|| {
            fail(format!(
                "--data {}: the training set has no labels",
                args.data
            ))
        })
        .to_vec();
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
        println!("RBM 784-{}: mean-field reconstruction error (squared error per pixel, pixels in [0, 1]) train {recon_train:.5}, test {recon_test:.5}", cli.hidden);
        let points: Vec<(f64, f64)> = records.iter().enumerate().map(|(e, m)| ((e + 1) as f64, m.train_loss)).collect();
        let curve = out.join("reconstruction.png");
        plot_series(&curve, &format!("RBM 784-{} on {name}", cli.hidden), "epoch", "CD reconstruction error, squared error summed over 784 pixels, per image", &[("training (running, per batch)", &points)]).unwrap_or_else(|e| fail(e));
        records.to_csv(out.join("history.csv")).unwrap_or_else(|e| fail(e));
        if let Some(last) = records.last() {
            println!("last epoch's running CD reconstruction error: {:.2} (squared error summed over the 784 pixels, per image); curve: {}", last.train_loss, curve.display());
        }
        let filters = out.join("filters.png");
        write_filters_png(&filters, rbm.weight.value(), (28, 28), 2).unwrap_or_else(|e| fail(e));
        // Chains started from test images, run for `gibbs_steps`; the picture shows E[v | h].
        let n = cli.samples.min(test.len());
        let start_v = xt.narrow(0, 0, n).gt_scalar(0.5);
        let v = rbm.gibbs(&start_v, cli.gibbs_steps);
        let (_, h) = rbm.sample_h(&v);
        let samples = rbm.prob_v_given_h(&h);
        let samples_png = out.join("samples.png");
        write_samples_png(&samples_png, &samples, (28, 28), 2).unwrap_or_else(|e| fail(e));
        let image = tensorboard_image(samples_grid(&samples, (28, 28), 2));
        trainer.log_images(&[(format!("samples/gibbs_{}", cli.gibbs_steps), image)]).unwrap_or_else(|e| fail(e));
        let (classes, entropy) = class_spread(&nearest_labels(&samples, &x, &labels));
        println!("filters: {}, {n} samples after {} Gibbs steps: {} — their nearest training images fall in {classes} different classes (class entropy {entropy:.2} nats of at most ln 10 = 2.30)", filters.display(), cli.gibbs_steps, samples_png.display());
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
            "gibbs_steps": cli.gibbs_steps,
            "sample_classes": classes,
            "sample_class_entropy": entropy,
            "filters_png": filters.display().to_string(),
            "samples_png": samples_png.display().to_string(),
        }));
    });
}
