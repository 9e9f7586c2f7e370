//! `Residual`: outputs, gradients, names, mode and seed passed to the inner module, shape
//! validation and an f64 gradient check.

mod common;

use common::{assert_close, gradcheck_module, names, spread, t64};
use strata_autograd::Var;
use strata_layers::{Activation, BatchNorm1d, Dropout, Linear, Module, Residual, Sequential};
use strata_tensor::Tensor;

#[test]
fn residual_values_and_names() {
    // f(x) = 2x + 1, so y = 3x + 1.
    let mut l = Linear::<f64>::new(2, 2);
    l.weight.set(t64(&[2.0, 0.0, 0.0, 2.0], &[2, 2]));
    l.bias.as_mut().unwrap().set(t64(&[1.0, 1.0], &[2]));
    let mut r = Residual::new(l);
    assert_eq!(names(&r), ["inner.weight", "inner.bias"]);
    assert_close(
        &r.predict(&t64(&[1.0, -2.0], &[1, 2])),
        &t64(&[4.0, -5.0], &[1, 2]),
        1e-12,
    );
    // ∂Σy/∂x = 1 + Σ_o W[o, i] = 3.
    let x = Var::leaf(t64(&[1.0, -2.0], &[1, 2]));
    let g = r.forward(&x).sum().backward();
    assert_close(g.wrt(&x).unwrap(), &t64(&[3.0, 3.0], &[1, 2]), 1e-12);

    let r = Residual::new(
        Sequential::<f64>::new()
            .add(Linear::new(3, 3))
            .add(Activation::Tanh)
            .add(BatchNorm1d::new(3)),
    );
    assert_eq!(
        names(&r),
        [
            "inner.0.weight",
            "inner.0.bias",
            "inner.2.weight",
            "inner.2.bias"
        ]
    );
    let buffers: Vec<String> = r.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        [
            "inner.2.running_mean",
            "inner.2.running_var",
            "inner.2.num_batches_tracked"
        ]
    );
}

#[test]
fn residual_passes_mode_and_seed_through() {
    let mut r = Residual::new(Dropout::new(0.5));
    let x = Tensor::<f64>::ones(&[200]);
    // Training: y = x + dropout(x) ∈ {1, 3}.
    let y = r.predict(&x);
    assert!(y.to_vec().iter().all(|&v| v == 1.0 || v == 3.0));
    assert!(y.to_vec().contains(&1.0) && y.to_vec().contains(&3.0));
    // Reseeding reaches the inner dropout.
    Module::<f64>::reseed(&mut r, 5);
    let a = r.predict(&x);
    Module::<f64>::reseed(&mut r, 5);
    assert_eq!(r.predict(&x), a);
    // Eval: y = 2x.
    Module::<f64>::eval(&mut r);
    assert_eq!(r.predict(&x), Tensor::full(&[200], 2.0));
}

#[test]
fn residual_gradcheck() {
    let mut r = Residual::new(
        Sequential::<f64>::new()
            .add(Linear::new(3, 3))
            .add(Activation::Tanh),
    );
    gradcheck_module("Residual", &mut r, &spread(&[2, 3], 3), true, 1e-6);
}

#[test]
#[should_panic(
    expected = "Residual: the inner module maps [2, 3] to [2, 2]; x + f(x) needs the same shape"
)]
fn residual_rejects_shape_change() {
    Residual::new(Linear::<f32>::new(3, 2)).predict(&Tensor::zeros(&[2, 3]));
}
