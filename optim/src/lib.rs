//! # strata-optim
//!
//! Optimizers for Strata. This crate will own SGD (momentum, Nesterov, weight decay), Adagrad,
//! RMSprop, Adam/AdamW and Adadelta with serializable state, gradient clipping, learning-rate
//! schedules and early stopping. It consumes gradients as values and does not care whether they
//! came from backpropagation or contrastive divergence.
