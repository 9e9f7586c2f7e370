//! Command-line options and data loading shared by the examples.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clap::Args;
use strata_datasets::{ArrayDataset, Dataset as _};
use strata_models::data::{DEFAULT_VAL_SPLIT, hold_out};
use strata_models::plot::{History, plot_learning_curves};
use strata_models::tensorboard::HParams;
use strata_models::{TrainerConfig, cli};

/// Options every example takes.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Data: `mnist-sample` (bundled, 10k/10k), `fashion` (full Fashion-MNIST from
    /// STRATA_DATA or /usr/share/datasets/fashion-mnist), or a directory with the four
    /// MNIST-format IDX files.
    #[arg(long, default_value = "mnist-sample")]
    pub data: String,
    /// Training epochs, 1 or more (default: the example's own). With --resume this is the
    /// TOTAL, not additional epochs: training continues from the checkpoint's epoch up to this
    /// one, and a checkpoint already at or past it trains no more (the run says so).
    #[arg(long, value_parser = cli::positive, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    /// Mini-batch size, 1 up to the number of training examples (default: the example's own).
    #[arg(long, value_parser = cli::positive, allow_negative_numbers = true)]
    pub batch_size: Option<usize>,
    /// Compute threads, 1 up to four per core (default: every core).
    #[arg(long, value_parser = cli::threads, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Seed of initialisation, shuffling and dropout (0 up to 2⁶⁴−1).
    #[arg(long, default_value_t = 0, value_parser = cli::seed, allow_negative_numbers = true)]
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
        self.epochs.unwrap_or(default)
    }

    /// `--batch-size` or `default`, which must not exceed the `examples` of the training set:
    /// a larger batch ends the program with a message (a batch of the whole set is allowed).
    pub fn batch_size(&self, default: usize, examples: usize) -> usize {
        let batch = self.batch_size.unwrap_or(default);
        if batch > examples {
            let what = if self.batch_size.is_some() {
                "--batch-size"
            } else {
                "the default --batch-size"
            };
            fail(format!(
                "{what} {batch} is larger than the {examples} training examples"
            ));
        }
        batch
    }

    /// Sets `config` to write the TensorBoard log of run `run` under `--logdir`, if given.
    pub fn log_to(&self, config: &mut TrainerConfig, run: &str) {
        config.tensorboard_dir = self.logdir.as_ref().map(|dir| dir.join(run));
    }

    /// The settings every example shares, for the TensorBoard HParams table, with the data
    /// set's name.
    pub fn hparams(&self, data: &str) -> HParams {
        HParams::new()
            .with("data", data)
            .with("threads", self.threads.unwrap_or(0))
    }

    /// Runs `f` on `--threads` threads (or the default pool); ends the program with a message
    /// if the threads cannot be started.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self.threads {
            Some(n) => strata_tensor::threads::try_with_threads(n, f)
                .unwrap_or_else(|e| fail(format!("--threads {n}: {e}"))),
            None => f(),
        }
    }
}

/// The validation option of the examples that select a model while training.
#[derive(Args, Debug, Clone)]
pub struct ValidationArgs {
    /// Fraction of the training set held out for validation, in [0, 1): the last part of a
    /// shuffle seeded by --seed. Early stopping, best.ckpt and the printed validation figures
    /// use it; the test set is evaluated once, at the end. 0 validates on nothing.
    #[arg(long, default_value_t = DEFAULT_VAL_SPLIT, value_parser = cli::fraction, allow_negative_numbers = true)]
    pub val_split: f64,
}

impl ValidationArgs {
    /// `(fit, validation)`: `train` without and with its held-out part (none for
    /// `--val-split 0`), printing the sizes if `announce`.
    pub fn split(
        &self,
        train: &ArrayDataset,
        seed: u64,
        announce: bool,
    ) -> (ArrayDataset, Option<ArrayDataset>) {
        let (fit, val) = hold_out(train, self.val_split, seed);
        match &val {
            _ if !announce => {}
            Some(val) => println!(
                "validation: {} of the {} training examples held out (--val-split {}); the test set is used once, at the end",
                val.len(),
                train.len(),
                self.val_split
            ),
            None => println!(
                "validation: none (--val-split {}); the test set is used once, at the end",
                self.val_split
            ),
        }
        (fit, val)
    }
}

/// Prints the example's one-line JSON result for scripts: `RESULT {…}`.
pub fn print_result(fields: serde_json::Value) {
    println!("RESULT {fields}");
}

/// Loads the data `--data` names (see `strata_models::data::load_mnist`) and prints what was
/// loaded, or exits through [`fail`]. First it has the library's warnings shown on stderr
/// (`cli::log_warnings_to_stderr`).
pub fn load(spec: &str) -> (strata_datasets::Mnist, String) {
    cli::log_warnings_to_stderr();
    let (data, name) = strata_models::data::load_mnist(spec).unwrap_or_else(|e| fail(e));
    eprintln!("{}", strata_models::data::describe(&data, &name));
    (data, name)
}

/// Exits with status 2 and a one-line message for a bad argument or unusable data.
pub fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(2)
}

/// Creates the folder `dir` for the files an example writes (and its missing parents), or
/// ends the program through [`fail`] naming the folder and why it cannot be created.
pub fn create_out(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| {
        fail(format!(
            "--out {}: cannot create the folder: {e}",
            dir.display()
        ))
    });
}

/// Writes the learning curves of `history` into the folder `dir`: `learning_curves.png`
/// (loss and error rate or metrics per epoch, under `title`) and `history.csv` (every figure
/// of every epoch); prints the PNG's path and returns it. Ends the program through [`fail`] if
/// either cannot be written.
pub fn write_learning_curves(dir: &Path, history: &History, title: &str) -> PathBuf {
    create_out(dir);
    let png = dir.join("learning_curves.png");
    plot_learning_curves(history, &png, title).unwrap_or_else(|e| fail(e));
    history
        .to_csv(dir.join("history.csv"))
        .unwrap_or_else(|e| fail(e));
    println!(
        "learning curves: {} (figures in {})",
        png.display(),
        dir.join("history.csv").display()
    );
    png
}

/// Prints where a run resumed from `path` stands: the `done` epochs of the checkpoint and,
/// when `finished` (the checkpoint has already run the total `--epochs`), one line saying that
/// nothing is left to train.
pub fn announce_resume(path: &Path, done: usize, epochs: usize, finished: bool) {
    println!("resumed from {} after epoch {done}", path.display());
    if finished {
        println!(
            "nothing to train: the checkpoint has already run --epochs {epochs}, which is the \
             total (not additional epochs); give a larger --epochs to train more"
        );
    }
}
