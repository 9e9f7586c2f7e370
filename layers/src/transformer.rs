//! Transformer encoder and decoder layers.
