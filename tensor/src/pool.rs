//! Pooling kernels: max and average pooling, forward and backward.
