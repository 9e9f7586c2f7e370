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

/// `f(c, runs)` for every channel, where `runs` yields the channel's `N` contiguous runs of
/// `S` values in `data` (`[N, C, S]`); the results in channel order, computed in parallel over
/// channels when `data` is large.
fn per_channel<T: Element, R: Send>(
    [n, c, s]: [usize; 3],
    data: &[T],
    f: impl Fn(usize, &mut dyn Iterator<Item = std::ops::Range<usize>>) -> R + Sync,
) -> Vec<R> {
    let one = |ch: usize| {
        f(
            ch,
            &mut (0..n).map(move |i| (i * c + ch) * s..(i * c + ch + 1) * s),
        )
    };
    if data.len() >= PARALLEL_ELEMENTS && crate::threads::num_threads() > 1 {
        (0..c).into_par_iter().map(one).collect()
    } else {
        (0..c).map(one).collect()
    }
}

/// `out[i, ch, ·] = f(ch, i, ·)` image by image (`[N, C, S]`), in parallel over images when
/// `out` is large.
fn per_image<T: Element>(
    [_, c, s]: [usize; 3],
    out: &mut [T],
    f: impl Fn(usize, usize, &mut [T]) + Sync,
) {
    let image = |(i, o): (usize, &mut [T])| {
        for (ch, run) in o.chunks_exact_mut(s).enumerate() {
            f(i, ch, run);
        }
    };
    if c * s == 0 {
        return;
    }
    if out.len() >= PARALLEL_ELEMENTS && crate::threads::num_threads() > 1 {
        out.par_chunks_mut(c * s).enumerate().for_each(image);
    } else {
        out.chunks_mut(c * s).enumerate().for_each(image);
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
    // μ and σ² of each channel, two-pass for accuracy.
    let stats = per_channel(dims, xs, |_, runs| {
        let runs: Vec<_> = runs.collect();
        let mean = runs.iter().fold(T::zero(), |a, r| a + sum(&xs[r.clone()])) * inv_m;
        let var = runs.iter().fold(T::zero(), |a, r| {
            a + squared_deviations(&xs[r.clone()], mean)
        }) * inv_m;
        (mean, var)
    });
    let (mean, var): (Vec<T>, Vec<T>) = stats.into_iter().unzip();
    let inv_std: Vec<T> = var.iter().map(|&v| T::one() / (v + eps).sqrt()).collect();
    // y = a_c·x + b_c with a_c = γ_c/√(σ²_c + ε), b_c = β_c − a_c·μ_c.
    let gamma = weight.map_or_else(|| vec![T::one(); c], Tensor::to_vec);
    let beta = bias.map_or_else(|| vec![T::zero(); c], Tensor::to_vec);
    let a: Vec<T> = (0..c).map(|ch| gamma[ch] * inv_std[ch]).collect();
    let b: Vec<T> = (0..c).map(|ch| beta[ch] - a[ch] * mean[ch]).collect();
    let mut y = crate::storage::stale::<T>(xs.len());
    per_image(dims, &mut y, |i, ch, out| {
        let (ac, bc) = (a[ch], b[ch]);
        let src = &xs[(i * c + ch) * s..][..s];
        for (o, &v) in out.iter_mut().zip(src) {
            *o = v * ac + bc;
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
    let sums = per_channel(dims, gs, |ch, runs| {
        runs.fold((T::zero(), T::zero()), |(a, b), r| {
            let (sg, sgx) = gradient_sums(&gs[r.clone()], &xs[r], mean[ch]);
            (a + sg, b + sgx)
        })
    });
    let inv_m = T::one() / T::from_f64_lossy((n * s) as f64);
    let gamma = weight.map_or_else(|| vec![T::one(); c], Tensor::to_vec);
    // ∂L/∂x = p_c·g + q_c·x + r_c with p_c = γ_c·inv_c, q_c = −p_c·inv_c²·Σg(x − μ)/m,
    // r_c = −p_c·Σg/m − q_c·μ_c.
    let coef: Vec<(T, T, T)> = (0..c)
        .map(|ch| {
            let (sg, sgx) = sums[ch];
            let inv = inv_std[ch];
            let p = gamma[ch] * inv;
            let q = T::zero() - p * inv * inv * sgx * inv_m;
            (p, q, T::zero() - p * sg * inv_m - q * mean[ch])
        })
        .collect();
    let mut dx = crate::storage::stale::<T>(gs.len());
    per_image(dims, &mut dx, |i, ch, out| {
        let (p, q, r) = coef[ch];
        let start = (i * c + ch) * s;
        let (gr, xr) = (&gs[start..start + s], &xs[start..start + s]);
        for ((o, &gv), &xv) in out.iter_mut().zip(gr).zip(xr) {
            *o = p * gv + q * xv + r;
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
