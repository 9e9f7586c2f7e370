//! Helpers shared by the integration tests.
#![allow(dead_code)]

use strata_autograd::{Grads, Param};
use strata_optim::Optimizer;
use strata_tensor::Tensor;

/// Initial values of the two test parameters: shapes [3] and [2, 2].
pub const INIT_A: [f64; 3] = [0.5, -1.2, 2.0];
pub const INIT_B: [f64; 4] = [0.1, -0.4, 1.5, -2.5];

/// The gradient at step `t` (1-based) of flattened element `k` whose current value is `theta`:
/// a quadratic pull towards `0.3·k` plus a varying drive, so the gradients change sign and
/// size from step to step and depend on the trajectory.
pub fn grad_of(t: usize, k: usize, theta: f64) -> f64 {
    0.8 * (theta - 0.3 * k as f64) + 0.5 * (1.7 * t as f64 + 0.9 * k as f64).sin()
}

/// Two fresh parameters with the initial values.
pub fn params() -> (Param<f64>, Param<f64>) {
    (
        Param::new(Tensor::from_vec(INIT_A.to_vec(), &[3])),
        Param::new(Tensor::from_vec(INIT_B.to_vec(), &[2, 2])),
    )
}

/// The gradients of step `t` for `a` and `b` (element k counts across both).
pub fn grads_for(t: usize, a: &Param<f64>, b: &Param<f64>) -> Grads<f64> {
    let mut grads = Grads::new();
    let va = a.value().to_vec();
    let vb = b.value().to_vec();
    let ga: Vec<f64> = va
        .iter()
        .enumerate()
        .map(|(k, &x)| grad_of(t, k, x))
        .collect();
    let gb: Vec<f64> = vb
        .iter()
        .enumerate()
        .map(|(k, &x)| grad_of(t, k + 3, x))
        .collect();
    grads.insert(a.id(), Tensor::from_vec(ga, &[3]));
    grads.insert(b.id(), Tensor::from_vec(gb, &[2, 2]));
    grads
}

/// Runs `opt` for `steps` steps on the two parameters; returns the 7 values after each step.
pub fn run(opt: &mut dyn Optimizer<f64>, steps: usize) -> Vec<Vec<f64>> {
    let (mut a, mut b) = params();
    let mut out = Vec::new();
    for t in 1..=steps {
        let grads = grads_for(t, &a, &b);
        opt.step(&mut [&mut a, &mut b], &grads);
        let mut v = a.value().to_vec();
        v.extend(b.value().to_vec());
        out.push(v);
    }
    out
}

/// Runs a scalar reference rule element by element: `rule(state, t, theta, g)` returns the
/// new theta. Returns the 7 values after each step.
pub fn reference<S: Default + Clone>(
    steps: usize,
    mut rule: impl FnMut(&mut S, usize, f64, f64) -> f64,
) -> Vec<Vec<f64>> {
    let mut theta: Vec<f64> = INIT_A.iter().chain(&INIT_B).copied().collect();
    let mut states = vec![S::default(); theta.len()];
    let mut out = Vec::new();
    for t in 1..=steps {
        for k in 0..theta.len() {
            let g = grad_of(t, k, theta[k]);
            theta[k] = rule(&mut states[k], t, theta[k], g);
        }
        out.push(theta.clone());
    }
    out
}

/// Asserts two trajectories agree to `tol` (absolute), naming the step and element.
pub fn assert_close(got: &[Vec<f64>], want: &[Vec<f64>], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        for (k, (x, y)) in g.iter().zip(w).enumerate() {
            assert!(
                (x - y).abs() <= tol,
                "step {} element {k}: got {x}, expected {y} (|Δ| = {:e})",
                t + 1,
                (x - y).abs()
            );
        }
    }
}

/// Steps a one-element f64 parameter starting at `theta0` through the gradients `gs`,
/// returning the value after each step.
pub fn run_scalar(opt: &mut dyn Optimizer<f64>, theta0: f64, gs: &[f64]) -> Vec<f64> {
    let mut p = Param::new(Tensor::from_vec(vec![theta0], &[1]));
    gs.iter()
        .map(|&g| {
            let mut grads = Grads::new();
            grads.insert(p.id(), Tensor::from_vec(vec![g], &[1]));
            opt.step(&mut [&mut p], &grads);
            p.value().to_vec()[0]
        })
        .collect()
}

/// `|a − b| ≤ tol`, with a message.
pub fn assert_near(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.17}, expected {want:.17}"
    );
}
