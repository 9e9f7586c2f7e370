//! Pooling kernels (max, average, adaptive average) against naive direct loops (in f64), with
//! ties, padding and NaN; adjoint identities; f32/f64 and thread-count agreement; and the panic
//! messages for bad shapes.

mod common;

use common::{assert_close, assert_scalar_close, at, dot, random, tap, zeros};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_tensor::conv::conv_output_len;
use strata_tensor::pool::{
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d, avg_pool2d_backward, max_pool2d,
    max_pool2d_backward,
};
use strata_tensor::threads::with_threads;
use strata_tensor::{Indices, Tensor};

/// Direct-loop max pooling over the full (padded) window; padding is −∞, first maximum wins.
fn naive_max_pool(
    x: &Tensor<f64>,
    k: (usize, usize),
    s: (usize, usize),
    p: (usize, usize),
    d: (usize, usize),
) -> (Tensor<f64>, Vec<usize>) {
    let xs = x.shape().to_vec();
    let xv = x.to_vec();
    let oh = conv_output_len(xs[2], k.0, s.0, p.0, d.0).unwrap();
    let ow = conv_output_len(xs[3], k.1, s.1, p.1, d.1).unwrap();
    let ys = [xs[0], xs[1], oh, ow];
    let (mut y, mut idx) = (vec![0.0; ys.iter().product()], vec![0; ys.iter().product()]);
    for n in 0..xs[0] {
        for c in 0..xs[1] {
            for r in 0..oh {
                for q in 0..ow {
                    let (mut m, mut best) = (f64::NEG_INFINITY, None);
                    for i in 0..k.0 {
                        for j in 0..k.1 {
                            if let (Some(ih), Some(iw)) = (
                                tap(r, i, s.0, p.0, d.0, xs[2]),
                                tap(q, j, s.1, p.1, d.1, xs[3]),
                            ) {
                                let v = xv[at(&xs, n, c, ih, iw)];
                                if best.is_none() || v > m {
                                    m = v;
                                    best = Some(ih * xs[3] + iw);
                                }
                            }
                        }
                    }
                    y[at(&ys, n, c, r, q)] = m;
                    idx[at(&ys, n, c, r, q)] = best.unwrap();
                }
            }
        }
    }
    (Tensor::from_vec(y, &ys), idx)
}

/// Values from a small set so windows often tie; all negative so −∞ padding matters.
fn tie_prone(shape: &[usize], seed: u64) -> Tensor<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = shape.iter().product();
    Tensor::from_vec(
        (0..n).map(|_| -(rng.random_range(1..4) as f64)).collect(),
        shape,
    )
}

#[allow(clippy::type_complexity)]
fn pool_cases() -> Vec<(
    [usize; 4],
    (usize, usize),
    (usize, usize),
    (usize, usize),
    (usize, usize),
)> {
    vec![
        ([2, 3, 8, 8], (2, 2), (2, 2), (0, 0), (1, 1)),
        ([1, 2, 7, 9], (2, 2), (2, 2), (0, 0), (1, 1)),
        ([2, 2, 7, 6], (3, 3), (2, 2), (1, 1), (1, 1)),
        ([1, 3, 9, 8], (3, 2), (1, 2), (1, 1), (1, 1)),
        ([2, 1, 10, 11], (3, 3), (2, 3), (1, 0), (2, 2)),
        ([1, 2, 5, 5], (5, 5), (1, 1), (2, 2), (1, 1)),
        ([3, 4, 28, 28], (2, 2), (2, 2), (0, 0), (1, 1)),
        ([64, 6, 28, 28], (2, 2), (2, 2), (0, 0), (1, 1)),
        ([8, 8, 17, 15], (3, 3), (2, 2), (1, 1), (1, 1)),
    ]
}

#[test]
fn max_pool2d_matches_direct_loops_with_ties_and_padding() {
    for (i, (shape, k, s, p, d)) in pool_cases().into_iter().enumerate() {
        let x = tie_prone(&shape, 2000 + i as u64);
        let (y, idx) = max_pool2d(&x, k, s, p, d);
        let (yr, idxr) = naive_max_pool(&x, k, s, p, d);
        assert_eq!(y, yr, "max_pool2d {shape:?}");
        assert_eq!(idx.as_slice(), &idxr[..], "argmax {shape:?}");
        assert_eq!(idx.shape(), y.shape());
        // Backward: scatter through the indices, against the naive scatter.
        let g = random(y.shape(), 2100 + i as u64);
        let dx = max_pool2d_backward(&g, &idx, &shape);
        let mut dxr = vec![0.0; x.numel()];
        let plane = shape[2] * shape[3];
        let op = y.shape()[2] * y.shape()[3];
        for (o, (&gv, &ix)) in g.to_vec().iter().zip(&idxr).enumerate() {
            dxr[(o / op) * plane + ix] += gv;
        }
        assert_close(
            &dx,
            &Tensor::from_vec(dxr, &shape),
            1e-12,
            "max_pool2d_backward",
        );
    }
}

#[test]
fn max_pool2d_first_maximum_wins_and_nan_propagates() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 3.0, 3.0, 2.0], &[1, 1, 2, 2]);
    let (y, idx) = max_pool2d(&x, (2, 2), (2, 2), (0, 0), (1, 1));
    assert_eq!((y.to_vec(), idx.as_slice().to_vec()), (vec![3.0], vec![1]));
    let x = Tensor::<f32>::from_vec(vec![1.0, f32::NAN, 3.0, 2.0, 0.0, 0.0], &[1, 1, 2, 3]);
    let (y, idx) = max_pool2d(&x, (2, 2), (1, 1), (0, 0), (1, 1));
    assert!(y.to_vec()[0].is_nan() && y.to_vec()[1].is_nan());
    assert_eq!(idx.as_slice(), &[1, 1]);
    // A fully padded-looking corner still points at a real position.
    let x = Tensor::<f64>::full(&[1, 1, 3, 3], f64::NEG_INFINITY);
    let (_, idx) = max_pool2d(&x, (3, 3), (2, 2), (1, 1), (1, 1));
    assert_eq!(idx.as_slice(), &[0, 1, 3, 4]);
}

#[test]
fn max_pool2d_f32_agrees_on_one_and_two_threads() {
    let x = random(&[64, 6, 28, 28], 1).cast::<f32>();
    let g = random(&[64, 6, 14, 14], 2).cast::<f32>();
    let run = || {
        let (y, idx) = max_pool2d(&x, (2, 2), (2, 2), (0, 0), (1, 1));
        let dx = max_pool2d_backward(&g, &idx, x.shape());
        (y, idx, dx)
    };
    let (one, two) = (with_threads(1, run), with_threads(2, run));
    assert_eq!(one, two);
}

fn naive_avg_pool(
    x: &Tensor<f64>,
    k: (usize, usize),
    s: (usize, usize),
    p: (usize, usize),
) -> Tensor<f64> {
    let xs = x.shape().to_vec();
    let xv = x.to_vec();
    let oh = conv_output_len(xs[2], k.0, s.0, p.0, 1).unwrap();
    let ow = conv_output_len(xs[3], k.1, s.1, p.1, 1).unwrap();
    let ys = [xs[0], xs[1], oh, ow];
    let mut y = vec![0.0; ys.iter().product()];
    for n in 0..xs[0] {
        for c in 0..xs[1] {
            for r in 0..oh {
                for q in 0..ow {
                    let mut sum = 0.0;
                    for i in 0..k.0 {
                        for j in 0..k.1 {
                            if let (Some(ih), Some(iw)) =
                                (tap(r, i, s.0, p.0, 1, xs[2]), tap(q, j, s.1, p.1, 1, xs[3]))
                            {
                                sum += xv[at(&xs, n, c, ih, iw)];
                            }
                        }
                    }
                    y[at(&ys, n, c, r, q)] = sum / (k.0 * k.1) as f64;
                }
            }
        }
    }
    Tensor::from_vec(y, &ys)
}

#[test]
fn avg_pool2d_matches_direct_loops_and_is_adjoint() {
    for (i, (shape, k, s, p, d)) in pool_cases().into_iter().enumerate() {
        if d != (1, 1) {
            continue;
        }
        let x = random(&shape, 2200 + i as u64);
        let y = avg_pool2d(&x, k, s, p);
        assert_close(
            &y,
            &naive_avg_pool(&x, k, s, p),
            1e-12,
            &format!("avg_pool2d {shape:?}"),
        );
        let g = random(y.shape(), 2300 + i as u64);
        let dx = avg_pool2d_backward(&g, &shape, k, s, p);
        assert_scalar_close(
            dot(&y, &g),
            dot(&x, &dx),
            &format!("avg_pool2d adjoint {shape:?}"),
        );
    }
    // PyTorch: count_include_pad — a corner 3×3 window with padding 1 averages 4 values over 9.
    let x = Tensor::<f64>::ones(&[1, 1, 4, 4]);
    let y = avg_pool2d(&x, (3, 3), (1, 1), (1, 1));
    assert_eq!(y.get(&[0, 0, 0, 0]), 4.0 / 9.0);
    assert_eq!(y.get(&[0, 0, 1, 1]), 1.0);
}

#[test]
fn adaptive_avg_pool2d_uses_pytorch_bins() {
    for (i, (shape, out)) in [
        ([2, 3, 7, 5], (3, 2)),
        ([1, 2, 6, 6], (3, 3)),
        ([1, 1, 3, 4], (5, 7)),
        ([2, 2, 5, 5], (1, 1)),
        ([1, 1, 10, 9], (4, 4)),
    ]
    .into_iter()
    .enumerate()
    {
        let x = random(&shape, 2400 + i as u64);
        let y = adaptive_avg_pool2d(&x, out);
        assert_eq!(y.shape(), &[shape[0], shape[1], out.0, out.1]);
        let xv = x.to_vec();
        for n in 0..shape[0] {
            for c in 0..shape[1] {
                for a in 0..out.0 {
                    for b in 0..out.1 {
                        let (h0, h1) = (a * shape[2] / out.0, ((a + 1) * shape[2]).div_ceil(out.0));
                        let (w0, w1) = (b * shape[3] / out.1, ((b + 1) * shape[3]).div_ceil(out.1));
                        let mut s = 0.0;
                        for h in h0..h1 {
                            for w in w0..w1 {
                                s += xv[at(&shape, n, c, h, w)];
                            }
                        }
                        let want = s / ((h1 - h0) * (w1 - w0)) as f64;
                        assert!((y.get(&[n, c, a, b]) - want).abs() < 1e-12);
                    }
                }
            }
        }
        let g = random(y.shape(), 2500 + i as u64);
        let dx = adaptive_avg_pool2d_backward(&g, &shape);
        assert_scalar_close(dot(&y, &g), dot(&x, &dx), "adaptive adjoint");
    }
    // Equal to avg_pool2d when the sizes divide.
    let x = random(&[2, 3, 8, 6], 1);
    assert_close(
        &adaptive_avg_pool2d(&x, (4, 3)),
        &avg_pool2d(&x, (2, 2), (2, 2), (0, 0)),
        1e-12,
        "divisible",
    );
}

#[test]
fn pooling_f32_matches_f64() {
    let x = random(&[4, 3, 13, 12], 3);
    let x32 = x.cast::<f32>();
    let (y64, i64) = max_pool2d(&x, (3, 3), (2, 2), (1, 1), (1, 1));
    let (y32, i32) = max_pool2d(&x32, (3, 3), (2, 2), (1, 1), (1, 1));
    assert_eq!(i64, i32);
    assert_close(&y32.cast(), &y64, 1e-6, "max");
    assert_close(
        &avg_pool2d(&x32, (2, 3), (2, 1), (1, 1)).cast(),
        &avg_pool2d(&x, (2, 3), (2, 1), (1, 1)),
        1e-6,
        "avg",
    );
    assert_close(
        &adaptive_avg_pool2d(&x32, (5, 4)).cast(),
        &adaptive_avg_pool2d(&x, (5, 4)),
        1e-6,
        "adaptive",
    );
}

// ---- panics ----

#[test]
#[should_panic(expected = "max_pool2d: padding (2, 2) must be at most half the kernel (3, 3)")]
fn max_pool2d_padding_panics() {
    max_pool2d(&zeros(&[1, 1, 8, 8]), (3, 3), (1, 1), (2, 2), (1, 1));
}

#[test]
#[should_panic(
    expected = "max_pool2d: kernel 5×5 (dilation (1, 1)) spans 5×5, larger than the padded input 4×4"
)]
fn max_pool2d_kernel_too_large_panics() {
    max_pool2d(&zeros(&[1, 1, 4, 4]), (5, 5), (1, 1), (0, 0), (1, 1));
}

#[test]
#[should_panic(expected = "max_pool2d_backward: index 16 is outside the 4×4 input plane")]
fn max_pool2d_backward_bad_index_panics() {
    max_pool2d_backward(
        &zeros(&[1, 1, 1, 1]),
        &Indices::new(vec![16], &[1, 1, 1, 1]),
        &[1, 1, 4, 4],
    );
}

#[test]
#[should_panic(expected = "avg_pool2d: input [8, 8] must be 4-D [N, C, H, W]")]
fn avg_pool2d_rank_panics() {
    avg_pool2d(&zeros(&[8, 8]), (2, 2), (2, 2), (0, 0));
}

#[test]
#[should_panic(
    expected = "avg_pool2d_backward: grad_y [1, 1, 3, 3] does not match the output [1, 1, 4, 4] of input [1, 1, 8, 8]"
)]
fn avg_pool2d_backward_shape_panics() {
    avg_pool2d_backward(&zeros(&[1, 1, 3, 3]), &[1, 1, 8, 8], (2, 2), (2, 2), (0, 0));
}

#[test]
#[should_panic(expected = "adaptive_avg_pool2d: output size (0, 2) must be positive")]
fn adaptive_avg_pool2d_zero_output_panics() {
    adaptive_avg_pool2d(&zeros(&[1, 1, 4, 4]), (0, 2));
}
