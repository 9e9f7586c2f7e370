//! Tests of the tensor core: views, creation, broadcasting arithmetic, reductions, softmax,
//! matrix products, indexing and formatting.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_tensor::{Indices, Tensor};

fn t(data: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(data.to_vec(), shape)
}

fn seq(shape: &[usize]) -> Tensor<f64> {
    let n = shape.iter().product::<usize>();
    Tensor::from_vec((0..n).map(|i| i as f64).collect(), shape)
}

fn random(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

/// Naive `y[i][j] = Σ a[i][l]·b[l][j]` through `get`, the reference for matmul.
fn naive_matmul(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|l| a.get(&[i, l]) * b.get(&[l, j])).sum();
        }
    }
    Tensor::from_vec(out, &[m, n])
}

// ---- views ----

#[test]
fn views_share_storage_and_read_through_strides() {
    let x = seq(&[2, 3, 4]);
    let tr = x.transpose(0, 2);
    assert!(std::sync::Arc::ptr_eq(x.storage(), tr.storage()));
    assert_eq!(tr.shape(), &[4, 3, 2]);
    assert_eq!(tr.get(&[3, 1, 1]), x.get(&[1, 1, 3]));
    assert!(!tr.is_contiguous());
    let c = tr.contiguous();
    assert!(c.is_contiguous());
    assert_eq!(c.get(&[3, 1, 1]), 19.0);

    let p = x.permute(&[1, 2, 0]);
    assert_eq!(p.shape(), &[3, 4, 2]);
    assert_eq!(p.get(&[2, 3, 1]), x.get(&[1, 2, 3]));

    let n = x.narrow(2, 1, 2);
    assert_eq!(
        n.to_vec(),
        vec![1., 2., 5., 6., 9., 10., 13., 14., 17., 18., 21., 22.]
    );
    assert!(std::sync::Arc::ptr_eq(x.storage(), n.storage()));
    assert_eq!(
        x.select(0, 1).select(0, 2).to_vec(),
        vec![20., 21., 22., 23.]
    );

    let r = x.reshape(&[6, usize::MAX]);
    assert_eq!(r.shape(), &[6, 4]);
    assert!(
        std::sync::Arc::ptr_eq(x.storage(), r.storage()),
        "reshape of a contiguous tensor is a view"
    );
    assert_eq!(x.flatten_from(1).shape(), &[2, 12]);
}

#[test]
fn broadcast_squeeze_and_unsqueeze_are_views() {
    let v = t(&[1., 2., 3.], &[3]);
    let b = v.broadcast_to(&[2, 3]);
    assert_eq!(b.strides(), &[0, 1]);
    assert_eq!(b.to_vec(), vec![1., 2., 3., 1., 2., 3.]);
    let u = v.unsqueeze(0).unsqueeze(2);
    assert_eq!(u.shape(), &[1, 3, 1]);
    assert_eq!(u.squeeze(2).shape(), &[1, 3]);
    assert_eq!(u.squeeze_all().shape(), &[3]);
    assert_eq!(Tensor::<f64>::scalar(4.0).unsqueeze(0).shape(), &[1]);
}

#[test]
fn in_place_updates_never_change_another_tensor() {
    let a = t(&[1., 2., 3.], &[3]);
    let mut b = a.clone();
    b.add_(&t(&[10., 10., 10.], &[3]));
    assert_eq!(a.to_vec(), vec![1., 2., 3.]);
    assert_eq!(b.to_vec(), vec![11., 12., 13.]);
    b.axpy_(2.0, &t(&[1.], &[1]));
    assert_eq!(b.to_vec(), vec![13., 14., 15.]);
    b.mul_(&a);
    b.scale_(0.5);
    assert_eq!(b.to_vec(), vec![6.5, 14., 22.5]);
    let mut tr = seq(&[2, 2]).t();
    tr.sub_(&Tensor::ones(&[2, 2]));
    assert_eq!(tr.to_vec(), vec![-1., 1., 0., 2.]);
}

#[test]
#[should_panic(expected = "from_vec: 5 values cannot fill shape [2, 3] (6 elements)")]
fn from_vec_checks_the_length() {
    t(&[1., 2., 3., 4., 5.], &[2, 3]);
}

#[test]
#[should_panic(expected = "reshape: cannot reshape [2, 3] (6 elements) to [4] (4 elements)")]
fn reshape_checks_the_count() {
    seq(&[2, 3]).reshape(&[4]);
}

#[test]
#[should_panic(
    expected = "transpose: axis 2 is out of range for a tensor of shape [2, 3] (rank 2)"
)]
fn axes_are_checked() {
    seq(&[2, 3]).transpose(0, 2);
}

#[test]
#[should_panic(expected = "narrow: range 2..4 exceeds dimension 1 of shape [2, 3]")]
fn narrow_checks_the_range() {
    seq(&[2, 3]).narrow(1, 2, 2);
}

#[test]
fn fill_and_map_update_in_place() {
    let a = t(&[1., -2., 3.], &[3]);
    let mut b = a.clone();
    b.map_(|x| x * x - 1.0);
    assert_eq!(b.to_vec(), vec![0., 3., 8.]);
    b.fill_(4.0);
    assert_eq!(b.to_vec(), vec![4., 4., 4.]);
    assert_eq!(a.to_vec(), vec![1., -2., 3.], "the clone is untouched");
    // Through a transposed view: values follow the logical (row-major) order.
    let mut tr = seq(&[2, 3]).t();
    tr.map_(|x| 10.0 * x);
    assert_eq!(tr.shape(), &[3, 2]);
    assert_eq!(tr.to_vec(), vec![0., 30., 10., 40., 20., 50.]);
}

// ---- creation ----

#[test]
fn constructors() {
    assert_eq!(
        Tensor::<f64>::arange(0.0, 1.0, 0.25).to_vec(),
        vec![0.0, 0.25, 0.5, 0.75]
    );
    assert_eq!(
        Tensor::<f64>::arange(3.0, 0.0, -1.0).to_vec(),
        vec![3.0, 2.0, 1.0]
    );
    assert_eq!(
        Tensor::<f64>::linspace(-1.0, 1.0, 5).to_vec(),
        vec![-1.0, -0.5, 0.0, 0.5, 1.0]
    );
    assert_eq!(Tensor::<f64>::eye(2).to_vec(), vec![1., 0., 0., 1.]);
    assert_eq!(Tensor::<f32>::full(&[2], 7.0).to_vec(), vec![7.0, 7.0]);
    assert_eq!(Tensor::<f32>::zeros(&[0, 3]).numel(), 0);
    assert_eq!(Tensor::<f32>::scalar(2.5).item(), 2.5);
}

#[test]
fn zeros_like_and_ones_like_take_the_shape() {
    let a = seq(&[2, 3]).t();
    let (z, o) = (a.zeros_like(), a.ones_like());
    assert_eq!((z.shape(), o.shape()), (&[3, 2][..], &[3, 2][..]));
    assert_eq!((z.to_vec(), o.to_vec()), (vec![0.0; 6], vec![1.0; 6]));
}

#[test]
fn random_fills_are_reproducible_and_have_the_right_moments() {
    let a = Tensor::<f64>::rand_normal(&[100_000], 1.0, 2.0, &mut StdRng::seed_from_u64(7));
    let b = Tensor::<f64>::rand_normal(&[100_000], 1.0, 2.0, &mut StdRng::seed_from_u64(7));
    assert_eq!(a, b);
    assert!((a.mean() - 1.0).abs() < 0.03, "mean {}", a.mean());
    let std = a.var_axis(0, 1, false).item().sqrt();
    assert!((std - 2.0).abs() < 0.03, "std {std}");
    let u = Tensor::<f64>::rand_uniform(&[100_000], -3.0, 5.0, &mut StdRng::seed_from_u64(1));
    assert!(u.min() >= -3.0 && u.max() < 5.0);
    assert!((u.mean() - 1.0).abs() < 0.05);
    let m = Tensor::<f32>::rand_bernoulli(&[100_000], 0.3, &mut StdRng::seed_from_u64(2));
    assert!((m.mean() - 0.3).abs() < 0.01);
}

#[test]
fn bernoulli_samples_each_probability_and_ignores_the_thread_count() {
    // Probabilities 0, 0.1, …, 1 repeated: each column's mean estimates its probability.
    let levels = 11;
    let p = Tensor::<f32>::arange(0.0, levels as f32, 1.0)
        .div_scalar(10.0)
        .broadcast_to(&[20_000, levels])
        .contiguous();
    let one =
        strata_tensor::threads::with_threads(1, || p.bernoulli(&mut StdRng::seed_from_u64(3)));
    let two =
        strata_tensor::threads::with_threads(2, || p.bernoulli(&mut StdRng::seed_from_u64(3)));
    assert_eq!(one, two, "the samples depend on the thread count");
    assert!(one.to_vec().iter().all(|&x| x == 0.0 || x == 1.0));
    let means = one.mean_axis(0, false).to_vec();
    for (j, m) in means.iter().enumerate() {
        let want = j as f32 / 10.0;
        // 4.5 standard errors of a mean of 20,000 draws.
        let tolerance = 4.5 * (want * (1.0 - want) / 20_000.0).sqrt();
        assert!((m - want).abs() <= tolerance, "p = {want}: mean {m}");
    }
    assert_eq!(means[0], 0.0);
    assert_eq!(means[10], 1.0);
    let other = p.bernoulli(&mut StdRng::seed_from_u64(4));
    assert_ne!(one, other, "different seeds gave the same samples");
}

#[test]
fn bernoulli_rows_samples_each_row_from_its_key_alone() {
    let levels = 11;
    let p = Tensor::<f32>::arange(0.0, levels as f32, 1.0)
        .div_scalar(10.0)
        .broadcast_to(&[20_000, levels])
        .contiguous();
    let keys: Vec<u64> = (0..20_000u64).map(|i| i * 7 + 3).collect();
    let whole = strata_tensor::threads::with_threads(2, || p.bernoulli_rows(9, &keys));
    let means = whole.mean_axis(0, false).to_vec();
    for (j, m) in means.iter().enumerate() {
        let want = j as f32 / 10.0;
        let tolerance = 4.5 * (want * (1.0 - want) / 20_000.0).sqrt();
        assert!((m - want).abs() <= tolerance, "p = {want}: mean {m}");
    }
    // Any split of the rows, on any number of threads, draws the same samples.
    let part = strata_tensor::threads::with_threads(1, || {
        p.narrow(0, 5_000, 100)
            .contiguous()
            .bernoulli_rows(9, &keys[5_000..5_100])
    });
    assert_eq!(part, whole.narrow(0, 5_000, 100).contiguous());
    assert_ne!(p.bernoulli_rows(10, &keys), whole, "the seed matters");
}

// ---- elementwise ----

#[test]
fn broadcasting_arithmetic() {
    let a = seq(&[3, 1, 4]);
    let b = t(&[10., 20.], &[2, 1]);
    let c = &a + &b;
    assert_eq!(c.shape(), &[3, 2, 4]);
    for i in 0..3 {
        for j in 0..2 {
            for k in 0..4 {
                assert_eq!(c.get(&[i, j, k]), a.get(&[i, 0, k]) + b.get(&[j, 0]));
            }
        }
    }
    // Rank-0 and size-1 operands.
    let s = Tensor::scalar(2.0);
    assert_eq!((&seq(&[2, 2]) * &s).to_vec(), vec![0., 2., 4., 6.]);
    assert_eq!((&s - &seq(&[2])).to_vec(), vec![2., 1.]);
    assert_eq!(s.add(&s).shape(), &[] as &[usize]);
    // Zero-size dimensions broadcast to zero-size results.
    let z = Tensor::<f64>::zeros(&[0, 3]).add(&seq(&[1, 3]));
    assert_eq!(z.shape(), &[0, 3]);
    // Transposed (non-contiguous) operands.
    let m = seq(&[2, 3]);
    assert_eq!(m.t().sub(&m.t()).to_vec(), vec![0.0; 6]);
    assert_eq!(
        m.t().mul(&seq(&[3, 2])).to_vec(),
        vec![0., 3., 2., 12., 8., 25.]
    );
    assert_eq!(
        t(&[1., 8.], &[2]).div(&t(&[2.], &[1])).to_vec(),
        vec![0.5, 4.0]
    );
    assert_eq!(
        t(&[2., 3.], &[2]).pow(&t(&[3., 2.], &[2])).to_vec(),
        vec![8., 9.]
    );
}

#[test]
#[should_panic(expected = "mul: shapes [2, 3] and [2] cannot be broadcast together")]
fn broadcasting_mismatch_names_the_op() {
    let _ = seq(&[2, 3]).mul(&seq(&[2]));
}

#[test]
fn masks_and_where() {
    let a = t(&[1., 5., 3.], &[3]);
    let b = t(&[2., 5., 1.], &[3]);
    assert_eq!(a.lt_mask(&b).to_vec(), vec![1., 0., 0.]);
    assert_eq!(a.le_mask(&b).to_vec(), vec![1., 1., 0.]);
    assert_eq!(a.gt_mask(&b).to_vec(), vec![0., 0., 1.]);
    assert_eq!(a.ge_mask(&b).to_vec(), vec![0., 1., 1.]);
    assert_eq!(a.eq_mask(&b).to_vec(), vec![0., 1., 0.]);
    assert_eq!(a.ne_mask(&b).to_vec(), vec![1., 0., 1.]);
    assert_eq!(a.maximum(&b).to_vec(), vec![2., 5., 3.]);
    assert_eq!(a.minimum(&b).to_vec(), vec![1., 5., 1.]);
    let w = Tensor::where_(&a.gt_mask(&b), &a, &Tensor::scalar(-1.0));
    assert_eq!(w.to_vec(), vec![-1., -1., 3.]);
    // Against a scalar: strict on both sides.
    assert_eq!(a.gt_scalar(3.0).to_vec(), vec![0., 1., 0.]);
    assert_eq!(a.lt_scalar(3.0).to_vec(), vec![1., 0., 0.]);
}

#[test]
fn unary_functions_match_their_formulas() {
    let xs = [-30.0, -2.5, -1.0, -1e-3, 0.0, 0.5, 2.0, 30.0];
    let x = t(&xs, &[8]);
    let check = |y: Tensor<f64>, f: &dyn Fn(f64) -> f64, name: &str| {
        for (i, (&v, yv)) in xs.iter().zip(y.to_vec()).enumerate() {
            let want = f(v);
            assert!(
                (yv - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{name}({v}) = {yv}, want {want} (#{i})"
            );
        }
    };
    check(x.sigmoid(), &|v| 1.0 / (1.0 + (-v).exp()), "sigmoid");
    check(x.tanh(), &f64::tanh, "tanh");
    check(x.relu(), &|v| v.max(0.0), "relu");
    check(
        x.leaky_relu(0.01),
        &|v| if v > 0.0 { v } else { 0.01 * v },
        "leaky_relu",
    );
    check(
        x.elu(1.5),
        &|v| if v > 0.0 { v } else { 1.5 * (v.exp() - 1.0) },
        "elu",
    );
    check(x.softplus(), &|v| (1.0 + v.exp()).ln(), "softplus");
    check(x.exp(), &f64::exp, "exp");
    check(x.abs(), &f64::abs, "abs");
    check(x.square(), &|v| v * v, "square");
    check(x.neg(), &|v| -v, "neg");
    check(x.clamp(-1.0, 1.0), &|v| v.clamp(-1.0, 1.0), "clamp");
    check(
        x.sign(),
        &|v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        },
        "sign",
    );
    // GELU against tabulated values of x·Φ(x).
    let g = t(&[-1.0, 0.0, 1.0, 2.0], &[4]).gelu().to_vec();
    for (gv, want) in g.iter().zip([
        -0.15865525393145707,
        0.0,
        0.8413447460685429,
        1.9544997361036416,
    ]) {
        assert!((gv - want).abs() < 1e-12, "gelu {gv} vs {want}");
    }
    // Stable at the extremes.
    let big = Tensor::<f32>::from_vec(vec![-1000.0, 1000.0], &[2]);
    assert_eq!(big.sigmoid().to_vec(), vec![0.0, 1.0]);
    assert_eq!(big.softplus().to_vec(), vec![0.0, 1000.0]);
    let pos = t(&[4.0, 0.25], &[2]);
    assert_eq!(pos.sqrt().to_vec(), vec![2.0, 0.5]);
    assert_eq!(pos.recip().to_vec(), vec![0.25, 4.0]);
    assert_eq!(pos.ln().to_vec(), vec![4f64.ln(), 0.25f64.ln()]);
    assert_eq!(pos.pow_scalar(2.0).to_vec(), vec![16.0, 0.0625]);
}

#[test]
fn large_tensors_take_the_parallel_path_with_the_same_result() {
    let n = 1 << 18;
    let a = Tensor::<f32>::from_vec((0..n).map(|i| (i % 97) as f32 * 0.01).collect(), &[n]);
    let b = a.add(&a);
    let serial = strata_tensor::threads::with_threads(1, || a.add(&a));
    assert_eq!(b, serial);
    assert_eq!(b.get(&[96]), 1.92);
    let e = a.exp();
    assert!((e.get(&[50]) - 0.5f32.exp()).abs() < 1e-6);
}

#[test]
fn closure_maps_match_elementwise_evaluation_on_every_thread_count() {
    // Lengths below and above the parallel threshold, none a multiple of a vector.
    for n in [1001, (1 << 18) + 13] {
        let x = Tensor::<f32>::from_vec(
            (0..n)
                .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
                .collect(),
            &[n],
        );
        let g = Tensor::<f32>::from_vec((0..n).map(|i| (i % 13) as f32 - 6.5).collect(), &[n]);
        let leaky = |v: f32| if v > 0.0 { v } else { 0.2 * v };
        let derivative = |g: f32, v: f32| if v > 0.0 { g } else { 0.2 * g };
        let want_y: Vec<f32> = x.to_vec().into_iter().map(leaky).collect();
        let want_dx: Vec<f32> = g
            .to_vec()
            .iter()
            .zip(x.to_vec())
            .map(|(&g, v)| derivative(g, v))
            .collect();
        for threads in [1, 2] {
            let (y, dx) = strata_tensor::threads::with_threads(threads, || {
                (x.leaky_relu(0.2), g.zip_map(&x, derivative))
            });
            assert_eq!(y.to_vec(), want_y, "leaky_relu, n = {n}, {threads} threads");
            assert_eq!(dx.to_vec(), want_dx, "zip_map, n = {n}, {threads} threads");
        }
    }
}

#[test]
fn batch_norm_gives_the_same_bits_on_every_thread_count() {
    use strata_tensor::batch_norm::{batch_norm, batch_norm_backward};
    // [N, C] (channel blocks in parallel, C not a multiple of 16) and [N, C, H, W].
    for (shape, seed) in [(&[64, 600][..], 1), (&[16, 24, 12, 12][..], 2)] {
        let c = shape[1];
        let (x, g) = (random(shape, seed), random(shape, seed + 10));
        let (w, b) = (random(&[c], seed + 20), random(&[c], seed + 30));
        let run = |threads| {
            strata_tensor::threads::with_threads(threads, || {
                let (y, saved, stats) = batch_norm(&x, Some(&w), Some(&b), 1e-5);
                let grads = batch_norm_backward(&g, &saved, Some(&w), true, true);
                let (gw, gb) = (
                    grads.weight.expect("asked for"),
                    grads.bias.expect("asked for"),
                );
                [y, stats.mean, stats.var, grads.x, gw, gb].map(|t| t.to_vec())
            })
        };
        assert_eq!(run(1), run(2), "batch_norm {shape:?}");
    }
}

// ---- reductions ----

#[test]
fn reductions_along_every_axis_match_naive_sums() {
    let x = random(&[3, 4, 5], 3);
    for axis in 0..3 {
        let s = x.sum_axis(axis, false);
        let mut shape = x.shape().to_vec();
        shape.remove(axis);
        assert_eq!(s.shape(), shape.as_slice());
        let kept = x.sum_axis(axis, true);
        assert_eq!(kept.shape()[axis], 1);
        for i in 0..shape[0] {
            for j in 0..shape[1] {
                let mut want = 0.0;
                for l in 0..x.shape()[axis] {
                    let mut idx = vec![i, j];
                    idx.insert(axis, l);
                    want += x.get(&idx);
                }
                assert!((s.get(&[i, j]) - want).abs() < 1e-12);
            }
        }
    }
    assert!((x.sum() - x.to_vec().iter().sum::<f64>()).abs() < 1e-12);
    assert!((x.mean() - x.sum() / 60.0).abs() < 1e-12);
    // Reductions of transposed views and of empty axes.
    assert_eq!(
        seq(&[2, 3]).t().sum_axis(1, false).to_vec(),
        vec![3., 5., 7.]
    );
    assert_eq!(
        Tensor::<f64>::zeros(&[2, 0]).sum_axis(1, false).to_vec(),
        vec![0., 0.]
    );
}

#[test]
fn mean_var_max_min_and_arg_extremes() {
    let x = t(&[1., 7., 3., 7., -2., 0.], &[2, 3]);
    assert!(
        x.mean_axis(1, false)
            .allclose(&t(&[11. / 3., 5. / 3.], &[2]), 1e-15, 0.0)
    );
    assert_eq!(x.max_axis(1, false).to_vec(), vec![7., 7.]);
    assert_eq!(x.min_axis(0, true).to_vec(), vec![1., -2., 0.]);
    assert_eq!(x.argmax_axis(1).as_slice(), &[1, 0]);
    assert_eq!(x.argmin_axis(1).as_slice(), &[0, 1]);
    assert_eq!(
        t(&[2., 2., 2.], &[3]).argmax_axis(0).as_slice(),
        &[0],
        "ties go to the first"
    );
    let v = t(&[1., 2., 3., 4.], &[4]);
    assert!((v.var_axis(0, 1, false).item() - 5.0 / 3.0).abs() < 1e-12);
    assert!((v.var_axis(0, 0, false).item() - 1.25).abs() < 1e-12);
    assert!(t(&[1., f64::NAN], &[2]).max().is_nan());
    assert_eq!(x.max(), 7.0);
    assert_eq!(x.min(), -2.0);
}

#[test]
fn softmax_family_is_stable_and_normalised() {
    let x = t(&[1000., 1001., 1002., -5., 0., 5.], &[2, 3]);
    let s = x.softmax(1);
    for row in s.sum_axis(1, false).to_vec() {
        assert!((row - 1.0).abs() < 1e-12);
    }
    let e = [(-2f64).exp(), (-1f64).exp(), 1.0];
    let z: f64 = e.iter().sum();
    assert!((s.get(&[0, 2]) - 1.0 / z).abs() < 1e-12);
    let ls = x.log_softmax(1);
    assert!((ls.get(&[0, 2]) + z.ln()).abs() < 1e-12);
    let lse = x.logsumexp_axis(1, false);
    assert!((lse.get(&[0]) - (1002.0 + z.ln())).abs() < 1e-9);
    // Along a non-last axis the result equals the transposed computation.
    let y = random(&[3, 4], 9);
    assert!(
        y.softmax(0)
            .allclose(&y.t().softmax(1).t().contiguous(), 1e-12, 1e-12)
    );
    assert!(y.log_softmax(0).allclose(&y.softmax(0).ln(), 1e-12, 1e-12));
    // An all −∞ row gives −∞, not NaN.
    let inf = t(&[f64::NEG_INFINITY, f64::NEG_INFINITY], &[1, 2]);
    assert_eq!(inf.logsumexp_axis(1, false).item(), f64::NEG_INFINITY);
}

#[test]
fn sum_to_shape_reverses_broadcasting() {
    let g = Tensor::<f64>::ones(&[3, 2, 4]);
    assert_eq!(g.sum_to_shape(&[2, 1]).to_vec(), vec![12., 12.]);
    assert_eq!(g.sum_to_shape(&[3, 1, 4]).to_vec(), vec![2.0; 12]);
    assert_eq!(g.sum_to_shape(&[]).item(), 24.0);
}

// ---- matmul ----

#[test]
fn matmul_matches_naive_on_every_layout() {
    for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (17, 33, 65), (64, 64, 64), (2, 0, 3)] {
        let a = random(&[m, k], 1);
        let b = random(&[k, n], 2);
        assert!(
            a.matmul(&b).allclose(&naive_matmul(&a, &b), 1e-12, 1e-12),
            "{m}×{k}×{n}"
        );
        // Transposed operands are read in place.
        let at = random(&[k, m], 3).t();
        let bt = random(&[n, k], 4).t();
        assert!(
            at.matmul(&bt)
                .allclose(&naive_matmul(&at, &bt), 1e-12, 1e-12),
            "transposed {m}×{k}×{n}"
        );
    }
}

#[test]
fn matmul_vectors_and_batches() {
    let a = seq(&[2, 3]);
    let v = t(&[1., 0., -1.], &[3]);
    assert_eq!(a.matmul(&v).to_vec(), vec![-2., -2.]);
    assert_eq!(t(&[1., 1.], &[2]).matmul(&a).to_vec(), vec![3., 5., 7.]);
    assert_eq!(v.matmul(&v).shape(), &[] as &[usize]);
    assert_eq!(v.matmul(&v).item(), 2.0);
    assert_eq!(v.dot(&v), 2.0);
    assert_eq!(
        t(&[1., 2.], &[2]).outer(&t(&[3., 4.], &[2])).to_vec(),
        vec![3., 4., 6., 8.]
    );
    // [2, 1, 3, 4] × [5, 4, 2] → [2, 5, 3, 2] with broadcast batch dims.
    let x = random(&[2, 1, 3, 4], 5);
    let y = random(&[5, 4, 2], 6);
    let z = x.matmul(&y);
    assert_eq!(z.shape(), &[2, 5, 3, 2]);
    for i in 0..2 {
        for j in 0..5 {
            let want = naive_matmul(&x.select(0, i).select(0, 0), &y.select(0, j));
            assert!(z.select(0, i).select(0, j).allclose(&want, 1e-12, 1e-12));
        }
    }
}

#[test]
fn gemm_into_accumulates() {
    let a = random(&[4, 3], 1);
    let b = random(&[3, 5], 2);
    let mut c = Tensor::<f64>::ones(&[4, 5]);
    c.gemm_(2.0, &a, &b, 0.5);
    let want = naive_matmul(&a, &b).mul_scalar(2.0).add_scalar(0.5);
    assert!(c.allclose(&want, 1e-12, 1e-12));
    let mut d = Tensor::<f64>::full(&[4, 5], f64::NAN);
    d.gemm_(1.0, &a, &b, 0.0);
    assert!(
        d.allclose(&naive_matmul(&a, &b), 1e-12, 1e-12),
        "β = 0 ignores the old values"
    );
}

#[test]
#[should_panic(expected = "matmul: [2, 3] × [4, 5]: inner dimensions 3 ≠ 4")]
fn matmul_names_the_mismatch() {
    seq(&[2, 3]).matmul(&seq(&[4, 5]));
}

// ---- indexing ----

#[test]
fn concat_stack_split_chunk() {
    let a = seq(&[2, 2]);
    let b = seq(&[2, 1]).add_scalar(10.0);
    let c = Tensor::concat(&[&a, &b], 1);
    assert_eq!(c.to_vec(), vec![0., 1., 10., 2., 3., 11.]);
    assert_eq!(Tensor::concat(&[&a, &a], 0).shape(), &[4, 2]);
    let s = Tensor::stack(&[&a, &a.add_scalar(4.0)], 1);
    assert_eq!(s.shape(), &[2, 2, 2]);
    assert_eq!(s.to_vec(), vec![0., 1., 4., 5., 2., 3., 6., 7.]);
    let parts = c.split(1, &[2, 1]);
    assert_eq!(parts[0], a);
    assert_eq!(parts[1], b);
    let chunks = seq(&[7]).chunk(3, 0);
    assert_eq!(
        chunks.iter().map(|c| c.numel()).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
}

#[test]
#[should_panic(expected = "concat: shapes [[2, 2], [3, 1]] differ outside axis 1")]
fn concat_checks_shapes() {
    Tensor::concat(&[&seq(&[2, 2]), &seq(&[3, 1])], 1);
}

#[test]
fn index_select_gather_scatter_one_hot() {
    let x = seq(&[3, 4]);
    assert_eq!(
        x.index_select(0, &[2, 0, 2]).to_vec(),
        vec![8., 9., 10., 11., 0., 1., 2., 3., 8., 9., 10., 11.]
    );
    assert_eq!(x.index_select(1, &[3]).to_vec(), vec![3., 7., 11.]);
    let idx = Indices::new(vec![1, 3, 0], &[3, 1]);
    let g = x.gather(1, &idx);
    assert_eq!(g.shape(), &[3, 1]);
    assert_eq!(g.to_vec(), vec![1., 7., 8.]);
    let s = Tensor::<f64>::zeros(&[3, 4]).scatter_add(1, &idx, &Tensor::ones(&[3, 1]));
    assert_eq!(
        s.to_vec(),
        vec![0., 1., 0., 0., 0., 0., 0., 1., 1., 0., 0., 0.]
    );
    // Repeated indices accumulate.
    let r = Tensor::<f64>::zeros(&[1, 2]).scatter_add(
        1,
        &Indices::new(vec![1, 1], &[1, 2]),
        &t(&[2., 3.], &[1, 2]),
    );
    assert_eq!(r.to_vec(), vec![0., 5.]);
    let oh = Tensor::<f32>::one_hot(&Indices::from_slice(&[2, 0]), 3);
    assert_eq!(oh.to_vec(), vec![0., 0., 1., 1., 0., 0.]);
}

#[test]
#[should_panic(expected = "index_select: index 3 is out of range for dimension 0 of shape [3, 4]")]
fn index_select_checks_indices() {
    seq(&[3, 4]).index_select(0, &[3]);
}

#[test]
#[should_panic(expected = "one_hot: index 5 is out of range for 3 classes")]
fn one_hot_checks_indices() {
    Tensor::<f32>::one_hot(&Indices::from_slice(&[5]), 3);
}

// ---- formatting ----

#[test]
fn display_shows_shape_dtype_and_elides_large_tensors() {
    let small = format!("{}", Tensor::<f32>::from_vec(vec![1.0, 2.5], &[2]));
    assert_eq!(small, "tensor([1.0000, 2.5000], shape=[2], dtype=f32)");
    let big = format!("{:.1}", seq(&[100]));
    assert!(
        big.starts_with("tensor([0.0, 1.0, 2.0, …, 97.0, 98.0, 99.0], shape=[100], dtype=f64)"),
        "{big}"
    );
    let dbg = format!("{:?}", seq(&[2, 3]).t());
    assert!(dbg.contains("strides=[1, 3]"), "{dbg}");
    assert_eq!(
        format!("{}", Tensor::<f64>::scalar(1.5)),
        "tensor(1.5000, shape=[], dtype=f64)"
    );
}
