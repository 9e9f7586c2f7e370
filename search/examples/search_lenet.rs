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
//! `--out` (default `target/examples/search_lenet`), prints the best configuration, retrains it
//! (its learning curves into `learning_curves.png` and `history.csv`) and scores it once on the
//! test set, and ends with a `RESULT {json}` line.

mod common;

use strata_layers::{Activation, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Sequential};
use strata_models::data::globally_standardized;
use strata_search::{Condition, Config, ConfigExt, Space};

fn main() {
    common::Example {
        name: "search_lenet",
        about: "Search LeNet-style convolutional architectures and hyper-parameters",
        default_trials: "40",
        default_epochs: "6",
        default_out: "target/examples/search_lenet",
        space: default_space,
        preprocess: globally_standardized,
        flatten_inputs: false,
        network,
    }
    .main()
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
