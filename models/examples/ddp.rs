//! Data-parallel training on many processes and machines, over MPI. The same binary runs as
//! one process or as many; every rank runs it with the same arguments, takes its share of each
//! global batch (`--batch-size` is the global batch) and averages gradients with the others
//! after every step, so the weights stay identical on every rank. Models: LeNet-5 (the
//! `lenet5` recipe: Adam 1e-3, global batch 64), a 784-100-10 ReLU MLP (SGD 0.1, batch 64),
//! an RBM 784-100 (CD-1, SGD 0.1 with momentum 0.5, batch 100) and the DeepLearnToolbox DBN
//! 784-100-100 pretrained layer by layer (CD-1, SGD 1, batch 100).
//!
//!     cargo build --release -p strata-models --features mpi --example ddp
//!     mpirun -np 2 target/release/examples/ddp --model lenet --data fashion --epochs 1 --threads 1
//!
//! Only rank 0 prints and writes, all into `--out` (default `target/examples/ddp`): checkpoints
//! every epoch (`last.ckpt`), the history and learning curves (`history.csv` and
//! `learning_curves.png`, redrawn after every epoch) and the final weights
//! (`weights.safetensors`). A checkpoint resumes on any number of ranks
//! (`--resume <out>/last.ckpt`, `--epochs` being the total, per layer for the DBN).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use common::{CommonArgs, ValidationArgs, fail, print_result};
use strata_datasets::{ArrayDataset, Dataset, Mnist};
use strata_distributed::Communicator;
use strata_layers::Module;
use strata_layers::safetensors::export_safetensors;
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::{PreprocessingKind, describe, load_mnist, prepare, scaled};
use strata_models::dbn::{dlt_dbn, dlt_rbm_optimizer};
use strata_models::layerwise::Layerwise;
use strata_models::rbm::{Rbm, RbmConfig};
use strata_models::recipes::{lenet5_trainer, relu_mlp_trainer};
use strata_models::{LeNetStyle, Step, Trainer, TrainerConfig};
use strata_optim::{Optimizer, SgdConfig};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Model {
    /// LeNet-5 (ReLU, max pooling), Adam 1e-3.
    Lenet,
    /// A 784-100-10 ReLU MLP, SGD 0.1.
    Mlp,
    /// A Bernoulli RBM 784-100, CD-1.
    Rbm,
    /// The DeepLearnToolbox DBN 784-100-100, pretrained layer by layer.
    Dbn,
}

/// Train one model data-parallel (one process without an MPI launcher).
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    validation: ValidationArgs,
    /// The model.
    #[arg(long, value_enum, default_value = "lenet")]
    model: Model,
    /// Folder for checkpoints, logs and the final weights (written by rank 0).
    #[arg(long, default_value = "target/examples/ddp")]
    out: PathBuf,
    /// Resume from this checkpoint (of a run on any number of ranks); --epochs is the total.
    #[arg(long)]
    resume: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    strata_models::cli::log_warnings_to_stderr();
    let args = cli.common.clone();
    args.run(|| {
        // MPI is initialised, used and finalised on this one thread.
        let comm = strata_distributed::init().unwrap_or_else(|e| fail(e));
        let (ranks, root) = (comm.size(), comm.is_root());
        let (data, name) = load_mnist(&args.data).unwrap_or_else(|e| fail(e));
        if root {
            eprintln!("{}", describe(&data, &name));
        }
        if root {
            println!("{:?} on {name}, {ranks} rank(s)", cli.model);
        }
        let seed = args.seed;
        match cli.model {
            Model::Lenet => {
                let (train, test, preprocessing) = prepare(&data, PreprocessingKind::Standardized);
                let trainer = lenet5_trainer(
                    LeNetStyle::Modern,
                    seed,
                    args.epochs(1),
                    args.batch_size(64, train.len()),
                )
                .unwrap_or_else(|e| fail(e))
                .with_preprocessing(preprocessing);
                run(trainer.with_communicator(comm), &cli, &name, train, test);
            }
            Model::Mlp => {
                let (train, test) = scaled(&data);
                let trainer =
                    relu_mlp_trainer(0.1, seed, args.epochs(1), args.batch_size(64, train.len()))
                        .unwrap_or_else(|e| fail(e));
                run(trainer.with_communicator(comm), &cli, &name, train, test);
            }
            Model::Rbm => {
                let (train, test) = unlabeled(&data);
                let rbm = Rbm::new(RbmConfig::new(784, 100).with_seed(seed));
                let opt = SgdConfig::new(0.1)
                    .with_momentum(0.5)
                    .build()
                    .unwrap_or_else(|e| fail(e));
                let step = ContrastiveDivergence::new().with_visible_bias_from_data(true);
                let config = unsupervised_config(&args, train.len());
                let trainer =
                    Trainer::new(rbm, opt, step, config, "rbm-784-100").unwrap_or_else(|e| fail(e));
                run(trainer.with_communicator(comm), &cli, &name, train, test);
            }
            Model::Dbn => {
                let (train, test) = unlabeled(&data);
                let opt = dlt_rbm_optimizer(1.0, 0.0).unwrap_or_else(|e| fail(e));
                let step = Layerwise::new(ContrastiveDivergence::new());
                let config = unsupervised_config(&args, train.len());
                let trainer = Trainer::new(
                    dlt_dbn(&[784, 100, 100], seed),
                    opt,
                    step,
                    config,
                    "dbn-784-100-100",
                )
                .unwrap_or_else(|e| fail(e));
                run(trainer.with_communicator(comm), &cli, &name, train, test);
            }
        }
    });
}

/// The RBM and DBN settings: one epoch (per layer) of batches of 100, flattened inputs.
fn unsupervised_config(args: &CommonArgs, examples: usize) -> TrainerConfig {
    TrainerConfig::new(args.epochs(1), args.batch_size(100, examples))
        .with_seed(args.seed)
        .with_flatten_inputs(true)
}

/// The training and test images scaled to [0, 1], without labels, flattened.
fn unlabeled(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    let (train, test) = scaled(data);
    let strip =
        |d: &ArrayDataset| ArrayDataset::unlabeled(d.inputs().to_vec(), vec![d.feature_len()]);
    (strip(&train), strip(&test))
}

/// Resumes if asked, trains with checkpoints and logs in `cli.out`, writes the final weights
/// and, on rank 0, prints the result.
fn run<M: Module, O: Optimizer, S: Step<M>>(
    mut trainer: Trainer<M, O, S>,
    cli: &Cli,
    name: &str,
    train: ArrayDataset,
    test: ArrayDataset,
) {
    let root = trainer.communicator().is_root();
    let config = trainer.config_mut();
    config.checkpoint_dir = Some(cli.out.clone());
    config.log_dir = Some(cli.out.clone());
    let model = format!("{:?}", cli.model).to_lowercase();
    cli.common.log_to(config, &format!("ddp-{model}"));
    let mut trainer = trainer.with_hparams(cli.common.hparams(name));
    if let Some(path) = &cli.resume {
        trainer
            .resume(path)
            .unwrap_or_else(|e| fail(format!("--resume: {e}")));
        if root {
            common::announce_resume(
                path,
                trainer.epochs_done(),
                trainer.config().epochs,
                trainer.is_finished(),
            );
        }
    }
    let allreduce_us = allreduce_alone(trainer.communicator(), trainer.model.num_params());
    // Every rank holds out the same examples (the split is seeded by --seed alone).
    let (train, val) = cli.validation.split(&train, cli.common.seed, root);
    let history = trainer
        .fit(Arc::new(train), val.as_ref())
        .unwrap_or_else(|e| fail(e))
        .clone();
    // Collective: every rank evaluates its share of the test set.
    let test = trainer.validate(&test);
    if !root {
        return;
    }
    let weights = cli.out.join("weights.safetensors");
    export_safetensors(&trainer.model, &weights).unwrap_or_else(|e| fail(e));
    let epochs = history.as_slice();
    let last = epochs.last().expect("at least one epoch");
    let unit = match cli.model {
        Model::Lenet | Model::Mlp => "cross-entropy in nats per image",
        Model::Rbm => {
            "squared reconstruction error summed over the 784 pixels (in [0, 1]), per image"
        }
        Model::Dbn => {
            "the top layer's squared reconstruction error summed over its 100 inputs, per image"
        }
    };
    println!(
        "{}: train loss {:.5}, validation loss {:.5}, test loss {:.5} (losses: {unit}){}; weights in {}",
        strata_models::cli::counted(trainer.epochs_done(), "epoch"),
        last.train_loss,
        last.val_loss.unwrap_or(f64::NAN),
        test.loss,
        test.error
            .map(|e| format!(", test error {:.2}%", 100.0 * e))
            .unwrap_or_default(),
        display(&weights)
    );
    println!(
        "learning curves: {} (figures in {})",
        display(&cli.out.join("learning_curves.png")),
        display(&cli.out.join("history.csv"))
    );
    print_result(serde_json::json!({
        "example": "ddp",
        "model": format!("{:?}", cli.model).to_lowercase(),
        "data": name,
        "ranks": trainer.communicator().size(),
        "epochs": trainer.epochs_done(),
        "global_batch_size": trainer.config().batch_size,
        "train_losses": epochs.iter().map(|m| m.train_loss).collect::<Vec<_>>(),
        "val_losses": epochs.iter().map(|m| m.val_loss).collect::<Vec<_>>(),
        "val_errors": epochs.iter().map(|m| m.val_error).collect::<Vec<_>>(),
        "test_loss": test.loss,
        "test_error": test.error,
        "epoch_seconds": epochs.iter().map(|m| m.seconds).collect::<Vec<_>>(),
        "examples_per_second": epochs.iter().map(|m| m.examples_per_second).collect::<Vec<_>>(),
        "allreduce_ms_per_step": epochs.iter().map(|m| m.metrics.get("allreduce_ms_per_step").copied()).collect::<Vec<_>>(),
        "allreduce_us_alone": allreduce_us,
        "parameters": trainer.model.num_params(),
        "weights": weights,
    }));
}

/// Microseconds of one all-reduce of `len` floats measured alone (mean of 200 after 10 to warm
/// up), as the PyTorch DDP reference measures its own; `None` on one rank.
fn allreduce_alone(comm: &dyn Communicator, len: usize) -> Option<f64> {
    if comm.size() == 1 {
        return None;
    }
    let mut buf = vec![0.0f32; len];
    for _ in 0..10 {
        comm.all_reduce_sum(&mut buf);
    }
    comm.barrier();
    let start = std::time::Instant::now();
    for _ in 0..200 {
        comm.all_reduce_sum(&mut buf);
    }
    Some(start.elapsed().as_secs_f64() / 200.0 * 1e6)
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
