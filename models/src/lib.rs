//! # strata-models
//!
//! Ready-to-train models for Strata: [`Mlp`], [`LeNet5`], the DeepLearnToolbox CNN
//! ([`DltCnn`]), and (coming) autoencoders, RBMs, DBNs and sequence models, plus the training
//! loop and examples. Models are `strata_layers::Module`s built from the layers crate; this
//! crate re-implements no kernel and no layer.

pub mod autoencoder;
pub mod conv_autoencoder;
pub mod data;
pub mod dbn;
mod dlt_cnn;
mod error;
mod lenet;
pub mod metrics;
mod mlp;
pub mod plot;
pub mod rbm;
pub mod recipes;
pub mod sequence;
pub mod sparse_coding;
pub mod stacked_autoencoder;
mod trainer;
pub mod visualize;

pub use dlt_cnn::DltCnn;
pub use error::TrainError;
pub use lenet::{LeNet5, LeNetConfig, LeNetStyle};
pub use mlp::{Mlp, MlpConfig, MlpInit, MlpOutput};
pub use trainer::{
    Evaluation, GradHook, Objective, Trainer, TrainerConfig, TrainingState, evaluate,
};
