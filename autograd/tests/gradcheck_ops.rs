//! Every differentiable op against central finite differences in f64, on random inputs,
//! including broadcast shapes, transposed (non-contiguous) inputs and size-1 dimensions.

// `&[x.clone()]` reads better than `std::slice::from_ref(&x)` in these one-line checks.
#![allow(clippy::cloned_ref_to_slice_refs)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{CrossEntropyOptions, Reduction, Var, assert_gradcheck};
use strata_tensor::pool::AvgPoolOptions;
use strata_tensor::{Indices, Tensor};

const TOL: f64 = 1e-6;

fn rand(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

/// Values in [0.5, 2] (for ln, sqrt, division, powers).
fn positive(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, 0.5, 2.0, &mut StdRng::seed_from_u64(seed))
}

#[test]
fn broadcasting_arithmetic() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[3, 1, 4], &[2, 1]),
        (&[2, 3], &[3]),
        (&[1], &[2, 2]),
        (&[2, 3], &[2, 3]),
        (&[], &[3]),
    ];
    for (i, &(sa, sb)) in cases.iter().enumerate() {
        let (a, b) = (rand(sa, i as u64), positive(sb, 100 + i as u64));
        assert_gradcheck("add", |v| v[0].add(&v[1]), &[a.clone(), b.clone()], TOL);
        assert_gradcheck("sub", |v| v[0].sub(&v[1]), &[a.clone(), b.clone()], TOL);
        assert_gradcheck("mul", |v| v[0].mul(&v[1]), &[a.clone(), b.clone()], TOL);
        assert_gradcheck("div", |v| v[0].div(&v[1]), &[a.clone(), b.clone()], TOL);
        assert_gradcheck("pow", |v| v[1].pow(&v[0]), &[a.clone(), b.clone()], TOL);
        assert_gradcheck(
            "maximum",
            |v| v[0].maximum(&v[1].sub_scalar(1.2)),
            &[a.clone(), b.clone()],
            TOL,
        );
        assert_gradcheck(
            "minimum",
            |v| v[0].minimum(&v[1].sub_scalar(1.2)),
            &[a, b],
            TOL,
        );
    }
}

#[test]
fn transposed_inputs() {
    let (a, b) = (rand(&[3, 4], 1), rand(&[4, 3], 2));
    assert_gradcheck(
        "mul of a transpose",
        |v| v[0].t().mul(&v[1]),
        &[a.clone(), b.clone()],
        TOL,
    );
    assert_gradcheck(
        "add of permuted views",
        |v| v[0].permute(&[1, 0]).add(&v[1]).tanh(),
        &[a, b],
        TOL,
    );
}

#[test]
fn scalar_ops() {
    let x = positive(&[2, 3], 3);
    assert_gradcheck("add_scalar", |v| v[0].add_scalar(2.0), &[x.clone()], TOL);
    assert_gradcheck("sub_scalar", |v| v[0].sub_scalar(2.0), &[x.clone()], TOL);
    assert_gradcheck("rsub_scalar", |v| v[0].rsub_scalar(2.0), &[x.clone()], TOL);
    assert_gradcheck("mul_scalar", |v| v[0].mul_scalar(-3.0), &[x.clone()], TOL);
    assert_gradcheck("div_scalar", |v| v[0].div_scalar(4.0), &[x.clone()], TOL);
    assert_gradcheck("pow_scalar", |v| v[0].pow_scalar(2.5), &[x.clone()], TOL);
    assert_gradcheck("neg", |v| v[0].neg(), &[x], TOL);
}

#[test]
fn unary_functions_and_activations() {
    let x = rand(&[3, 1, 4], 4);
    let p = positive(&[2, 5], 5);
    type Op = fn(&Var<f64>) -> Var<f64>;
    let everywhere: &[(&str, Op)] = &[
        ("exp", |v| v.exp()),
        ("square", |v| v.square()),
        ("sin", |v| v.sin()),
        ("cos", |v| v.cos()),
        ("sigmoid", |v| v.sigmoid()),
        ("tanh", |v| v.tanh()),
        ("lecun_tanh", |v| v.lecun_tanh()),
        ("relu", |v| v.relu()),
        ("leaky_relu", |v| v.leaky_relu(0.1)),
        ("elu", |v| v.elu(1.3)),
        ("gelu", |v| v.gelu()),
        ("gelu_tanh", |v| v.gelu_tanh()),
        ("softplus", |v| v.softplus()),
        ("erf", |v| v.erf()),
        ("silu", |v| v.silu()),
        ("mish", |v| v.mish()),
        ("selu", |v| v.selu()),
        ("log_sigmoid", |v| v.log_sigmoid()),
        ("hardtanh", |v| v.hardtanh(-0.5, 0.5)),
        ("abs", |v| v.abs()),
        ("clamp", |v| v.clamp(-0.5, 0.5)),
    ];
    for (name, op) in everywhere {
        assert_gradcheck(name, |v| op(&v[0]), &[x.clone()], TOL);
    }
    let positive_only: &[(&str, Op)] = &[
        ("ln", |v| v.ln()),
        ("sqrt", |v| v.sqrt()),
        ("recip", |v| v.recip()),
    ];
    for (name, op) in positive_only {
        assert_gradcheck(name, |v| op(&v[0]), &[p.clone()], TOL);
    }
}

#[test]
fn reductions() {
    let x = rand(&[3, 4, 2], 6);
    assert_gradcheck("sum", |v| v[0].sum(), &[x.clone()], TOL);
    assert_gradcheck("mean", |v| v[0].mean(), &[x.clone()], TOL);
    for axis in 0..3 {
        for keepdim in [false, true] {
            assert_gradcheck(
                "sum_axis",
                |v| v[0].sum_axis(axis, keepdim),
                &[x.clone()],
                TOL,
            );
            assert_gradcheck(
                "mean_axis",
                |v| v[0].mean_axis(axis, keepdim),
                &[x.clone()],
                TOL,
            );
            assert_gradcheck(
                "var_axis",
                |v| v[0].var_axis(axis, 1, keepdim),
                &[x.clone()],
                TOL,
            );
            assert_gradcheck(
                "max_axis",
                |v| v[0].max_axis(axis, keepdim),
                &[x.clone()],
                TOL,
            );
            assert_gradcheck(
                "min_axis",
                |v| v[0].min_axis(axis, keepdim),
                &[x.clone()],
                TOL,
            );
            assert_gradcheck(
                "logsumexp_axis",
                |v| v[0].logsumexp_axis(axis, keepdim),
                &[x.clone()],
                TOL,
            );
        }
        assert_gradcheck("softmax", |v| v[0].softmax(axis), &[x.clone()], TOL);
        assert_gradcheck("log_softmax", |v| v[0].log_softmax(axis), &[x.clone()], TOL);
    }
    assert_gradcheck(
        "var of a size-1 axis population",
        |v| v[0].var_axis(1, 0, false),
        &[rand(&[3, 1], 7)],
        TOL,
    );
}

#[test]
fn layer_norm_fused() {
    let x = rand(&[3, 2, 4], 30);
    let (w, b) = (rand(&[4], 31), rand(&[4], 32));
    assert_gradcheck(
        "layer_norm affine",
        |v| v[0].layer_norm(4, Some(&v[1]), Some(&v[2]), 1e-5),
        &[x.clone(), w.clone(), b.clone()],
        TOL,
    );
    assert_gradcheck(
        "layer_norm weight only",
        |v| v[0].layer_norm(4, Some(&v[1]), None, 1e-5),
        &[x.clone(), w.clone()],
        TOL,
    );
    assert_gradcheck(
        "layer_norm bias only",
        |v| v[0].layer_norm(4, None, Some(&v[1]), 1e-5),
        &[x.clone(), b.clone()],
        TOL,
    );
    // Rows of 8 = the last two dimensions, γ shaped [2, 4]; a transposed input.
    assert_gradcheck(
        "layer_norm over two dims",
        |v| v[0].layer_norm(8, Some(&v[1]), None, 1e-3),
        &[x.clone(), rand(&[2, 4], 33)],
        TOL,
    );
    assert_gradcheck(
        "layer_norm transposed input",
        |v| v[0].transpose(0, 2).layer_norm(3, None, None, 1e-5),
        &[x.clone()],
        TOL,
    );
    // The forward equals the composed definition γ ⊙ (x − μ)/√(σ² + ε) + β, also on rows
    // spread over parallel blocks.
    for (rows, d) in [(6, 4), (700, 64)] {
        let x = rand(&[rows, d], 34);
        let (w, b) = (rand(&[d], 35), rand(&[d], 36));
        let fused = Var::leaf(x.clone())
            .layer_norm(
                d,
                Some(&Var::leaf(w.clone())),
                Some(&Var::leaf(b.clone())),
                1e-5,
            )
            .value()
            .clone();
        let mean = x.mean_axis(1, true);
        let centered = x.sub(&mean);
        let var = centered.square().mean_axis(1, true);
        let composed = centered.div(&var.add_scalar(1e-5).sqrt()).mul(&w).add(&b);
        assert!(
            fused.allclose(&composed, 1e-12, 1e-12),
            "rows {rows}, d {d}"
        );
    }
}

#[test]
fn batch_norm_fused() {
    // [N, C] (one value per image and channel), [N, C, L] and [N, C, H, W].
    for (shape, seed) in [
        (&[5, 3][..], 40),
        (&[3, 2, 5][..], 41),
        (&[2, 3, 2, 2][..], 42),
    ] {
        let c = shape[1];
        let x = rand(shape, seed);
        let (w, b) = (rand(&[c], seed + 10), rand(&[c], seed + 20));
        assert_gradcheck(
            &format!("batch_norm affine {shape:?}"),
            |v| v[0].batch_norm(Some(&v[1]), Some(&v[2]), 1e-5).0,
            &[x.clone(), w.clone(), b.clone()],
            TOL,
        );
        assert_gradcheck(
            &format!("batch_norm plain {shape:?}"),
            |v| v[0].batch_norm(None, None, 1e-3).0,
            &[x.clone()],
            TOL,
        );
    }
    assert_gradcheck(
        "batch_norm weight only, transposed input",
        |v| v[0].transpose(0, 2).batch_norm(Some(&v[1]), None, 1e-5).0,
        &[rand(&[4, 2, 3], 43), rand(&[2], 44)],
        TOL,
    );
    // Value, statistics and gradients equal the composed definition, also on inputs split
    // over parallel tasks.
    for shape in [&[6, 4][..], &[32, 8, 12, 12][..], &[64, 600][..]] {
        let c = shape[1];
        let (x, w, b) = (rand(shape, 45), rand(&[c], 46), rand(&[c], 47));
        let g = rand(shape, 48);
        let (xv, wv, bv) = (
            Var::leaf(x.clone()),
            Var::leaf(w.clone()),
            Var::leaf(b.clone()),
        );
        let (fused, stats) = xv.batch_norm(Some(&wv), Some(&bv), 1e-5);
        let fused_grads = fused.mul(&Var::constant(g.clone())).sum().backward();
        let mut bshape = vec![1; shape.len()];
        bshape[1] = c;
        let (xc, wc, bc) = (
            Var::leaf(x.clone()),
            Var::leaf(w.clone()),
            Var::leaf(b.clone()),
        );
        let axes: Vec<usize> = (0..shape.len()).filter(|&a| a != 1).collect();
        let mean_over = |v: &Var<f64>| axes.iter().fold(v.clone(), |m, &a| m.mean_axis(a, true));
        let mean = mean_over(&xc);
        let centered = xc.sub(&mean);
        let var = mean_over(&centered.square());
        let composed = centered
            .div(&var.add_scalar(1e-5).sqrt())
            .mul(&wc.reshape(&bshape))
            .add(&bc.reshape(&bshape));
        let composed_grads = composed.mul(&Var::constant(g)).sum().backward();
        let close = |a: &Tensor<f64>, b: &Tensor<f64>, what: &str| {
            assert!(a.allclose(b, 1e-10, 1e-10), "{shape:?}: {what}");
        };
        close(fused.value(), composed.value(), "value");
        close(&stats.mean, &mean.value().reshape(&[c]), "mean");
        close(&stats.var, &var.value().reshape(&[c]), "variance");
        for (f, k, what) in [(&xv, &xc, "dx"), (&wv, &wc, "dγ"), (&bv, &bc, "dβ")] {
            close(
                fused_grads.wrt(f).unwrap(),
                composed_grads.wrt(k).unwrap(),
                what,
            );
        }
    }
}

#[test]
fn max_ties_send_the_gradient_to_the_first_maximum() {
    let x = Var::leaf(Tensor::<f64>::from_vec(vec![2.0, 5.0, 5.0, 1.0], &[1, 4]));
    let g = x.max_axis(1, false).sum().backward();
    assert_eq!(g.wrt(&x).unwrap().to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
    let y = Var::leaf(Tensor::<f64>::from_vec(vec![3.0, 3.0], &[2]));
    let g = y
        .maximum(&Var::constant(Tensor::from_vec(vec![3.0, 1.0], &[2])))
        .sum()
        .backward();
    assert_eq!(
        g.wrt(&y).unwrap().to_vec(),
        vec![0.5, 1.0],
        "a tie with the other operand splits"
    );
}

#[test]
fn matrix_products() {
    let (a, b) = (rand(&[3, 4], 8), rand(&[4, 5], 9));
    assert_gradcheck(
        "matmul 2-D",
        |v| v[0].matmul(&v[1]),
        &[a.clone(), b.clone()],
        TOL,
    );
    assert_gradcheck(
        "matmul with transposed operands",
        |v| v[1].t().matmul(&v[0].t()),
        &[a.clone(), b.clone()],
        TOL,
    );
    assert_gradcheck(
        "matmul batched",
        |v| v[0].matmul(&v[1]),
        &[rand(&[2, 3, 4], 10), rand(&[2, 4, 2], 11)],
        TOL,
    );
    assert_gradcheck(
        "matmul broadcast batch",
        |v| v[0].matmul(&v[1]),
        &[rand(&[2, 1, 3, 4], 12), rand(&[3, 4, 2], 13)],
        TOL,
    );
    assert_gradcheck(
        "matmul vector·matrix",
        |v| v[0].matmul(&v[1]),
        &[rand(&[4], 14), b.clone()],
        TOL,
    );
    assert_gradcheck(
        "matmul matrix·vector",
        |v| v[0].matmul(&v[1]),
        &[a.clone(), rand(&[4], 15)],
        TOL,
    );
    assert_gradcheck(
        "matmul dot",
        |v| v[0].matmul(&v[1]),
        &[rand(&[4], 16), rand(&[4], 17)],
        TOL,
    );
    let (x, w, bias) = (rand(&[5, 4], 18), rand(&[3, 4], 19), rand(&[3], 20));
    assert_gradcheck(
        "linear",
        |v| v[0].linear(&v[1], Some(&v[2])),
        &[x.clone(), w.clone(), bias],
        TOL,
    );
    assert_gradcheck(
        "linear without bias, 3-D input",
        |v| v[0].linear(&v[1], None),
        &[rand(&[2, 3, 4], 21), w],
        TOL,
    );
}

#[test]
fn shape_and_indexing_ops() {
    let x = rand(&[2, 3, 4], 22);
    assert_gradcheck(
        "reshape",
        |v| v[0].reshape(&[4, 6]).mul(&v[0].reshape(&[4, 6])),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "flatten_from",
        |v| v[0].flatten_from(1).exp(),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "transpose",
        |v| v[0].transpose(0, 2).exp(),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "permute",
        |v| v[0].permute(&[2, 0, 1]).exp(),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck("narrow", |v| v[0].narrow(2, 1, 2).exp(), &[x.clone()], TOL);
    assert_gradcheck(
        "pad",
        |v| v[0].pad(&[(1, 0), (0, 2), (2, 1)]).exp(),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck("select", |v| v[0].select(1, 2).exp(), &[x.clone()], TOL);
    assert_gradcheck(
        "unsqueeze/squeeze",
        |v| v[0].unsqueeze(1).exp().squeeze(1),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "broadcast_to",
        |v| v[0].broadcast_to(&[3, 2, 3, 4]).exp(),
        &[x.clone()],
        TOL,
    );
    let y = rand(&[2, 1, 4], 23);
    assert_gradcheck(
        "concat",
        |v| Var::concat(&[&v[0], &v[1]], 1).exp(),
        &[x.clone(), y],
        TOL,
    );
    assert_gradcheck(
        "stack",
        |v| Var::stack(&[&v[0], &v[1]], 0).exp(),
        &[x.clone(), rand(&[2, 3, 4], 24)],
        TOL,
    );
    assert_gradcheck(
        "split",
        |v| {
            let parts = v[0].split(2, &[1, 3]);
            parts[0].exp().sum().add(&parts[1].square().sum())
        },
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "index_select (repeated)",
        |v| v[0].index_select(1, &[2, 0, 2]).exp(),
        &[x.clone()],
        TOL,
    );
    let idx = Indices::new(vec![3, 0, 0, 1, 2, 3], &[2, 3, 1]);
    assert_gradcheck("gather", |v| v[0].gather(2, &idx).exp(), &[x], TOL);
}

#[test]
fn dropout_keeps_its_mask_for_backward() {
    let x = rand(&[4, 5], 25);
    // The same seed gives the same mask in the checked function and in every perturbation.
    assert_gradcheck(
        "dropout",
        |v| v[0].dropout(0.3, true, &mut StdRng::seed_from_u64(1)),
        &[x.clone()],
        TOL,
    );
    let leaf = Var::leaf(x);
    let y = leaf.dropout(0.5, true, &mut StdRng::seed_from_u64(2));
    let g = y.sum().backward();
    let (yv, gv) = (y.value().to_vec(), g.wrt(&leaf).unwrap().to_vec());
    for (y, g) in yv.iter().zip(gv) {
        assert!(
            g == 0.0 && *y == 0.0 || g == 2.0,
            "dropped elements get no gradient, kept ones 1/(1−p)"
        );
    }
    let eval =
        Var::<f64>::leaf(Tensor::ones(&[3])).dropout(0.5, false, &mut StdRng::seed_from_u64(3));
    assert_eq!(eval.value().to_vec(), vec![1.0; 3]);
}

#[test]
fn losses() {
    let logits = rand(&[4, 5], 26);
    let targets = [1usize, 0, 4, 1];
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        let plain = CrossEntropyOptions {
            reduction,
            ..Default::default()
        };
        assert_gradcheck(
            "cross_entropy",
            |v| v[0].cross_entropy(&targets, &plain),
            &[logits.clone()],
            TOL,
        );
        let fancy = CrossEntropyOptions {
            reduction,
            label_smoothing: 0.1,
            weight: Some(positive(&[5], 27)),
            ignore_index: None,
        };
        assert_gradcheck(
            "cross_entropy weighted + smoothed",
            |v| v[0].cross_entropy(&targets, &fancy),
            &[logits.clone()],
            TOL,
        );
        let ignoring = fancy.clone().with_ignore_index(0);
        assert_gradcheck(
            "cross_entropy ignore_index (a class)",
            |v| v[0].cross_entropy(&targets, &ignoring),
            &[logits.clone()],
            TOL,
        );
        let padded = plain.clone().with_ignore_index(99);
        assert_gradcheck(
            "cross_entropy ignore_index (not a class)",
            |v| v[0].cross_entropy(&[99, 0, 4, 99], &padded),
            &[logits.clone()],
            TOL,
        );
        // [N, C, d1, d2] = [2, 5, 3, 2]: 12 targets, one ignored.
        let spatial = rand(&[2, 5, 3, 2], 32);
        let spatial_targets = [0usize, 4, 2, 2, 1, 3, 7, 0, 1, 4, 3, 2];
        assert_gradcheck(
            "cross_entropy [N, C, d1]",
            |v| v[0].cross_entropy(&spatial_targets[..6], &plain),
            &[rand(&[2, 5, 3], 33)],
            TOL,
        );
        let spatial_fancy = fancy.clone().with_ignore_index(7);
        assert_gradcheck(
            "cross_entropy [N, C, d1, d2] weighted + smoothed + ignore_index",
            |v| v[0].cross_entropy(&spatial_targets, &spatial_fancy),
            &[spatial.clone()],
            TOL,
        );
        let probs = positive(&[4, 5], 34);
        assert_gradcheck(
            "cross_entropy_soft",
            |v| v[0].cross_entropy_soft(&v[1], &plain),
            &[logits.clone(), probs.clone()],
            TOL,
        );
        assert_gradcheck(
            "cross_entropy_soft weighted + smoothed",
            |v| v[0].cross_entropy_soft(&v[1], &fancy),
            &[logits.clone(), probs],
            TOL,
        );
        assert_gradcheck(
            "cross_entropy_soft [N, C, d1, d2] weighted + smoothed",
            |v| v[0].cross_entropy_soft(&v[1], &fancy),
            &[spatial.clone(), positive(&[2, 5, 3, 2], 35)],
            TOL,
        );
        assert_gradcheck(
            "nll_loss",
            |v| v[0].log_softmax(1).nll_loss(&targets, None, reduction),
            &[logits.clone()],
            TOL,
        );
        let w = positive(&[5], 28);
        assert_gradcheck(
            "nll_loss weighted",
            |v| v[0].nll_loss(&targets, Some(&w), reduction),
            &[logits.clone()],
            TOL,
        );
        let t = Tensor::rand_uniform(&[4, 5], 0.0, 1.0, &mut StdRng::seed_from_u64(29));
        assert_gradcheck(
            "mse_loss",
            |v| v[0].mse_loss(&v[1], reduction),
            &[logits.clone(), t.clone()],
            TOL,
        );
        assert_gradcheck(
            "huber_loss",
            |v| v[0].huber_loss(&v[1], 0.3, reduction),
            &[logits.clone(), t.clone()],
            TOL,
        );
        assert_gradcheck(
            "smooth_l1_loss",
            |v| v[0].smooth_l1_loss(&v[1], 0.7, reduction),
            &[logits.clone(), t.clone()],
            TOL,
        );
        assert_gradcheck(
            "bce_with_logits",
            |v| v[0].bce_with_logits(&v[1], reduction),
            &[logits.clone(), t],
            TOL,
        );
    }
}

#[test]
fn cross_entropy_matches_its_definition() {
    // −log softmax(x)[t], averaged: compare the fused op with the composition.
    let logits = rand(&[3, 4], 30);
    let targets = [3usize, 0, 2];
    let fused = Var::constant(logits.clone())
        .cross_entropy(&targets, &CrossEntropyOptions::default())
        .item();
    let logp = logits.log_softmax(1);
    let manual = -(logp.get(&[0, 3]) + logp.get(&[1, 0]) + logp.get(&[2, 2])) / 3.0;
    assert!((fused - manual).abs() < 1e-12);
    // Label smoothing ε: (1 − ε)·CE + ε·mean_c(−log p_c).
    let eps = 0.2;
    let smoothed = Var::constant(logits.clone())
        .cross_entropy(
            &targets,
            &CrossEntropyOptions {
                label_smoothing: eps,
                ..Default::default()
            },
        )
        .item();
    let uniform = -logp.mean_axis(1, false).mean();
    assert!((smoothed - ((1.0 - eps) * manual + eps * uniform)).abs() < 1e-12);
}

#[test]
#[should_panic(expected = "cross_entropy: target 7 is out of range for 4 classes")]
fn cross_entropy_checks_targets() {
    Var::constant(rand(&[2, 4], 31)).cross_entropy(&[1, 7], &CrossEntropyOptions::default());
}

#[test]
fn cross_entropy_of_only_ignored_targets() {
    // As PyTorch: the mean over no examples is NaN, the sum 0, and the gradient 0 either way.
    let logits = Var::leaf(rand(&[3, 4], 36));
    let options = CrossEntropyOptions::default()
        .with_ignore_index(2)
        .with_label_smoothing(0.1)
        .with_weight(positive(&[4], 37));
    let mean = logits.cross_entropy(&[2, 2, 2], &options);
    assert!(mean.item().is_nan());
    let grad = mean.backward().wrt(&logits).unwrap().to_vec();
    assert_eq!(grad, vec![0.0; 12]);
    let sum = logits.cross_entropy(&[2, 2, 2], &options.clone().with_reduction(Reduction::Sum));
    assert_eq!(sum.item(), 0.0);
    assert_eq!(sum.backward().wrt(&logits).unwrap().to_vec(), vec![0.0; 12]);
}

#[test]
fn cross_entropy_n_d_is_the_2_d_loss_of_the_moved_class_axis() {
    // [N, C, L] logits are N·L examples of C classes: the same as [N·L, C] after moving the
    // class axis last, per element and in the gradient.
    let x = rand(&[2, 3, 4], 38);
    let targets = [0usize, 2, 1, 1, 2, 2, 0, 1];
    let options = CrossEntropyOptions::default()
        .with_reduction(Reduction::None)
        .with_label_smoothing(0.2)
        .with_weight(positive(&[3], 39));
    let nd = Var::leaf(x.clone());
    let loss = nd.cross_entropy(&targets, &options);
    assert_eq!(loss.shape(), &[2, 4]);
    let flat = Var::leaf(x.transpose(1, 2).contiguous().reshape(&[8, 3]));
    let reference = flat.cross_entropy(&targets, &options);
    for (a, b) in loss.value().to_vec().iter().zip(reference.value().to_vec()) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
    let coef = Tensor::from_vec((1..=8).map(f64::from).collect(), &[8]);
    let g_nd = loss.mul_tensor(&coef.reshape(&[2, 4])).sum().backward();
    let g_flat = reference.mul_tensor(&coef).sum().backward();
    let moved = g_nd.wrt(&nd).unwrap().transpose(1, 2).contiguous().to_vec();
    for (a, b) in moved.iter().zip(g_flat.wrt(&flat).unwrap().to_vec()) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
}

#[test]
fn cross_entropy_soft_of_one_hot_targets_is_the_class_index_loss() {
    // Without weights, one-hot probabilities give the class-index loss (smoothing included);
    // with weights the means differ only in the denominator (N against Σ w_t).
    let x = rand(&[4, 3], 40);
    let targets = [2usize, 0, 1, 2];
    let one_hot = Var::constant(Tensor::one_hot(&Indices::from_slice(&targets), 3));
    let smoothed = CrossEntropyOptions::default().with_label_smoothing(0.3);
    let hard = Var::constant(x.clone())
        .cross_entropy(&targets, &smoothed)
        .item();
    let soft = Var::constant(x.clone())
        .cross_entropy_soft(&one_hot, &smoothed)
        .item();
    assert!((hard - soft).abs() < 1e-14, "{hard} vs {soft}");
    let w = Tensor::from_vec(vec![0.5, 2.0, 1.5], &[3]);
    let weighted = CrossEntropyOptions::default().with_weight(w);
    let hard = Var::constant(x.clone())
        .cross_entropy(&targets, &weighted)
        .item();
    let soft = Var::constant(x)
        .cross_entropy_soft(&one_hot, &weighted)
        .item();
    // Σ w_t = 1.5 + 0.5 + 2 + 1.5 = 5.5 over N = 4 examples.
    assert!((hard * 5.5 / 4.0 - soft).abs() < 1e-14, "{hard} vs {soft}");
}

#[test]
#[should_panic(
    expected = "cross_entropy: logits [4, 3, 5] and targets of length 12 do not match (need 4·5 = 20)"
)]
fn cross_entropy_checks_the_target_count() {
    Var::constant(rand(&[4, 3, 5], 41)).cross_entropy(&[0; 12], &CrossEntropyOptions::default());
}

#[test]
#[should_panic(expected = "cross_entropy: target 255 is out of range for 4 classes")]
fn cross_entropy_checks_targets_other_than_the_ignored_one() {
    let options = CrossEntropyOptions::default().with_ignore_index(254);
    Var::constant(rand(&[2, 4], 42)).cross_entropy(&[254, 255], &options);
}

#[test]
#[should_panic(expected = "cross_entropy: expects logits [N, C] or [N, C, d1, …, dk], got [4]")]
fn cross_entropy_needs_a_class_dimension() {
    Var::constant(rand(&[4], 43)).cross_entropy(&[0], &CrossEntropyOptions::default());
}

#[test]
#[should_panic(
    expected = "cross_entropy_soft: logits [2, 3] and probability targets [2, 4] differ in shape"
)]
fn cross_entropy_soft_checks_the_target_shape() {
    Var::constant(rand(&[2, 3], 44)).cross_entropy_soft(
        &Var::constant(positive(&[2, 4], 45)),
        &CrossEntropyOptions::default(),
    );
}

#[test]
#[should_panic(
    expected = "cross_entropy_soft: ignore_index 0 applies to class-index targets only, not to probability targets"
)]
fn cross_entropy_soft_refuses_ignore_index() {
    Var::constant(rand(&[2, 3], 46)).cross_entropy_soft(
        &Var::constant(positive(&[2, 3], 47)),
        &CrossEntropyOptions::default().with_ignore_index(0),
    );
}

#[test]
#[should_panic(expected = "cross_entropy_soft: class weights [2] do not match 3 classes")]
fn cross_entropy_soft_checks_the_weights() {
    Var::constant(rand(&[2, 3], 48)).cross_entropy_soft(
        &Var::constant(positive(&[2, 3], 49)),
        &CrossEntropyOptions::default().with_weight(positive(&[2], 50)),
    );
}

#[test]
fn convolutions_and_pooling() {
    use strata_tensor::conv::{Conv1dParams, Conv2dParams};
    let x = rand(&[2, 4, 6, 5], 40);
    let cases = [
        (Conv2dParams::default(), [3usize, 4, 3, 3]),
        (
            Conv2dParams::default()
                .with_stride((2, 1))
                .with_padding((1, 2)),
            [2, 4, 3, 2],
        ),
        (
            Conv2dParams::default().with_dilation((2, 1)).with_groups(2),
            [4, 2, 2, 3],
        ),
        (
            Conv2dParams::default().with_groups(4).with_padding((1, 1)),
            [4, 1, 3, 3],
        ),
    ];
    for (i, (params, wshape)) in cases.into_iter().enumerate() {
        let w = rand(&wshape, 41 + i as u64);
        let b = rand(&[wshape[0]], 50 + i as u64);
        assert_gradcheck(
            "conv2d",
            |v| v[0].conv2d(&v[1], Some(&v[2]), params),
            &[x.clone(), w.clone(), b],
            TOL,
        );
        assert_gradcheck(
            "conv2d without bias",
            |v| v[0].conv2d(&v[1], None, params),
            &[x.clone(), w],
            TOL,
        );
    }
    let x1 = rand(&[2, 3, 9], 60);
    let p1 = Conv1dParams::default().with_stride(2).with_padding(1);
    assert_gradcheck(
        "conv1d",
        |v| v[0].conv1d(&v[1], Some(&v[2]), p1),
        &[x1, rand(&[4, 3, 3], 61), rand(&[4], 62)],
        TOL,
    );
    let xt = rand(&[2, 4, 3, 3], 63);
    let pt = Conv2dParams::default()
        .with_stride((2, 2))
        .with_padding((1, 0));
    assert_gradcheck(
        "conv_transpose2d",
        |v| v[0].conv_transpose2d(&v[1], Some(&v[2]), pt, (1, 0)),
        &[xt, rand(&[4, 3, 3, 2], 64), rand(&[3], 65)],
        TOL,
    );
    assert_gradcheck(
        "max_pool2d",
        |v| v[0].max_pool2d((2, 2), (2, 2), (0, 0), (1, 1)),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "max_pool2d padded, overlapping",
        |v| v[0].max_pool2d((3, 3), (2, 1), (1, 1), (1, 1)),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "avg_pool2d",
        |v| v[0].avg_pool2d((2, 3), (2, 1), (1, 1)),
        &[x.clone()],
        TOL,
    );
    assert_gradcheck(
        "max_pool2d ceil_mode",
        |v| v[0].max_pool2d_with((3, 3), (2, 2), (1, 1), (1, 1), true),
        &[x.clone()],
        TOL,
    );
    for (name, options) in [
        (
            "avg_pool2d ceil_mode",
            AvgPoolOptions {
                ceil_mode: true,
                ..AvgPoolOptions::default()
            },
        ),
        (
            "avg_pool2d count_include_pad = false",
            AvgPoolOptions {
                count_include_pad: false,
                ..AvgPoolOptions::default()
            },
        ),
        (
            "avg_pool2d divisor_override",
            AvgPoolOptions {
                ceil_mode: true,
                divisor_override: Some(5),
                ..AvgPoolOptions::default()
            },
        ),
    ] {
        assert_gradcheck(
            name,
            |v| v[0].avg_pool2d_with((3, 3), (2, 2), (1, 1), &options),
            &[x.clone()],
            TOL,
        );
    }
    assert_gradcheck(
        "adaptive_avg_pool2d",
        |v| v[0].adaptive_avg_pool2d((4, 3)),
        &[x],
        TOL,
    );
}

#[test]
#[should_panic(
    expected = "pad: input of shape [2, 3] needs one (before, after) pair per axis, got [(1, 1)]"
)]
fn pad_needs_one_pair_per_axis() {
    Var::constant(Tensor::<f64>::zeros(&[2, 3])).pad(&[(1, 1)]);
}
