//! # strata-models
//!
//! Ready-to-train models for Strata. This crate will own the MLP, LeNet-5, the DeepLearnToolbox
//! CNN, autoencoders (sparse, denoising, stacked, convolutional), RBMs, Deep Belief Networks,
//! LSTM and attention models, the `Trainer`, checkpoints, learning-curve plots and the examples.
//! It re-implements no kernel and no layer.
