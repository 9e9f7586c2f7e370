//! Pooling with PyTorch's options — `ceil_mode` (max and average), `count_include_pad = false`
//! and `divisor_override` (average) — against PyTorch 2.15 (float64): outputs, and input
//! gradients for the output gradient `dy = 1, 2, 3, …` (PyTorch: `(y·w).sum().backward()`).

use strata_tensor::Tensor;
use strata_tensor::pool::{
    AvgPoolOptions, avg_pool2d_backward_with, avg_pool2d_with, max_pool2d_backward, max_pool2d_with,
};

/// `((i·7) mod 11 − 5)/4` on a 6×6 plane and `((i·5) mod 13 − 6)/2` on a 5×5 plane.
const X6: fn() -> Tensor<f64> = || {
    Tensor::from_vec(
        (0..36)
            .map(|i| ((i * 7) % 11) as f64 * 0.25 - 1.25)
            .collect(),
        &[1, 1, 6, 6],
    )
};
const X5: fn() -> Tensor<f64> = || {
    Tensor::from_vec(
        (0..25).map(|i| ((i * 5) % 13) as f64 * 0.5 - 3.0).collect(),
        &[1, 1, 5, 5],
    )
};

enum Kind {
    Max,
    Avg,
}

struct Case {
    name: &'static str,
    input: fn() -> Tensor<f64>,
    kind: Kind,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    options: AvgPoolOptions,
    out: [usize; 2],
    y: &'static [f64],
    grad: &'static [f64],
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case {
        name: "max k2 s2 ceil 5x5",
        input: X5,
        kind: Kind::Max,
        kernel: (2, 2), stride: (2, 2), padding: (0, 0),
        options: AvgPoolOptions { ceil_mode: true, count_include_pad: true, divisor_override: None },
        out: [3, 3],
        y: &[3.0, 2.0, 0.5, 2.5, 3.0, -0.5, 1.5, 2.5, -1.5],
        grad: &[0.0, 0.0, 2.0, 0.0, 3.0, 1.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0, 0.0, 5.0, 0.0, 7.0, 0.0, 0.0, 8.0, 9.0],
    },
    Case {
        name: "max k3 s2 p1 ceil 6x6",
        input: X6,
        kind: Kind::Max,
        kernel: (3, 3), stride: (2, 2), padding: (1, 1),
        options: AvgPoolOptions { ceil_mode: true, count_include_pad: true, divisor_override: None },
        out: [4, 4],
        y: &[1.0, 1.25, 1.25, -0.75, 1.0, 1.25, 1.0, 1.0, 1.25, 1.25, 1.0, 0.5, 0.75, 0.75, 0.5, -0.5],
        grad: &[0.0, 0.0, 0.0, 5.0, 0.0, 4.0, 6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0, 15.0, 0.0, 0.0, 0.0, 0.0, 0.0, 12.0, 0.0, 19.0, 0.0, 0.0, 11.0, 0.0, 0.0, 27.0, 0.0, 0.0, 15.0, 16.0],
    },
    Case {
        name: "avg k3 s2 p1 ceil incl 6x6",
        input: X6,
        kind: Kind::Avg,
        kernel: (3, 3), stride: (2, 2), padding: (1, 1),
        options: AvgPoolOptions { ceil_mode: true, count_include_pad: true, divisor_override: None },
        out: [4, 4],
        y: &[0.027777777777777776, 0.1111111111111111, 0.0, -0.3333333333333333, 0.0, 0.027777777777777776, -0.1388888888888889, 0.041666666666666664, -0.05555555555555555, -0.05555555555555555, -0.2222222222222222, 0.0, -0.041666666666666664, -0.125, -0.20833333333333334, -0.125],
        grad: &[0.1111111111111111, 0.3333333333333333, 0.2222222222222222, 0.5555555555555556, 0.3333333333333333, 1.0, 0.6666666666666667, 1.5555555555555554, 0.8888888888888888, 2.0, 1.1111111111111112, 3.1111111111111107, 0.5555555555555556, 1.2222222222222223, 0.6666666666666666, 1.4444444444444444, 0.7777777777777778, 2.111111111111111, 1.5555555555555556, 3.3333333333333335, 1.7777777777777777, 3.7777777777777777, 2.0, 5.333333333333334, 1.0, 2.111111111111111, 1.1111111111111112, 2.3333333333333335, 1.2222222222222223, 3.2222222222222223, 3.1666666666666665, 6.611111111111111, 3.4444444444444446, 7.166666666666667, 3.7222222222222223, 9.722222222222221],
    },
    Case {
        name: "avg k3 s2 p1 ceil excl 6x6",
        input: X6,
        kind: Kind::Avg,
        kernel: (3, 3), stride: (2, 2), padding: (1, 1),
        options: AvgPoolOptions { ceil_mode: true, count_include_pad: false, divisor_override: None },
        out: [4, 4],
        y: &[0.0625, 0.16666666666666666, 0.0, -1.0, 0.0, 0.027777777777777776, -0.1388888888888889, 0.08333333333333333, -0.08333333333333333, -0.05555555555555555, -0.2222222222222222, 0.0, -0.125, -0.25, -0.4166666666666667, -0.5],
        grad: &[0.25, 0.5833333333333333, 0.3333333333333333, 0.8333333333333333, 0.5, 2.5, 1.0833333333333335, 2.083333333333333, 1.0, 2.2777777777777777, 1.2777777777777777, 5.944444444444445, 0.8333333333333334, 1.5, 0.6666666666666666, 1.4444444444444444, 0.7777777777777778, 3.444444444444444, 2.3333333333333335, 4.111111111111111, 1.7777777777777777, 3.7777777777777777, 2.0, 8.666666666666666, 1.5, 2.611111111111111, 1.1111111111111112, 2.3333333333333335, 1.2222222222222223, 5.222222222222222, 8.0, 13.777777777777779, 5.777777777777779, 12.0, 6.222222222222222, 26.22222222222222],
    },
    Case {
        name: "avg k2 s2 ceil 5x5",
        input: X5,
        kind: Kind::Avg,
        kernel: (2, 2), stride: (2, 2), padding: (0, 0),
        options: AvgPoolOptions { ceil_mode: true, count_include_pad: true, divisor_override: None },
        out: [3, 3],
        y: &[-0.375, -0.25, 0.25, 0.25, 0.375, -0.75, -0.5, 1.25, -1.5],
        grad: &[0.25, 0.25, 0.5, 0.5, 1.5, 0.25, 0.25, 0.5, 0.5, 1.5, 1.0, 1.0, 1.25, 1.25, 3.0, 1.0, 1.0, 1.25, 1.25, 3.0, 3.5, 3.5, 4.0, 4.0, 9.0],
    },
    Case {
        name: "avg k3 s1 p1 excl 5x5",
        input: X5,
        kind: Kind::Avg,
        kernel: (3, 3), stride: (1, 1), padding: (1, 1),
        options: AvgPoolOptions { ceil_mode: false, count_include_pad: false, divisor_override: None },
        out: [5, 5],
        y: &[-0.375, 0.3333333333333333, -0.4166666666666667, -0.08333333333333333, -1.0, -0.08333333333333333, 0.4444444444444444, -0.6666666666666666, -0.3333333333333333, -1.25, 0.5, 0.6666666666666666, -0.4444444444444444, -0.1111111111111111, -0.6666666666666666, 0.0, 0.16666666666666666, -0.2222222222222222, 0.1111111111111111, -0.08333333333333333, -0.25, -0.08333333333333333, 0.25, 0.5833333333333334, 0.75],
        grad: &[2.361111111111111, 3.7499999999999996, 4.166666666666666, 5.972222222222222, 4.583333333333333, 5.527777777777778, 8.36111111111111, 8.5, 11.472222222222223, 8.63888888888889, 9.5, 13.833333333333334, 13.0, 16.5, 12.166666666666668, 16.63888888888889, 23.916666666666664, 21.833333333333332, 27.02777777777778, 19.75, 13.472222222222221, 19.305555555555554, 17.5, 21.52777777777778, 15.694444444444445],
    },
    Case {
        name: "avg k2 s2 divisor 3 5x5",
        input: X5,
        kind: Kind::Avg,
        kernel: (2, 2), stride: (2, 2), padding: (0, 0),
        options: AvgPoolOptions { ceil_mode: false, count_include_pad: true, divisor_override: Some(3) },
        out: [2, 2],
        y: &[-0.5, -0.3333333333333333, 0.3333333333333333, 0.5],
        grad: &[0.3333333333333333, 0.3333333333333333, 0.6666666666666666, 0.6666666666666666, 0.0, 0.3333333333333333, 0.3333333333333333, 0.6666666666666666, 0.6666666666666666, 0.0, 1.0, 1.0, 1.3333333333333333, 1.3333333333333333, 0.0, 1.0, 1.0, 1.3333333333333333, 1.3333333333333333, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    },
    Case {
        name: "avg k3 s2 p1 ceil div 5 6x6",
        input: X6,
        kind: Kind::Avg,
        kernel: (3, 3), stride: (2, 2), padding: (1, 1),
        options: AvgPoolOptions { ceil_mode: true, count_include_pad: true, divisor_override: Some(5) },
        out: [4, 4],
        y: &[0.05, 0.2, 0.0, -0.4, 0.0, 0.05, -0.25, 0.05, -0.1, -0.1, -0.4, 0.0, -0.05, -0.15, -0.25, -0.1],
        grad: &[0.2, 0.6000000000000001, 0.4, 1.0, 0.6, 1.4, 1.2, 2.8, 1.6, 3.6, 2.0, 4.4, 1.0, 2.2, 1.2, 2.5999999999999996, 1.4, 3.0, 2.8, 6.0, 3.2, 6.8, 3.6, 7.6, 1.8, 3.8, 2.0, 4.2, 2.2, 4.6, 4.4, 9.2, 4.8, 10.0, 5.2, 10.8],
    },
];

fn close(name: &str, what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{name}: {what} has {} values, PyTorch {}",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 1e-12,
            "{name}: {what}[{i}] = {g}, PyTorch {w}\n{got:?}"
        );
    }
}

#[test]
fn pooling_options_match_pytorch() {
    for c in CASES {
        let x = (c.input)();
        let shape = x.shape().to_vec();
        let (y, grad) = match c.kind {
            Kind::Max => {
                let (y, idx) = max_pool2d_with(
                    &x,
                    c.kernel,
                    c.stride,
                    c.padding,
                    (1, 1),
                    c.options.ceil_mode,
                );
                let dy = Tensor::from_vec((1..=y.numel()).map(|v| v as f64).collect(), y.shape());
                (y, max_pool2d_backward(&dy, &idx, &shape))
            }
            Kind::Avg => {
                let y = avg_pool2d_with(&x, c.kernel, c.stride, c.padding, &c.options);
                let dy = Tensor::from_vec((1..=y.numel()).map(|v| v as f64).collect(), y.shape());
                let g = avg_pool2d_backward_with(
                    &dy, &shape, c.kernel, c.stride, c.padding, &c.options,
                );
                (y, g)
            }
        };
        assert_eq!(&y.shape()[2..], c.out, "{}: output shape", c.name);
        close(c.name, "y", &y.to_vec(), c.y);
        close(c.name, "grad", &grad.to_vec(), c.grad);
    }
}

/// Output sizes with `ceil_mode`, as PyTorch gives them: `⌈(in + 2·pad − k)/s⌉ + 1`, less one
/// when the last window would start at or past `in + pad`.
#[test]
fn ceil_mode_output_sizes_match_pytorch() {
    // (input, kernel, stride, padding, PyTorch's output size)
    let cases = [
        (4, 2, 3, 0, 2),
        (5, 2, 4, 0, 2),
        (4, 2, 2, 1, 3),
        (5, 2, 2, 0, 3),
        (5, 2, 2, 1, 3),
    ];
    // The last: ⌈5/2⌉ + 1 = 4, but the 4th window would start at 6 = in + pad: dropped.
    for (n, k, s, p, out) in cases {
        let x = Tensor::<f32>::zeros(&[1, 1, n, n]);
        let (y, _) = max_pool2d_with(&x, (k, k), (s, s), (p, p), (1, 1), true);
        assert_eq!(
            y.shape(),
            [1, 1, out, out],
            "input {n}, kernel {k}, stride {s}, padding {p}"
        );
    }
}

#[test]
#[should_panic(expected = "avg_pool2d: divisor_override must be positive")]
fn a_zero_divisor_is_refused() {
    let options = AvgPoolOptions {
        divisor_override: Some(0),
        ..AvgPoolOptions::default()
    };
    avg_pool2d_with(
        &Tensor::<f32>::zeros(&[1, 1, 4, 4]),
        (2, 2),
        (2, 2),
        (0, 0),
        &options,
    );
}
