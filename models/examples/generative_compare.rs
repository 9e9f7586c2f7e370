//! Every generative model of the curriculum on the same data, scored the same way: a DBN
//! (784-500-500-2000, layer-wise CD-1, samples by Gibbs sampling in the top RBM), a VAE
//! (784-400-20) and a GAN (DCGAN, or `--gan mlp`), each trained `--epochs` on the training
//! images in batches of 100, 100 and 64 (or `--batch-size`), then 1000 samples of each judged by the LeNet-5 sample-quality score (confidence,
//! class entropy, Fréchet distance of classifier features to real test images; real test images
//! as the reference row). Prints the table, writes each model's samples (`<model>.png`) and
//! learning curves (`<model>/learning_curves.png` and `<model>/history.csv`) into `--out`, and
//! ends with a `RESULT {json}` line.
//!
//!     cargo run --release -p strata-models --example generative_compare -- --epochs 5

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset as _};
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::{scaled, signed_unit};
use strata_models::dbn::Dbn;
use strata_models::gan::{
    GanStep, dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator,
};
use strata_models::layerwise::Layerwise;
use strata_models::rbm::RbmConfig;
use strata_models::sample_quality::{
    REFERENCE_IMAGES, SampleScore, SampleScorer, reference_images,
};
use strata_models::vae::{mlp_decoder, mlp_encoder};
use strata_models::visualize::write_samples_png;
use strata_models::{Gan, Trainer, TrainerConfig, Vae, VaeStep, cli};
use strata_optim::{AdamConfig, SgdConfig};
use strata_tensor::Tensor;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GanKind {
    /// Transposed-convolution generator, strided-convolution discriminator.
    Dcgan,
    /// Fully connected generator and discriminator (256 units).
    Mlp,
}

/// Train a DBN, a VAE and a GAN on the same data and score their samples.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// The GAN's networks.
    #[arg(long, value_enum, default_value = "dcgan")]
    gan: GanKind,
    /// Samples scored per model (at least 2).
    #[arg(long, default_value_t = 1000, value_parser = cli::positive, allow_negative_numbers = true)]
    samples: usize,
    /// Gibbs steps in the DBN's top RBM before each sample is read out.
    #[arg(long, default_value_t = 200, value_parser = cli::positive, allow_negative_numbers = true)]
    gibbs_steps: usize,
    /// Folder for the sample grids and the learning curves.
    #[arg(long, default_value = "target/examples/generative_compare")]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    if cli.samples < 2 {
        fail("--samples must be at least 2");
    }
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let (signed, _) = signed_unit(&data);
    let epochs = args.epochs(5);
    // --batch-size overrides every model's own default (DBN and VAE 100, GAN 64).
    let (rbm_batch, vae_batch, gan_batch) = (
        args.batch_size(100, train.len()),
        args.batch_size(100, train.len()),
        args.batch_size(64, train.len()),
    );
    args.run(|| {
        common::create_out(&cli.out);
        let mut scorer = SampleScorer::for_data(&cli.out, &name, train.clone(), &test).unwrap_or_else(|e| fail(e));
        let seed = args.seed;
        let mut rows: Vec<(&str, SampleScore, f64)> = Vec::new();
        let mut record = |label: &'static str, samples: Tensor, seconds: f64, scorer: &mut SampleScorer| {
            let flat = samples.reshape(&[samples.shape()[0], 784]);
            let shown = flat.narrow(0, 0, 64.min(flat.shape()[0])).contiguous();
            write_samples_png(cli.out.join(format!("{label}.png")), &shown, (28, 28), 2).unwrap_or_else(|e| fail(e));
            rows.push((label, scorer.score(&flat), seconds));
        };

        // Real held-out images (after the reference ones): the floor of the distance.
        let held_out = reference_images(&test, REFERENCE_IMAGES, cli.samples);
        record("real", held_out, 0.0, &mut scorer);

        // DBN: layer-wise CD-1 (Hinton's 784-500-500-2000, SGD 0.1, momentum 0.5 → 0.9).
        let start = Instant::now();
        let x = Tensor::from_vec(train.inputs().to_vec(), &[train.len(), 784]);
        let dbn = Dbn::new(&[784, 500, 500, 2000], |l, v, h| {
            RbmConfig::new(v, h)
                .with_weight_decay(2e-4)
                .with_seed(strata_layers::child_seed(seed, l as u64))
        });
        let sgd = SgdConfig::new(0.1).with_momentum(0.5).build::<f32>().unwrap_or_else(|e| fail(e));
        let step = Layerwise::new(ContrastiveDivergence::new().with_visible_bias_from_data(true));
        let config = TrainerConfig::new(epochs, rbm_batch).with_seed(seed);
        let mut trainer = Trainer::new(dbn, sgd, step, config, "compare-dbn")
            .unwrap_or_else(|e| fail(e))
            .with_epoch_hook(|opt, at| opt.set_momentum(if at.epoch < 5 { 0.5 } else { 0.9 }).expect("valid momentum"));
        let history = trainer.fit(Arc::new(ArrayDataset::from_rows(&x)), None).unwrap_or_else(|e| fail(e));
        let title = "DBN, CD-1 per layer: squared reconstruction error per image (sum over units)";
        common::write_learning_curves(&cli.out.join("dbn"), history, title);
        let samples = trainer.model.sample(cli.samples, cli.gibbs_steps);
        record("dbn", samples, start.elapsed().as_secs_f64(), &mut scorer);

        // VAE: 784-400-20, Adam 1e-3, batch 100.
        let start = Instant::now();
        strata_layers::manual_seed(seed);
        let vae = Vae::new(mlp_encoder(400, 20), mlp_decoder(400, 20), 20);
        let adam = AdamConfig::new(1e-3).build().unwrap_or_else(|e| fail(e));
        let config = TrainerConfig::new(epochs, vae_batch).with_seed(seed);
        let mut trainer = Trainer::new(vae, adam, VaeStep, config, "compare-vae").unwrap_or_else(|e| fail(e));
        let history = trainer.fit(Arc::new(train.clone()), None).unwrap_or_else(|e| fail(e));
        common::write_learning_curves(&cli.out.join("vae"), history, "VAE: −ELBO, reconstruction and KL (nats per image)");
        let samples = trainer.model.sample(cli.samples);
        record("vae", samples, start.elapsed().as_secs_f64(), &mut scorer);

        // GAN: Adam 2e-4, β₁ 0.5, batch 64, images in [−1, 1].
        let start = Instant::now();
        strata_layers::manual_seed(seed);
        let (g, d) = match cli.gan {
            GanKind::Dcgan => (dcgan_generator(100), dcgan_discriminator()),
            GanKind::Mlp => (mlp_generator(100, 256), mlp_discriminator(256)),
        };
        let adam = AdamConfig::new(2e-4).with_betas(0.5, 0.999).build().unwrap_or_else(|e| fail(e));
        let config = TrainerConfig::new(epochs, gan_batch).with_seed(seed).with_drop_last(true);
        let mut trainer = Trainer::new(Gan::new(g, d, 100), adam, GanStep::new(), config, "compare-gan").unwrap_or_else(|e| fail(e));
        let history = trainer.fit(Arc::new(signed.clone()), None).unwrap_or_else(|e| fail(e));
        let label = match cli.gan {
            GanKind::Dcgan => "dcgan",
            GanKind::Mlp => "gan-mlp",
        };
        common::write_learning_curves(&cli.out.join(label), history, "GAN: discriminator and generator losses (nats per image)");
        let samples = trainer.model.sample(cli.samples).add_scalar(1.0).mul_scalar(0.5);
        record(label, samples, start.elapsed().as_secs_f64(), &mut scorer);

        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!("\nsample quality on {name}, {epochs_text} each, {} samples per model", cli.samples);
        println!("| model | confidence | class entropy (nats, max 2.303) | Fréchet distance | training s |");
        println!("|---|---|---|---|---|");
        for (label, s, seconds) in &rows {
            println!("| {label} | {:.3} | {:.3} | {:.2} | {seconds:.1} |", s.confidence, s.class_entropy, s.frechet_distance);
        }
        let table: Vec<_> = rows
            .iter()
            .map(|(label, s, seconds)| {
                serde_json::json!({"model": label, "confidence": s.confidence, "class_entropy": s.class_entropy,
                    "frechet_distance": s.frechet_distance, "train_seconds": seconds})
            })
            .collect();
        print_result(serde_json::json!({"example": "generative_compare", "data": name, "epochs": epochs, "samples": cli.samples, "models": table}));
    });
}
