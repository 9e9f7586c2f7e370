//! `MaxPool2d`, `AvgPool2d` and `AdaptiveAvgPool2d`: hand-computed outputs, gradients,
//! PyTorch's options and f64 gradient checks.

mod common;

use common::{assert_close, gradcheck_module, spread, t64};
use strata_autograd::Var;
use strata_layers::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Module};
use strata_tensor::Tensor;

/// 1..=16 as [1, 1, 4, 4].
fn grid4() -> Tensor<f64> {
    Tensor::from_vec((1..=16).map(f64::from).collect(), &[1, 1, 4, 4])
}

/// 1..=9 as [1, 1, 3, 3].
fn grid3() -> Tensor<f64> {
    Tensor::from_vec((1..=9).map(f64::from).collect(), &[1, 1, 3, 3])
}

#[test]
fn max_pool_values() {
    let mut p = MaxPool2d::new((2, 2));
    assert_eq!(p.stride, (2, 2));
    assert_close(
        &Module::<f64>::predict(&mut p, &grid4()),
        &t64(&[6.0, 8.0, 14.0, 16.0], &[1, 1, 2, 2]),
        0.0,
    );
    // Overlapping windows (stride 1).
    let mut p = MaxPool2d::new((2, 2)).with_stride_padding((1, 1), (0, 0));
    assert_close(
        &Module::<f64>::predict(&mut p, &grid3()),
        &t64(&[5.0, 6.0, 8.0, 9.0], &[1, 1, 2, 2]),
        0.0,
    );
    // Padding counts as −∞: every window of [[−1, −2], [−3, −4]] padded by 1 holds one value.
    let x = t64(&[-1.0, -2.0, -3.0, -4.0], &[1, 1, 2, 2]);
    let mut p = MaxPool2d::new((2, 2)).with_stride_padding((2, 2), (1, 1));
    assert_close(&Module::<f64>::predict(&mut p, &x), &x, 0.0);
}

#[test]
fn max_pool_gradient_goes_to_the_maximum() {
    let x = Var::leaf(grid4());
    let g = Module::<f64>::forward(&mut MaxPool2d::new((2, 2)), &x)
        .sum()
        .backward();
    let mut expected = vec![0.0; 16];
    for i in [5, 7, 13, 15] {
        expected[i] = 1.0;
    }
    assert_close(g.wrt(&x).unwrap(), &t64(&expected, &[1, 1, 4, 4]), 0.0);
}

#[test]
fn avg_pool_values() {
    let mut p = AvgPool2d::new((2, 2));
    assert_close(
        &Module::<f64>::predict(&mut p, &grid4()),
        &t64(&[3.5, 5.5, 11.5, 13.5], &[1, 1, 2, 2]),
        1e-12,
    );
    // Zero padding is counted in the divisor (PyTorch's count_include_pad): each window of
    // [[1, 2], [3, 4]] padded by 1 holds one value and three zeros.
    let x = t64(&[1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
    let mut p = AvgPool2d::new((2, 2)).with_stride_padding((2, 2), (1, 1));
    assert_close(
        &Module::<f64>::predict(&mut p, &x),
        &t64(&[0.25, 0.5, 0.75, 1.0], &[1, 1, 2, 2]),
        1e-12,
    );
}

#[test]
fn adaptive_avg_pool_values() {
    // 3 → 2 bins: rows/columns {0, 1} and {1, 2}.
    let mut p = AdaptiveAvgPool2d::new((2, 2));
    assert_close(
        &Module::<f64>::predict(&mut p, &grid3()),
        &t64(&[3.0, 4.0, 6.0, 7.0], &[1, 1, 2, 2]),
        1e-12,
    );
    // Global average pooling.
    let mut p = AdaptiveAvgPool2d::new((1, 1));
    assert_close(
        &Module::<f64>::predict(&mut p, &grid4()),
        &t64(&[8.5], &[1, 1, 1, 1]),
        1e-12,
    );
}

#[test]
fn pooling_gradcheck() {
    let x = spread(&[2, 2, 4, 4], 1);
    gradcheck_module("MaxPool2d", &mut MaxPool2d::new((2, 2)), &x, true, 1e-6);
    gradcheck_module(
        "MaxPool2d overlapping",
        &mut MaxPool2d::new((3, 3)).with_stride_padding((1, 1), (1, 1)),
        &x,
        true,
        1e-6,
    );
    gradcheck_module("AvgPool2d", &mut AvgPool2d::new((2, 2)), &x, true, 1e-6);
    gradcheck_module(
        "AvgPool2d padded",
        &mut AvgPool2d::new((3, 3)).with_stride_padding((2, 2), (1, 1)),
        &x,
        true,
        1e-6,
    );
    gradcheck_module(
        "AdaptiveAvgPool2d",
        &mut AdaptiveAvgPool2d::new((3, 2)),
        &spread(&[1, 2, 5, 4], 2),
        true,
        1e-6,
    );
}

/// The pooling layers pass PyTorch's options through (values are checked against PyTorch in
/// `strata-tensor`'s `pool_options` tests).
#[test]
fn pooling_layers_take_pytorchs_options() {
    let x = Var::constant(Tensor::<f64>::from_vec(
        (0..25).map(f64::from).collect(),
        &[1, 1, 5, 5],
    ));
    let y = MaxPool2d::new((2, 2)).with_ceil_mode(true).forward(&x);
    assert_eq!(y.shape(), [1, 1, 3, 3]);
    assert_eq!(
        y.value().get(&[0, 0, 2, 2]),
        24.0,
        "the last window is the corner alone"
    );
    let mut avg = AvgPool2d::new((2, 2)).with_ceil_mode(true);
    assert_eq!(
        avg.forward(&x).value().get(&[0, 0, 2, 2]),
        24.0,
        "a clipped window divides by its size"
    );
    let mut padded = AvgPool2d::new((3, 3))
        .with_stride_padding((1, 1), (1, 1))
        .with_count_include_pad(false);
    // The corner window covers x[0..2, 0..2] = 0, 1, 5, 6: their mean, not their sum over 9.
    assert_eq!(padded.forward(&x).value().get(&[0, 0, 0, 0]), 3.0);
    let mut fixed = AvgPool2d::new((2, 2)).with_divisor_override(Some(2));
    assert_eq!(
        fixed.forward(&x).value().get(&[0, 0, 0, 0]),
        (0.0 + 1.0 + 5.0 + 6.0) / 2.0
    );
}
