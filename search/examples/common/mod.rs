//! What the search examples share: the command line, the study driver (one process, or trials
//! across MPI ranks), the epoch loop of one trial with ASHA reports, and the final report
//! (retraining the winner and scoring it once on the test set). Each example supplies its
//! space and the network a configuration describes, as an [`Example`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use strata_datasets::{ArrayDataset, Dataset as _, Mnist};
use strata_layers::Module;
use strata_models::data::{describe, hold_out, load_mnist};
use strata_models::plot::{History, plot_learning_curves};
use strata_models::{Objective, Trainer, TrainerConfig, cli};
use strata_optim::{AdamConfig, Optimizer, SgdConfig};
use strata_search::report::{best_line, write_all};
use strata_search::{
    Asha, Budget, Config, ConfigExt, RandomSampler, Reporter, Sampler, Space, Study, TpeSampler,
    TrialState, best,
};

/// One search example: its name, defaults, space and networks.
pub struct Example<M> {
    /// The example's name: the `example` of its RESULT line, the default `--out` folder under
    /// `target/examples/`, and (with `-` for `_`) the trainer's model kind.
    pub name: &'static str,
    /// The first line of `--help`.
    pub about: &'static str,
    /// `--trials` when not given.
    pub default_trials: &'static str,
    /// `--epochs` when not given.
    pub default_epochs: &'static str,
    /// `--out` when not given.
    pub default_out: &'static str,
    /// The built-in space (`--space` replaces it).
    pub space: fn() -> Space,
    /// The training and test sets, preprocessed: `(train, test)`.
    pub preprocess: fn(&Mnist) -> (ArrayDataset, ArrayDataset),
    /// Whether the trainer flattens each 28×28 image to 784 inputs.
    pub flatten_inputs: bool,
    /// The network a configuration describes, initialised from the current seed, and its batch
    /// size.
    pub network: fn(&Config) -> Result<(M, usize), String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SamplerKind {
    /// Tree-structured Parzen estimator (10 random trials first).
    Tpe,
    /// Uniform random search.
    Random,
}

impl SamplerKind {
    fn name(self) -> &'static str {
        match self {
            SamplerKind::Tpe => "tpe",
            SamplerKind::Random => "random",
        }
    }
}

/// The command line of every search example (the defaults of `--trials`, `--epochs` and
/// `--out` are the example's).
#[derive(Parser)]
struct Cli {
    /// Data: `mnist-sample` (bundled), `fashion`, or a directory of MNIST-format IDX files.
    #[arg(long, default_value = "mnist-sample")]
    data: String,
    /// Trials in all (a resumed log's count).
    #[arg(long, value_parser = cli::int_in(1, 100_000))]
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
    /// Epochs of a trial that is never pruned (ASHA rungs at 1, 3, 9, … epochs below it).
    #[arg(long, value_parser = cli::int_in(1, 1000))]
    epochs: usize,
    /// Fraction of the training set held out for validation, in [0, 1).
    #[arg(long, default_value_t = 0.1, value_parser = cli::fraction)]
    val_split: f64,
    /// Search space as JSON (default: the example's built-in space; see
    /// `Space::from_json_file`).
    #[arg(long)]
    space: Option<PathBuf>,
    /// Seed of the sampler, the split and every trial's initialisation.
    #[arg(long, default_value_t = 0, value_parser = cli::seed)]
    seed: u64,
    /// Folder for every file written: the log (search.jsonl), trials.csv, trials.json,
    /// trials.png, and the retrained best configuration's learning_curves.png and history.csv.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

impl Cli {
    /// Parses the command line with `example`'s name, help line and defaults.
    fn parse_for<M>(example: &Example<M>) -> Cli {
        let matches = Cli::command()
            .name(example.name)
            .about(example.about)
            .mut_arg("trials", |a| {
                a.default_value(example.default_trials).required(false)
            })
            .mut_arg("epochs", |a| {
                a.default_value(example.default_epochs).required(false)
            })
            .mut_arg("out", |a| {
                a.default_value(example.default_out).required(false)
            })
            .get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Prints `error: …` and exits with status 2.
pub fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}

/// Scores the trained network on a data set (its error rate).
type TestScore = Box<dyn FnMut(&ArrayDataset) -> f64>;

/// The data of one search: the fit and validation parts of the training set, for every trial.
struct Split {
    fit: Arc<ArrayDataset>,
    val: ArrayDataset,
}

impl<M: Module + 'static> Example<M> {
    /// Trains `config` for up to `epochs`, reporting the validation error after each epoch
    /// (and stopping when pruned); returns the best validation error, the trained network's
    /// test score and the history of its epochs.
    fn train(
        &self,
        config: &Config,
        epochs: usize,
        seed: u64,
        split: &Split,
        mut reporter: Option<&mut Reporter>,
    ) -> Result<(f64, TestScore, History), String> {
        let lr = config.float("lr").ok_or("no lr")?;
        strata_layers::manual_seed(seed);
        let (model, batch) = (self.network)(config)?;
        let settings = TrainerConfig::new(1, batch)
            .with_seed(seed)
            .with_flatten_inputs(self.flatten_inputs)
            .with_verbose(false);
        let kind = self.name.replace('_', "-");
        match config.choice("optimizer") {
            Some("sgd") => {
                let opt = SgdConfig::new(lr)
                    .with_momentum(config.float("momentum").unwrap_or(0.0))
                    .build()
                    .map_err(|e| e.to_string())?;
                let trainer = Trainer::new(model, opt, Objective::CrossEntropy, settings, &kind)
                    .map_err(|e| e.to_string())?;
                epoch_loop(trainer, epochs, split, &mut reporter)
            }
            _ => {
                let opt = AdamConfig::new(lr).build().map_err(|e| e.to_string())?;
                let trainer = Trainer::new(model, opt, Objective::CrossEntropy, settings, &kind)
                    .map_err(|e| e.to_string())?;
                epoch_loop(trainer, epochs, split, &mut reporter)
            }
        }
    }

    /// Runs the search the command line asks for, on one process or across the MPI ranks, and
    /// reports it (rank 0 only).
    pub fn main(self) {
        let cli = Cli::parse_for(&self);
        strata_models::cli::log_warnings_to_stderr();
        let comm = strata_distributed::init().unwrap_or_else(|e| fail(e));
        let root = comm.is_root();
        let space = match &cli.space {
            Some(path) => {
                Space::from_json_file(path).unwrap_or_else(|e| fail(format!("--space: {e}")))
            }
            None => (self.space)(),
        };
        let (data, name) = load_mnist(&cli.data).unwrap_or_else(|e| fail(e));
        if root {
            eprintln!("{}", describe(&data, &name));
        }
        let (full_train, test) = (self.preprocess)(&data);
        let (fit, val) = hold_out(&full_train, cli.val_split, cli.seed);
        let val = val.unwrap_or_else(|| fail("--val-split 0 leaves nothing to select on"));
        let split = Split {
            fit: Arc::new(fit),
            val,
        };
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
        let rungs = pruner.rung_epochs();
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
                "searching on {name}: {} fit / {} validation images, up to {} trials and {} min, {workers} at once on each of {} rank(s), ASHA rungs at {rungs:?} of {} epochs",
                split.fit.len(),
                split.val.len(),
                cli.trials,
                cli.minutes,
                comm.size(),
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
                self.train(config, cli.epochs, seed, &split, Some(reporter))
                    .map(|(v, _, _)| v)
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
            .filter(|t| t.state == TrialState::Pruned)
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
        let (_, mut evaluate, history) = self
            .train(&winner.config, cli.epochs, cli.seed, &split, None)
            .unwrap_or_else(|e| fail(e));
        let test_error = evaluate(&test);
        let curves = cli.out.join("learning_curves.png");
        let title = format!("{}: the best configuration retrained on {name}", self.name);
        plot_learning_curves(&history, &curves, &title).unwrap_or_else(|e| fail(e));
        history
            .to_csv(cli.out.join("history.csv"))
            .unwrap_or_else(|e| fail(e));
        println!(
            "learning curves of the retrained best configuration: {} (figures in {})",
            curves.display(),
            cli.out.join("history.csv").display()
        );
        println!(
            "retrained for {}: test error {:.2}%; results in {}",
            strata_models::cli::counted(cli.epochs, "epoch"),
            100.0 * test_error,
            cli.out.display()
        );
        println!(
            "RESULT {}",
            serde_json::json!({
                "example": self.name,
                "data": name,
                "sampler": cli.sampler.name(),
                "trials": trials.len(),
                "pruned": pruned,
                "seconds": seconds,
                "best_val_error": winner.value,
                "best_config": winner.config,
                "test_error": test_error,
            })
        );
    }
}

/// Trains one epoch at a time for up to `epochs`, reporting each validation error (and
/// stopping when pruned); returns the best validation error, the trained network's test
/// score and the history of its epochs.
fn epoch_loop<M: Module + 'static, O: Optimizer + 'static>(
    mut trainer: Trainer<M, O>,
    epochs: usize,
    split: &Split,
    reporter: &mut Option<&mut Reporter>,
) -> Result<(f64, TestScore, History), String> {
    let mut best = f64::INFINITY;
    for epoch in 1..=epochs {
        trainer.config_mut().epochs = epoch;
        trainer
            .fit(split.fit.clone(), Some(&split.val))
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
    let history = trainer.history().clone();
    Ok((
        best,
        Box::new(move |test: &ArrayDataset| trainer.evaluate(test, 1000).error()),
        history,
    ))
}
