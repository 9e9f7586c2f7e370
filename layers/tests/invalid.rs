//! Invalid hyper-parameters are rejected at construction with a message naming the layer and
//! the offending value.

use strata_layers::{
    BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d, Dropout, Embedding, Highway,
    LayerNorm, Linear, Maxout, PRelu,
};

#[test]
#[should_panic(expected = "Dropout: probability 1 is outside [0, 1)")]
fn dropout_p_one() {
    Dropout::new(1.0);
}

#[test]
#[should_panic(expected = "Dropout: probability -0.1 is outside [0, 1)")]
fn dropout_p_negative() {
    Dropout::new(-0.1);
}

#[test]
#[should_panic(expected = "Dropout: probability NaN is outside [0, 1)")]
fn dropout_p_nan() {
    Dropout::new(f64::NAN);
}

#[test]
#[should_panic(expected = "Linear: sizes must be positive, got 0 → 3")]
fn linear_zero_inputs() {
    Linear::<f32>::new(0, 3);
}

#[test]
#[should_panic(expected = "Linear: sizes must be positive, got 3 → 0")]
fn linear_zero_outputs() {
    Linear::<f32>::new(3, 0);
}

#[test]
#[should_panic(expected = "Conv2d: sizes must be positive")]
fn conv2d_zero_kernel() {
    Conv2d::<f32>::new(3, 4, (0, 3));
}

#[test]
#[should_panic(expected = "Conv2d: sizes must be positive")]
fn conv2d_zero_channels() {
    Conv2d::<f32>::new(0, 4, (3, 3));
}

#[test]
#[should_panic(expected = "Conv1d: sizes must be positive")]
fn conv1d_zero_kernel() {
    Conv1d::<f32>::new(2, 4, 0);
}

#[test]
#[should_panic(expected = "ConvTranspose2d: sizes must be positive")]
fn conv_transpose2d_zero_outputs() {
    ConvTranspose2d::<f32>::new(2, 0, (2, 2));
}

#[test]
#[should_panic(expected = "Conv2d: groups 4 must divide both in_channels 6 and out_channels 8")]
fn conv2d_groups_not_dividing_inputs() {
    let _ = Conv2d::<f32>::new(6, 8, (3, 3)).with_groups(4);
}

#[test]
#[should_panic(expected = "Conv2d: groups 4 must divide both in_channels 8 and out_channels 6")]
fn conv2d_groups_not_dividing_outputs() {
    let _ = Conv2d::<f32>::new(8, 6, (3, 3)).with_groups(4);
}

#[test]
#[should_panic(expected = "Conv2d: groups 0 must divide")]
fn conv2d_zero_groups() {
    let _ = Conv2d::<f32>::new(4, 4, (3, 3)).with_groups(0);
}

#[test]
#[should_panic(expected = "Conv1d: groups 3 must divide both in_channels 4 and out_channels 6")]
fn conv1d_groups_not_dividing() {
    let _ = Conv1d::<f32>::new(4, 6, 3).with_groups(3);
}

#[test]
#[should_panic(expected = "BatchNorm1d: momentum 1.5 is outside [0, 1]")]
fn batchnorm_momentum_above_one() {
    let _ = BatchNorm1d::<f32>::new(3).with_momentum(1.5);
}

#[test]
#[should_panic(expected = "BatchNorm2d: momentum -0.1 is outside [0, 1]")]
fn batchnorm_momentum_negative() {
    let _ = BatchNorm2d::<f32>::new(3).with_momentum(-0.1);
}

#[test]
#[should_panic(expected = "BatchNorm2d: eps must be positive and finite, got 0")]
fn batchnorm_eps_zero() {
    let _ = BatchNorm2d::<f32>::new(3).with_eps(0.0);
}

#[test]
#[should_panic(expected = "BatchNorm1d: eps must be positive and finite, got -0.001")]
fn batchnorm_eps_negative() {
    let _ = BatchNorm1d::<f32>::new(3).with_eps(-1e-3);
}

#[test]
#[should_panic(expected = "BatchNorm1d: num_features must be positive, got 0")]
fn batchnorm_zero_features() {
    BatchNorm1d::<f32>::new(0);
}

#[test]
#[should_panic(expected = "LayerNorm: eps must be positive and finite, got 0")]
fn layernorm_eps_zero() {
    let _ = LayerNorm::<f32>::new(&[4]).with_eps(0.0);
}

#[test]
#[should_panic(
    expected = "LayerNorm: normalized_shape must be non-empty with positive dimensions, got []"
)]
fn layernorm_empty_shape() {
    LayerNorm::<f32>::new(&[]);
}

#[test]
#[should_panic(
    expected = "LayerNorm: normalized_shape must be non-empty with positive dimensions, got [4, 0]"
)]
fn layernorm_zero_dimension() {
    LayerNorm::<f32>::new(&[4, 0]);
}

#[test]
#[should_panic(expected = "Embedding: sizes must be positive, got 0 embeddings of dimension 8")]
fn embedding_zero_rows() {
    Embedding::<f32>::new(0, 8);
}

#[test]
#[should_panic(expected = "Embedding: sizes must be positive, got 8 embeddings of dimension 0")]
fn embedding_zero_dim() {
    Embedding::<f32>::new(8, 0);
}

#[test]
#[should_panic(expected = "Highway: width must be positive, got 0")]
fn highway_zero_width() {
    Highway::<f32>::new(0);
}

#[test]
#[should_panic(expected = "PRelu: needs at least one slope")]
fn prelu_zero_slopes() {
    PRelu::<f32>::new(0, 0.25);
}

#[test]
#[should_panic(expected = "Maxout: needs at least one piece")]
fn maxout_zero_pieces() {
    Maxout::<f32>::new(4, 2, 0);
}
