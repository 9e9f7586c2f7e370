//! `BatchNorm1d`, `BatchNorm2d` and `LayerNorm`: normalised outputs, running statistics over
//! two batches, train/eval behaviour, names, validation and f64 gradient checks. Expected
//! values are written out from the definitions (means and variances computed by hand).

mod common;

use common::{assert_close, assert_near, gradcheck_module, spread, t64};
use strata_autograd::Var;
use strata_layers::{BatchNorm1d, BatchNorm2d, LayerNorm, Module, Sequential};
use strata_tensor::Tensor;

const EPS: f64 = 1e-5;

fn buffer(m: &impl Module<f64>, name: &str) -> Tensor<f64> {
    m.buffers()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no buffer {name}"))
        .1
        .clone()
}

/// γ = [2, 1], β = [0.5, −1].
fn bn1d() -> BatchNorm1d<f64> {
    let mut bn = BatchNorm1d::<f64>::new(2);
    bn.weight.as_mut().unwrap().set(t64(&[2.0, 1.0], &[2]));
    bn.bias.as_mut().unwrap().set(t64(&[0.5, -1.0], &[2]));
    bn
}

#[test]
fn batchnorm_defaults_and_names() {
    let bn = BatchNorm1d::<f64>::new(3);
    assert_eq!(
        (bn.num_features(), bn.momentum(), bn.eps(), bn.is_training()),
        (3, Some(0.1), 1e-5, true)
    );
    let params: Vec<String> = bn.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(params, ["weight", "bias"]);
    let buffers: Vec<String> = bn.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        ["running_mean", "running_var", "num_batches_tracked"]
    );
    assert_eq!(bn.weight.as_ref().unwrap().value(), &Tensor::ones(&[3]));
    assert_eq!(bn.bias.as_ref().unwrap().value(), &Tensor::zeros(&[3]));
    assert_eq!(buffer(&bn, "running_mean"), Tensor::zeros(&[3]));
    assert_eq!(buffer(&bn, "running_var"), Tensor::ones(&[3]));
    assert_eq!(buffer(&bn, "num_batches_tracked").item(), 0.0);
    assert_eq!(bn.num_params(), 6);
}

#[test]
fn batchnorm1d_train_two_batches_then_eval() {
    let mut bn = bn1d();

    // Batch 1. Channel 0: [1, 2, 3, 6], mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5,
    // unbiased 14/3. Channel 1: [0, 0, 4, 4], mean 2, biased variance 4, unbiased 16/3.
    let x1 = t64(&[1.0, 0.0, 2.0, 0.0, 3.0, 4.0, 6.0, 4.0], &[4, 2]);
    let y1 = bn.predict(&x1);
    let (s0, s1) = ((3.5 + EPS).sqrt(), (4.0 + EPS).sqrt());
    let expected: Vec<f64> = [(1.0, 0.0), (2.0, 0.0), (3.0, 4.0), (6.0, 4.0)]
        .iter()
        .flat_map(|&(a, b)| [2.0 * (a - 3.0) / s0 + 0.5, (b - 2.0) / s1 - 1.0])
        .collect();
    assert_close(&y1, &t64(&expected, &[4, 2]), 1e-12);
    // running = 0.9·running + 0.1·batch (unbiased variance).
    let rm1 = [0.1 * 3.0, 0.1 * 2.0];
    let rv1 = [0.9 + 0.1 * 14.0 / 3.0, 0.9 + 0.1 * 16.0 / 3.0];
    assert_close(&buffer(&bn, "running_mean"), &t64(&rm1, &[2]), 1e-12);
    assert_close(&buffer(&bn, "running_var"), &t64(&rv1, &[2]), 1e-12);
    assert_eq!(buffer(&bn, "num_batches_tracked").item(), 1.0);

    // Batch 2. Channel 0: [0, 0, 0, 4], mean 1, biased variance 3, unbiased 4.
    // Channel 1: constant 1, mean 1, variance 0 — normalises to 0, so y = β.
    let x2 = t64(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 4.0, 1.0], &[4, 2]);
    let y2 = bn.predict(&x2);
    let s0 = (3.0 + EPS).sqrt();
    let expected: Vec<f64> = [0.0, 0.0, 0.0, 4.0]
        .iter()
        .flat_map(|&a| [2.0 * (a - 1.0) / s0 + 0.5, -1.0])
        .collect();
    assert_close(&y2, &t64(&expected, &[4, 2]), 1e-12);
    let rm2 = [0.9 * rm1[0] + 0.1 * 1.0, 0.9 * rm1[1] + 0.1 * 1.0];
    let rv2 = [0.9 * rv1[0] + 0.1 * 4.0, 0.9 * rv1[1] + 0.1 * 0.0];
    assert_close(
        &buffer(&bn, "running_mean"),
        &t64(&[0.37, 0.28], &[2]),
        1e-12,
    );
    assert_close(&buffer(&bn, "running_mean"), &t64(&rm2, &[2]), 1e-12);
    assert_close(&buffer(&bn, "running_var"), &t64(&rv2, &[2]), 1e-12);
    assert_eq!(buffer(&bn, "num_batches_tracked").item(), 2.0);

    // Eval: the running estimates normalise, and they stop changing.
    bn.eval();
    assert!(!bn.is_training());
    let xe = t64(&[1.0, 1.0, -2.0, 5.0], &[2, 2]);
    let ye = bn.predict(&xe);
    let f =
        |x: f64, c: usize| [2.0, 1.0][c] * (x - rm2[c]) / (rv2[c] + EPS).sqrt() + [0.5, -1.0][c];
    assert_close(
        &ye,
        &t64(&[f(1.0, 0), f(1.0, 1), f(-2.0, 0), f(5.0, 1)], &[2, 2]),
        1e-12,
    );
    assert_close(&buffer(&bn, "running_mean"), &t64(&rm2, &[2]), 0.0);
    assert_eq!(buffer(&bn, "num_batches_tracked").item(), 2.0);
    // A single example is fine in eval mode.
    assert_eq!(bn.predict(&t64(&[0.0, 0.0], &[1, 2])).shape(), &[1, 2]);
}

#[test]
fn batchnorm1d_three_dimensional_input() {
    // [N, C, L] = [2, 2, 2]: statistics over N and L. Channel 0: [1, 3, 5, 7], mean 4,
    // biased variance 5, unbiased 20/3. Channel 1: [0, 0, 0, 8], mean 2, variance 12, unbiased 16.
    let mut bn = BatchNorm1d::<f64>::new(2);
    let x = t64(&[1.0, 3.0, 0.0, 0.0, 5.0, 7.0, 0.0, 8.0], &[2, 2, 2]);
    let y = bn.predict(&x);
    let (s0, s1) = ((5.0 + EPS).sqrt(), (12.0 + EPS).sqrt());
    let expected = [
        -3.0 / s0,
        -1.0 / s0,
        -2.0 / s1,
        -2.0 / s1,
        1.0 / s0,
        3.0 / s0,
        -2.0 / s1,
        6.0 / s1,
    ];
    assert_close(&y, &t64(&expected, &[2, 2, 2]), 1e-12);
    assert_close(&buffer(&bn, "running_mean"), &t64(&[0.4, 0.2], &[2]), 1e-12);
    assert_close(
        &buffer(&bn, "running_var"),
        &t64(&[0.9 + 0.1 * 20.0 / 3.0, 0.9 + 1.6], &[2]),
        1e-12,
    );
}

#[test]
fn batchnorm2d_train_and_eval() {
    // Channel 0 holds 1..=8 (mean 4.5, biased variance 5.25, unbiased 6); channel 1 is 3 everywhere.
    let x = t64(
        &[
            1.0, 2.0, 3.0, 4.0, 3.0, 3.0, 3.0, 3.0, 5.0, 6.0, 7.0, 8.0, 3.0, 3.0, 3.0, 3.0,
        ],
        &[2, 2, 2, 2],
    );
    let mut bn = BatchNorm2d::<f64>::new(2);
    bn.bias.as_mut().unwrap().set(t64(&[0.0, 0.25], &[2]));
    let y = bn.predict(&x);
    let s = (5.25 + EPS).sqrt();
    for n in 0..2 {
        for i in 0..4 {
            let (h, w) = (i / 2, i % 2);
            let v = (n * 4 + i + 1) as f64;
            assert_near(y.get(&[n, 0, h, w]), (v - 4.5) / s, 1e-12);
            assert_near(y.get(&[n, 1, h, w]), 0.25, 1e-12);
        }
    }
    assert_close(
        &buffer(&bn, "running_mean"),
        &t64(&[0.45, 0.3], &[2]),
        1e-12,
    );
    assert_close(
        &buffer(&bn, "running_var"),
        &t64(&[0.9 + 0.6, 0.9], &[2]),
        1e-12,
    );

    bn.eval();
    let y = bn.predict(&x);
    let (rm, rv) = ([0.45, 0.3], [1.5, 0.9]);
    assert_near(
        y.get(&[1, 0, 1, 1]),
        (8.0 - rm[0]) / (rv[0] + EPS).sqrt(),
        1e-12,
    );
    assert_near(
        y.get(&[0, 1, 0, 0]),
        (3.0 - rm[1]) / (rv[1] + EPS).sqrt() + 0.25,
        1e-12,
    );
}

#[test]
fn batchnorm2d_normalises_random_batches() {
    let mut bn = BatchNorm2d::<f64>::new(3);
    let x = spread(&[4, 3, 5, 5], 3).mul_scalar(3.0).add_scalar(2.0);
    let y = bn.predict(&x);
    for c in 0..3 {
        let ch = y.narrow(1, c, 1);
        assert_near(ch.mean(), 0.0, 1e-12);
        let var = ch.square().mean();
        assert!((var - 1.0).abs() < 1e-4, "channel {c}: variance {var}");
    }
}

#[test]
fn batchnorm_momentum_variants() {
    let x1 = t64(&[1.0, 0.0, 2.0, 0.0, 3.0, 4.0, 6.0, 4.0], &[4, 2]);
    let x2 = t64(&[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 4.0, 1.0], &[4, 2]);

    // Cumulative average (PyTorch's momentum=None): the plain mean of the batch statistics.
    let mut bn = BatchNorm1d::<f64>::new(2).with_cumulative_average();
    assert_eq!(bn.momentum(), None);
    bn.predict(&x1);
    bn.predict(&x2);
    assert_close(&buffer(&bn, "running_mean"), &t64(&[2.0, 1.5], &[2]), 1e-12);
    assert_close(
        &buffer(&bn, "running_var"),
        &t64(&[(14.0 / 3.0 + 4.0) / 2.0, (16.0 / 3.0) / 2.0], &[2]),
        1e-12,
    );

    // Momentum 1: the last batch; momentum 0: never moves.
    let mut bn = BatchNorm1d::<f64>::new(2).with_momentum(1.0);
    bn.predict(&x1);
    bn.predict(&x2);
    assert_close(&buffer(&bn, "running_mean"), &t64(&[1.0, 1.0], &[2]), 1e-12);
    assert_close(&buffer(&bn, "running_var"), &t64(&[4.0, 0.0], &[2]), 1e-12);
    let mut bn = BatchNorm1d::<f64>::new(2).with_momentum(0.0);
    bn.predict(&x1);
    assert_close(&buffer(&bn, "running_mean"), &t64(&[0.0, 0.0], &[2]), 0.0);
    assert_eq!(buffer(&bn, "num_batches_tracked").item(), 1.0);

    // A custom eps enters the normalisation.
    let mut bn = BatchNorm1d::<f64>::new(1).with_eps(0.5);
    let y = bn.predict(&t64(&[1.0, 3.0], &[2, 1]));
    assert_near(y.get(&[1, 0]), 1.0 / 1.5f64.sqrt(), 1e-12);
}

#[test]
fn batchnorm_without_affine_or_running_stats() {
    let mut bn = BatchNorm1d::<f64>::new(2).without_affine();
    assert!(bn.params().is_empty());
    let y = bn.predict(&t64(&[1.0, 0.0, 3.0, 2.0], &[2, 2]));
    let s = (1.0 + EPS).sqrt();
    assert_close(
        &y,
        &t64(&[-1.0 / s, -1.0 / s, 1.0 / s, 1.0 / s], &[2, 2]),
        1e-12,
    );

    // No running statistics: no buffers, batch statistics in eval mode too.
    let mut bn = BatchNorm1d::<f64>::new(2).without_running_stats();
    assert!(bn.buffers().is_empty());
    bn.eval();
    let y = bn.predict(&t64(&[1.0, 0.0, 3.0, 2.0], &[2, 2]));
    assert_close(
        &y,
        &t64(&[-1.0 / s, -1.0 / s, 1.0 / s, 1.0 / s], &[2, 2]),
        1e-12,
    );
}

#[test]
fn batchnorm_buffers_are_named_in_containers_and_writable() {
    let mut net = Sequential::<f64>::new()
        .add(strata_layers::Linear::new(3, 2))
        .add(BatchNorm1d::new(2));
    let names: Vec<String> = net.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    );
    let pnames: Vec<String> = net.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(pnames, ["0.weight", "0.bias", "1.weight", "1.bias"]);
    // Loading buffers (as a checkpoint does) changes what eval mode computes.
    for (name, b) in net.buffers_mut() {
        if name == "1.running_mean" {
            *b = t64(&[10.0, 20.0], &[2]);
        }
    }
    assert_close(
        &buffer(&net, "1.running_mean"),
        &t64(&[10.0, 20.0], &[2]),
        0.0,
    );
    let mut bn = BatchNorm1d::<f64>::new(2);
    bn.running_mean = Some(t64(&[10.0, 20.0], &[2]));
    bn.eval();
    let y = bn.predict(&t64(&[10.0, 21.0], &[1, 2]));
    assert_close(&y, &t64(&[0.0, 1.0 / (1.0 + EPS).sqrt()], &[1, 2]), 1e-12);
}

#[test]
fn batchnorm_gradient_by_hand() {
    // With γ = 1, β = 0: Σᵢ yᵢ = 0 for any input, so ∂Σy/∂x = 0 and ∂Σy/∂γ = Σ x̂ = 0,
    // while ∂Σy/∂β = N.
    let mut bn = BatchNorm1d::<f64>::new(2);
    let x = Var::leaf(spread(&[5, 2], 1));
    let g = bn.forward(&x).sum().backward();
    assert_close(g.wrt(&x).unwrap(), &Tensor::zeros(&[5, 2]), 1e-12);
    assert_close(
        g.get(bn.weight.as_ref().unwrap()).unwrap(),
        &Tensor::zeros(&[2]),
        1e-12,
    );
    assert_close(
        g.get(bn.bias.as_ref().unwrap()).unwrap(),
        &t64(&[5.0, 5.0], &[2]),
        1e-12,
    );
}

#[test]
fn batchnorm_gradcheck() {
    let mut bn = BatchNorm1d::<f64>::new(3);
    bn.weight
        .as_mut()
        .unwrap()
        .set(t64(&[1.5, -0.5, 2.0], &[3]));
    bn.bias.as_mut().unwrap().set(t64(&[0.1, 0.2, -0.3], &[3]));
    gradcheck_module(
        "BatchNorm1d train [N, C]",
        &mut bn,
        &spread(&[4, 3], 1),
        true,
        1e-6,
    );
    gradcheck_module(
        "BatchNorm1d train [N, C, L]",
        &mut bn,
        &spread(&[2, 3, 3], 2),
        true,
        1e-6,
    );
    bn.eval();
    gradcheck_module("BatchNorm1d eval", &mut bn, &spread(&[4, 3], 3), true, 1e-6);

    let mut bn = BatchNorm2d::<f64>::new(2);
    bn.weight.as_mut().unwrap().set(t64(&[0.7, 1.3], &[2]));
    gradcheck_module(
        "BatchNorm2d train",
        &mut bn,
        &spread(&[2, 2, 3, 3], 4),
        true,
        1e-6,
    );
    bn.eval();
    gradcheck_module(
        "BatchNorm2d eval",
        &mut bn,
        &spread(&[2, 2, 3, 3], 5),
        true,
        1e-6,
    );
    let mut bn = BatchNorm2d::<f64>::new(2).without_affine();
    gradcheck_module(
        "BatchNorm2d without affine",
        &mut bn,
        &spread(&[3, 2, 2, 2], 6),
        true,
        1e-6,
    );
}

#[test]
#[should_panic(expected = "BatchNorm2d: expects input [N, C, H, W], got [2, 3, 4]")]
fn batchnorm2d_rejects_rank_3() {
    BatchNorm2d::<f32>::new(3).predict(&Tensor::zeros(&[2, 3, 4]));
}

#[test]
#[should_panic(expected = "BatchNorm1d: expects input [N, C] or [N, C, L], got [2, 3, 4, 4]")]
fn batchnorm1d_rejects_rank_4() {
    BatchNorm1d::<f32>::new(3).predict(&Tensor::zeros(&[2, 3, 4, 4]));
}

#[test]
#[should_panic(expected = "BatchNorm1d: input [4, 5] has 5 channels, the layer 3")]
fn batchnorm_rejects_wrong_channel_count() {
    BatchNorm1d::<f32>::new(3).predict(&Tensor::zeros(&[4, 5]));
}

#[test]
#[should_panic(
    expected = "BatchNorm1d: expected more than 1 value per channel when training, got input [1, 3]"
)]
fn batchnorm_rejects_single_value_per_channel_in_training() {
    BatchNorm1d::<f32>::new(3).predict(&Tensor::zeros(&[1, 3]));
}

// ---------------------------------------------------------------------------------------------
// LayerNorm

#[test]
fn layernorm_values() {
    let mut ln = LayerNorm::<f64>::new(&[3]);
    assert_eq!((ln.normalized_shape(), ln.eps()), (&[3usize][..], 1e-5));
    let names: Vec<String> = ln.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    assert!(ln.buffers().is_empty());
    ln.weight.as_mut().unwrap().set(t64(&[1.0, 2.0, 3.0], &[3]));
    ln.bias.as_mut().unwrap().set(t64(&[0.0, 1.0, 0.0], &[3]));
    // Row [1, 2, 3]: mean 2, biased variance 2/3. Row [0, 0, 6]: mean 2, variance 8.
    let x = t64(&[1.0, 2.0, 3.0, 0.0, 0.0, 6.0], &[2, 3]);
    let (a, b) = ((2.0 / 3.0 + EPS).sqrt(), (8.0 + EPS).sqrt());
    let expected = [-1.0 / a, 1.0, 3.0 / a, -2.0 / b, -4.0 / b + 1.0, 12.0 / b];
    assert_close(&ln.predict(&x), &t64(&expected, &[2, 3]), 1e-12);
    // The same in eval mode (no running statistics).
    ln.eval();
    assert_close(&ln.predict(&x), &t64(&expected, &[2, 3]), 1e-12);
}

#[test]
fn layernorm_over_two_dimensions() {
    // normalized_shape [2, 2]: [1, 2, 3, 4] has mean 2.5 and biased variance 1.25.
    let mut ln = LayerNorm::<f64>::new(&[2, 2]);
    assert_eq!(ln.weight.as_ref().unwrap().shape(), &[2, 2]);
    let x = t64(&[1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 12.0], &[2, 2, 2]);
    let s = (1.25 + EPS).sqrt();
    // Second block [10, 10, 10, 12]: mean 10.5, variance (3·0.25 + 2.25)/4 = 0.75.
    let t = (0.75 + EPS).sqrt();
    let expected = [
        -1.5 / s,
        -0.5 / s,
        0.5 / s,
        1.5 / s,
        -0.5 / t,
        -0.5 / t,
        -0.5 / t,
        1.5 / t,
    ];
    assert_close(&ln.predict(&x), &t64(&expected, &[2, 2, 2]), 1e-12);
}

#[test]
fn layernorm_without_affine_and_bias() {
    let mut ln = LayerNorm::<f64>::new(&[2]).without_affine();
    assert!(ln.params().is_empty());
    let s = (1.0 + EPS).sqrt();
    assert_close(
        &ln.predict(&t64(&[1.0, 3.0], &[1, 2])),
        &t64(&[-1.0 / s, 1.0 / s], &[1, 2]),
        1e-12,
    );
    let ln = LayerNorm::<f64>::new(&[2]).without_bias().with_eps(1.0);
    let names: Vec<String> = ln.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight"]);
    let mut ln = ln;
    let s = 2f64.sqrt();
    assert_close(
        &ln.predict(&t64(&[1.0, 3.0], &[1, 2])),
        &t64(&[-1.0 / s, 1.0 / s], &[1, 2]),
        1e-12,
    );
}

#[test]
fn layernorm_gradcheck() {
    let mut ln = LayerNorm::<f64>::new(&[4]);
    ln.weight
        .as_mut()
        .unwrap()
        .set(t64(&[1.0, -2.0, 0.5, 3.0], &[4]));
    ln.bias
        .as_mut()
        .unwrap()
        .set(t64(&[0.1, 0.0, -0.2, 0.3], &[4]));
    gradcheck_module("LayerNorm [4]", &mut ln, &spread(&[3, 4], 1), true, 1e-6);
    let mut ln = LayerNorm::<f64>::new(&[2, 3]);
    gradcheck_module(
        "LayerNorm [2, 3]",
        &mut ln,
        &spread(&[2, 2, 3], 2),
        true,
        1e-6,
    );
}

#[test]
#[should_panic(expected = "LayerNorm: input [2, 4] does not end in normalized_shape [3]")]
fn layernorm_rejects_wrong_trailing_shape() {
    LayerNorm::<f32>::new(&[3]).predict(&Tensor::zeros(&[2, 4]));
}
