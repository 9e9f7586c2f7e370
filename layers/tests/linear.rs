//! `Linear`: outputs on tiny hand-computed examples, parameter names, gradients by hand and
//! f64 gradient checks.

mod common;

use common::{assert_close, gradcheck_module, names, spread, t64};
use strata_autograd::Var;
use strata_layers::{Init, Linear, Module};
use strata_tensor::Tensor;

fn linear_3x2() -> Linear<f64> {
    let mut l = Linear::<f64>::new(2, 3);
    l.weight.set(t64(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]));
    l.bias.as_mut().unwrap().set(t64(&[0.5, -1.0, 0.0], &[3]));
    l
}

#[test]
fn linear_values() {
    let mut l = linear_3x2();
    assert_eq!((l.in_features(), l.out_features()), (2, 3));
    assert_eq!(names(&l), ["weight", "bias"]);
    assert_eq!(l.num_params(), 9);
    let x = t64(&[1.0, -1.0, 2.0, 0.5], &[2, 2]);
    // y = x·Wᵀ + b: row 0 = [1−2+0.5, 3−4−1, 5−6], row 1 = [2+1+0.5, 6+2−1, 10+3]
    let expected = t64(&[-0.5, -2.0, -1.0, 3.5, 7.0, 13.0], &[2, 3]);
    assert_close(&l.predict(&x), &expected, 1e-12);
    // Leading dimensions are kept: [1, 2, 2] → [1, 2, 3].
    assert_close(
        &l.predict(&x.reshape(&[1, 2, 2])),
        &expected.reshape(&[1, 2, 3]),
        1e-12,
    );
}

#[test]
fn linear_without_bias_and_with_init() {
    let mut l = linear_3x2().without_bias();
    assert_eq!(names(&l), ["weight"]);
    let y = l.predict(&t64(&[1.0, 1.0], &[1, 2]));
    assert_close(&y, &t64(&[3.0, 7.0, 11.0], &[1, 3]), 1e-12);

    let mut l = Linear::<f64>::new(3, 2).with_init(Init::Constant(0.5), Init::Constant(-1.0));
    let y = l.predict(&t64(&[1.0, 2.0, 3.0], &[1, 3]));
    assert_close(&y, &t64(&[2.0, 2.0], &[1, 2]), 1e-12);
}

#[test]
fn linear_gradients_by_hand() {
    // L = Σ y with y = x·Wᵀ + b: ∂L/∂W[o, i] = Σ_n x[n, i], ∂L/∂b[o] = N, ∂L/∂x[n, i] = Σ_o W[o, i].
    let mut l = linear_3x2();
    let x = Var::leaf(t64(&[1.0, -1.0, 2.0, 0.5], &[2, 2]));
    let g = l.forward(&x).sum().backward();
    assert_close(
        g.get(&l.weight).unwrap(),
        &t64(&[3.0, -0.5, 3.0, -0.5, 3.0, -0.5], &[3, 2]),
        1e-12,
    );
    assert_close(
        g.get(l.bias.as_ref().unwrap()).unwrap(),
        &t64(&[2.0, 2.0, 2.0], &[3]),
        1e-12,
    );
    assert_close(
        g.wrt(&x).unwrap(),
        &t64(&[9.0, 12.0, 9.0, 12.0], &[2, 2]),
        1e-12,
    );
}

#[test]
fn linear_gradcheck() {
    let mut l = Linear::<f64>::new(4, 3);
    gradcheck_module("Linear", &mut l, &spread(&[2, 4], 1), true, 1e-6);
    let mut l = Linear::<f64>::new(3, 2).without_bias();
    gradcheck_module(
        "Linear without bias, 3-D input",
        &mut l,
        &spread(&[2, 2, 3], 2),
        true,
        1e-6,
    );
}

#[test]
#[should_panic(expected = "linear: input [2, 3] does not fit weight [3, 2]")]
fn linear_rejects_wrong_input_width() {
    linear_3x2().predict(&Tensor::zeros(&[2, 3]));
}
