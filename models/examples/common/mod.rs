//! Command-line options and data loading shared by the examples.

#![allow(dead_code)]

use std::path::PathBuf;

use clap::Args;
use strata_models::TrainerConfig;
use strata_models::tensorboard::HParams;

/// Options every example takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Data: `mnist-sample` (bundled, 10k/10k), `fashion` (full Fashion-MNIST from
    /// STRATA_DATA or /usr/share/datasets/fashion-mnist), or a directory with the four
    /// MNIST-format IDX files.
    #[arg(long, default_value = "mnist-sample")]
    pub data: String,
    /// Training epochs (default: the example's own).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: Option<u64>,
    /// Mini-batch size (default: the example's own).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,
    /// Compute threads (default: every core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub threads: Option<u64>,
    /// Seed of initialisation, shuffling and dropout.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write a TensorBoard log of each training run into DIR/<run> (view it with
    /// `tensorboard --logdir DIR`); a fresh run replaces a log of the same name, a resumed one
    /// continues it.
    #[arg(long, value_name = "DIR")]
    pub logdir: Option<PathBuf>,
}

impl CommonArgs {
    /// `--epochs` or `default`.
    pub fn epochs(&self, default: usize) -> usize {
        self.epochs.map_or(default, |e| e as usize)
    }

    /// `--batch-size` or `default`.
    pub fn batch_size(&self, default: usize) -> usize {
        self.batch_size.map_or(default, |b| b as usize)
    }

    /// Sets `config` to write the TensorBoard log of run `run` under `--logdir`, if given.
    pub fn log_to(&self, config: &mut TrainerConfig, run: &str) {
        config.tensorboard_dir = self.logdir.as_ref().map(|dir| dir.join(run));
    }

    /// The TensorBoard folder of run `run` under `--logdir`, if given.
    pub fn run_dir(&self, run: &str) -> Option<PathBuf> {
        self.logdir.as_ref().map(|dir| dir.join(run))
    }

    /// The settings every example shares, for the TensorBoard HParams table, with the data
    /// set's name.
    pub fn hparams(&self, data: &str) -> HParams {
        HParams::new()
            .with("data", data)
            .with("threads", self.threads.map_or(0, |t| t as usize))
    }

    /// Runs `f` on `--threads` threads (or the default pool).
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self.threads {
            Some(n) => strata_tensor::threads::with_threads(n as usize, f),
            None => f(),
        }
    }
}

/// Prints the example's one-line JSON result for scripts: `RESULT {…}`.
pub fn print_result(fields: serde_json::Value) {
    println!("RESULT {fields}");
}

/// Exits with status 2 and a one-line message for a bad argument or unusable data.
pub fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}
