//! Convolution lowering: im2col/col2im and conv2d/conv1d forward and backward kernels.
