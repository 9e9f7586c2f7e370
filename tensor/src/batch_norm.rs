//! Fused batch normalisation with batch statistics (training mode): two passes for the
//! statistics, one for the output, and the closed-form backward in two passes, instead of the
//! nine broadcasting ops (and their backward graphs) it takes when composed.
//!
//! The input `x: [N, C, S…]` is read as `[N, C, S]` (`S` the product of the spatial sizes, 1
//! for `[N, C]`); over the `m = N·S` values of each channel `c`: `μ_c = mean(x)`,
//! `σ²_c = mean((x − μ_c)²)` (biased), `x̂ = (x − μ_c)/√(σ²_c + ε)`, `y = γ_c·x̂ + β_c`.
//!
//! Each channel's sums are taken by one task in a fixed order, so the results do not depend on
//! the thread count.

use rayon::prelude::*;

use crate::{Element, Tensor};

/// Below this many elements a pass stays on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// What [`batch_norm`] keeps for its backward: the input and each channel's `μ` and
/// `1/√(σ² + ε)`, from which `x̂` is recomputed.
#[derive(Clone, Debug)]
pub struct BatchNormSaved<T: Element> {
    /// The input `x` (contiguous).
    pub input: Tensor<T>,
    /// `μ_c` of each channel.
    pub mean: Vec<T>,
    /// `1/√(σ²_c + ε)` of each channel.
    pub inv_std: Vec<T>,
}

/// The batch statistics of [`batch_norm`], for running estimates.
#[derive(Clone, Debug)]
pub struct BatchNormStats<T: Element> {
    /// `μ_c`, `[C]`.
    pub mean: Tensor<T>,
    /// The biased variance `σ²_c`, `[C]`.
    pub var: Tensor<T>,
    /// Values per channel, `m = N·S`.
    pub count: usize,
}

/// The gradients of [`batch_norm_backward`].
#[derive(Clone, Debug)]
pub struct BatchNormGrads<T: Element> {
    /// `∂L/∂x`, the input's shape.
    pub x: Tensor<T>,
    /// `∂L/∂γ = Σ g ⊙ x̂` per channel (`[C]`), when asked for.
    pub weight: Option<Tensor<T>>,
    /// `∂L/∂β = Σ g` per channel (`[C]`), when asked for.
    pub bias: Option<Tensor<T>>,
}

/// `(N, C, S)` of `x`, checking `γ`/`β` hold `C` values.
fn layout<T: Element>(op: &str, x: &[usize], params: [Option<&Tensor<T>>; 2]) -> [usize; 3] {
    assert!(
        x.len() >= 2,
        "{op}: input {x:?} needs a batch and a channel axis ([N, C, …])"
    );
    let (n, c) = (x[0], x[1]);
    for (p, what) in params.into_iter().zip(["weight", "bias"]) {
        if let Some(p) = p {
            assert!(
                p.numel() == c,
                "{op}: {what} {:?} does not have the {c} channels of input {x:?}",
                p.shape()
            );
        }
    }
    [n, c, x[2..].iter().product()]
}

/// Folds `f(acc, c, run)` over each channel's `N` runs of `S` values (index ranges into a
/// `[N, C, S]` buffer of `len` elements), starting from `init`; the results in channel order.
/// Blocks of channels run in parallel when the buffer is large; within a block the images are
/// the outer loop, so memory is read in order even when the runs are short (`[N, C]`). Each
/// channel is folded in image order whatever the blocking.
fn per_channel<R: Copy + Send + Sync>(
    [n, c, s]: [usize; 3],
    len: usize,
    init: R,
    f: impl Fn(R, usize, std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let block = |chs: std::ops::Range<usize>| -> Vec<R> {
        let mut acc = vec![init; chs.len()];
        for i in 0..n {
            for (a, ch) in acc.iter_mut().zip(chs.clone()) {
                let start = (i * c + ch) * s;
                *a = f(*a, ch, start..start + s);
            }
        }
        acc
    };
    let threads = crate::threads::num_threads();
    if len >= PARALLEL_ELEMENTS && threads > 1 && c > 1 {
        let parts = (2 * threads).min(c);
        (0..parts)
            .into_par_iter()
            .map(|p| block(p * c / parts..(p + 1) * c / parts))
            .collect::<Vec<_>>()
            .concat()
    } else {
        block(0..c)
    }
}

/// `f(i, out_i)` for each image's `[C, S]` block of `out` (`[N, C, S]`), in parallel over
/// images when `out` is large, compiled for the active SIMD path.
fn per_image<T: Element>([_, c, s]: [usize; 3], out: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    if c * s == 0 {
        return;
    }
    if out.len() >= PARALLEL_ELEMENTS && crate::threads::num_threads() > 1 {
        out.par_chunks_mut(c * s)
            .enumerate()
            .for_each(|(i, o)| crate::simd::vectorize(|| f(i, o)));
    } else {
        crate::simd::vectorize(|| out.chunks_mut(c * s).enumerate().for_each(|(i, o)| f(i, o)));
    }
}

/// `Σ_i f(row_i)` folded into per-channel accumulators for `[N, C]` (`S = 1`): `f(i, cols, acc)`
/// adds row `i`'s channels `cols` into `acc` (`cols.len()` values), rows in order, in a loop
/// the compiler vectorises for the active SIMD path. Blocks of channels run in parallel when
/// the input (`rows · c` values) is large; each channel is still folded in row order.
fn rows_fold<T: Element>(
    rows: usize,
    c: usize,
    f: impl Fn(usize, std::ops::Range<usize>, &mut [T]) + Sync,
) -> Vec<T> {
    let block = |cols: std::ops::Range<usize>| -> Vec<T> {
        let mut acc = vec![T::zero(); cols.len()];
        crate::simd::vectorize(|| {
            for i in 0..rows {
                f(i, cols.clone(), &mut acc);
            }
        });
        acc
    };
    let threads = crate::threads::num_threads();
    if rows * c >= PARALLEL_ELEMENTS && threads > 1 && c >= 32 {
        // Blocks start on multiples of 16 channels, so every block's loop runs whole vectors.
        let parts = (2 * threads).min(c / 16);
        let start = |p: usize| {
            if p == parts {
                c
            } else {
                p * c / parts / 16 * 16
            }
        };
        (0..parts)
            .into_par_iter()
            .map(|p| block(start(p)..start(p + 1)))
            .collect::<Vec<_>>()
            .concat()
    } else {
        block(0..c)
    }
}

/// Batch normalisation of `x: [N, C, S…]` with the batch's statistics:
/// `y = γ_c·(x − μ_c)/√(σ²_c + ε) + β_c`, with `γ`, `β` of `C` values (any shape) or absent.
/// Returns `y` (the shape of `x`), what the backward needs, and the batch statistics.
///
/// # Panics
/// If `x` has fewer than two axes, `γ`/`β` do not hold `C` values, or a channel has fewer
/// than two values (`N·S < 2`: the variance is undefined).
pub fn batch_norm<T: Element>(
    x: &Tensor<T>,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    eps: f64,
) -> (Tensor<T>, BatchNormSaved<T>, BatchNormStats<T>) {
    let dims = layout("batch_norm", x.shape(), [weight, bias]);
    let [n, c, s] = dims;
    let m = n * s;
    assert!(
        m > 1,
        "batch_norm: expected more than 1 value per channel, got input {:?}",
        x.shape()
    );
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    let inv_m = T::one() / T::from_f64_lossy(m as f64);
    let eps = T::from_f64_lossy(eps);
    let sum = T::kernels().sum;
    // μ and σ² of each channel, two passes for accuracy.
    let (mean, deviations): (Vec<T>, Vec<T>) = if s == 1 {
        let rows = |i: usize| &xs[i * c..(i + 1) * c];
        let sums = rows_fold(n, c, |i, cols, acc: &mut [T]| {
            for (a, &v) in acc.iter_mut().zip(&rows(i)[cols]) {
                *a = *a + v;
            }
        });
        let mean: Vec<T> = sums.into_iter().map(|v| v * inv_m).collect();
        let deviations = rows_fold(n, c, |i, cols, acc: &mut [T]| {
            for ((a, &v), &mu) in acc.iter_mut().zip(&rows(i)[cols.clone()]).zip(&mean[cols]) {
                *a = *a + (v - mu) * (v - mu);
            }
        });
        (mean, deviations)
    } else {
        let sums = per_channel(dims, xs.len(), T::zero(), |a, _, r| a + sum(&xs[r]));
        let mean: Vec<T> = sums.into_iter().map(|v| v * inv_m).collect();
        let deviations = per_channel(dims, xs.len(), T::zero(), |a, ch, r| {
            a + squared_deviations(&xs[r], mean[ch])
        });
        (mean, deviations)
    };
    let var: Vec<T> = deviations.into_iter().map(|v| v * inv_m).collect();
    let inv_std: Vec<T> = var.iter().map(|&v| T::one() / (v + eps).sqrt()).collect();
    // y = a_c·x + b_c with a_c = γ_c/√(σ²_c + ε), b_c = β_c − a_c·μ_c.
    let gamma = weight.map_or_else(|| vec![T::one(); c], Tensor::to_vec);
    let beta = bias.map_or_else(|| vec![T::zero(); c], Tensor::to_vec);
    let a: Vec<T> = (0..c).map(|ch| gamma[ch] * inv_std[ch]).collect();
    let b: Vec<T> = (0..c).map(|ch| beta[ch] - a[ch] * mean[ch]).collect();
    let mut y = crate::storage::stale::<T>(xs.len());
    per_image(dims, &mut y, |i, out| {
        let src = &xs[i * c * s..(i + 1) * c * s];
        if s == 1 {
            for (((o, &v), &ac), &bc) in out.iter_mut().zip(src).zip(&a).zip(&b) {
                *o = v * ac + bc;
            }
            return;
        }
        for (ch, (o, x)) in out.chunks_exact_mut(s).zip(src.chunks_exact(s)).enumerate() {
            let (ac, bc) = (a[ch], b[ch]);
            for (o, &v) in o.iter_mut().zip(x) {
                *o = v * ac + bc;
            }
        }
    });
    let y = Tensor::from_vec(y, x.shape());
    let stats = BatchNormStats {
        mean: Tensor::from_vec(mean.clone(), &[c]),
        var: Tensor::from_vec(var, &[c]),
        count: m,
    };
    let saved = BatchNormSaved {
        input: x,
        mean,
        inv_std,
    };
    (y, saved, stats)
}

/// `Σ (v − μ)²` over `run`, in 16 independent partial sums (which the compiler vectorises).
fn squared_deviations<T: Element>(run: &[T], mean: T) -> T {
    let mut acc = [T::zero(); 16];
    let chunks = run.chunks_exact(16);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            let d = v - mean;
            *a = *a + d * d;
        }
    }
    let tail = tail
        .iter()
        .fold(T::zero(), |a, &v| a + (v - mean) * (v - mean));
    acc.iter().fold(tail, |a, &v| a + v)
}

/// `(Σ g, Σ g·(x − μ))` over one run of `g` and `x`, in 16 independent partial sums each.
fn gradient_sums<T: Element>(g: &[T], x: &[T], mean: T) -> (T, T) {
    let (mut sg, mut sgx) = ([T::zero(); 16], [T::zero(); 16]);
    let (gc, xc) = (g.chunks_exact(16), x.chunks_exact(16));
    let (gt, xt) = (gc.remainder(), xc.remainder());
    for (gch, xch) in gc.zip(xc) {
        for j in 0..16 {
            sg[j] = sg[j] + gch[j];
            sgx[j] = sgx[j] + gch[j] * (xch[j] - mean);
        }
    }
    let (mut a, mut b) = (T::zero(), T::zero());
    for (&gv, &xv) in gt.iter().zip(xt) {
        a = a + gv;
        b = b + gv * (xv - mean);
    }
    (
        sg.iter().fold(a, |s, &v| s + v),
        sgx.iter().fold(b, |s, &v| s + v),
    )
}

/// The backward of [`batch_norm`] from the output gradient `g` (the input's shape): with
/// `x̂ = (x − μ_c)/√(σ²_c + ε)` and sums over each channel's `m` values,
/// `∂L/∂x = γ_c/√(σ²_c + ε) · (g − Σg/m − x̂·Σ(g ⊙ x̂)/m)`, `∂L/∂γ_c = Σ g ⊙ x̂`,
/// `∂L/∂β_c = Σ g`; the parameter gradients only when asked for.
///
/// # Panics
/// If `g` does not have the shape of the saved input.
pub fn batch_norm_backward<T: Element>(
    g: &Tensor<T>,
    saved: &BatchNormSaved<T>,
    weight: Option<&Tensor<T>>,
    need_weight: bool,
    need_bias: bool,
) -> BatchNormGrads<T> {
    let x = &saved.input;
    assert!(
        g.shape() == x.shape(),
        "batch_norm backward: gradient {:?} does not match the output {:?}",
        g.shape(),
        x.shape()
    );
    let dims = layout("batch_norm backward", x.shape(), [weight, None]);
    let [n, c, s] = dims;
    let g = g.contiguous();
    let (gs, xs) = (
        g.as_slice().expect("contiguous"),
        x.as_slice().expect("contiguous"),
    );
    let (mean, inv_std) = (&saved.mean, &saved.inv_std);
    // Σg and Σg·(x − μ) of each channel.
    let sums: Vec<(T, T)> = if s == 1 {
        let rows = |i: usize| (&gs[i * c..(i + 1) * c], &xs[i * c..(i + 1) * c]);
        let sg = rows_fold(n, c, |i, cols, acc: &mut [T]| {
            for (a, &g) in acc.iter_mut().zip(&rows(i).0[cols]) {
                *a = *a + g;
            }
        });
        let sgx = rows_fold(n, c, |i, cols, acc: &mut [T]| {
            let (g, x) = rows(i);
            let (g, x, mean) = (&g[cols.clone()], &x[cols.clone()], &mean[cols]);
            for (((a, &g), &x), &mu) in acc.iter_mut().zip(g).zip(x).zip(mean) {
                *a = *a + g * (x - mu);
            }
        });
        sg.into_iter().zip(sgx).collect()
    } else {
        per_channel(dims, gs.len(), (T::zero(), T::zero()), |(a, b), ch, r| {
            let (sg, sgx) = gradient_sums(&gs[r.clone()], &xs[r], mean[ch]);
            (a + sg, b + sgx)
        })
    };
    let inv_m = T::one() / T::from_f64_lossy((n * s) as f64);
    let gamma = weight.map_or_else(|| vec![T::one(); c], Tensor::to_vec);
    // ∂L/∂x = p_c·g + q_c·x + r_c with p_c = γ_c·inv_c, q_c = −p_c·inv_c²·Σg(x − μ)/m,
    // r_c = −p_c·Σg/m − q_c·μ_c.
    let (mut p, mut q, mut r) = (vec![T::zero(); c], vec![T::zero(); c], vec![T::zero(); c]);
    for ch in 0..c {
        let ((sg, sgx), inv) = (sums[ch], inv_std[ch]);
        p[ch] = gamma[ch] * inv;
        q[ch] = T::zero() - p[ch] * inv * inv * sgx * inv_m;
        r[ch] = T::zero() - p[ch] * sg * inv_m - q[ch] * mean[ch];
    }
    let mut dx = crate::storage::stale::<T>(gs.len());
    per_image(dims, &mut dx, |i, out| {
        let range = i * c * s..(i + 1) * c * s;
        let (g, x) = (&gs[range.clone()], &xs[range]);
        if s == 1 {
            let coef = p.iter().zip(&q).zip(&r);
            for (((o, &gv), &xv), ((&pc, &qc), &rc)) in out.iter_mut().zip(g).zip(x).zip(coef) {
                *o = pc * gv + qc * xv + rc;
            }
            return;
        }
        let runs = out
            .chunks_exact_mut(s)
            .zip(g.chunks_exact(s))
            .zip(x.chunks_exact(s));
        for (ch, ((o, g), x)) in runs.enumerate() {
            let (pc, qc, rc) = (p[ch], q[ch], r[ch]);
            for ((o, &gv), &xv) in o.iter_mut().zip(g).zip(x) {
                *o = pc * gv + qc * xv + rc;
            }
        }
    });
    BatchNormGrads {
        x: Tensor::from_vec(dx, g.shape()),
        weight: need_weight.then(|| {
            let dw = (0..c).map(|ch| sums[ch].1 * inv_std[ch]).collect();
            Tensor::from_vec(dw, &[c])
        }),
        bias: need_bias.then(|| Tensor::from_vec(sums.iter().map(|s| s.0).collect(), &[c])),
    }
}
