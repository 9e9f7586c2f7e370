//! Convolution kernels (conv1d, conv2d, transposed, im2col/col2im) against naive direct loops
//! (in f64), adjoint identities between forward and backward kernels, f32/f64 agreement across
//! thread counts and algorithms, and the panic messages for bad shapes.

mod common;

use common::{assert_close, assert_scalar_close, at, dot, random, tap, zeros};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_tensor::Tensor;
use strata_tensor::conv::{
    Conv1dParams, Conv2dParams, ConvAlgorithm, col2im, conv_output_len, conv_transpose_output_len,
    conv_transpose1d, conv_transpose1d_backward_input, conv_transpose1d_backward_weight,
    conv_transpose2d, conv_transpose2d_backward_input, conv_transpose2d_backward_weight, conv1d,
    conv1d_backward_input, conv1d_backward_weight, conv2d, conv2d_backward_bias,
    conv2d_backward_input, conv2d_backward_weight, conv2d_plan, im2col, with_conv_algorithm,
};
use strata_tensor::threads::with_threads;

// ---- helpers ----

/// The lowerings the convolution tests run under: im2col + GEMM, the direct kernels (where
/// they apply: a CPU with AVX2 or AVX-512; elsewhere this is GEMM again) and Winograd (4×4
/// kernels of stride 2 and padding 1 on even sizes; elsewhere the automatic choice).
const ALGORITHMS: [ConvAlgorithm; 3] = [
    ConvAlgorithm::Gemm,
    ConvAlgorithm::Direct,
    ConvAlgorithm::Winograd,
];

/// Runs `body` under each of [`ALGORITHMS`] (named on stderr, shown if it fails).
fn for_algorithms(body: impl Fn()) {
    for algo in ALGORITHMS {
        eprintln!("algorithm {algo:?}");
        with_conv_algorithm(algo, &body);
    }
}

/// Whether this CPU runs the direct kernels (any shape picks them when forced).
fn direct_available() -> bool {
    with_conv_algorithm(ConvAlgorithm::Direct, || {
        let plan = conv2d_plan::<f64>(&[1, 1, 4, 4], &[1, 1, 3, 3], &Conv2dParams::default());
        plan.forward == ConvAlgorithm::Direct
    })
}

/// One convolution configuration.
#[derive(Clone, Copy, Debug)]
struct Case {
    n: usize,
    c: usize,
    o: usize,
    h: usize,
    w: usize,
    k: (usize, usize),
    p: Conv2dParams,
    bias: bool,
}

impl Case {
    fn x_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w]
    }
    fn w_shape(&self) -> [usize; 4] {
        [self.o, self.c / self.p.groups, self.k.0, self.k.1]
    }
    fn out(&self) -> (usize, usize) {
        self.p
            .output_size((self.h, self.w), self.k)
            .expect("valid case")
    }
    fn y_shape(&self) -> [usize; 4] {
        let (oh, ow) = self.out();
        [self.n, self.o, oh, ow]
    }
}

/// Direct-loop conv2d: `y[n, o, oh, ow] = b[o] + Σ w[o, c, i, j]·x[n, g·cg + c, …]`.
fn naive_conv2d(
    x: &Tensor<f64>,
    w: &Tensor<f64>,
    b: Option<&Tensor<f64>>,
    p: &Conv2dParams,
) -> Tensor<f64> {
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let (cg, og) = (ws[1], ws[0] / p.groups);
    let (oh, ow) = p.output_size((xs[2], xs[3]), (ws[2], ws[3])).unwrap();
    let ys = [xs[0], ws[0], oh, ow];
    let mut y = vec![0.0; ys.iter().product()];
    for n in 0..xs[0] {
        for o in 0..ws[0] {
            let g = o / og;
            for r in 0..oh {
                for q in 0..ow {
                    let mut s = b.map_or(0.0, |b| b.to_vec()[o]);
                    for c in 0..cg {
                        for i in 0..ws[2] {
                            for j in 0..ws[3] {
                                let (Some(ih), Some(iw)) = (
                                    tap(r, i, p.stride.0, p.padding.0, p.dilation.0, xs[2]),
                                    tap(q, j, p.stride.1, p.padding.1, p.dilation.1, xs[3]),
                                ) else {
                                    continue;
                                };
                                s += wv[at(&ws, o, c, i, j)] * xv[at(&xs, n, g * cg + c, ih, iw)];
                            }
                        }
                    }
                    y[at(&ys, n, o, r, q)] = s;
                }
            }
        }
    }
    Tensor::from_vec(y, &ys)
}

/// Direct-loop input and weight gradients of conv2d for output gradient `dy`.
fn naive_conv2d_grads(
    dy: &Tensor<f64>,
    x: &Tensor<f64>,
    w: &Tensor<f64>,
    p: &Conv2dParams,
) -> (Tensor<f64>, Tensor<f64>) {
    let (xs, ws, ys) = (x.shape().to_vec(), w.shape().to_vec(), dy.shape().to_vec());
    let (xv, wv, dyv) = (x.to_vec(), w.to_vec(), dy.to_vec());
    let (cg, og) = (ws[1], ws[0] / p.groups);
    let mut dx = vec![0.0; xv.len()];
    let mut dw = vec![0.0; wv.len()];
    for n in 0..ys[0] {
        for o in 0..ys[1] {
            let g = o / og;
            for r in 0..ys[2] {
                for q in 0..ys[3] {
                    let gy = dyv[at(&ys, n, o, r, q)];
                    for c in 0..cg {
                        for i in 0..ws[2] {
                            for j in 0..ws[3] {
                                let (Some(ih), Some(iw)) = (
                                    tap(r, i, p.stride.0, p.padding.0, p.dilation.0, xs[2]),
                                    tap(q, j, p.stride.1, p.padding.1, p.dilation.1, xs[3]),
                                ) else {
                                    continue;
                                };
                                let xi = at(&xs, n, g * cg + c, ih, iw);
                                dx[xi] += wv[at(&ws, o, c, i, j)] * gy;
                                dw[at(&ws, o, c, i, j)] += xv[xi] * gy;
                            }
                        }
                    }
                }
            }
        }
    }
    (Tensor::from_vec(dx, &xs), Tensor::from_vec(dw, &ws))
}

/// `(n, c, o, (h, w), kernel, stride, padding, dilation, groups, bias)`: input `[n, c, h, w]`,
/// `o` output channels.
#[rustfmt::skip]
type Row = (usize, usize, usize, Pair, Pair, Pair, Pair, Pair, usize, bool);
type Pair = (usize, usize);

/// Hand-picked cases covering every feature, one [`Row`] each.
#[rustfmt::skip]
const HAND_PICKED: &[Row] = &[
    // n  c   o  (h,  w)  kernel  stride  padding dilation groups bias
    (1,  1,  2, ( 5,  5), (3, 3), (1, 1), (0, 0), (1, 1), 1, false),
    (3,  3,  4, ( 8,  7), (3, 2), (2, 2), (1, 1), (1, 1), 1, true),
    (2,  4,  6, ( 9, 10), (3, 3), (1, 1), (2, 2), (2, 2), 2, true),
    // Depthwise with channel multiplier 2, and plain depthwise.
    (2,  3,  6, ( 7,  6), (3, 3), (1, 2), (1, 1), (1, 1), 3, true),
    (3,  4,  4, ( 6,  6), (3, 3), (1, 1), (1, 1), (1, 1), 4, false),
    // Pointwise (1×1, the path without im2col), with groups, and 1×1 strided.
    (3,  5,  4, ( 6,  5), (1, 1), (1, 1), (0, 0), (1, 1), 1, true),
    (2,  4,  6, ( 5,  3), (1, 1), (1, 1), (0, 0), (1, 1), 2, false),
    (1,  3,  2, ( 7,  6), (1, 1), (2, 2), (0, 0), (1, 1), 1, false),
    (1,  2,  3, ( 4,  4), (1, 1), (1, 1), (1, 0), (1, 1), 1, true),
    // Non-square everything.
    (2,  2,  3, ( 7, 12), (2, 5), (2, 1), (1, 2), (1, 1), 1, true),
    (1,  1,  1, ( 1,  9), (1, 4), (1, 3), (0, 0), (1, 1), 1, false),
    // Kernel as large as the padded input; large stride leaving unread rows.
    (2,  2,  2, ( 3,  4), (5, 4), (1, 1), (1, 0), (1, 1), 1, true),
    (2,  2,  3, (10,  9), (2, 2), (3, 4), (0, 0), (1, 1), 1, false),
    // Column stride 2 (the phase split of the direct kernels' padded input): even widths with
    // odd and even left padding, a DCGAN-style 4×4 stride-2 layer, and a one-column input.
    (2,  3,  4, ( 6,  8), (3, 3), (2, 2), (0, 0), (1, 1), 1, true),
    (2,  5,  7, (14, 14), (4, 4), (2, 2), (1, 1), (1, 1), 1, true),
    // Winograd's shapes: planes of whole, partial and single tiles, and channel counts that
    // are not multiples of a vector.
    (3, 16, 24, ( 8, 10), (4, 4), (2, 2), (1, 1), (1, 1), 1, true),
    (2, 19, 17, (14, 14), (4, 4), (2, 2), (1, 1), (1, 1), 1, false),
    (2,  3,  2, ( 2,  2), (4, 4), (2, 2), (1, 1), (1, 1), 1, true),
    (5,  4,  6, (16,  6), (4, 4), (2, 2), (1, 1), (1, 1), 1, false),
    (1,  2,  2, ( 5,  1), (3, 1), (2, 2), (1, 0), (1, 1), 1, false),
    // LeNet shapes (small batch) and one large enough for several row bands and threads.
    (3,  1,  6, (28, 28), (5, 5), (1, 1), (2, 2), (1, 1), 1, true),
    (3,  6, 16, (14, 14), (5, 5), (1, 1), (0, 0), (1, 1), 1, true),
    (3, 16,  8, (30, 30), (5, 5), (1, 1), (2, 2), (1, 1), 1, true),
    (1, 12,  6, (33, 31), (3, 3), (1, 1), (1, 1), (1, 1), 3, true),
];

/// The [`Case`] of a [`Row`].
fn case(&(n, c, o, (h, w), k, stride, padding, dilation, groups, bias): &Row) -> Case {
    let p = Conv2dParams {
        stride,
        padding,
        dilation,
        groups,
    };
    Case {
        n,
        c,
        o,
        h,
        w,
        k,
        p,
        bias,
    }
}

/// The [`HAND_PICKED`] cases, then random ones.
fn cases() -> Vec<Case> {
    let d = Conv2dParams::default();
    let mut v: Vec<Case> = HAND_PICKED.iter().map(case).collect();
    let mut rng = StdRng::seed_from_u64(7);
    while v.len() < 45 {
        let groups = [1, 1, 2, 3][rng.random_range(0..4)];
        let c = groups * rng.random_range(1..4);
        let o = groups * rng.random_range(1..4);
        let k = (rng.random_range(1..5), rng.random_range(1..5));
        let p = d
            .with_stride((rng.random_range(1..4), rng.random_range(1..4)))
            .with_padding((rng.random_range(0..3), rng.random_range(0..3)))
            .with_dilation((rng.random_range(1..3), rng.random_range(1..3)))
            .with_groups(groups);
        let (h, w) = (rng.random_range(1..12), rng.random_range(1..12));
        let case = Case {
            n: rng.random_range(1..4),
            c,
            o,
            h,
            w,
            k,
            p,
            bias: rng.random_bool(0.5),
        };
        if p.output_size((h, w), k).is_some() {
            v.push(case);
        }
    }
    v
}

fn case_tensors(case: &Case, seed: u64) -> (Tensor<f64>, Tensor<f64>, Option<Tensor<f64>>) {
    let x = random(&case.x_shape(), seed);
    let w = random(&case.w_shape(), seed + 1);
    let b = case.bias.then(|| random(&[case.o], seed + 2));
    (x, w, b)
}

// ---- conv2d ----

#[test]
fn output_size_formula() {
    assert_eq!(conv_output_len(28, 5, 1, 2, 1), Some(28));
    assert_eq!(conv_output_len(14, 5, 1, 0, 1), Some(10));
    assert_eq!(conv_output_len(7, 3, 2, 1, 1), Some(4));
    assert_eq!(conv_output_len(9, 3, 1, 2, 2), Some(9));
    assert_eq!(conv_output_len(4, 5, 1, 0, 1), None);
    assert_eq!(conv_output_len(4, 3, 1, 0, 2), None);
    assert_eq!(conv_output_len(4, 3, 0, 0, 1), None);
    assert_eq!(
        Conv2dParams::default()
            .with_stride((2, 3))
            .output_size((8, 9), (2, 3)),
        Some((4, 3))
    );
    assert_eq!(conv_transpose_output_len(4, 3, 2, 1, 1, 1), Some(8));
    assert_eq!(conv_transpose_output_len(1, 1, 1, 1, 1, 0), None);
}

#[test]
fn conv2d_matches_direct_loops() {
    for_algorithms(conv2d_matches_direct_loops_body);
}

fn conv2d_matches_direct_loops_body() {
    for (i, case) in cases().iter().enumerate() {
        let (x, w, b) = case_tensors(case, 100 + i as u64);
        let y = conv2d(&x, &w, b.as_ref(), &case.p);
        assert_eq!(y.shape(), &case.y_shape(), "{case:?}");
        assert_close(
            &y,
            &naive_conv2d(&x, &w, b.as_ref(), &case.p),
            1e-12,
            &format!("forward {case:?}"),
        );
    }
}

#[test]
fn the_direct_kernels_run_where_they_apply() {
    if !direct_available() {
        return;
    }
    let all = |a| (a, a, a);
    with_conv_algorithm(ConvAlgorithm::Direct, || {
        for case in cases() {
            let plan = conv2d_plan::<f64>(&case.x_shape(), &case.w_shape(), &case.p);
            let got = (plan.forward, plan.backward_input, plan.backward_weight);
            assert_eq!(got, all(ConvAlgorithm::Direct), "{case:?}");
        }
    });
    // Auto picks them for the LeNet-5, DeepLearnToolbox and MNIST conv-autoencoder layers, in
    // f32 and f64.
    let d = Conv2dParams::default();
    let s2 = d.with_stride((2, 2)).with_padding((1, 1));
    for (x, w, p) in [
        ([64, 1, 28, 28], [6, 1, 5, 5], d.with_padding((2, 2))),
        ([64, 6, 14, 14], [16, 6, 5, 5], d),
        ([50, 1, 28, 28], [6, 1, 5, 5], d),
        ([50, 6, 12, 12], [12, 6, 5, 5], d),
        ([64, 1, 28, 28], [16, 1, 3, 3], s2),
        ([64, 16, 14, 14], [32, 16, 3, 3], s2),
    ] {
        for plan in [
            conv2d_plan::<f32>(&x, &w, &p),
            conv2d_plan::<f64>(&x, &w, &p),
        ] {
            let got = (plan.forward, plan.backward_input, plan.backward_weight);
            assert_eq!(got, all(ConvAlgorithm::Direct), "{x:?} {w:?}");
        }
    }
    // Small planes with many output channels take the batched GEMM for the weight gradient.
    let many = conv2d_plan::<f32>(&[64, 64, 14, 14], &[128, 64, 3, 3], &s2);
    assert_eq!(many.backward_weight, ConvAlgorithm::Gemm);
    assert_eq!(many.forward, ConvAlgorithm::Direct);
    // A DCGAN discriminator's second layer (4×4, stride 2, padding 1, 64 → 128 channels) takes
    // Winograd; its first (one input channel) too little to pay for the transforms.
    let second = conv2d_plan::<f32>(&[64, 64, 14, 14], &[128, 64, 4, 4], &s2);
    let got = (
        second.forward,
        second.backward_input,
        second.backward_weight,
    );
    assert_eq!(got, all(ConvAlgorithm::Winograd));
    let first = conv2d_plan::<f32>(&[64, 1, 28, 28], &[64, 1, 4, 4], &s2);
    assert_eq!(first.forward, ConvAlgorithm::Direct);
    // Forced where it does not apply (odd sizes), Winograd gives way to the automatic choice.
    let odd = with_conv_algorithm(ConvAlgorithm::Winograd, || {
        conv2d_plan::<f32>(&[8, 32, 15, 15], &[32, 32, 4, 4], &s2)
    });
    assert_eq!(odd.forward, ConvAlgorithm::Direct);
    // 1×1 kernels go through GEMM (the input is its own column matrix).
    let pointwise = conv2d_plan::<f32>(&[8, 3, 16, 16], &[4, 3, 1, 1], &d);
    assert_eq!(pointwise.forward, ConvAlgorithm::Gemm);
}

#[test]
fn conv2d_reads_strided_views() {
    for_algorithms(conv2d_reads_strided_views_body);
}

fn conv2d_reads_strided_views_body() {
    let case = &cases()[2];
    let (x, w, b) = case_tensors(case, 5);
    // The same values behind permuted storage.
    let xt = x.permute(&[0, 1, 3, 2]).contiguous().permute(&[0, 1, 3, 2]);
    let wt = w.permute(&[3, 2, 1, 0]).contiguous().permute(&[3, 2, 1, 0]);
    assert!(!xt.is_contiguous() && !wt.is_contiguous());
    assert_close(
        &conv2d(&xt, &wt, b.as_ref(), &case.p),
        &conv2d(&x, &w, b.as_ref(), &case.p),
        0.0,
        "views",
    );
}

#[test]
fn conv2d_gradients_match_direct_loops() {
    for_algorithms(conv2d_gradients_match_direct_loops_body);
}

fn conv2d_gradients_match_direct_loops_body() {
    for (i, case) in cases().iter().enumerate() {
        let (x, w, _) = case_tensors(case, 200 + i as u64);
        let dy = random(&case.y_shape(), 300 + i as u64);
        let (dx_ref, dw_ref) = naive_conv2d_grads(&dy, &x, &w, &case.p);
        let dx = conv2d_backward_input(&dy, &w, &case.x_shape(), &case.p);
        let dw = conv2d_backward_weight(&dy, &x, &case.w_shape(), &case.p);
        assert_close(&dx, &dx_ref, 1e-12, &format!("backward input {case:?}"));
        assert_close(&dw, &dw_ref, 1e-12, &format!("backward weight {case:?}"));
        let db = conv2d_backward_bias(&dy);
        assert_close(
            &db,
            &dy.sum_axis(3, false).sum_axis(2, false).sum_axis(0, false),
            1e-12,
            "bias",
        );
    }
}

#[test]
fn conv2d_backward_kernels_are_adjoints() {
    for_algorithms(conv2d_backward_kernels_are_adjoints_body);
}

fn conv2d_backward_kernels_are_adjoints_body() {
    for (i, case) in cases().iter().enumerate() {
        let (x, w, _) = case_tensors(case, 400 + i as u64);
        let g = random(&case.y_shape(), 500 + i as u64);
        let y = conv2d(&x, &w, None, &case.p);
        let lhs = dot(&y, &g);
        let dx = conv2d_backward_input(&g, &w, &case.x_shape(), &case.p);
        assert_scalar_close(
            lhs,
            dot(&x, &dx),
            &format!("⟨conv(x), g⟩ = ⟨x, dx⟩ {case:?}"),
        );
        let dw = conv2d_backward_weight(&g, &x, &case.w_shape(), &case.p);
        assert_scalar_close(
            lhs,
            dot(&w, &dw),
            &format!("⟨conv(x), g⟩ = ⟨w, dw⟩ {case:?}"),
        );
    }
}

#[test]
fn f32_agrees_with_f64_on_one_and_two_threads() {
    for (i, case) in cases()
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0 || *i >= 13 && *i < 17)
    {
        let (x, w, b) = case_tensors(case, 600 + i as u64);
        let dy = random(&case.y_shape(), 700 + i as u64);
        let y64 = conv2d(&x, &w, b.as_ref(), &case.p);
        let dx64 = conv2d_backward_input(&dy, &w, &case.x_shape(), &case.p);
        let dw64 = conv2d_backward_weight(&dy, &x, &case.w_shape(), &case.p);
        let (x32, w32, dy32) = (x.cast::<f32>(), w.cast::<f32>(), dy.cast::<f32>());
        let b32 = b.as_ref().map(|b| b.cast::<f32>());
        for (threads, algo) in [1, 2].into_iter().flat_map(|t| ALGORITHMS.map(|a| (t, a))) {
            // The algorithm is chosen by the thread that runs the kernel: set it inside.
            let (y, dx, dw) = with_threads(threads, || {
                with_conv_algorithm(algo, || {
                    (
                        conv2d(&x32, &w32, b32.as_ref(), &case.p),
                        conv2d_backward_input(&dy32, &w32, &case.x_shape(), &case.p),
                        conv2d_backward_weight(&dy32, &x32, &case.w_shape(), &case.p),
                    )
                })
            });
            let what = format!("{threads} threads, {algo:?}, {case:?}");
            assert_close(&y.cast(), &y64, 1e-5, &format!("f32 forward, {what}"));
            assert_close(
                &dx.cast(),
                &dx64,
                1e-5,
                &format!("f32 backward input, {what}"),
            );
            assert_close(
                &dw.cast(),
                &dw64,
                1e-5,
                &format!("f32 backward weight, {what}"),
            );
        }
    }
}

#[test]
fn winograd_agrees_with_gemm_on_every_batch_and_thread_count() {
    // Batches of one to five images (fewer chunks than threads, uneven chunks) on one and two
    // threads: the three Winograd kernels in f32 against im2col + GEMM in f64.
    let p = Conv2dParams::default()
        .with_stride((2, 2))
        .with_padding((1, 1));
    for n in 1..=5 {
        let (x, w) = (
            random(&[n, 16, 10, 6], 40 + n as u64),
            random(&[24, 16, 4, 4], 50),
        );
        let dy = random(&[n, 24, 5, 3], 60 + n as u64);
        let gemm = with_conv_algorithm(ConvAlgorithm::Gemm, || {
            (
                conv2d(&x, &w, None, &p),
                conv2d_backward_input(&dy, &w, x.shape(), &p),
                conv2d_backward_weight(&dy, &x, w.shape(), &p),
            )
        });
        let (x32, w32, dy32) = (x.cast::<f32>(), w.cast::<f32>(), dy.cast::<f32>());
        for threads in [1, 2] {
            let (y, dx, dw) = with_threads(threads, || {
                with_conv_algorithm(ConvAlgorithm::Winograd, || {
                    (
                        conv2d(&x32, &w32, None, &p),
                        conv2d_backward_input(&dy32, &w32, x.shape(), &p),
                        conv2d_backward_weight(&dy32, &x32, w.shape(), &p),
                    )
                })
            });
            let what = format!("{n} images, {threads} threads");
            assert_close(&y.cast(), &gemm.0, 1e-5, &format!("forward, {what}"));
            assert_close(
                &dx.cast(),
                &gemm.1,
                1e-5,
                &format!("input gradient, {what}"),
            );
            assert_close(
                &dw.cast(),
                &gemm.2,
                1e-5,
                &format!("weight gradient, {what}"),
            );
        }
    }
}

#[test]
fn thread_counts_agree_on_a_batch() {
    // Large enough to run tiles in parallel: a batch (split over images) and a single image
    // (split over grid tiles, channels and weight tiles). One and two threads agree to
    // rounding, and with the f64 direct loops.
    let d = Conv2dParams::default();
    let batch = Case {
        n: 8,
        c: 6,
        o: 16,
        h: 14,
        w: 14,
        k: (5, 5),
        p: d.with_padding((1, 1)),
        bias: true,
    };
    let single = Case {
        n: 1,
        c: 8,
        o: 8,
        h: 40,
        w: 37,
        k: (3, 3),
        p: d.with_padding((1, 1)),
        bias: true,
    };
    let grouped = Case {
        n: 1,
        c: 8,
        o: 12,
        h: 40,
        w: 40,
        k: (3, 3),
        p: d.with_groups(2),
        bias: false,
    };
    for case in [batch, single, grouped] {
        let (x, w, b) = case_tensors(&case, 9);
        let dy = random(&case.y_shape(), 10);
        let y64 = naive_conv2d(&x, &w, b.as_ref(), &case.p);
        let (dx64, dw64) = naive_conv2d_grads(&dy, &x, &w, &case.p);
        let (x, w, b) = (x.cast::<f32>(), w.cast::<f32>(), b.map(|b| b.cast::<f32>()));
        let dy = dy.cast::<f32>();
        for algo in ALGORITHMS {
            let run = || {
                with_conv_algorithm(algo, || {
                    (
                        conv2d(&x, &w, b.as_ref(), &case.p),
                        conv2d_backward_input(&dy, &w, &case.x_shape(), &case.p),
                        conv2d_backward_weight(&dy, &x, &case.w_shape(), &case.p),
                    )
                })
            };
            let one = with_threads(1, run);
            let two = with_threads(2, run);
            let what = format!("{algo:?} {case:?}");
            // Splitting the work differently may change the summation order, nothing more.
            for (a, b, kernel) in [
                (&one.0, &two.0, "forward"),
                (&one.1, &two.1, "backward input"),
                (&one.2, &two.2, "backward weight"),
            ] {
                assert!(
                    a.allclose(b, 1e-5, 1e-5),
                    "{what}: {kernel} differs between 1 and 2 threads"
                );
            }
            assert_close(&two.0.cast(), &y64, 1e-5, &format!("forward {what}"));
            assert_close(
                &two.1.cast(),
                &dx64,
                1e-5,
                &format!("backward input {what}"),
            );
            assert_close(
                &two.2.cast(),
                &dw64,
                1e-5,
                &format!("backward weight {what}"),
            );
        }
    }
}

// ---- im2col / col2im ----

#[test]
fn im2col_layout_and_adjointness() {
    for (i, case) in cases().iter().enumerate() {
        let x = random(&case.x_shape(), 800 + i as u64);
        let cols = im2col(&x, case.k, &case.p);
        let (oh, ow) = case.out();
        let (kh, kw) = case.k;
        assert_eq!(cols.shape(), &[case.n, case.c * kh * kw, oh * ow]);
        // The documented layout, entry by entry.
        let (xv, cv, xs) = (x.to_vec(), cols.to_vec(), case.x_shape());
        let rows = case.c * kh * kw;
        for n in 0..case.n {
            for c in 0..case.c {
                for a in 0..kh {
                    for b in 0..kw {
                        for r in 0..oh {
                            for q in 0..ow {
                                let p = &case.p;
                                let want = match (
                                    tap(r, a, p.stride.0, p.padding.0, p.dilation.0, case.h),
                                    tap(q, b, p.stride.1, p.padding.1, p.dilation.1, case.w),
                                ) {
                                    (Some(ih), Some(iw)) => xv[at(&xs, n, c, ih, iw)],
                                    _ => 0.0,
                                };
                                let row = (c * kh + a) * kw + b;
                                assert_eq!(cv[(n * rows + row) * oh * ow + r * ow + q], want);
                            }
                        }
                    }
                }
            }
        }
        // ⟨im2col(x), C⟩ = ⟨x, col2im(C)⟩.
        let cmat = random(cols.shape(), 900 + i as u64);
        let back = col2im(&cmat, &case.x_shape(), case.k, &case.p);
        assert_scalar_close(
            dot(&cols, &cmat),
            dot(&x, &back),
            &format!("im2col adjoint {case:?}"),
        );
    }
}

#[test]
fn conv2d_is_weight_times_columns() {
    for_algorithms(conv2d_is_weight_times_columns_body);
}

fn conv2d_is_weight_times_columns_body() {
    let case = &cases()[1];
    let (x, w, _) = case_tensors(case, 3);
    let cols = im2col(&x, case.k, &case.p);
    let wm = w.reshape(&[case.o, usize::MAX]);
    let y = conv2d(&x, &w, None, &case.p);
    for n in 0..case.n {
        let yn = wm.matmul(&cols.select(0, n));
        assert_close(
            &yn,
            &y.select(0, n).reshape(&[case.o, usize::MAX]),
            1e-12,
            "W · cols",
        );
    }
}

// ---- conv_transpose2d ----

/// Direct-loop transposed convolution: scatter `w[ci, c, i, j]·x[n, ci, h, w]` onto
/// `y[n, g·cog + c, h·s − p + i·d, w·s − p + j·d]`.
fn naive_conv_transpose2d(
    x: &Tensor<f64>,
    w: &Tensor<f64>,
    b: Option<&Tensor<f64>>,
    p: &Conv2dParams,
    op: (usize, usize),
) -> Tensor<f64> {
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let (cig, cog) = (xs[1] / p.groups, ws[1]);
    let oh = (xs[2] - 1) * p.stride.0 + p.dilation.0 * (ws[2] - 1) + op.0 + 1 - 2 * p.padding.0;
    let ow = (xs[3] - 1) * p.stride.1 + p.dilation.1 * (ws[3] - 1) + op.1 + 1 - 2 * p.padding.1;
    let ys = [xs[0], cog * p.groups, oh, ow];
    let mut y = vec![0.0; ys.iter().product()];
    for n in 0..xs[0] {
        for co in 0..ys[1] {
            for r in 0..oh {
                for q in 0..ow {
                    y[at(&ys, n, co, r, q)] = b.map_or(0.0, |b| b.to_vec()[co]);
                }
            }
        }
        for ci in 0..xs[1] {
            let g = ci / cig;
            for h in 0..xs[2] {
                for wc in 0..xs[3] {
                    for c in 0..cog {
                        for i in 0..ws[2] {
                            for j in 0..ws[3] {
                                let (Some(r), Some(q)) = (
                                    tap(h, i, p.stride.0, p.padding.0, p.dilation.0, oh),
                                    tap(wc, j, p.stride.1, p.padding.1, p.dilation.1, ow),
                                ) else {
                                    continue;
                                };
                                y[at(&ys, n, g * cog + c, r, q)] +=
                                    wv[at(&ws, ci, c, i, j)] * xv[at(&xs, n, ci, h, wc)];
                            }
                        }
                    }
                }
            }
        }
    }
    Tensor::from_vec(y, &ys)
}

#[test]
fn conv_transpose2d_matches_loops_adjoint_and_output_size() {
    for_algorithms(conv_transpose2d_matches_loops_adjoint_and_output_size_body);
}

fn conv_transpose2d_matches_loops_adjoint_and_output_size_body() {
    let d = Conv2dParams::default();
    // (N, C_in, C_out, H, W, kernel, params, output_padding)
    let cases = [
        (2, 3, 2, 4, 5, (3, 3), d, (0, 0)),
        (
            1,
            2,
            3,
            4,
            4,
            (3, 3),
            d.with_stride((2, 2)).with_padding((1, 1)),
            (1, 1),
        ),
        (
            2,
            4,
            6,
            3,
            5,
            (2, 3),
            d.with_stride((2, 3)).with_groups(2),
            (1, 2),
        ),
        (
            3,
            6,
            3,
            5,
            4,
            (3, 2),
            d.with_dilation((2, 2)).with_padding((2, 1)).with_groups(3),
            (1, 0),
        ),
        (
            2,
            4,
            4,
            6,
            6,
            (4, 4),
            d.with_stride((2, 2)).with_padding((1, 1)).with_groups(4),
            (0, 0),
        ),
        (2, 5, 3, 4, 3, (1, 1), d, (0, 0)),
        (
            1,
            3,
            2,
            14,
            14,
            (5, 5),
            d.with_stride((2, 2)).with_padding((2, 2)),
            (1, 1),
        ),
    ];
    for (i, &(n, cin, cout, h, w, k, p, op)) in cases.iter().enumerate() {
        let x = random(&[n, cin, h, w], 1000 + i as u64);
        let wt = random(&[cin, cout / p.groups, k.0, k.1], 1100 + i as u64);
        let b = random(&[cout], 1200 + i as u64);
        let y = conv_transpose2d(&x, &wt, Some(&b), &p, op);
        // PyTorch: H_out = (H − 1)·s − 2·p + d·(k − 1) + output_padding + 1.
        let hout = (h - 1) * p.stride.0 + p.dilation.0 * (k.0 - 1) + op.0 + 1 - 2 * p.padding.0;
        let wout = (w - 1) * p.stride.1 + p.dilation.1 * (k.1 - 1) + op.1 + 1 - 2 * p.padding.1;
        assert_eq!(y.shape(), &[n, cout, hout, wout]);
        assert_close(
            &y,
            &naive_conv_transpose2d(&x, &wt, Some(&b), &p, op),
            1e-12,
            &format!("transpose {i}"),
        );
        // The adjoint of conv2d: ⟨convT(x), g⟩ = ⟨x, conv2d(g)⟩ (without bias).
        let g = random(y.shape(), 1300 + i as u64);
        let y0 = conv_transpose2d(&x, &wt, None, &p, op);
        let cg = conv2d(&g, &wt, None, &p);
        let cg = cg.narrow(2, 0, h).narrow(3, 0, w);
        assert_scalar_close(
            dot(&y0, &g),
            dot(&x, &cg),
            &format!("transpose adjoint {i}"),
        );
        // Gradients: input gradient = conv2d of grad_y; weight gradient against ⟨·,·⟩.
        let dx = conv_transpose2d_backward_input(&g, &wt, x.shape(), &p);
        assert_close(
            &dx,
            &cg.contiguous(),
            1e-12,
            &format!("transpose backward input {i}"),
        );
        assert_scalar_close(
            dot(&y0, &g),
            dot(&x, &dx),
            &format!("transpose dx adjoint {i}"),
        );
        let dw = conv_transpose2d_backward_weight(&g, &x, wt.shape(), &p);
        assert_scalar_close(
            dot(&y0, &g),
            dot(&wt, &dw),
            &format!("transpose dw adjoint {i}"),
        );
        // With unit output padding conv2d_backward_input of the same weight is the same map.
        if op == (0, 0) {
            let viaconv = conv2d_backward_input(&x, &wt, &[n, cout, hout, wout], &p);
            assert_close(
                &y0,
                &viaconv,
                1e-12,
                &format!("transpose = conv2d_backward_input {i}"),
            );
        }
        // The weight gradient entry by entry against finite sums.
        let (xv, gv, ws) = (x.to_vec(), g.to_vec(), wt.shape().to_vec());
        let mut dw_ref = vec![0.0; dw.numel()];
        let cig = cin / p.groups;
        for nn in 0..n {
            for ci in 0..cin {
                for hh in 0..h {
                    for ww in 0..w {
                        for c in 0..ws[1] {
                            for a in 0..k.0 {
                                for bb in 0..k.1 {
                                    let (Some(r), Some(q)) = (
                                        tap(hh, a, p.stride.0, p.padding.0, p.dilation.0, hout),
                                        tap(ww, bb, p.stride.1, p.padding.1, p.dilation.1, wout),
                                    ) else {
                                        continue;
                                    };
                                    dw_ref[at(&ws, ci, c, a, bb)] += xv
                                        [at(x.shape(), nn, ci, hh, ww)]
                                        * gv[at(g.shape(), nn, (ci / cig) * ws[1] + c, r, q)];
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_close(
            &dw,
            &Tensor::from_vec(dw_ref, &ws),
            1e-12,
            &format!("transpose backward weight {i}"),
        );
        assert_close(
            &conv2d_backward_bias(&g),
            &g.sum_axis(3, false).sum_axis(2, false).sum_axis(0, false),
            1e-12,
            "bias",
        );
    }
}

// ---- conv1d ----

#[test]
fn conv1d_matches_direct_loops_and_its_gradients() {
    for_algorithms(conv1d_matches_direct_loops_and_its_gradients_body);
}

fn conv1d_matches_direct_loops_and_its_gradients_body() {
    let d = Conv1dParams::default();
    let cases = [
        (2, 3, 4, 11, 3, d, true),
        (
            1,
            4,
            6,
            9,
            2,
            d.with_stride(2).with_padding(1).with_groups(2),
            false,
        ),
        (
            3,
            2,
            2,
            13,
            3,
            d.with_dilation(3).with_padding(2).with_groups(2),
            true,
        ),
        (2, 5, 3, 7, 1, d, true),
        (1, 1, 1, 5, 5, d.with_padding(1), false),
    ];
    for (i, &(n, c, o, l, k, p, with_bias)) in cases.iter().enumerate() {
        let x = random(&[n, c, l], 1400 + i as u64);
        let w = random(&[o, c / p.groups, k], 1500 + i as u64);
        let b = with_bias.then(|| random(&[o], 1600 + i as u64));
        let y = conv1d(&x, &w, b.as_ref(), &p);
        let lout = conv_output_len(l, k, p.stride, p.padding, p.dilation).unwrap();
        assert_eq!(y.shape(), &[n, o, lout]);
        // Direct loops.
        let (xv, wv) = (x.to_vec(), w.to_vec());
        let (cg, og) = (c / p.groups, o / p.groups);
        let mut yr = vec![0.0; n * o * lout];
        for nn in 0..n {
            for oc in 0..o {
                for t in 0..lout {
                    let mut s = b.as_ref().map_or(0.0, |b| b.to_vec()[oc]);
                    for cc in 0..cg {
                        for j in 0..k {
                            if let Some(il) = tap(t, j, p.stride, p.padding, p.dilation, l) {
                                s += wv[(oc * cg + cc) * k + j]
                                    * xv[(nn * c + (oc / og) * cg + cc) * l + il];
                            }
                        }
                    }
                    yr[(nn * o + oc) * lout + t] = s;
                }
            }
        }
        assert_close(
            &y,
            &Tensor::from_vec(yr, &[n, o, lout]),
            1e-12,
            &format!("conv1d {i}"),
        );
        // Gradients: adjoint identities and agreement with the 2-D kernels.
        let g = random(y.shape(), 1700 + i as u64);
        let y0 = conv1d(&x, &w, None, &p);
        let dx = conv1d_backward_input(&g, &w, x.shape(), &p);
        let dw = conv1d_backward_weight(&g, &x, w.shape(), &p);
        assert_eq!((dx.shape(), dw.shape()), (x.shape(), w.shape()));
        assert_scalar_close(dot(&y0, &g), dot(&x, &dx), "conv1d dx adjoint");
        assert_scalar_close(dot(&y0, &g), dot(&w, &dw), "conv1d dw adjoint");
        let (dx2, dw2) = naive_conv2d_grads(
            &g.unsqueeze(2),
            &x.unsqueeze(2),
            &w.unsqueeze(2),
            &p.to_2d(),
        );
        assert_close(&dx, &dx2.reshape(x.shape()), 1e-12, "conv1d dx");
        assert_close(&dw, &dw2.reshape(w.shape()), 1e-12, "conv1d dw");
        // The transposed 1-D convolution is the adjoint of conv1d.
        let wt = random(&[c, o / p.groups, k], 1800 + i as u64);
        let yt = conv_transpose1d(&x, &wt, None, &p, 0);
        let gt = random(yt.shape(), 1900 + i as u64);
        let back = conv1d(&gt, &wt, None, &p);
        assert_scalar_close(
            dot(&yt, &gt),
            dot(&x, &back.narrow(2, 0, l)),
            "conv_transpose1d adjoint",
        );
        let dxt = conv_transpose1d_backward_input(&gt, &wt, x.shape(), &p);
        assert_close(
            &dxt,
            &back.narrow(2, 0, l).contiguous(),
            1e-12,
            "conv_transpose1d dx",
        );
        let dwt = conv_transpose1d_backward_weight(&gt, &x, wt.shape(), &p);
        assert_scalar_close(dot(&yt, &gt), dot(&wt, &dwt), "conv_transpose1d dw adjoint");
    }
}

// ---- panics ----

#[test]
#[should_panic(
    expected = "conv2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2 (groups 1)"
)]
fn conv2d_channel_mismatch_panics() {
    conv2d(
        &zeros(&[2, 3, 8, 8]),
        &zeros(&[4, 2, 3, 3]),
        None,
        &Conv2dParams::default(),
    );
}

#[test]
#[should_panic(expected = "conv2d: groups 2 does not divide the 3 channels of input [1, 3, 8, 8]")]
fn conv2d_groups_not_dividing_channels_panics() {
    conv2d(
        &zeros(&[1, 3, 8, 8]),
        &zeros(&[4, 1, 3, 3]),
        None,
        &Conv2dParams::default().with_groups(2),
    );
}

#[test]
#[should_panic(
    expected = "conv2d: groups 2 does not divide the 3 output channels of weight [3, 2, 3, 3]"
)]
fn conv2d_groups_not_dividing_outputs_panics() {
    conv2d(
        &zeros(&[1, 4, 8, 8]),
        &zeros(&[3, 2, 3, 3]),
        None,
        &Conv2dParams::default().with_groups(2),
    );
}

#[test]
#[should_panic(
    expected = "conv2d: kernel 5×5 with dilation (1, 1) spans 5×5, larger than the padded input 4×4 (input [1, 1, 2, 2], padding (1, 1))"
)]
fn conv2d_kernel_larger_than_input_panics() {
    conv2d(
        &zeros(&[1, 1, 2, 2]),
        &zeros(&[1, 1, 5, 5]),
        None,
        &Conv2dParams::default().with_padding((1, 1)),
    );
}

#[test]
#[should_panic(
    expected = "conv2d: kernel 3×3 with dilation (3, 3) spans 7×7, larger than the padded input 6×6"
)]
fn conv2d_dilated_kernel_larger_than_input_panics() {
    conv2d(
        &zeros(&[1, 1, 6, 6]),
        &zeros(&[1, 1, 3, 3]),
        None,
        &Conv2dParams::default().with_dilation((3, 3)),
    );
}

#[test]
#[should_panic(expected = "conv2d: input [3, 8, 8] must be 4-D [N, C, H, W]")]
fn conv2d_rank_panics() {
    conv2d(
        &zeros(&[3, 8, 8]),
        &zeros(&[4, 3, 3, 3]),
        None,
        &Conv2dParams::default(),
    );
}

#[test]
#[should_panic(expected = "conv2d: bias [3] must be [4] for weight [4, 3, 3, 3]")]
fn conv2d_bias_shape_panics() {
    conv2d(
        &zeros(&[1, 3, 8, 8]),
        &zeros(&[4, 3, 3, 3]),
        Some(&zeros(&[3])),
        &Conv2dParams::default(),
    );
}

#[test]
#[should_panic(expected = "conv2d: stride must be positive, got (0, 1)")]
fn conv2d_zero_stride_panics() {
    conv2d(
        &zeros(&[1, 3, 8, 8]),
        &zeros(&[4, 3, 3, 3]),
        None,
        &Conv2dParams::default().with_stride((0, 1)),
    );
}

#[test]
#[should_panic(expected = "conv2d: groups must be positive, got 0")]
fn conv2d_zero_groups_panics() {
    conv2d(
        &zeros(&[1, 3, 8, 8]),
        &zeros(&[4, 3, 3, 3]),
        None,
        &Conv2dParams::default().with_groups(0),
    );
}

#[test]
#[should_panic(
    expected = "conv2d_backward_input: grad_y [2, 4, 5, 5] does not match the output [2, 4, 6, 6] of input [2, 3, 8, 8] with weight [4, 3, 3, 3]"
)]
fn conv2d_backward_input_grad_shape_panics() {
    conv2d_backward_input(
        &zeros(&[2, 4, 5, 5]),
        &zeros(&[4, 3, 3, 3]),
        &[2, 3, 8, 8],
        &Conv2dParams::default(),
    );
}

#[test]
#[should_panic(
    expected = "conv2d_backward_weight: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2"
)]
fn conv2d_backward_weight_channel_mismatch_panics() {
    conv2d_backward_weight(
        &zeros(&[2, 4, 6, 6]),
        &zeros(&[2, 3, 8, 8]),
        &[4, 2, 3, 3],
        &Conv2dParams::default(),
    );
}

#[test]
#[should_panic(
    expected = "conv1d: input [2, 3, 10] has 3 channels but weight [4, 2, 3] expects 2 (groups 1)"
)]
fn conv1d_channel_mismatch_panics() {
    conv1d(
        &zeros(&[2, 3, 10]),
        &zeros(&[4, 2, 3]),
        None,
        &Conv1dParams::default(),
    );
}

#[test]
#[should_panic(
    expected = "conv1d: kernel 7 with dilation 1 spans 7, larger than the padded input 6 (input [1, 1, 4], padding 1)"
)]
fn conv1d_kernel_larger_than_input_panics() {
    conv1d(
        &zeros(&[1, 1, 4]),
        &zeros(&[1, 1, 7]),
        None,
        &Conv1dParams::default().with_padding(1),
    );
}

#[test]
#[should_panic(
    expected = "conv_transpose2d: output_padding (2, 0) must be smaller than the stride (2, 2) or the dilation (1, 1)"
)]
fn conv_transpose2d_output_padding_panics() {
    conv_transpose2d(
        &zeros(&[1, 2, 4, 4]),
        &zeros(&[2, 3, 3, 3]),
        None,
        &Conv2dParams::default().with_stride((2, 2)),
        (2, 0),
    );
}

#[test]
#[should_panic(
    expected = "conv_transpose2d: input [1, 2, 4, 4] has 2 channels but weight [3, 3, 3, 3] expects 3"
)]
fn conv_transpose2d_channel_mismatch_panics() {
    conv_transpose2d(
        &zeros(&[1, 2, 4, 4]),
        &zeros(&[3, 3, 3, 3]),
        None,
        &Conv2dParams::default(),
        (0, 0),
    );
}

#[test]
#[should_panic(
    expected = "conv_transpose2d_backward_input: grad_y [1, 3, 5, 5] is not an output of input [1, 2, 4, 4]"
)]
fn conv_transpose2d_backward_grad_shape_panics() {
    conv_transpose2d_backward_input(
        &zeros(&[1, 3, 5, 5]),
        &zeros(&[2, 3, 3, 3]),
        &[1, 2, 4, 4],
        &Conv2dParams::default(),
    );
}

#[test]
#[should_panic(expected = "im2col: kernel (0, 1) is empty")]
fn im2col_zero_kernel_panics() {
    im2col(&zeros(&[1, 1, 2, 2]), (0, 1), &Conv2dParams::default());
}
