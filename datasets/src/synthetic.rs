//! Small synthetic datasets for fast tests: XOR, two interleaved spirals and noisy sine
//! sequences. All are deterministic for a given seed.

use std::f32::consts::PI;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::dataset::ArrayDataset;

/// A standard normal sample (Box–Muller).
fn gaussian(rng: &mut StdRng) -> f32 {
    let u1: f32 = 1.0 - rng.random::<f32>(); // (0, 1]
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// The four XOR points: inputs `[0,0], [0,1], [1,0], [1,1]` (shape `[2]`) with classes
/// `0, 1, 1, 0`.
pub fn xor() -> ArrayDataset {
    ArrayDataset::classification(
        vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        vec![2],
        vec![0, 1, 1, 0],
        2,
    )
}

/// `n` noisy XOR points: each is a corner of the unit square chosen uniformly plus Gaussian
/// noise of standard deviation `noise` on each coordinate; the class is the XOR of the
/// corner's coordinates. Inputs have shape `[2]`, 2 classes.
pub fn noisy_xor(n: usize, noise: f32, seed: u64) -> ArrayDataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(2 * n);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let a = rng.random_range(0..2usize);
        let b = rng.random_range(0..2usize);
        inputs.push(a as f32 + noise * gaussian(&mut rng));
        inputs.push(b as f32 + noise * gaussian(&mut rng));
        labels.push(a ^ b);
    }
    ArrayDataset::classification(inputs, vec![2], labels, 2)
}

/// Two interleaved spirals, `n_per_class` points each, alternating class 0 and class 1.
///
/// Point `i` of class 0 sits at angle `θ = 3π·tᵢ` and radius `r = tᵢ` with
/// `tᵢ = 0.05 + 0.95·i/n_per_class` (one and a half turns out to radius 1); class 1 is the same
/// spiral rotated by π. Gaussian noise of standard deviation `noise` is added to each
/// coordinate. Inputs have shape `[2]`, 2 classes.
pub fn two_spirals(n_per_class: usize, noise: f32, seed: u64) -> ArrayDataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(4 * n_per_class);
    let mut labels = Vec::with_capacity(2 * n_per_class);
    for i in 0..n_per_class {
        let t = 0.05 + 0.95 * i as f32 / n_per_class as f32;
        let theta = 3.0 * PI * t;
        for class in 0..2 {
            let a = theta + PI * class as f32;
            inputs.push(t * a.cos() + noise * gaussian(&mut rng));
            inputs.push(t * a.sin() + noise * gaussian(&mut rng));
            labels.push(class);
        }
    }
    ArrayDataset::classification(inputs, vec![2], labels, 2)
}

/// `n` noisy sine sequences for next-step prediction.
///
/// Sequence `s` has a random phase `φ ∈ [0, 2π)` and angular frequency `ω ∈ [0.1, 0.4)`
/// radians per step; its input is `x_t = sin(ω t + φ) + noise·ε_t` (ε standard normal) for
/// `t = 0..seq_len`, its target the clean next value `sin(ω (t + 1) + φ)`. Inputs and targets
/// have shape `[seq_len, 1]` (time, feature), the layout recurrent layers take per example.
///
/// # Panics
///
/// If `seq_len` is 0.
pub fn noisy_sine(n: usize, seq_len: usize, noise: f32, seed: u64) -> ArrayDataset {
    assert!(seq_len > 0, "noisy_sine: seq_len must be ≥ 1");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut inputs = Vec::with_capacity(n * seq_len);
    let mut targets = Vec::with_capacity(n * seq_len);
    for _ in 0..n {
        let phase = rng.random_range(0.0..2.0 * PI);
        let omega = rng.random_range(0.1..0.4f32);
        for t in 0..seq_len {
            let tt = t as f32;
            inputs.push((omega * tt + phase).sin() + noise * gaussian(&mut rng));
            targets.push((omega * (tt + 1.0) + phase).sin());
        }
    }
    ArrayDataset::regression(inputs, vec![seq_len, 1], targets, vec![seq_len, 1])
}
