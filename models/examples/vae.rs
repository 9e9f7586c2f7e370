//! A variational autoencoder (Kingma & Welling 2013) on 28×28 images: MLP (784-400-20, the
//! paper's MNIST set-up) or convolutional (`--model conv`) encoder and decoder, Bernoulli
//! likelihood, closed-form KL. Writes into `--out` a grid of samples from the prior per epoch
//! (the same codes each time), reconstructions of test images, a latent interpolation strip
//! between two test images, the learning curves (`learning_curves.png` and `history.csv`:
//! −ELBO, reconstruction and KL in nats per image) and checkpoints; scores 1000 samples with the LeNet-5 sample-quality score and ends with a
//! `RESULT {json}` line.
//!
//!     cargo run --release -p strata-models --example vae
//!     cargo run --release -p strata-models --example vae -- --data fashion --model conv --epochs 10

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, ValidationArgs, fail, print_result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::data::scaled;
use strata_models::sample_quality::{SampleScorer, reference_images};
use strata_models::vae::{conv_decoder, conv_encoder, mlp_decoder, mlp_encoder};
use strata_models::visualize::{interpolation_codes, write_samples_png, write_strip_png};
use strata_models::{Trainer, TrainerConfig, Vae, VaeStep, cli};
use strata_optim::AdamConfig;
use strata_tensor::Tensor;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Model {
    /// 784 → hidden → 2·latent and back (ReLU).
    Mlp,
    /// Two strided convolutions and two transposed convolutions.
    Conv,
}

/// Train a VAE and score its samples.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    validation: ValidationArgs,
    /// The networks.
    #[arg(long, value_enum, default_value = "mlp")]
    model: Model,
    /// Latent components.
    #[arg(long, default_value_t = 20, value_parser = cli::positive, allow_negative_numbers = true)]
    latent: usize,
    /// Hidden units of the MLP encoder and decoder.
    #[arg(long, default_value_t = 400, value_parser = cli::positive, allow_negative_numbers = true)]
    hidden: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-3, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// Samples scored at the end (at least 2).
    #[arg(long, default_value_t = 1000, value_parser = cli::positive, allow_negative_numbers = true)]
    samples: usize,
    /// Folder for checkpoints, sample grids, plots and the metrics CSV.
    #[arg(long, default_value = "target/examples/vae")]
    out: PathBuf,
    /// Resume from this checkpoint (`<out>/last.ckpt` of an earlier run); --epochs is the total.
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    if cli.samples < 2 {
        fail("--samples must be at least 2");
    }
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, test) = scaled(&data);
    let (train, val) = cli.validation.split(&train, args.seed, true);
    let epochs = args.epochs(10);
    let batch = args.batch_size(100, train.len());
    args.run(|| {
        common::create_out(&cli.out);
        strata_layers::manual_seed(args.seed);
        let (encoder, decoder) = match cli.model {
            Model::Mlp => (mlp_encoder(cli.hidden, cli.latent), mlp_decoder(cli.hidden, cli.latent)),
            Model::Conv => (conv_encoder(cli.latent), conv_decoder(cli.latent)),
        };
        let vae = Vae::new(encoder, decoder, cli.latent);
        let adam = AdamConfig::new(cli.lr).build().unwrap_or_else(|e| fail(e));
        let config = TrainerConfig::new(epochs, batch).with_seed(args.seed).with_checkpoints(&cli.out, 1);
        let kind = format!("vae-{:?}-{}-{}", cli.model, cli.hidden, cli.latent).to_lowercase();
        let mut trainer = Trainer::new(vae, adam, VaeStep, config, &kind).unwrap_or_else(|e| fail(e));
        args.log_to(trainer.config_mut(), "vae");
        if let Some(path) = &cli.resume {
            trainer.resume(path).unwrap_or_else(|e| fail(format!("--resume: {e}")));
            common::announce_resume(path, trainer.epochs_done(), epochs, trainer.is_finished());
        }
        let mut scorer = SampleScorer::for_data(&cli.out, &name, train.clone(), &test).unwrap_or_else(|e| fail(e));
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!(
            "{:?} VAE, {} latent components: {} parameters; {name}; {epochs_text} of batch {batch}, Adam {}",
            cli.model,
            cli.latent,
            trainer.model.num_params(),
            cli.lr
        );
        let mut codes = StdRng::seed_from_u64(args.seed ^ 0xc0de);
        let fixed = Tensor::rand_normal(&[64, cli.latent], 0.0, 1.0, &mut codes);
        let train = Arc::new(train);
        for epoch in trainer.epochs_done() + 1..=epochs {
            trainer.config_mut().epochs = epoch;
            trainer.fit(train.clone(), val.as_ref()).unwrap_or_else(|e| fail(e));
            let grid = trainer.model.decode(&fixed).reshape(&[64, 784]);
            write_samples_png(cli.out.join(format!("samples_epoch_{epoch:03}.png")), &grid, (28, 28), 2)
                .unwrap_or_else(|e| fail(e));
        }
        let history = trainer.history().clone();
        common::write_learning_curves(&cli.out, &history, "VAE: −ELBO, reconstruction and KL (nats per image)");
        // Reconstructions: 32 test images above their decoded posterior means.
        let originals = reference_images(&test, 0, 32);
        let recon = trainer.model.predict(&originals);
        let pairs = Tensor::from_vec([originals.to_vec(), recon.to_vec()].concat(), &[64, 784]);
        write_samples_png(cli.out.join("reconstructions.png"), &pairs, (28, 28), 2).unwrap_or_else(|e| fail(e));
        // Ten codes on the line between the posterior means of two test images.
        let ends = trainer.model.encode_mean(&originals.narrow(0, 0, 2).contiguous()).to_vec();
        let line = interpolation_codes(&ends[..cli.latent], &ends[cli.latent..], 10);
        write_strip_png(cli.out.join("interpolation.png"), &trainer.model.decode(&line), (28, 28))
            .unwrap_or_else(|e| fail(e));
        let score = scorer.score(&trainer.model.sample(cli.samples));
        let seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let last = history.iter().last();
        let metric = |k: &str| last.and_then(|m| m.metrics.get(k)).copied().unwrap_or(f64::NAN);
        let val_loss = last.and_then(|m| m.val_loss);
        let test_loss = trainer.validate(&test).loss;
        println!(
            "last epoch: reconstruction {:.2} nats per image (binary cross-entropy summed over the 784 pixels), KL {:.2} nats per image",
            metric("reconstruction"),
            metric("kl")
        );
        println!(
            "test −ELBO {test_loss:.2} nats per image; sample quality of {} samples: confidence {:.3}, class entropy {:.3} nats (uniform: 2.303), Fréchet distance {:.2}",
            score.samples, score.confidence, score.class_entropy, score.frechet_distance
        );
        print_result(serde_json::json!({
            "example": "vae",
            "model": format!("{:?}", cli.model).to_lowercase(),
            "data": name,
            "epochs": epochs,
            "train_seconds": (seconds * 100.0).round() / 100.0,
            "train_neg_elbo": last.map(|m| m.train_loss),
            "val_neg_elbo": val_loss,
            "test_neg_elbo": test_loss,
            "reconstruction": metric("reconstruction"),
            "kl": metric("kl"),
            "samples": score.samples,
            "confidence": score.confidence,
            "class_entropy": score.class_entropy,
            "frechet_distance": score.frechet_distance,
        }));
    });
}
