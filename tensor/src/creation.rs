//! Constructors: constant fills, ranges, identity and seeded random fills.
//!
//! Random constructors take the generator explicitly (`&mut impl rand::Rng`, e.g.
//! `StdRng::seed_from_u64(seed)`), so every run is reproducible from its seed.

use rand::Rng;

use crate::{Element, Tensor};

impl<T: Element> Tensor<T> {
    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: T) -> Self {
        Tensor::from_vec(
            crate::storage::filled(crate::shape::numel(shape), value),
            shape,
        )
    }

    /// A tensor of `shape` filled with 0.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of `shape` filled with 1.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// Zeros with the shape of `self`.
    pub fn zeros_like(&self) -> Self {
        Self::zeros(self.shape())
    }

    /// Ones with the shape of `self`.
    pub fn ones_like(&self) -> Self {
        Self::ones(self.shape())
    }

    /// The 1-D tensor `[start, start + step, …]` of the values `< end` (`> end` for a negative
    /// step), like `torch.arange`.
    ///
    /// # Panics
    /// If `step` is zero or not finite.
    pub fn arange(start: T, end: T, step: T) -> Self {
        assert!(
            step != T::zero() && step.is_finite(),
            "arange: step must be finite and non-zero, got {step}"
        );
        let count = ((end - start) / step).ceil().to_f64_lossless().max(0.0) as usize;
        let data = (0..count)
            .map(|i| start + T::from_f64_lossy(i as f64) * step)
            .collect();
        Tensor::from_vec(data, &[count])
    }

    /// `n` evenly spaced values from `start` to `end` inclusive (`[start]` when `n == 1`).
    pub fn linspace(start: T, end: T, n: usize) -> Self {
        let data = match n {
            0 => vec![],
            1 => vec![start],
            _ => {
                let step = (end - start) / T::from_f64_lossy((n - 1) as f64);
                (0..n)
                    .map(|i| {
                        if i == n - 1 {
                            end
                        } else {
                            start + step * T::from_f64_lossy(i as f64)
                        }
                    })
                    .collect()
            }
        };
        Tensor::from_vec(data, &[n])
    }

    /// The `n × n` identity matrix.
    pub fn eye(n: usize) -> Self {
        let mut data = crate::storage::zeroed::<T>(n * n);
        for i in 0..n {
            data[i * n + i] = T::one();
        }
        Tensor::from_vec(data, &[n, n])
    }

    /// Independent draws from the uniform distribution U[low, high).
    ///
    /// # Panics
    /// If `low > high` or either bound is not finite.
    pub fn rand_uniform(shape: &[usize], low: T, high: T, rng: &mut impl Rng) -> Self {
        assert!(
            low.is_finite() && high.is_finite() && low <= high,
            "rand_uniform: invalid range [{low}, {high})"
        );
        let (lo, width) = (low.to_f64_lossless(), (high - low).to_f64_lossless());
        let data = (0..crate::shape::numel(shape))
            .map(|_| T::from_f64_lossy(lo + width * rng.random::<f64>()))
            .collect();
        Tensor::from_vec(data, shape)
    }

    /// Independent draws from the normal distribution N(mean, std²) (Box–Muller transform).
    ///
    /// # Panics
    /// If `std` is negative or not finite.
    pub fn rand_normal(shape: &[usize], mean: T, std: T, rng: &mut impl Rng) -> Self {
        assert!(
            std.is_finite() && std >= T::zero(),
            "rand_normal: std must be finite and ≥ 0, got {std}"
        );
        let n = crate::shape::numel(shape);
        let (mean, std) = (mean.to_f64_lossless(), std.to_f64_lossless());
        let mut data = crate::storage::with_capacity::<T>(n);
        while data.len() < n {
            let (z0, z1) = standard_normal_pair(rng);
            data.push(T::from_f64_lossy(mean + std * z0));
            if data.len() < n {
                data.push(T::from_f64_lossy(mean + std * z1));
            }
        }
        Tensor::from_vec(data, shape)
    }

    /// Independent Bernoulli draws with per-element probabilities: `1[u < p]` for this tensor's
    /// elements `p` and fresh `u ~ U[0, 1)` (24-bit), as `torch.bernoulli(p)`. Same shape,
    /// contiguous. Probabilities ≤ 0 give 0, ≥ 1 give 1. Used for stochastic binary units
    /// (RBM sampling).
    ///
    /// One `u64` is drawn from `rng`; it seeds a xoshiro256++ stream per block of 8192
    /// elements, and the blocks are sampled in parallel, so the result
    /// depends on `rng` alone, not on the thread count.
    pub fn bernoulli(&self, rng: &mut impl Rng) -> Self {
        use rayon::prelude::*;
        let seed = rng.next_u64();
        let mut out = self.to_vec();
        let sample = |(block, p): (usize, &mut [T])| {
            let mut stream = Xoshiro256pp::new(seed, block as u64);
            for pair in p.chunks_mut(2) {
                let r = stream.next_u64();
                for (x, bits) in pair.iter_mut().zip([r >> 40, (r >> 8) & 0xff_ffff]) {
                    let u = T::from_f64_lossy(bits as f64 * UNIT_24);
                    *x = if u < *x { T::one() } else { T::zero() };
                }
            }
        };
        if out.len() >= 4 * BERNOULLI_BLOCK && crate::threads::num_threads() > 1 {
            out.par_chunks_mut(BERNOULLI_BLOCK)
                .enumerate()
                .for_each(sample);
        } else {
            out.chunks_mut(BERNOULLI_BLOCK).enumerate().for_each(sample);
        }
        Tensor::from_vec(out, self.shape())
    }

    /// Binary samples of a matrix of probabilities `[N, D]`, row by row: row `i` is drawn
    /// from a xoshiro256++ stream seeded by `(seed, keys[i])`, so a row's sample depends on its
    /// key (e.g. the example's index in its dataset) and not on which other rows share the
    /// batch — splitting a batch over data-parallel ranks draws the same samples.
    ///
    /// # Panics
    /// If the tensor is not 2-D or `keys` does not have one key per row.
    pub fn bernoulli_rows(&self, seed: u64, keys: &[u64]) -> Self {
        use rayon::prelude::*;
        assert!(
            self.ndim() == 2 && keys.len() == self.shape()[0],
            "bernoulli_rows: {} keys for probabilities of shape {:?} (expects [N, D] and N keys)",
            keys.len(),
            self.shape()
        );
        let width = self.shape()[1].max(1);
        let mut out = self.to_vec();
        let sample = |(p, &key): (&mut [T], &u64)| {
            let mut stream = Xoshiro256pp::new(seed, key);
            for pair in p.chunks_mut(2) {
                let r = stream.next_u64();
                for (x, bits) in pair.iter_mut().zip([r >> 40, (r >> 8) & 0xff_ffff]) {
                    let u = T::from_f64_lossy(bits as f64 * UNIT_24);
                    *x = if u < *x { T::one() } else { T::zero() };
                }
            }
        };
        if out.len() >= 4 * BERNOULLI_BLOCK && crate::threads::num_threads() > 1 {
            out.par_chunks_mut(width).zip(keys).for_each(sample);
        } else {
            out.chunks_mut(width).zip(keys).for_each(sample);
        }
        Tensor::from_vec(out, self.shape())
    }

    /// Independent Bernoulli draws: 1 with probability `p`, else 0 (dropout masks, stochastic
    /// binarisation, RBM sampling).
    ///
    /// # Panics
    /// If `p` is outside [0, 1].
    pub fn rand_bernoulli(shape: &[usize], p: f64, rng: &mut impl Rng) -> Self {
        assert!(
            (0.0..=1.0).contains(&p),
            "rand_bernoulli: probability {p} is outside [0, 1]"
        );
        let data = (0..crate::shape::numel(shape))
            .map(|_| {
                if rng.random::<f64>() < p {
                    T::one()
                } else {
                    T::zero()
                }
            })
            .collect();
        Tensor::from_vec(data, shape)
    }
}

/// Two independent N(0, 1) draws by the Box–Muller transform.
fn standard_normal_pair(rng: &mut impl Rng) -> (f64, f64) {
    // 1 − U lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let theta = std::f64::consts::TAU * u2;
    (r * theta.cos(), r * theta.sin())
}

/// Elements per independently seeded stream of [`Tensor::bernoulli`].
const BERNOULLI_BLOCK: usize = 8192;

/// `2⁻²⁴`: a 24-bit integer times this is a uniform draw from [0, 1) exact in `f32`.
const UNIT_24: f64 = 1.0 / (1u64 << 24) as f64;

/// The xoshiro256++ generator (Blackman & Vigna), seeded by SplitMix64 from a seed and a
/// stream number: a small, fast stream for bulk sampling.
struct Xoshiro256pp([u64; 4]);

impl Xoshiro256pp {
    fn new(seed: u64, stream: u64) -> Self {
        let mut z = seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
        let mut split_mix = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Xoshiro256pp([split_mix(), split_mix(), split_mix(), split_mix()])
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }
}
