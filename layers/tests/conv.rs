//! `Conv2d`, `Conv1d` and `ConvTranspose2d`: outputs on tiny hand-computed examples, parameter
//! names and shapes, PyTorch parity and f64 gradient checks of inputs and parameters.

mod common;

use common::{assert_close, gradcheck_module, names, spread, t64};
use strata_layers::{Conv1d, Conv2d, ConvTranspose2d, Module};
use strata_tensor::Tensor;

// ---------------------------------------------------------------------------------------------
// Conv2d

/// x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]] as [1, 1, 3, 3]; w = [[1, 2], [3, 4]]; b = 0.5.
fn conv_2x2() -> (Conv2d<f64>, Tensor<f64>) {
    let mut c = Conv2d::<f64>::new(1, 1, (2, 2));
    c.weight.set(t64(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]));
    c.bias.as_mut().unwrap().set(t64(&[0.5], &[1]));
    let x = Tensor::from_vec((1..=9).map(f64::from).collect(), &[1, 1, 3, 3]);
    (c, x)
}

#[test]
fn conv2d_values() {
    let (mut c, x) = conv_2x2();
    assert_eq!(names(&c), ["weight", "bias"]);
    // y[i, j] = Σ_pq w[p, q]·x[i + p, j + q] + b: 1+4+12+20, 2+6+15+24, 4+10+21+32, 5+12+24+36
    assert_close(
        &c.predict(&x),
        &t64(&[37.5, 47.5, 67.5, 77.5], &[1, 1, 2, 2]),
        1e-12,
    );
}

#[test]
fn conv2d_stride_padding_dilation() {
    let (c, x) = conv_2x2();
    // Padding 1, stride 2: windows start at (−1, −1), (−1, 1), (1, −1), (1, 1).
    // (0,0): 4·1 = 4; (0,1): 3·2 + 4·3 = 18; (1,0): 2·4 + 4·7 = 36; (1,1): 5 + 12 + 24 + 36 = 77.
    let mut c = c.with_stride((2, 2)).with_padding((1, 1));
    assert_close(
        &c.predict(&x),
        &t64(&[4.5, 18.5, 36.5, 77.5], &[1, 1, 2, 2]),
        1e-12,
    );

    // Dilation 2: the taps are the corners x[0,0], x[0,2], x[2,0], x[2,2] = 1, 3, 7, 9.
    let (c, x) = conv_2x2();
    let mut c = c.with_dilation((2, 2));
    assert_close(
        &c.predict(&x),
        &t64(&[1.0 + 6.0 + 21.0 + 36.0 + 0.5], &[1, 1, 1, 1]),
        1e-12,
    );
}

#[test]
fn conv2d_multichannel_and_groups() {
    // Two input channels summed by a 1×1 kernel: y = 2·x₀ − x₁ + 1.
    let mut c = Conv2d::<f64>::new(2, 1, (1, 1));
    c.weight.set(t64(&[2.0, -1.0], &[1, 2, 1, 1]));
    c.bias.as_mut().unwrap().set(t64(&[1.0], &[1]));
    let x = t64(&[1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0], &[1, 2, 2, 2]);
    assert_close(
        &c.predict(&x),
        &t64(&[-7.0, -15.0, -23.0, -31.0], &[1, 1, 2, 2]),
        1e-12,
    );

    // groups = 2 (depthwise): each output channel sees only its own input channel.
    let mut c = Conv2d::<f64>::new(2, 2, (1, 1))
        .with_groups(2)
        .without_bias();
    assert_eq!(c.weight.shape(), &[2, 1, 1, 1]);
    assert_eq!(names(&c), ["weight"]);
    c.weight.set(t64(&[2.0, 3.0], &[2, 1, 1, 1]));
    assert_close(
        &c.predict(&x),
        &t64(
            &[2.0, 4.0, 6.0, 8.0, 30.0, 60.0, 90.0, 120.0],
            &[1, 2, 2, 2],
        ),
        1e-12,
    );
}

#[test]
fn conv2d_output_shape_lenet() {
    let mut c1 = Conv2d::<f32>::new(1, 6, (5, 5)).with_padding((2, 2));
    assert_eq!(
        c1.predict(&Tensor::zeros(&[2, 1, 28, 28])).shape(),
        &[2, 6, 28, 28]
    );
    let mut c3 = Conv2d::<f32>::new(6, 16, (5, 5));
    assert_eq!(
        c3.predict(&Tensor::zeros(&[2, 6, 14, 14])).shape(),
        &[2, 16, 10, 10]
    );
    assert_eq!(c3.num_params(), 16 * 6 * 25 + 16);
}

#[test]
fn conv2d_gradcheck() {
    let mut c = Conv2d::<f64>::new(2, 3, (2, 2));
    gradcheck_module("Conv2d", &mut c, &spread(&[2, 2, 4, 4], 3), true, 1e-6);
    let mut c = Conv2d::<f64>::new(2, 2, (3, 3))
        .with_stride((2, 1))
        .with_padding((1, 1))
        .with_dilation((1, 2))
        .with_groups(2);
    gradcheck_module(
        "Conv2d strided/padded/dilated/grouped",
        &mut c,
        &spread(&[1, 2, 5, 5], 4),
        true,
        1e-6,
    );
}

#[test]
#[should_panic(expected = "conv2d")]
fn conv2d_rejects_wrong_channels() {
    Conv2d::<f32>::new(3, 4, (3, 3)).predict(&Tensor::zeros(&[1, 2, 8, 8]));
}

// ---------------------------------------------------------------------------------------------
// Conv1d

#[test]
fn conv1d_values() {
    let mut c = Conv1d::<f64>::new(1, 1, 3);
    assert_eq!(names(&c), ["weight", "bias"]);
    c.weight.set(t64(&[1.0, 2.0, 3.0], &[1, 1, 3]));
    c.bias.as_mut().unwrap().set(t64(&[-1.0], &[1]));
    let x = t64(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1, 1, 5]);
    // 1+4+9, 2+6+12, 3+8+15, minus 1
    assert_close(&c.predict(&x), &t64(&[13.0, 19.0, 25.0], &[1, 1, 3]), 1e-12);
    // Stride 2, padding 1: windows [0,1,2], [2,3,4], [4,5,0] → 8, 20, 14.
    let mut c = c.with_stride_padding(2, 1);
    assert_close(&c.predict(&x), &t64(&[7.0, 19.0, 13.0], &[1, 1, 3]), 1e-12);
    // Dilation 2 (stride 2, padding 1 kept): taps at −1, 1, 3 → 0 + 2·2 + 3·4 = 16 and at
    // 1, 3, 5 → 2 + 2·4 + 3·0 = 10, minus 1.
    let mut c = c.with_dilation(2);
    assert_close(&c.predict(&x), &t64(&[15.0, 9.0], &[1, 1, 2]), 1e-12);
}

#[test]
fn conv1d_gradcheck() {
    let mut c = Conv1d::<f64>::new(2, 3, 3);
    gradcheck_module("Conv1d", &mut c, &spread(&[2, 2, 6], 5), true, 1e-6);
    let mut c = Conv1d::<f64>::new(4, 2, 2)
        .with_stride_padding(2, 1)
        .with_groups(2);
    gradcheck_module("Conv1d grouped", &mut c, &spread(&[1, 4, 5], 6), true, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose2d

fn deconv_2x2() -> (ConvTranspose2d<f64>, Tensor<f64>) {
    let mut c = ConvTranspose2d::<f64>::new(1, 1, (2, 2));
    c.weight.set(t64(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]));
    c.bias.as_mut().unwrap().set(t64(&[0.0], &[1]));
    (c, t64(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]))
}

#[test]
fn conv_transpose2d_values() {
    // Stride 1: y[i, j] = Σ_ab x[a, b]·w[i − a, j − b].
    let (mut c, x) = deconv_2x2();
    assert_eq!(names(&c), ["weight", "bias"]);
    #[rustfmt::skip]
    let expected = t64(&[
        1.0, 4.0, 4.0,
        6.0, 20.0, 16.0,
        9.0, 24.0, 16.0,
    ], &[1, 1, 3, 3]);
    assert_close(&c.predict(&x), &expected, 1e-12);

    // Stride 2: each x[a, b]·w lands in its own 2×2 block.
    let (c, x) = deconv_2x2();
    let mut c = c.with_stride_padding((2, 2), (0, 0), (0, 0));
    #[rustfmt::skip]
    let blocks = [
        1.0, 2.0, 2.0, 4.0,
        3.0, 4.0, 6.0, 8.0,
        3.0, 6.0, 4.0, 8.0,
        9.0, 12.0, 12.0, 16.0,
    ];
    assert_close(&c.predict(&x), &t64(&blocks, &[1, 1, 4, 4]), 1e-12);

    // Padding 1 crops one row/column on every side of the 4×4 result.
    let (c, x) = deconv_2x2();
    let mut c = c.with_stride_padding((2, 2), (1, 1), (0, 0));
    assert_close(
        &c.predict(&x),
        &t64(&[4.0, 6.0, 6.0, 4.0], &[1, 1, 2, 2]),
        1e-12,
    );

    // Output padding 1 adds a last row and column that only the bias reaches.
    let (c, x) = deconv_2x2();
    let mut c = c.with_stride_padding((2, 2), (0, 0), (1, 1));
    c.bias.as_mut().unwrap().set(t64(&[0.5], &[1]));
    let y = c.predict(&x);
    assert_eq!(y.shape(), &[1, 1, 5, 5]);
    for i in 0..5 {
        for j in 0..5 {
            let expected = if i < 4 && j < 4 {
                blocks[i * 4 + j] + 0.5
            } else {
                0.5
            };
            assert_eq!(y.get(&[0, 0, i, j]), expected, "({i}, {j})");
        }
    }
}

#[test]
fn conv_transpose2d_shapes_and_channels() {
    // weight is [C_in, C_out, kh, kw]; OH = (H − 1)·s − 2·pad + kh + output_padding.
    let c = ConvTranspose2d::<f32>::new(3, 5, (3, 3));
    assert_eq!(c.weight.shape(), &[3, 5, 3, 3]);
    let mut c = c.with_stride_padding((2, 2), (1, 1), (1, 1));
    assert_eq!(
        c.predict(&Tensor::zeros(&[2, 3, 7, 7])).shape(),
        &[2, 5, 14, 14]
    );
}

#[test]
fn conv_transpose2d_gradcheck() {
    let mut c = ConvTranspose2d::<f64>::new(2, 3, (2, 2));
    gradcheck_module(
        "ConvTranspose2d",
        &mut c,
        &spread(&[1, 2, 3, 3], 7),
        true,
        1e-6,
    );
    let mut c =
        ConvTranspose2d::<f64>::new(2, 2, (3, 3)).with_stride_padding((2, 2), (1, 1), (1, 1));
    gradcheck_module(
        "ConvTranspose2d strided",
        &mut c,
        &spread(&[2, 2, 2, 3], 8),
        true,
        1e-6,
    );
}

/// `nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)`
/// in PyTorch 2.15 (float64) with `weight = sin(arange)`, `bias = 0.1·arange` and
/// `x = cos(arange)` of shape `[2, 4, 3, 3]`: parameter shapes, output shape, sum, sum of
/// squares and the last element.
#[test]
fn conv_transpose2d_groups_and_dilation_match_pytorch() {
    let mut layer = ConvTranspose2d::<f64>::new(4, 6, (3, 3))
        .with_stride_padding((2, 2), (1, 1), (1, 1))
        .with_groups(2)
        .with_dilation((2, 2));
    assert_eq!(layer.weight.shape(), [4, 3, 3, 3]);
    assert_eq!(layer.bias.as_ref().unwrap().shape(), [6]);
    let sines: Vec<f64> = (0..108).map(|i| (i as f64).sin()).collect();
    layer.weight.set(Tensor::from_vec(sines, &[4, 3, 3, 3]));
    let bias: Vec<f64> = (0..6).map(|i| 0.1 * i as f64).collect();
    layer
        .bias
        .as_mut()
        .unwrap()
        .set(Tensor::from_vec(bias, &[6]));
    let x: Vec<f64> = (0..72).map(|i| (i as f64).cos()).collect();
    let y = layer.predict(&Tensor::from_vec(x, &[2, 4, 3, 3]));
    assert_eq!(y.shape(), [2, 6, 8, 8]);
    let v = y.to_vec();
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-11 * (1.0 + b.abs());
    assert!(
        near(v.iter().sum(), 192.04559001794541),
        "sum {}",
        v.iter().sum::<f64>()
    );
    assert!(near(v.iter().map(|a| a * a).sum(), 1018.42340461773));
    assert!(
        near(v[v.len() - 1], -0.22649288578896476),
        "last {}",
        v[v.len() - 1]
    );
}
