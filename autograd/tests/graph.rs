//! Graph behaviour: accumulation, detach, no_grad, parameters and the error messages.

use strata_autograd::{Grads, Param, Var, no_grad};
use strata_tensor::Tensor;

fn t(v: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(v.to_vec(), &[v.len()])
}

#[test]
fn a_var_used_twice_accumulates_both_gradients() {
    let x = Var::leaf(t(&[1.0, 2.0]));
    // y = Σ (x·x + 3x) → ∂y/∂x = 2x + 3
    let y = x.mul(&x).add(&x.mul_scalar(3.0)).sum();
    assert_eq!(y.backward().wrt(&x).unwrap().to_vec(), vec![5.0, 7.0]);
}

#[test]
fn detach_and_no_grad_cut_the_graph() {
    let x = Var::leaf(t(&[2.0]));
    let y = x.mul(&x.detach()).sum(); // only one path is differentiated
    assert_eq!(y.backward().wrt(&x).unwrap().to_vec(), vec![2.0]);
    let z = no_grad(|| x.mul(&x));
    assert!(
        !z.requires_grad(),
        "values computed under no_grad are constants"
    );
    assert!(
        strata_autograd::is_recording(),
        "no_grad restores recording"
    );
    let p = Param::new(t(&[1.0]));
    assert!(!no_grad(|| p.var()).requires_grad());
}

#[test]
fn params_keep_their_id_and_frozen_params_get_no_gradient() {
    let mut w = Param::new(t(&[1.0, -1.0]));
    let b = Param::new(t(&[0.5]));
    let x = Var::constant(t(&[3.0, 4.0]));
    let loss = x.mul(&w.var()).sum().add(&b.var().sum());
    let g: Grads<f64> = loss.backward();
    assert_eq!(g.get(&w).unwrap().to_vec(), vec![3.0, 4.0]);
    assert_eq!(g.get(&b).unwrap().to_vec(), vec![1.0]);
    // An optimizer-style update in place; the id stays.
    let id = w.id();
    let gw = g.get(&w).unwrap().clone();
    w.value_mut().axpy_(-0.1, &gw);
    assert_eq!(w.id(), id);
    assert!((w.value().to_vec()[0] - 0.7).abs() < 1e-12);
    let copy = w.clone();
    assert_ne!(copy.id(), w.id(), "a cloned param trains separately");
    w.set_requires_grad(false);
    let g = x.mul(&w.var()).sum().add(&b.var().sum()).backward();
    assert!(g.get(&w).is_none());
    assert_eq!(g.len(), 1);
}

#[test]
fn grads_are_plain_values() {
    let p = Param::new(t(&[1.0, 2.0]));
    let mut g = Grads::new();
    g.insert(p.id(), t(&[3.0, 4.0]));
    g.accumulate(p.id(), t(&[1.0, 1.0]));
    assert_eq!(g.get(&p).unwrap().to_vec(), vec![4.0, 5.0]);
    assert!((g.global_norm() - 41f64.sqrt()).abs() < 1e-12);
    g.scale_(0.5);
    assert_eq!(g.get(&p).unwrap().to_vec(), vec![2.0, 2.5]);
}

#[test]
#[should_panic(expected = "backward() needs a single element such as a loss")]
fn backward_needs_a_scalar() {
    Var::leaf(t(&[1.0, 2.0])).exp().backward();
}

#[test]
#[should_panic(expected = "does not depend on any parameter or leaf")]
fn backward_needs_a_leaf() {
    Var::constant(t(&[1.0])).exp().sum().backward();
}

#[test]
#[should_panic(expected = "was already consumed by an earlier backward()")]
fn backward_twice_is_an_error() {
    let x = Var::leaf(t(&[1.0]));
    let y = x.exp().sum();
    y.backward();
    y.backward();
}

#[test]
fn very_deep_graphs_run_and_drop_without_overflowing_the_stack() {
    let x = Var::leaf(Tensor::<f64>::scalar(1.0));
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.mul_scalar(1.0);
    }
    assert_eq!(y.backward().wrt(&x).unwrap().item(), 1.0);
    drop(y);
}
