//! Command-line options and data loading shared by the examples.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use strata_datasets::{ArrayDataset, Mnist, transforms};
use strata_models::TrainError;

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

/// Loads the dataset `--data` names, with its display name.
///
/// # Errors
/// An unknown name or a directory without the IDX files.
pub fn load_data(spec: &str) -> Result<(Mnist, String), TrainError> {
    let start = Instant::now();
    let (data, name) = match spec {
        "mnist-sample" => (Mnist::bundled().map_err(|e| TrainError::Data(e.to_string()))?, "mnist-sample".to_string()),
        "fashion" => (Mnist::fashion(None).map_err(|e| TrainError::Data(e.to_string()))?, "fashion-mnist".to_string()),
        dir => {
            let path = PathBuf::from(dir);
            if !path.is_dir() {
                return Err(TrainError::Config(format!(
                    "--data {dir:?}: not `mnist-sample`, `fashion`, or an existing directory with the four MNIST-format IDX files"
                )));
            }
            (Mnist::load(Some(&path)).map_err(|e| TrainError::Data(e.to_string()))?, path.display().to_string())
        }
    };
    eprintln!("data: {name}: {} training and {} test images ({:.2}s to load)", data.train.len(), data.test.len(), start.elapsed().as_secs_f64());
    Ok((data, name))
}

/// Inputs scaled to [0, 1], then standardised with one scalar mean and standard deviation of
/// the training set (the "modern" preprocessing of the reference scripts).
pub fn globally_standardized(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    let (mut train, mut test) = (data.train.to_array_dataset(), data.test.to_array_dataset());
    let x = train.inputs();
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    transforms::normalize(train.inputs_mut(), mean as f32, std as f32);
    transforms::normalize(test.inputs_mut(), mean as f32, std as f32);
    (train, test)
}

/// Inputs scaled to [0, 1], then z-scored per pixel with the training statistics (the
/// DeepLearnToolbox `zscore`/`normalize`).
pub fn zscored(data: &Mnist) -> (ArrayDataset, ArrayDataset) {
    let (mut train, mut test) = (data.train.to_array_dataset(), data.test.to_array_dataset());
    let z = transforms::ZScore::fit(train.inputs(), 784);
    z.apply(train.inputs_mut());
    z.apply(test.inputs_mut());
    (train, test)
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
