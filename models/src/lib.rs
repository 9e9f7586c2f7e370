//! # strata-models
//!
//! Ready-to-train models for Strata — [`Mlp`], [`LeNet5`], the DeepLearnToolbox CNN
//! ([`DltCnn`]), autoencoders, RBMs, DBNs, sparse coding and sequence models — and the one
//! training loop, the [`Trainer`], that trains every one of them through a [`Step`]
//! (supervised [`Objective`], [`Reconstruction`](reconstruction::Reconstruction),
//! [`ContrastiveDivergence`](contrastive_divergence::ContrastiveDivergence),
//! [`Layerwise`](layerwise::Layerwise), [`WakeSleep`](wake_sleep::WakeSleep)). Models are
//! `strata_layers::Module`s built from the layers crate; this crate re-implements no kernel
//! and no layer.
//!
//! A 784-100-10 MLP learns the MNIST sample bundled with `strata-datasets` (one epoch on
//! 2,000 digits here; the `quickstart` example trains LeNet-5 on all of them):
//!
//! ```
//! use std::sync::Arc;
//! use strata_datasets::Mnist;
//! use strata_models::data::scaled;
//! use strata_models::{Mlp, MlpConfig, Objective, Trainer, TrainerConfig};
//! use strata_optim::AdamConfig;
//!
//! let (train, test) = scaled(&Mnist::bundled()?); // [N, 1, 28, 28] in [0, 1], labels 0–9
//! let (train, _) = train.split_at(2_000);
//! strata_layers::manual_seed(0);
//! let model = Mlp::new(&MlpConfig::new(&[784, 100, 10])); // ReLU hidden layer
//! let adam = AdamConfig::new(1e-3).build()?;
//! let config = TrainerConfig::new(1, 32) // epochs, batch size
//!     .with_flatten_inputs(true)
//!     .with_verbose(false);
//! let mut trainer = Trainer::new(model, adam, Objective::CrossEntropy, config, "mlp")?;
//! let history = trainer.fit(Arc::new(train), None)?;
//! assert_eq!(history.len(), 1); // one row of metrics per epoch
//! let accuracy = trainer.evaluate(&test, 1000).accuracy;
//! assert!(accuracy > 0.8, "test accuracy {accuracy}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Everything a training run needs is in [`Trainer`]: progress bars, validation, early
//! stopping, learning-rate schedules, resumable checkpoints, TensorBoard logs and
//! data-parallel training over MPI ([`Trainer::with_communicator`]).

pub mod autoencoder;
pub mod cli;
pub mod contrastive_divergence;
pub mod conv_autoencoder;
pub mod data;
pub mod dbn;
mod dlt_cnn;
mod error;
pub mod gan;
pub mod history;
pub mod layerwise;
mod lenet;
pub mod metrics;
mod mlp;
pub mod plot;
mod preprocessing;
pub mod rbm;
pub mod recipes;
pub mod reconstruction;
pub mod sample_quality;
pub mod sequence;
pub mod sparse_coding;
pub mod stacked_autoencoder;
pub mod step;
mod supervised;
mod trainer;
pub mod vae;
pub mod visualize;
pub mod wake_sleep;

pub use dlt_cnn::DltCnn;
pub use error::TrainError;
pub use gan::{Gan, GanStep};
pub use lenet::{LeNet5, LeNetConfig, LeNetStyle};
pub use mlp::{Mlp, MlpConfig, MlpInit, MlpOutput};
pub use preprocessing::Preprocessing;
pub use step::{Step, StepOutput};
pub use strata_tensorboard as tensorboard;
pub use supervised::Objective;
pub use trainer::{
    EpochHook, Evaluation, GradHook, ImageHook, Position, Trainer, TrainerConfig, TrainingState,
    Validation, evaluate, load_model,
};
pub use vae::{Vae, VaeStep};
