//! Gradient clipping against PyTorch's `clip_grad_norm_` / `clip_grad_value_` semantics:
//! total norm over all gradients, coefficient max_norm / (total + 1e-6) clamped at 1.

use strata_autograd::{Grads, VarId};
use strata_optim::{clip_grad_norm, clip_grad_norm_p, clip_grad_value};
use strata_tensor::Tensor;

/// Gradients [3, 4] and [[12]]: global L2 norm √(9 + 16 + 144) = 13.
fn grads() -> (Grads<f64>, VarId, VarId) {
    let (a, b) = (VarId::fresh(), VarId::fresh());
    let mut g = Grads::new();
    g.insert(a, Tensor::from_vec(vec![3.0, 4.0], &[2]));
    g.insert(b, Tensor::from_vec(vec![12.0], &[1, 1]));
    (g, a, b)
}

#[test]
fn clip_by_norm_scales_every_gradient_by_the_same_factor() {
    let (mut g, a, b) = grads();
    let total = clip_grad_norm(&mut g, 6.5);
    assert_eq!(total, 13.0);
    let coef = 6.5 / (13.0 + 1e-6);
    let ga = g.get_id(a).unwrap().to_vec();
    let gb = g.get_id(b).unwrap().to_vec();
    assert!((ga[0] - 3.0 * coef).abs() < 1e-15 && (ga[1] - 4.0 * coef).abs() < 1e-15);
    assert!((gb[0] - 12.0 * coef).abs() < 1e-15);
    // The new norm is max_norm·13/(13 + 1e-6), just under 6.5.
    assert!((g.global_norm() - 6.5 * 13.0 / (13.0 + 1e-6)).abs() < 1e-12);
}

#[test]
fn clip_by_norm_leaves_small_gradients_alone() {
    let (mut g, a, _) = grads();
    assert_eq!(clip_grad_norm(&mut g, 13.0), 13.0); // coef = 13/(13 + 1e-6) < 1: clipped
    let (mut g2, a2, _) = grads();
    assert_eq!(clip_grad_norm(&mut g2, 100.0), 13.0);
    assert_eq!(g2.get_id(a2).unwrap().to_vec(), vec![3.0, 4.0]);
    // With max_norm equal to the norm the 1e-6 still shrinks by a hair, as in PyTorch.
    assert!(g.get_id(a).unwrap().to_vec()[0] < 3.0);
}

#[test]
fn clip_by_other_norms() {
    let (mut g, a, _) = grads();
    // ∞-norm: max |g| = 12.
    assert_eq!(clip_grad_norm_p(&mut g, 6.0, f64::INFINITY), 12.0);
    let coef = 6.0 / (12.0 + 1e-6);
    assert!((g.get_id(a).unwrap().to_vec()[0] - 3.0 * coef).abs() < 1e-15);
    // 1-norm: 3 + 4 + 12 = 19.
    let (mut g, _, _) = grads();
    assert_eq!(clip_grad_norm_p(&mut g, 100.0, 1.0), 19.0);
    // 3-norm: (27 + 64 + 1728)^(1/3).
    let (mut g, _, _) = grads();
    let n3 = clip_grad_norm_p(&mut g, 100.0, 3.0);
    assert!((n3 - 1819f64.powf(1.0 / 3.0)).abs() < 1e-12);
}

#[test]
fn clip_by_norm_of_nothing_is_zero() {
    let mut g = Grads::<f32>::new();
    assert_eq!(clip_grad_norm(&mut g, 1.0), 0.0);
}

#[test]
fn a_non_finite_norm_is_reported() {
    let mut g = Grads::<f32>::new();
    let id = VarId::fresh();
    g.insert(id, Tensor::from_vec(vec![1.0, f32::NAN], &[2]));
    assert!(clip_grad_norm(&mut g, 1.0).is_nan());
    assert!(
        g.get_id(id).unwrap().to_vec()[0].is_nan(),
        "PyTorch scales by NaN too"
    );
}

#[test]
fn clip_by_value_clamps_elementwise() {
    let mut g = Grads::<f32>::new();
    let id = VarId::fresh();
    g.insert(id, Tensor::from_vec(vec![-3.0, -0.5, 0.0, 0.7, 2.0], &[5]));
    clip_grad_value(&mut g, 1.0);
    assert_eq!(
        g.get_id(id).unwrap().to_vec(),
        vec![-1.0, -0.5, 0.0, 0.7, 1.0]
    );
}

#[test]
#[should_panic(expected = "max_norm must be ≥ 0")]
fn a_negative_max_norm_panics() {
    let (mut g, _, _) = grads();
    clip_grad_norm(&mut g, -1.0);
}

#[test]
#[should_panic(expected = "clip_value must be ≥ 0")]
fn a_negative_clip_value_panics() {
    let (mut g, _, _) = grads();
    clip_grad_value(&mut g, -1.0);
}
