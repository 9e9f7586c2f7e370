//! Helpers shared by the convolution and pooling tests: random tensors, closeness checks and
//! 4-D indexing for the direct loops the kernels are checked against.

#![allow(dead_code)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_tensor::Tensor;

/// A tensor of `shape` with values uniform in `[-1, 1)`, seeded.
pub fn random(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

/// `Σ a·b` over all elements (same shape).
pub fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

/// Asserts `a ≈ b` elementwise (same shape) within `tol·(1 + max |b|)`.
#[track_caller]
pub fn assert_close(a: &Tensor<f64>, b: &Tensor<f64>, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    let (av, bv) = (a.to_vec(), b.to_vec());
    let scale = 1.0 + bv.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = av
        .iter()
        .zip(&bv)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= tol * scale,
        "{what}: max |a − b| = {worst:e} (scale {scale})"
    );
}

/// Asserts `a ≈ b` within `1e-10·(1 + max(|a|, |b|))` (adjoint identities).
#[track_caller]
pub fn assert_scalar_close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-10 * (1.0 + a.abs().max(b.abs())),
        "{what}: {a} ≠ {b}"
    );
}

/// A 4-D index into a row-major shape.
pub fn at(s: &[usize], n: usize, c: usize, h: usize, w: usize) -> usize {
    ((n * s[1] + c) * s[2] + h) * s[3] + w
}

/// Input position read by output `o` at tap `t`: `o·stride − pad + t·dil`, if inside `0..len`.
pub fn tap(o: usize, t: usize, stride: usize, pad: usize, dil: usize, len: usize) -> Option<usize> {
    let p = (o * stride + t * dil) as isize - pad as isize;
    (p >= 0 && (p as usize) < len).then_some(p as usize)
}

/// An f32 tensor of zeros (the shape-checking panic tests).
pub fn zeros(shape: &[usize]) -> Tensor<f32> {
    Tensor::zeros(shape)
}
