//! Binarization of values in `[0, 1]`, for binary RBMs and DBNs.

use rand::Rng;

/// In place `x ← 1` if `x > threshold`, else `0` (deterministic binarization; DeepLearnToolbox's
/// DBN example uses `threshold = 0.5` on MNIST scaled to `[0, 1]`).
pub fn binarize(data: &mut [f32], threshold: f32) {
    for x in data {
        *x = if *x > threshold { 1.0 } else { 0.0 };
    }
}

/// In place `x ← 1` with probability `x` (clamped to `[0, 1]`), else `0`: each value is treated
/// as the probability of a binary unit being on, and sampled with `rng` (stochastic
/// binarization, a fresh sample each call).
pub fn binarize_stochastic<R: Rng + ?Sized>(data: &mut [f32], rng: &mut R) {
    for x in data {
        let u: f32 = rng.random();
        *x = if u < *x { 1.0 } else { 0.0 };
    }
}
