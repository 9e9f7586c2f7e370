//! Fused layer normalisation: one pass for the statistics and one for the output, and the
//! closed-form backward, instead of the eight broadcasting ops (and their backward graphs) it
//! takes when composed.
//!
//! Over each row `x` of the last `D` elements: `μ = mean(x)`, `σ² = mean((x − μ)²)` (biased),
//! `x̂ = (x − μ)/√(σ² + ε)`, `y = γ ⊙ x̂ + β`.

use rayon::prelude::*;

use crate::{Element, Tensor};

/// Rows per parallel work item of at least this many elements.
const BLOCK_ELEMENTS: usize = 1 << 14;

/// What [`layer_norm`] keeps for its backward: the input and each row's `μ` and
/// `1/√(σ² + ε)`, from which `x̂` is recomputed row by row.
#[derive(Clone, Debug)]
pub struct LayerNormSaved<T: Element> {
    /// The input `x` (contiguous).
    pub input: Tensor<T>,
    /// `μ` of each row.
    pub mean: Vec<T>,
    /// `1/√(σ² + ε)` of each row.
    pub inv_std: Vec<T>,
}

/// The gradients of [`layer_norm_backward`].
#[derive(Clone, Debug)]
pub struct LayerNormGrads<T: Element> {
    /// `∂L/∂x`, the input's shape.
    pub x: Tensor<T>,
    /// `∂L/∂γ = Σ_rows g ⊙ x̂` (flattened to `[D]`), when asked for.
    pub weight: Option<Tensor<T>>,
    /// `∂L/∂β = Σ_rows g` (`[D]`), when asked for.
    pub bias: Option<Tensor<T>>,
}

fn check<T: Element>(op: &str, x: &Tensor<T>, d: usize, param: Option<&Tensor<T>>, what: &str) {
    assert!(
        d > 0 && x.numel().is_multiple_of(d),
        "{op}: input {:?} does not split into rows of {d} elements",
        x.shape()
    );
    if let Some(p) = param {
        assert!(
            p.numel() == d,
            "{op}: {what} {:?} does not have the {d} elements of a row",
            p.shape()
        );
    }
}

/// Rows per parallel work item, and whether `len` elements are worth splitting at all.
fn blocking(d: usize, len: usize) -> (usize, bool) {
    let rows_per = BLOCK_ELEMENTS.div_ceil(d).max(1);
    (
        rows_per,
        len >= 2 * rows_per * d && crate::threads::num_threads() > 1,
    )
}

/// Runs `f(first_row, out_rows)` over blocks of whole `d`-element rows of `out`, in parallel
/// when `out` is large.
fn for_row_blocks<T: Element>(d: usize, out: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    let (rows_per, parallel) = blocking(d, out.len());
    if parallel {
        out.par_chunks_mut(rows_per * d)
            .enumerate()
            .for_each(|(i, o)| f(i * rows_per, o));
    } else {
        f(0, out);
    }
}

/// Layer normalisation of every `d`-element row of `x` (the last dimensions, e.g. `[N, T, D]`
/// with `d = D`): `y = γ ⊙ (x − μ)/√(σ² + ε) + β`, with `γ`, `β` of `d` elements (any shape)
/// or absent. Returns `y` (the shape of `x`) and what the backward needs.
///
/// # Panics
/// If `x` does not split into rows of `d`, or `γ`/`β` do not have `d` elements.
pub fn layer_norm<T: Element>(
    x: &Tensor<T>,
    d: usize,
    weight: Option<&Tensor<T>>,
    bias: Option<&Tensor<T>>,
    eps: f64,
) -> (Tensor<T>, LayerNormSaved<T>) {
    check("layer_norm", x, d, weight, "weight");
    check("layer_norm", x, d, bias, "bias");
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    let (eps, inv_d) = (
        T::from_f64_lossy(eps),
        T::one() / T::from_f64_lossy(d as f64),
    );
    // Pass 1: (μ, 1/√(σ² + ε)) of each row, two-pass within the row for accuracy.
    let row_stats = |row: &[T]| {
        let mean = row.iter().fold(T::zero(), |acc, &v| acc + v) * inv_d;
        let var = row
            .iter()
            .fold(T::zero(), |acc, &v| acc + (v - mean) * (v - mean))
            * inv_d;
        (mean, T::one() / (var + eps).sqrt())
    };
    let (rows_per, parallel) = blocking(d, xs.len());
    let (mean, inv_std): (Vec<T>, Vec<T>) = if parallel {
        xs.par_chunks(d)
            .with_min_len(rows_per)
            .map(row_stats)
            .unzip()
    } else {
        xs.chunks(d).map(row_stats).unzip()
    };
    // Pass 2: y = γ ⊙ x̂ + β (γ = 1, β = 0 when absent).
    let gamma = weight.map_or_else(|| vec![T::one(); d], Tensor::to_vec);
    let beta = bias.map_or_else(|| vec![T::zero(); d], Tensor::to_vec);
    let mut y = crate::storage::stale::<T>(xs.len());
    for_row_blocks(d, &mut y, |first, out| {
        let rows = xs[first * d..].chunks_exact(d);
        for (r, (o, x)) in out.chunks_exact_mut(d).zip(rows).enumerate() {
            let (m, s) = (mean[first + r], inv_std[first + r]);
            for j in 0..d {
                o[j] = gamma[j] * ((x[j] - m) * s) + beta[j];
            }
        }
    });
    let y = Tensor::from_vec(y, x.shape());
    let saved = LayerNormSaved {
        input: x,
        mean,
        inv_std,
    };
    (y, saved)
}

/// The backward of [`layer_norm`] from the output gradient `g` (the input's shape): with
/// `ĝ = g ⊙ γ`, `∂L/∂x = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / √(σ² + ε)` per row,
/// `∂L/∂γ = Σ_rows g ⊙ x̂`, `∂L/∂β = Σ_rows g`; the parameter gradients only when asked for.
///
/// # Panics
/// If `g` does not have the shape of the saved input.
pub fn layer_norm_backward<T: Element>(
    g: &Tensor<T>,
    saved: &LayerNormSaved<T>,
    weight: Option<&Tensor<T>>,
    need_weight: bool,
    need_bias: bool,
) -> LayerNormGrads<T> {
    let x = &saved.input;
    assert!(
        g.shape() == x.shape(),
        "layer_norm backward: gradient {:?} does not match the output {:?}",
        g.shape(),
        x.shape()
    );
    let rows = saved.inv_std.len();
    let d = x.numel() / rows.max(1);
    check("layer_norm backward", x, d, weight, "weight");
    let g = g.contiguous();
    let (gs, xs) = (
        g.as_slice().expect("contiguous"),
        x.as_slice().expect("contiguous"),
    );
    let w = weight.map(Tensor::to_vec);
    let inv_d = T::one() / T::from_f64_lossy(d as f64);
    let (mean, inv_std) = (&saved.mean, &saved.inv_std);
    let mut dx = crate::storage::stale::<T>(gs.len());
    for_row_blocks(d, &mut dx, |first, out| {
        let (mut gw, mut xh) = (vec![T::zero(); d], vec![T::zero(); d]);
        let rows = gs[first * d..]
            .chunks_exact(d)
            .zip(xs[first * d..].chunks_exact(d));
        for (r, (o, (g, x))) in out.chunks_exact_mut(d).zip(rows).enumerate() {
            let (m, s) = (mean[first + r], inv_std[first + r]);
            let (mut sum, mut dot) = (T::zero(), T::zero());
            for j in 0..d {
                xh[j] = (x[j] - m) * s;
                gw[j] = w.as_ref().map_or(g[j], |w| g[j] * w[j]);
                sum = sum + gw[j];
                dot = dot + gw[j] * xh[j];
            }
            let (mean_g, mean_gx) = (sum * inv_d, dot * inv_d);
            for j in 0..d {
                o[j] = (gw[j] - mean_g - xh[j] * mean_gx) * s;
            }
        }
    });
    // Parameter gradients: column sums over the rows.
    let (mut dw, mut db) = (vec![T::zero(); d], vec![T::zero(); d]);
    if need_weight || need_bias {
        for (r, (g, x)) in gs.chunks_exact(d).zip(xs.chunks_exact(d)).enumerate() {
            let (m, s) = (mean[r], inv_std[r]);
            for j in 0..d {
                dw[j] = dw[j] + g[j] * (x[j] - m) * s;
                db[j] = db[j] + g[j];
            }
        }
    }
    LayerNormGrads {
        x: Tensor::from_vec(dx, g.shape()),
        weight: need_weight.then(|| Tensor::from_vec(dw, &[d])),
        bias: need_bias.then(|| Tensor::from_vec(db, &[d])),
    }
}
