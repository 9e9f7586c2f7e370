//! Fused batch normalisation with batch statistics.

use strata_tensor::Element;
use strata_tensor::batch_norm::{BatchNormStats, batch_norm, batch_norm_backward};

use super::norm::record_affine;
use crate::Var;

impl<T: Element> Var<T> {
    /// Batch normalisation of `x: [N, C, S…]` with the batch's own statistics (one tape node,
    /// fused kernels from `strata_tensor::batch_norm`): over the `m = N·Π S` values of each
    /// channel, `y = γ_c·(x − μ_c)/√(σ²_c + ε) + β_c` with the biased variance `σ²_c`; `γ` and
    /// `β` hold `C` elements (in any shape) or are absent. Also returns the batch statistics
    /// (for running estimates; they carry no gradient).
    ///
    /// Backward, with `x̂ = (x − μ_c)/√(σ²_c + ε)` and sums over each channel:
    /// `∂L/∂x = γ_c/√(σ²_c + ε) · (g − Σg/m − x̂·Σ(g ⊙ x̂)/m)`, `∂L/∂γ_c = Σ g ⊙ x̂`,
    /// `∂L/∂β_c = Σ g`.
    ///
    /// ```
    /// use strata_autograd::Var;
    /// use strata_tensor::Tensor;
    ///
    /// // Two images of one channel: values 1 and 3, μ = 2, σ² = 1.
    /// let x = Var::leaf(Tensor::<f64>::from_vec(vec![1.0, 3.0], &[2, 1]));
    /// let (y, stats) = x.batch_norm(None, None, 1e-5);
    /// let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-4);
    /// assert!(close(&y.value().to_vec(), &[-1.0, 1.0]));
    /// assert!(close(&stats.var.to_vec(), &[1.0]));
    /// ```
    ///
    /// # Panics
    /// If `x` has fewer than two axes, `γ`/`β` do not hold `C` values, or a channel has a
    /// single value.
    pub fn batch_norm(
        &self,
        weight: Option<&Var<T>>,
        bias: Option<&Var<T>>,
        eps: f64,
    ) -> (Var<T>, BatchNormStats<T>) {
        let w = weight.map(|w| w.value().clone());
        let (y, saved, stats) = batch_norm(self.value(), w.as_ref(), bias.map(|b| b.value()), eps);
        let y = record_affine(
            "batch_norm",
            y,
            self,
            weight,
            bias,
            move |g, need_w, need_b| {
                let grads = batch_norm_backward(g, &saved, w.as_ref(), need_w, need_b);
                (grads.x, grads.weight, grads.bias)
            },
        );
        (y, stats)
    }
}
