//! `Highway`: hand-computed outputs, names, the gate bias, width validation and f64 gradient
//! checks.

mod common;

use common::{assert_close, assert_near, gradcheck_module, names, spread, t64};
use strata_layers::{Activation, Highway, Init, Module};
use strata_tensor::Tensor;

#[test]
fn highway_values() {
    let mut h = Highway::<f64>::new(2);
    assert_eq!(h.width(), 2);
    assert_eq!(
        names(&h),
        [
            "transform.weight",
            "transform.bias",
            "gate.weight",
            "gate.bias"
        ]
    );
    assert_eq!(h.num_params(), 2 * (4 + 2));
    // The gate bias starts at −1.
    assert_eq!(
        h.gate.bias.as_ref().unwrap().value(),
        &t64(&[-1.0, -1.0], &[2])
    );
    assert_eq!(h.activation, Activation::Relu);

    // H = relu(x) (W_H = I, b_H = 0); T = σ([0, ln 3]) = [½, ¾] (W_T = 0).
    h.transform = h.transform.with_init(Init::Zeros, Init::Zeros);
    h.transform.weight.set(t64(&[1.0, 0.0, 0.0, 1.0], &[2, 2]));
    h.gate.weight.set(Tensor::zeros(&[2, 2]));
    h.gate
        .bias
        .as_mut()
        .unwrap()
        .set(t64(&[0.0, 3f64.ln()], &[2]));
    // x = [1, −1]: H = [1, 0]; y = [½·1 + ½·1, ¾·0 + ¼·(−1)] = [1, −¼].
    let y = h.predict(&t64(&[1.0, -1.0], &[1, 2]));
    assert_close(&y, &t64(&[1.0, -0.25], &[1, 2]), 1e-12);
    // x = [2, 3]: H = x, so y = x whatever the gate.
    assert_close(
        &h.predict(&t64(&[2.0, 3.0], &[1, 2])),
        &t64(&[2.0, 3.0], &[1, 2]),
        1e-12,
    );

    // Tanh transform and a more negative gate bias: y = x + T·(tanh(x) − x), T = σ(−3).
    let mut h = Highway::<f64>::new(1)
        .with_activation(Activation::Tanh)
        .with_gate_bias(-3.0);
    h.transform.weight.set(t64(&[1.0], &[1, 1]));
    h.transform.bias.as_mut().unwrap().set(t64(&[0.0], &[1]));
    h.gate.weight.set(t64(&[0.0], &[1, 1]));
    let t = 1.0 / (1.0 + 3f64.exp());
    assert_near(
        h.predict(&t64(&[0.5], &[1, 1])).item(),
        t * 0.5f64.tanh() + (1.0 - t) * 0.5,
        1e-12,
    );
}

#[test]
fn highway_gradcheck() {
    let mut h = Highway::<f64>::new(3);
    gradcheck_module("Highway relu", &mut h, &spread(&[2, 3], 1), true, 1e-6);
    let mut h = Highway::<f64>::new(3).with_activation(Activation::Tanh);
    gradcheck_module(
        "Highway tanh, 3-D input",
        &mut h,
        &spread(&[2, 2, 3], 2),
        true,
        1e-6,
    );
}

#[test]
#[should_panic(expected = "Highway: input [2, 4] does not end in the layer's width 3")]
fn highway_rejects_wrong_width() {
    Highway::<f32>::new(3).predict(&Tensor::zeros(&[2, 4]));
}
