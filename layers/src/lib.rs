//! # strata-layers
//!
//! Neural-network building blocks for Strata. This crate will own the `Module` trait, containers
//! (`Sequential`), every layer (linear, convolution, pooling, normalization, dropout, embedding,
//! recurrent cells, attention), activations, losses and weight initializers. It owns no
//! optimizer and no training loop.
