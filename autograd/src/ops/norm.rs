//! Fused layer normalisation, and the tape node shared by the fused normalisations.

use strata_tensor::norm::{layer_norm, layer_norm_backward};
use strata_tensor::{Element, Tensor};

use crate::Var;

impl<T: Element> Var<T> {
    /// Layer normalisation over the last `d` elements of each row (one tape node, fused
    /// kernels from `strata_tensor::norm`):
    /// `y = γ ⊙ (x − μ)/√(σ² + ε) + β` with the row's mean `μ` and biased variance `σ²`;
    /// `γ` and `β` hold `d` elements (in any shape) or are absent.
    ///
    /// Backward, with `x̂ = (x − μ)/√(σ² + ε)` and `ĝ = g ⊙ γ`:
    /// `∂L/∂x = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂))/√(σ² + ε)`, `∂L/∂γ = Σ_rows g ⊙ x̂`,
    /// `∂L/∂β = Σ_rows g`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// let x = Var::leaf(Tensor::<f64>::from_vec(vec![1.0, 3.0], &[1, 2]));
    /// let y = x.layer_norm(2, None, None, 1e-5); // μ = 2, σ² = 1
    /// let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-4);
    /// assert!(close(&y.value().to_vec(), &[-1.0, 1.0]));
    /// // A normalised row sums to zero whatever x is, so Σ y does not depend on x.
    /// assert!(close(&y.sum().backward().wrt(&x).unwrap().to_vec(), &[0.0, 0.0]));
    /// ```
    ///
    /// # Panics
    /// If the input does not split into rows of `d` elements or `γ`/`β` do not hold `d`.
    pub fn layer_norm(
        &self,
        d: usize,
        weight: Option<&Var<T>>,
        bias: Option<&Var<T>>,
        eps: f64,
    ) -> Var<T> {
        let w = weight.map(|w| w.value().clone());
        let (y, saved) = layer_norm(self.value(), d, w.as_ref(), bias.map(|b| b.value()), eps);
        record_affine(
            "layer_norm",
            y,
            self,
            weight,
            bias,
            move |g, need_w, need_b| {
                let grads = layer_norm_backward(g, &saved, w.as_ref(), need_w, need_b);
                (grads.x, grads.weight, grads.bias)
            },
        )
    }
}

/// Records the normalisation `y` of `x` with the optional affine parameters `γ` (`weight`) and
/// `β` (`bias`) as one tape node. `backward(g, need_γ, need_β)` returns `∂L/∂x` and the
/// parameter gradients asked for, flattened; they are given back the parameters' shapes.
pub(super) fn record_affine<T: Element>(
    op: &'static str,
    y: Tensor<T>,
    x: &Var<T>,
    weight: Option<&Var<T>>,
    bias: Option<&Var<T>>,
    backward: impl FnOnce(&Tensor<T>, bool, bool) -> AffineGrads<T> + 'static,
) -> Var<T> {
    let mut parents = vec![x];
    let w_shape = weight.map(|w| w.shape().to_vec());
    let b_shape = bias.map(|b| b.shape().to_vec());
    parents.extend(weight);
    parents.extend(bias);
    Var::record(op, y, &parents, move |g, needs| {
        let need_w = w_shape.is_some() && needs[1];
        let need_b = b_shape.is_some() && needs[needs.len() - 1];
        let (dx, dw, db) = backward(g, need_w, need_b);
        let mut out = vec![needs[0].then_some(dx)];
        if let Some(shape) = &w_shape {
            out.push(dw.map(|t| t.reshape(shape)));
        }
        if let Some(shape) = &b_shape {
            out.push(db.map(|t| t.reshape(shape)));
        }
        out
    })
}

/// `(∂L/∂x, ∂L/∂γ, ∂L/∂β)`, the parameter gradients when asked for.
pub(super) type AffineGrads<T> = (Tensor<T>, Option<Tensor<T>>, Option<Tensor<T>>);
