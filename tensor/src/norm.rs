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

/// What [`layer_norm`] keeps for its backward: `x̂` (the input's shape) and `1/√(σ² + ε)` per
/// row.
#[derive(Clone, Debug)]
pub struct LayerNormSaved<T: Element> {
    /// The normalised input `x̂`.
    pub normalized: Tensor<T>,
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

/// Runs `f(first_row, rows of out, rows of a, rows of b)` over blocks of `d`-element rows, in
/// parallel when the tensor is large.
fn for_row_blocks<T: Element>(
    d: usize,
    out: &mut [T],
    a: &[T],
    b: &[T],
    f: impl Fn(usize, &mut [T], &[T], &[T]) + Sync,
) {
    let rows_per = BLOCK_ELEMENTS.div_ceil(d).max(1);
    let block = rows_per * d;
    if out.len() >= 2 * block && crate::threads::num_threads() > 1 {
        out.par_chunks_mut(block)
            .zip(a.par_chunks(block).zip(b.par_chunks(block)))
            .enumerate()
            .for_each(|(i, (o, (a, b)))| f(i * rows_per, o, a, b));
    } else {
        f(0, out, a, b);
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
    let rows = xs.len() / d;
    let (w, b) = (weight.map(Tensor::to_vec), bias.map(Tensor::to_vec));
    let eps = T::from_f64_lossy(eps);
    let inv_d = T::one() / T::from_f64_lossy(d as f64);
    let mut inv_std = crate::storage::zeroed::<T>(rows);
    // Pass 1, per row: the statistics and x̂.
    let mut xhat = crate::storage::stale::<T>(xs.len());
    {
        let stats: Vec<T> = xs
            .chunks_exact(d)
            .zip(inv_std.iter_mut())
            .map(|(row, s)| {
                let mean = row.iter().fold(T::zero(), |acc, &v| acc + v) * inv_d;
                let var = row
                    .iter()
                    .fold(T::zero(), |acc, &v| acc + (v - mean) * (v - mean))
                    * inv_d;
                *s = T::one() / (var + eps).sqrt();
                mean
            })
            .collect();
        let inv_std = &inv_std;
        for_row_blocks(d, &mut xhat, xs, xs, |first, out, x, _| {
            for (r, (o, x)) in out.chunks_exact_mut(d).zip(x.chunks_exact(d)).enumerate() {
                let (mean, s) = (stats[first + r], inv_std[first + r]);
                o.iter_mut().zip(x).for_each(|(o, &v)| *o = (v - mean) * s);
            }
        });
    }
    // Pass 2: the affine part.
    let mut y = crate::storage::stale::<T>(xs.len());
    let ones = vec![T::one(); if w.is_none() { d } else { 0 }];
    let zeros = vec![T::zero(); if b.is_none() { d } else { 0 }];
    let (gamma, beta) = (
        w.as_deref().unwrap_or(&ones),
        b.as_deref().unwrap_or(&zeros),
    );
    for_row_blocks(d, &mut y, &xhat, &xhat, |_, out, xh, _| {
        for (o, xh) in out.chunks_exact_mut(d).zip(xh.chunks_exact(d)) {
            for j in 0..d {
                o[j] = gamma[j] * xh[j] + beta[j];
            }
        }
    });
    let saved = LayerNormSaved {
        normalized: Tensor::from_vec(xhat, x.shape()),
        inv_std,
    };
    (Tensor::from_vec(y, x.shape()), saved)
}

/// The backward of [`layer_norm`] from the output gradient `g` (the input's shape): with
/// `ĝ = g ⊙ γ`, `∂L/∂x = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / √(σ² + ε)` per row,
/// `∂L/∂γ = Σ_rows g ⊙ x̂`, `∂L/∂β = Σ_rows g`; the parameter gradients only when asked for.
///
/// # Panics
/// If `g` does not have the shape of the saved `x̂`.
pub fn layer_norm_backward<T: Element>(
    g: &Tensor<T>,
    saved: &LayerNormSaved<T>,
    weight: Option<&Tensor<T>>,
    need_weight: bool,
    need_bias: bool,
) -> LayerNormGrads<T> {
    let xhat = &saved.normalized;
    assert!(
        g.shape() == xhat.shape(),
        "layer_norm backward: gradient {:?} does not match the output {:?}",
        g.shape(),
        xhat.shape()
    );
    let rows = saved.inv_std.len();
    let d = xhat.numel() / rows.max(1);
    check("layer_norm backward", xhat, d, weight, "weight");
    let g = g.contiguous();
    let (gs, xs) = (
        g.as_slice().expect("contiguous"),
        xhat.as_slice().expect("contiguous"),
    );
    let w = weight.map(Tensor::to_vec);
    let inv_d = T::one() / T::from_f64_lossy(d as f64);
    let inv_std = &saved.inv_std;
    let mut dx = crate::storage::stale::<T>(gs.len());
    for_row_blocks(d, &mut dx, gs, xs, |first, out, g, xh| {
        let mut gw = vec![T::zero(); d];
        for (r, ((o, g), xh)) in out
            .chunks_exact_mut(d)
            .zip(g.chunks_exact(d))
            .zip(xh.chunks_exact(d))
            .enumerate()
        {
            match &w {
                Some(w) => gw
                    .iter_mut()
                    .zip(g)
                    .zip(w)
                    .for_each(|((o, &g), &w)| *o = g * w),
                None => gw.copy_from_slice(g),
            }
            let (mut sum, mut dot) = (T::zero(), T::zero());
            for j in 0..d {
                sum = sum + gw[j];
                dot = dot + gw[j] * xh[j];
            }
            let (mean_g, mean_gx) = (sum * inv_d, dot * inv_d);
            let s = inv_std[first + r];
            for j in 0..d {
                o[j] = (gw[j] - mean_g - xh[j] * mean_gx) * s;
            }
        }
    });
    let column_sums = |weighted: bool| {
        let mut acc = vec![T::zero(); d];
        for (g, xh) in gs.chunks_exact(d).zip(xs.chunks_exact(d)) {
            if weighted {
                for j in 0..d {
                    acc[j] = acc[j] + g[j] * xh[j];
                }
            } else {
                for j in 0..d {
                    acc[j] = acc[j] + g[j];
                }
            }
        }
        acc
    };
    LayerNormGrads {
        x: Tensor::from_vec(dx, g.shape()),
        weight: need_weight.then(|| Tensor::from_vec(column_sums(true), &[d])),
        bias: need_bias.then(|| Tensor::from_vec(column_sums(false), &[d])),
    }
}
