//! A GAN on 28×28 images: the DCGAN (transposed convolutions, batch norm, LeakyReLU; Radford
//! et al. 2015) or a fully connected GAN (`--model mlp`), trained in the one training loop with
//! alternating discriminator/generator updates and the non-saturating loss. Writes into `--out`
//! a sample grid per epoch (the same 64 codes each time), the learning curves
//! (`learning_curves.png` and `history.csv`: discriminator and generator losses), a latent
//! interpolation strip and checkpoints, scores 1000 samples with the LeNet-5 sample-quality
//! score (cached classifier) and ends with a `RESULT {json}` line.
//!
//!     cargo run --release -p strata-models --example dcgan
//!     cargo run --release -p strata-models --example dcgan -- --data fashion --epochs 10

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, fail, print_result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::data::{scaled, signed_unit};
use strata_models::gan::{
    GanStep, dcgan_discriminator, dcgan_generator, mlp_discriminator, mlp_generator,
};
use strata_models::sample_quality::SampleScorer;
use strata_models::visualize::{interpolation_codes, write_samples_png, write_strip_png};
use strata_models::{Gan, Trainer, TrainerConfig, cli};
use strata_optim::AdamConfig;
use strata_tensor::Tensor;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Model {
    /// Transposed-convolution generator, strided-convolution discriminator.
    Dcgan,
    /// Fully connected generator and discriminator (256 units).
    Mlp,
}

/// Train a GAN and score its samples.
#[derive(Parser)]
#[command(about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// The networks.
    #[arg(long, value_enum, default_value = "dcgan")]
    model: Model,
    /// Latent components.
    #[arg(long, default_value_t = 100, value_parser = cli::positive, allow_negative_numbers = true)]
    latent: usize,
    /// Adam's learning rate (β₁ = 0.5, as DCGAN).
    #[arg(long, default_value_t = 2e-4, value_parser = cli::positive_float, allow_negative_numbers = true)]
    lr: f64,
    /// One-sided label smoothing ε of the real labels 1 − ε, in [0, 1).
    #[arg(long, default_value_t = 0.0, value_parser = cli::fraction, allow_negative_numbers = true)]
    label_smoothing: f64,
    /// Samples scored at the end.
    #[arg(long, default_value_t = 1000, value_parser = cli::positive, allow_negative_numbers = true)]
    samples: usize,
    /// Folder for checkpoints, sample grids, plots and the metrics CSV.
    #[arg(long, default_value = "target/examples/dcgan")]
    out: PathBuf,
    /// Resume from this checkpoint (`<out>/last.ckpt` of an earlier run); --epochs is the total.
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    if cli.label_smoothing >= 1.0 {
        fail("--label-smoothing must be below 1");
    }
    if cli.samples < 2 {
        fail("--samples must be at least 2");
    }
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let (train, _) = signed_unit(&data);
    let (train01, test01) = scaled(&data);
    let epochs = args.epochs(5);
    let batch = args.batch_size(64, train.len());
    args.run(|| {
        common::create_out(&cli.out);
        strata_layers::manual_seed(args.seed);
        let (g, d) = match cli.model {
            Model::Dcgan => (dcgan_generator(cli.latent), dcgan_discriminator()),
            Model::Mlp => (mlp_generator(cli.latent, 256), mlp_discriminator(256)),
        };
        let gan = Gan::new(g, d, cli.latent);
        let adam = AdamConfig::new(cli.lr).with_betas(0.5, 0.999).build().unwrap_or_else(|e| fail(e));
        let config = TrainerConfig::new(epochs, batch).with_seed(args.seed).with_drop_last(true).with_checkpoints(&cli.out, 1);
        let kind = format!("gan-{:?}-{}", cli.model, cli.latent).to_lowercase();
        let step = GanStep::new().with_label_smoothing(cli.label_smoothing);
        let mut trainer = Trainer::new(gan, adam, step, config, &kind).unwrap_or_else(|e| fail(e));
        args.log_to(trainer.config_mut(), "dcgan");
        if let Some(path) = &cli.resume {
            trainer.resume(path).unwrap_or_else(|e| fail(format!("--resume: {e}")));
            common::announce_resume(path, trainer.epochs_done(), epochs, trainer.is_finished());
        }
        let mut scorer = SampleScorer::for_data(&cli.out, &name, train01, &test01).unwrap_or_else(|e| fail(e));
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!(
            "{:?} GAN: generator {} and discriminator {} parameters; {name}; {epochs_text} of batch {batch}, Adam {} (β₁ 0.5)",
            cli.model,
            trainer.model.generator.num_params(),
            trainer.model.discriminator.num_params(),
            cli.lr
        );
        let mut codes = StdRng::seed_from_u64(args.seed ^ 0xc0de);
        let fixed = Tensor::rand_normal(&[64, cli.latent], 0.0, 1.0, &mut codes);
        let to_unit = |x: Tensor| x.add_scalar(1.0).mul_scalar(0.5);
        let train = Arc::new(train);
        for epoch in trainer.epochs_done() + 1..=epochs {
            trainer.config_mut().epochs = epoch;
            trainer.fit(train.clone(), None).unwrap_or_else(|e| fail(e));
            let grid = to_unit(trainer.model.generate(&fixed)).reshape(&[64, 784]);
            write_samples_png(cli.out.join(format!("samples_epoch_{epoch:03}.png")), &grid, (28, 28), 2)
                .unwrap_or_else(|e| fail(e));
        }
        let history = trainer.history().clone();
        common::write_learning_curves(&cli.out, &history, "GAN: discriminator and generator losses (nats per image)");
        // Ten codes on the straight line between two random ones.
        let ends = Tensor::rand_normal(&[2, cli.latent], 0.0, 1.0, &mut codes).to_vec();
        let line = interpolation_codes(&ends[..cli.latent], &ends[cli.latent..], 10);
        write_strip_png(cli.out.join("interpolation.png"), &to_unit(trainer.model.generate(&line)), (28, 28))
            .unwrap_or_else(|e| fail(e));
        let score = scorer.score(&to_unit(trainer.model.sample(cli.samples)));
        let seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let last = history.iter().last();
        let metric = |k: &str| last.and_then(|m| m.metrics.get(k)).copied().unwrap_or(f64::NAN);
        println!(
            "sample quality of {} samples: confidence {:.3}, class entropy {:.3} nats (uniform: 2.303), Fréchet distance {:.2}",
            score.samples, score.confidence, score.class_entropy, score.frechet_distance
        );
        println!("samples: {}", cli.out.join(format!("samples_epoch_{epochs:03}.png")).display());
        print_result(serde_json::json!({
            "example": "dcgan",
            "model": format!("{:?}", cli.model).to_lowercase(),
            "data": name,
            "epochs": epochs,
            "train_seconds": (seconds * 100.0).round() / 100.0,
            "d_loss": metric("d_loss"),
            "g_loss": metric("g_loss"),
            "samples": score.samples,
            "confidence": score.confidence,
            "class_entropy": score.class_entropy,
            "frechet_distance": score.frechet_distance,
        }));
    });
}
