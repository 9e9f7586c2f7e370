//! Loads the bundled MNIST sample (or Fashion-MNIST with `--fashion`), prints its statistics
//! and writes a 10×10 PNG grid of the first 100 training images.
//!
//! ```text
//! cargo run --release -p strata-datasets --example mnist_stats -- [--fashion] [--out DIR]
//! ```
//!
//! The last line is `RESULT {json}` with the figures printed above it.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use strata_datasets::{GridScaling, ImageSet, Mnist, write_png_grid};

/// Statistics of MNIST (or Fashion-MNIST) and a PNG of its first 100 training images.
#[derive(Parser)]
struct Cli {
    /// Full Fashion-MNIST (from `$STRATA_DATA` or /usr/share/datasets/fashion-mnist) instead of
    /// the bundled MNIST sample.
    #[arg(long)]
    fashion: bool,
    /// Folder for every file written: the picture `first100.png`.
    #[arg(long, default_value = "target/examples/mnist_stats")]
    out: PathBuf,
}

fn describe(name: &str, s: &ImageSet) -> (f64, f64) {
    let (mean, std) = s.pixel_mean_std();
    println!(
        "{name}: {} images of {}×{}, pixel mean {mean:.4}, std {std:.4} (scaled to [0, 1])",
        s.len(),
        s.rows(),
        s.cols()
    );
    let counts = s.class_counts();
    for (c, (&n, label)) in counts.iter().zip(s.class_names()).enumerate() {
        println!("  class {c} {label:>12}: {n:>6}");
    }
    (mean, std)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let fashion = cli.fashion;
    let out = cli.out.join("first100.png");

    let start = Instant::now();
    let (name, data) = if fashion {
        ("fashion-mnist", Mnist::fashion(None)?)
    } else {
        ("mnist-bundled", Mnist::bundled()?)
    };
    let load = start.elapsed().as_secs_f64();
    println!("{name}: loaded and decoded in {:.1} ms", load * 1e3);

    let (train_mean, train_std) = describe("train", &data.train);
    let (test_mean, test_std) = describe("test", &data.test);

    let n = data.train.len().min(100);
    let tiles = data.train.select(&(0..n).collect::<Vec<_>>()).to_f32();
    std::fs::create_dir_all(&cli.out)
        .map_err(|e| format!("--out {}: cannot create the folder: {e}", cli.out.display()))?;
    write_png_grid(
        &out,
        &tiles,
        (10, 10),
        (28, 28),
        GridScaling::Fixed { min: 0.0, max: 1.0 },
    )?;
    let out = out.canonicalize().unwrap_or(out);
    println!("wrote the first {n} training images to {}", out.display());
    let first: Vec<usize> = (0..10.min(n)).map(|i| data.train.label(i)).collect();
    println!("first labels: {first:?}");

    let result = serde_json::json!({
        "dataset": name,
        "train": data.train.len(),
        "test": data.test.len(),
        "train_class_counts": data.train.class_counts(),
        "test_class_counts": data.test.class_counts(),
        "train_pixel_mean": train_mean,
        "train_pixel_std": train_std,
        "test_pixel_mean": test_mean,
        "test_pixel_std": test_std,
        "first_labels": first,
        "load_ms": load * 1e3,
        "png": out.display().to_string(),
    });
    println!("RESULT {result}");
    Ok(())
}
