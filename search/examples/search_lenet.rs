//! Architecture and hyper-parameter search for a LeNet-style convolutional classifier: the
//! channels of two convolutions, their kernel size, the width of the hidden fully connected
//! layer, activation, dropout, optimizer (SGD with momentum, or Adam), learning rate and batch
//! size — sampled by TPE (or at random), pruned by ASHA on the validation error after each
//! epoch, several trials at once (one thread each), on a budget of trials and minutes. The log
//! in `--out` lets a killed search continue: run the same command again.
//!
//!     cargo run --release -p strata-search --example search_lenet -- --data fashion --minutes 10
//!
//! The network of a configuration: `conv(1→c1, k×k, same padding) → act → max-pool 2 →
//! conv(c1→c2, k×k, same) → act → max-pool 2 → flatten (c2·7·7) → linear(→hidden) → act →
//! dropout → linear(→10)`. Built with `--features mpi` it spreads its trials over MPI ranks as
//! `search_mlp` does. Writes `search.jsonl`, `trials.csv`, `trials.json` and `trials.png` into
//! `--out`, prints the best configuration, retrains it and scores it once on the test set, and
//! ends with a `RESULT {json}` line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use strata_datasets::{ArrayDataset, Dataset as _};
use strata_layers::{Activation, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Sequential};
use strata_models::data::{globally_standardized, hold_out, load_mnist};
use strata_models::{Objective, Trainer, TrainerConfig, cli};
use strata_optim::{AdamConfig, Optimizer, SgdConfig};
use strata_search::report::{best_line, write_all};
use strata_search::{
    Asha, Budget, Condition, Config, ConfigExt, RandomSampler, Reporter, Sampler, Space, Study,
    TpeSampler, best,
};

#[derive(Clone, Copy, ValueEnum)]
enum SamplerKind {
    /// Tree-structured Parzen estimator (10 random trials first).
    Tpe,
    /// Uniform random search.
    Random,
}

/// Search LeNet-style convolutional architectures and hyper-parameters.
#[derive(Parser)]
struct Cli {
    /// Data: `mnist-sample` (bundled), `fashion`, or a directory of MNIST-format IDX files.
    #[arg(long, default_value = "mnist-sample")]
    data: String,
    /// Trials in all (a resumed log's count).
    #[arg(long, default_value_t = 40, value_parser = cli::int_in(1, 100_000))]
    trials: usize,
    /// Stop starting trials after this many minutes.
    #[arg(long, default_value_t = 10.0, value_parser = cli::positive_float)]
    minutes: f64,
    /// Trials at once on each rank (each on one thread); default: one per core, shared by the
    /// ranks.
    #[arg(long, value_parser = cli::int_in(1, 64))]
    workers: Option<usize>,
    /// The sampler.
    #[arg(long, value_enum, default_value = "tpe")]
    sampler: SamplerKind,
    /// Epochs of a trial that is never pruned (ASHA rungs at 1 and 3 epochs for 9).
    #[arg(long, default_value_t = 6, value_parser = cli::int_in(1, 1000))]
    epochs: usize,
    /// Fraction of the training set held out for validation, in [0, 1).
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    val_split: f64,
    /// Search space as JSON (default: the built-in MLP space; see `Space::from_json_file`).
    #[arg(long)]
    space: Option<PathBuf>,
    /// Seed of the sampler, the split and every trial's initialisation.
    #[arg(long, default_value_t = 0, value_parser = cli::seed)]
    seed: u64,
    /// Folder for the log and the results.
    #[arg(long, default_value = "target/examples/search_lenet")]
    out: PathBuf,
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}

/// The built-in space: 4–32 and 8–64 channels (log scale), a 3×3 or 5×5 kernel, 32–256
/// hidden units (log scale), an activation, dropout, SGD with momentum or Adam, a log-scale
/// learning rate and a batch size.
fn default_space() -> Space {
    Space::new()
        .with_int("channels_1", 4, 32, true)
        .with_int("channels_2", 8, 64, true)
        .with_categorical("kernel", &["3", "5"])
        .with_int("hidden", 32, 256, true)
        .with_categorical("activation", &["relu", "tanh"])
        .with_float("dropout", 0.0, 0.5, false)
        .with_categorical("optimizer", &["sgd", "adam"])
        .with_float_if(
            "momentum",
            0.0,
            0.99,
            false,
            Condition::OneOf {
                parent: "optimizer".into(),
                choices: vec!["sgd".into()],
            },
        )
        .with_float("lr", 1e-4, 0.3, true)
        .with_categorical("batch_size", &["32", "64", "128"])
}

/// The network a configuration describes, and its batch size.
fn network(config: &Config) -> Result<(Sequential, usize), String> {
    let int = |name: &str| {
        config
            .int(name)
            .map(|v| v as usize)
            .ok_or(format!("no {name}"))
    };
    let (c1, c2, hidden) = (int("channels_1")?, int("channels_2")?, int("hidden")?);
    let kernel: usize = config
        .choice("kernel")
        .and_then(|k| k.parse().ok())
        .ok_or("no kernel")?;
    let activation = match config.choice("activation") {
        Some("tanh") => Activation::Tanh,
        _ => Activation::Relu,
    };
    let batch = config
        .choice("batch_size")
        .and_then(|b| b.parse().ok())
        .unwrap_or(64);
    let same = (kernel / 2, kernel / 2);
    let model = Sequential::new()
        .add(Conv2d::new(1, c1, (kernel, kernel)).with_padding(same))
        .add(activation)
        .add(MaxPool2d::new((2, 2)))
        .add(Conv2d::new(c1, c2, (kernel, kernel)).with_padding(same))
        .add(activation)
        .add(MaxPool2d::new((2, 2)))
        .add(Flatten)
        .add(Linear::new(c2 * 7 * 7, hidden))
        .add(activation)
        .add(Dropout::new(config.float("dropout").unwrap_or(0.0)))
        .add(Linear::new(hidden, 10));
    Ok((model, batch))
}

/// Scores the trained network on a data set (its error rate).
type TestScore = Box<dyn FnMut(&ArrayDataset) -> f64>;

/// Trains `config` for up to `epochs`, reporting the validation error after each epoch (and
/// stopping when pruned); returns the best validation error and the trainer.
fn train(
    config: &Config,
    epochs: usize,
    seed: u64,
    train: &Arc<ArrayDataset>,
    val: &ArrayDataset,
    mut reporter: Option<&mut Reporter>,
) -> Result<(f64, TestScore), String> {
    let lr = config.float("lr").ok_or("no lr")?;
    strata_layers::manual_seed(seed);
    let (model, batch) = network(config)?;
    let settings = TrainerConfig::new(1, batch)
        .with_seed(seed)
        .with_verbose(false);
    fn run<O: Optimizer + 'static>(
        mut trainer: Trainer<Sequential, O>,
        epochs: usize,
        train: &Arc<ArrayDataset>,
        val: &ArrayDataset,
        reporter: &mut Option<&mut Reporter>,
    ) -> Result<(f64, TestScore), String> {
        let mut best = f64::INFINITY;
        for epoch in 1..=epochs {
            trainer.config_mut().epochs = epoch;
            trainer
                .fit(train.clone(), Some(val))
                .map_err(|e| e.to_string())?;
            let error = trainer
                .history()
                .last()
                .and_then(|m| m.val_error)
                .unwrap_or(f64::NAN);
            if !error.is_finite() {
                return Err(format!("diverged at epoch {epoch}"));
            }
            best = best.min(error);
            if let Some(r) = reporter.as_deref_mut()
                && !r.report(error)
            {
                break;
            }
        }
        Ok((
            best,
            Box::new(move |test: &ArrayDataset| trainer.evaluate(test, 1000).error()),
        ))
    }
    let kind = "search-lenet";
    match config.choice("optimizer") {
        Some("sgd") => {
            let opt = SgdConfig::new(lr)
                .with_momentum(config.float("momentum").unwrap_or(0.0))
                .build()
                .map_err(|e| e.to_string())?;
            run(
                Trainer::new(model, opt, Objective::CrossEntropy, settings, kind)
                    .map_err(|e| e.to_string())?,
                epochs,
                train,
                val,
                &mut reporter,
            )
        }
        _ => {
            let opt = AdamConfig::new(lr).build().map_err(|e| e.to_string())?;
            run(
                Trainer::new(model, opt, Objective::CrossEntropy, settings, kind)
                    .map_err(|e| e.to_string())?,
                epochs,
                train,
                val,
                &mut reporter,
            )
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let comm = strata_distributed::init().unwrap_or_else(|e| fail(e));
    let root = comm.is_root();
    let space = match &cli.space {
        Some(path) => Space::from_json_file(path).unwrap_or_else(|e| fail(format!("--space: {e}"))),
        None => default_space(),
    };
    let (data, name) = load_mnist(&cli.data).unwrap_or_else(|e| fail(e));
    let (full_train, test) = globally_standardized(&data);
    let (fit, val) = hold_out(&full_train, cli.val_split, cli.seed);
    let val = val.unwrap_or_else(|| fail("--val-split 0 leaves nothing to select on"));
    let fit = Arc::new(fit);
    let workers = cli.workers.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / comm.size()).max(1)
    });
    if root {
        std::fs::create_dir_all(&cli.out)
            .unwrap_or_else(|e| fail(format!("--out {}: {e}", cli.out.display())));
    }
    // The others read the log only after rank 0 made the folder (and any log is complete).
    comm.barrier();
    let sampler: Box<dyn Sampler> = match cli.sampler {
        SamplerKind::Tpe => Box::new(TpeSampler::new(cli.seed)),
        SamplerKind::Random => Box::new(RandomSampler::new(cli.seed)),
    };
    let pruner = Asha::new(1, 3, cli.epochs);
    let log = cli.out.join("search.jsonl");
    let mut study = Study::new(space.clone(), sampler)
        .with_pruner(pruner)
        .with_log(&log)
        .unwrap_or_else(|e| fail(format!("{e} (remove it to start over)")));
    if root && !study.trials().is_empty() {
        println!(
            "resuming: {} trials already in {}",
            study.trials().len(),
            log.display()
        );
    }
    if root {
        println!(
            "searching on {name}: {} fit / {} validation images, up to {} trials and {} min, {workers} at once on each of {} rank(s), ASHA rungs at {:?} of {} epochs",
            fit.len(),
            val.len(),
            cli.trials,
            cli.minutes,
            comm.size(),
            pruner_rungs(cli.epochs),
            cli.epochs
        );
    }
    let started = Instant::now();
    let budget = Budget::trials(cli.trials)
        .with_workers(workers)
        .with_time(Duration::from_secs_f64(cli.minutes * 60.0));
    let rank_label = if comm.size() > 1 {
        format!(" (rank {})", comm.rank())
    } else {
        String::new()
    };
    let objective = |config: &Config, reporter: &mut Reporter| {
        let seed = cli.seed ^ (reporter.trial() as u64).wrapping_mul(0x9E37_79B9);
        let outcome = strata_tensor::threads::with_threads(1, || {
            train(config, cli.epochs, seed, &fit, &val, Some(reporter)).map(|(v, _)| v)
        });
        if let Ok(v) = outcome {
            let pruned = if reporter.is_pruned() {
                " (pruned)"
            } else {
                ""
            };
            println!(
                "trial {:>3}{rank_label}: validation error {:.2}% after {} epoch(s){pruned}",
                reporter.trial(),
                100.0 * v,
                reporter.epochs()
            );
        }
        outcome
    };
    let trials = if comm.size() > 1 {
        study.optimize_across(comm.as_ref(), &budget, objective)
    } else {
        study.optimize(&budget, objective)
    }
    .unwrap_or_else(|e| fail(e))
    .to_vec();
    let seconds = started.elapsed().as_secs_f64();
    if !root {
        return;
    }
    write_all(&cli.out, &space, &trials, "validation error").unwrap_or_else(|e| fail(e));
    let Some(winner) = best(&trials).cloned() else {
        fail("no trial completed")
    };
    let pruned = trials
        .iter()
        .filter(|t| t.state == strata_search::TrialState::Pruned)
        .count();
    println!(
        "best of {} trials ({pruned} pruned) in {seconds:.0} s: validation error {:.2}%",
        trials.len(),
        100.0 * winner.value.unwrap_or(f64::NAN)
    );
    println!(
        "best configuration: {}",
        best_line(&trials).unwrap_or_default()
    );
    // Retrain the winner on the same split and score it once on the test set.
    let (_, mut evaluate) =
        train(&winner.config, cli.epochs, cli.seed, &fit, &val, None).unwrap_or_else(|e| fail(e));
    let test_error = evaluate(&test);
    println!(
        "retrained for {} epochs: test error {:.2}%; results in {}",
        cli.epochs,
        100.0 * test_error,
        cli.out.display()
    );
    println!(
        "RESULT {}",
        serde_json::json!({
            "example": "search_lenet",
            "data": name,
            "sampler": match cli.sampler { SamplerKind::Tpe => "tpe", SamplerKind::Random => "random" },
            "trials": trials.len(),
            "pruned": pruned,
            "seconds": seconds,
            "best_val_error": winner.value,
            "best_config": winner.config,
            "test_error": test_error,
        })
    );
}

fn pruner_rungs(epochs: usize) -> Vec<usize> {
    Asha::new(1, 3, epochs).rung_epochs()
}
