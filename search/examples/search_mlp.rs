//! Architecture and hyper-parameter search for a fully connected classifier: depth, widths,
//! activation, dropout, optimizer (SGD with momentum, or Adam), learning rate and batch size,
//! sampled by TPE (or at random), pruned by ASHA on the validation error after each epoch,
//! several trials at once (one thread each), on a budget of trials and minutes. The log in
//! `--out` lets a killed search continue: run the same command again.
//!
//!     cargo run --release -p strata-search --example search_mlp -- --data fashion --minutes 10
//!
//! Across MPI ranks (built with `--features mpi`), each rank runs its share of every round of
//! trials and rank 0 writes the log and the results:
//!
//!     mpirun -np 4 target/release/examples/search_mlp --data fashion --minutes 10
//!
//! Writes `search.jsonl` (the log), `trials.csv`, `trials.json` and `trials.png` into `--out`
//! (default `target/examples/search_mlp`), prints the best configuration, retrains it (its
//! learning curves into `learning_curves.png` and `history.csv`) and scores it once on the test
//! set, and ends with a `RESULT {json}` line.

mod common;

use strata_layers::Activation;
use strata_models::data::zscored;
use strata_models::{Mlp, MlpConfig};
use strata_search::{Condition, Config, ConfigExt, Space};

fn main() {
    common::Example {
        name: "search_mlp",
        about: "Search MLP architectures and hyper-parameters",
        default_trials: "60",
        default_epochs: "9",
        default_out: "target/examples/search_mlp",
        space: default_space,
        preprocess: zscored,
        flatten_inputs: true,
        network,
    }
    .main()
}

/// The built-in space: 1–3 hidden layers of 32–1024 units (log scale), an activation,
/// dropout, SGD with momentum or Adam, a log-scale learning rate and a batch size.
fn default_space() -> Space {
    let layers = |min| Condition::AtLeast {
        parent: "layers".into(),
        min,
    };
    Space::new()
        .with_int("layers", 1, 3, false)
        .with_int_if("units_1", 32, 1024, true, layers(1))
        .with_int_if("units_2", 32, 1024, true, layers(2))
        .with_int_if("units_3", 32, 1024, true, layers(3))
        .with_categorical("activation", &["relu", "tanh", "sigmoid"])
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
        .with_float("lr", 1e-4, 1.0, true)
        .with_categorical("batch_size", &["32", "64", "128", "256"])
}

/// The network a configuration describes, and its batch size.
fn network(config: &Config) -> Result<(Mlp, usize), String> {
    let layers = config.int("layers").ok_or("no layers")? as usize;
    let mut sizes = vec![784];
    for k in 1..=layers {
        sizes.push(
            config
                .int(&format!("units_{k}"))
                .ok_or(format!("no units_{k}"))? as usize,
        );
    }
    sizes.push(10);
    let activation = match config.choice("activation") {
        Some("tanh") => Activation::Tanh,
        Some("sigmoid") => Activation::Sigmoid,
        _ => Activation::Relu,
    };
    let batch = config
        .choice("batch_size")
        .and_then(|b| b.parse().ok())
        .unwrap_or(64);
    let mlp = MlpConfig::new(&sizes)
        .with_hidden(activation)
        .with_dropout(config.float("dropout").unwrap_or(0.0));
    Ok((Mlp::new(&mlp), batch))
}
