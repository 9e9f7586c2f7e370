//! Each optimizer minimises a quadratic through the autograd engine: the loss
//! f(w) = Σᵢ aᵢ·(wᵢ − cᵢ)² (plus a bias term) built from `Var`s, gradients from `backward`,
//! must fall below 1/100 of its starting value within a fixed number of steps.

use strata_autograd::{Param, Var};
use strata_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, Optimizer, RmsPropConfig, SgdConfig,
};
use strata_tensor::Tensor;

/// Runs `opt` on the quadratic for up to `max_steps` steps; returns (start loss, steps taken
/// to reach start/100, or None).
fn minimise(opt: &mut dyn Optimizer<f32>, max_steps: usize) -> (f32, Option<usize>) {
    let a = Var::constant(Tensor::from_vec(vec![1.0f32, 3.0, 0.5, 2.0], &[2, 2]));
    let c = Var::constant(Tensor::from_vec(vec![1.5f32, -2.0, 0.75, 1.0], &[2, 2]));
    let mut w = Param::new(Tensor::<f32>::zeros(&[2, 2]));
    let mut bias = Param::new(Tensor::<f32>::zeros(&[1]));
    let target = Var::constant(Tensor::from_vec(vec![-1.0f32], &[1]));
    let loss_of = |w: &Param<f32>, bias: &Param<f32>| {
        let quad = w.var().sub(&c).square().mul(&a).sum();
        let b = bias.var().sub(&target).square().sum();
        quad.add(&b)
    };
    let start = loss_of(&w, &bias).item();
    for step in 1..=max_steps {
        let loss = loss_of(&w, &bias);
        let grads = loss.backward();
        opt.step(&mut [&mut w, &mut bias], &grads);
        if loss_of(&w, &bias).item() < start / 100.0 {
            return (start, Some(step));
        }
    }
    (start, None)
}

fn check(name: &str, opt: &mut dyn Optimizer<f32>, max_steps: usize) {
    let (start, reached) = minimise(opt, max_steps);
    assert!(start > 1.0, "{name}: start loss {start}");
    assert!(
        reached.is_some(),
        "{name}: loss did not fall 100× from {start} within {max_steps} steps"
    );
}

#[test]
fn sgd_minimises_a_quadratic() {
    check("sgd", &mut SgdConfig::new(0.1).build().unwrap(), 50);
}

#[test]
fn sgd_momentum_minimises_a_quadratic() {
    check(
        "sgd momentum",
        &mut SgdConfig::new(0.05).with_momentum(0.9).build().unwrap(),
        100,
    );
    check(
        "sgd nesterov",
        &mut SgdConfig::new(0.05)
            .with_momentum(0.9)
            .with_nesterov(true)
            .build()
            .unwrap(),
        100,
    );
}

#[test]
fn adam_minimises_a_quadratic() {
    check("adam", &mut AdamConfig::new(0.1).build().unwrap(), 100);
    check(
        "adam amsgrad",
        &mut AdamConfig::new(0.1).with_amsgrad(true).build().unwrap(),
        100,
    );
}

#[test]
fn adamw_minimises_a_quadratic() {
    check("adamw", &mut AdamWConfig::new(0.1).build().unwrap(), 100);
}

#[test]
fn adagrad_minimises_a_quadratic() {
    check(
        "adagrad",
        &mut AdagradConfig::new(0.5).build().unwrap(),
        100,
    );
}

#[test]
fn rmsprop_minimises_a_quadratic() {
    check(
        "rmsprop",
        &mut RmsPropConfig::new(0.01).build().unwrap(),
        400,
    );
    check(
        "rmsprop centered momentum",
        &mut RmsPropConfig::new(0.005)
            .with_centered(true)
            .with_momentum(0.9)
            .build()
            .unwrap(),
        400,
    );
}

#[test]
fn adadelta_minimises_a_quadratic() {
    check(
        "adadelta",
        &mut AdadeltaConfig::new(1.0).build().unwrap(),
        1000,
    );
}
