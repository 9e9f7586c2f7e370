//! Command-line options and data loading shared by the examples.

#![allow(dead_code)]

use clap::Args;

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
