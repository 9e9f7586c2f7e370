//! LeNet-5 on the bundled MNIST sample or, with `--data fashion`, on full Fashion-MNIST:
//! softmax cross-entropy, Adam 1e-3, batch 64 (the last partial batch dropped), inputs scaled
//! to [0, 1] then standardised with the training set's mean and standard deviation.
//!
//!     cargo run --release -p strata-models --example lenet5 -- --data fashion --epochs 10

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, ValidationArgs, fail, print_result};
use strata_datasets::Dataset as _;
use strata_layers::Module;
use strata_models::LeNetStyle;
use strata_models::data::{PreprocessingKind, prepare};
use strata_models::recipes::lenet5_trainer;
use strata_models::visualize::first_layer_filters;

#[derive(Clone, Copy, ValueEnum)]
enum Style {
    /// ReLU and max pooling.
    Modern,
    /// LeCun's scaled tanh and average pooling.
    Classic,
}

/// Train LeNet-5.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    validation: ValidationArgs,
    /// Network style.
    #[arg(long, value_enum, default_value = "modern")]
    style: Style,
    /// Folder for checkpoints, the learning-curve PNG and the metrics CSV.
    #[arg(long, default_value = "target/examples/lenet5")]
    out: PathBuf,
    /// Resume from this checkpoint (written by an earlier run into `<out>/last.ckpt`);
    /// --epochs is the total.
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let args = cli.common.clone();
    let (data, name) = common::load(&args.data);
    let classes = data.train.class_names().to_vec();
    let (train, test, preprocessing) = prepare(&data, PreprocessingKind::Standardized);
    let (train, val) = cli.validation.split(&train, args.seed, true);
    let epochs = args.epochs(5);
    let batch = args.batch_size(64, train.len());
    let style = match cli.style {
        Style::Modern => LeNetStyle::Modern,
        Style::Classic => LeNetStyle::Classic,
    };
    common::create_out(&cli.out);
    args.run(|| {
        let mut trainer =
            lenet5_trainer(style, args.seed, epochs, batch).unwrap_or_else(|e| fail(e));
        trainer.config_mut().checkpoint_dir = Some(cli.out.clone());
        args.log_to(trainer.config_mut(), "lenet5");
        let style_name = format!("{style:?}").to_lowercase();
        // Saved in every checkpoint: `load_model` hands it back for inference elsewhere.
        let mut trainer = trainer
            .with_preprocessing(preprocessing)
            .with_hparams(args.hparams(&name).with("style", style_name))
            .with_images(|m, _| first_layer_filters(m, 8));
        let epochs_text = strata_models::cli::counted(epochs, "epoch");
        println!(
            "LeNet-5 ({style:?}): {} parameters; {name}; {epochs_text} of batch {batch}, Adam 1e-3",
            trainer.model.num_params()
        );
        if let Some(path) = &cli.resume {
            trainer
                .resume(path)
                .unwrap_or_else(|e| fail(format!("--resume: {e}")));
            common::announce_resume(path, trainer.epochs_done(), epochs, trainer.is_finished());
        }
        let history = trainer
            .fit(Arc::new(train), val.as_ref())
            .unwrap_or_else(|e| fail(e))
            .clone();
        let eval = trainer.evaluate(&test, 1000);
        common::write_learning_curves(&cli.out, &history, &format!("LeNet-5 on {name}"));
        let confusion = eval
            .confusion
            .clone()
            .with_class_names(classes.iter().map(|s| s.to_string()));
        println!("{confusion}");
        let seconds: f64 = history.iter().map(|m| m.seconds).sum();
        let examples: f64 = history
            .iter()
            .map(|m| m.seconds * m.examples_per_second)
            .sum();
        println!(
            "test error {:.2}% after {}, {seconds:.1}s of training",
            100.0 * eval.error(),
            strata_models::cli::counted(trainer.epochs_done(), "epoch")
        );
        print_result(serde_json::json!({
            "example": "lenet5",
            "style": format!("{style:?}").to_lowercase(),
            "data": name,
            "epochs": trainer.epochs_done(),
            "batch_size": batch,
            "test_error": eval.error(),
            "train_seconds": seconds,
            "epoch_seconds": history.iter().map(|m| m.seconds).collect::<Vec<_>>(),
            "examples_per_second": examples / seconds.max(1e-9),
            "per_class_accuracy": eval.confusion.per_class_accuracy(),
        }));
    });
}
