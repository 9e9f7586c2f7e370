//! Convolution and pooling ops (see `strata_tensor::conv` and `strata_tensor::pool`).
