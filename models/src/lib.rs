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
pub use step::{Step, StepOutput};
pub use strata_tensorboard as tensorboard;
pub use supervised::Objective;
pub use trainer::{
    EpochHook, Evaluation, GradHook, ImageHook, Position, Trainer, TrainerConfig, TrainingState,
    Validation, evaluate,
};
pub use vae::{Vae, VaeStep};
