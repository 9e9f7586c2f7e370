//! Gradient clipping: by global norm ([`clip_grad_norm`], [`clip_grad_norm_p`]) and by value
//! ([`clip_grad_value`]), with PyTorch's `clip_grad_norm_` / `clip_grad_value_` semantics.
//!
//! Clipping acts on a [`Grads`] value before it is handed to an optimizer, and covers every
//! gradient it holds.

use strata_autograd::Grads;
use strata_tensor::{Element, Tensor};

/// The p-norm of all gradients taken together, accumulated in `f64`.
fn total_norm<T: Element>(grads: &Grads<T>, norm_type: f64) -> f64 {
    let mut acc = 0.0f64;
    for (_, g) in grads.iter() {
        let owned;
        let values: &[T] = match g.as_slice() {
            Some(s) => s,
            None => {
                owned = g.to_vec();
                &owned
            }
        };
        if norm_type == f64::INFINITY {
            acc = values
                .iter()
                .map(|x| x.to_f64_lossless().abs())
                .fold(acc, |a, x| if x > a || x.is_nan() { x } else { a });
        } else if norm_type == 2.0 {
            acc += values
                .iter()
                .map(|x| {
                    let x = x.to_f64_lossless();
                    x * x
                })
                .sum::<f64>();
        } else if norm_type == 1.0 {
            acc += values
                .iter()
                .map(|x| x.to_f64_lossless().abs())
                .sum::<f64>();
        } else {
            acc += values
                .iter()
                .map(|x| x.to_f64_lossless().abs().powf(norm_type))
                .sum::<f64>();
        }
    }
    if norm_type == f64::INFINITY {
        acc
    } else if norm_type == 2.0 {
        acc.sqrt()
    } else if norm_type == 1.0 {
        acc
    } else {
        acc.powf(1.0 / norm_type)
    }
}

/// Clips gradients by their global L2 norm, as PyTorch's `clip_grad_norm_(…, norm_type=2)`:
///
/// ```text
/// n     = √(Σ_tensors Σ_i g_i²)              (every gradient in `grads`, any shapes)
/// c     = max_norm / (n + 1e-6)
/// g_i  ← g_i · c                             for every gradient, when c < 1
/// ```
///
/// Returns n, the norm *before* clipping. If n is not finite the gradients are scaled by a
/// non-finite factor (PyTorch's behaviour without `error_if_nonfinite`): check the returned
/// norm to detect a diverged step.
///
/// # Panics
/// If `max_norm` is negative or NaN.
pub fn clip_grad_norm<T: Element>(grads: &mut Grads<T>, max_norm: f64) -> f64 {
    clip_grad_norm_p(grads, max_norm, 2.0)
}

/// Clips gradients by their global p-norm, as PyTorch's `clip_grad_norm_(…, norm_type=p)`:
///
/// ```text
/// n     = (Σ_tensors Σ_i |g_i|ᵖ)^(1/p)        (max_i |g_i| for p = ∞)
/// c     = max_norm / (n + 1e-6)
/// g_i  ← g_i · c                             for every gradient, when c < 1
/// ```
///
/// Returns n, the norm before clipping (see [`clip_grad_norm`] about non-finite norms).
///
/// # Panics
/// If `max_norm` is negative or NaN, or `norm_type` is not positive (`f64::INFINITY` is
/// allowed).
pub fn clip_grad_norm_p<T: Element>(grads: &mut Grads<T>, max_norm: f64, norm_type: f64) -> f64 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: max_norm must be ≥ 0, got {max_norm}"
    );
    assert!(
        norm_type > 0.0,
        "clip_grad_norm: norm_type must be > 0 (or infinity), got {norm_type}"
    );
    if grads.is_empty() {
        return 0.0;
    }
    let norm = total_norm(grads, norm_type);
    let coef = max_norm / (norm + 1e-6);
    // PyTorch clamps the coefficient at 1 (a NaN coefficient stays NaN).
    if coef < 1.0 || coef.is_nan() {
        let c = T::from_f64_lossy(coef);
        for (_, g) in grads.iter_mut() {
            scale(g, c);
        }
    }
    norm
}

fn scale<T: Element>(g: &mut Tensor<T>, c: T) {
    g.as_mut_slice().iter_mut().for_each(|x| *x = *x * c);
}

/// Clamps every gradient element into `[−clip_value, clip_value]`, as PyTorch's
/// `clip_grad_value_`: `g_i ← min(max(g_i, −clip_value), clip_value)`. NaNs stay NaN.
///
/// # Panics
/// If `clip_value` is negative or NaN.
pub fn clip_grad_value<T: Element>(grads: &mut Grads<T>, clip_value: f64) {
    assert!(
        clip_value >= 0.0,
        "clip_grad_value: clip_value must be ≥ 0, got {clip_value}"
    );
    let hi = T::from_f64_lossy(clip_value);
    let lo = -hi;
    for (_, g) in grads.iter_mut() {
        g.as_mut_slice().iter_mut().for_each(|x| {
            if *x > hi {
                *x = hi
            } else if *x < lo {
                *x = lo
            }
        });
    }
}
