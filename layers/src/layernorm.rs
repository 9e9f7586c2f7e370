//! Layer normalisation (Ba, Kiros & Hinton 2016).

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::{Module, module_parts};

/// Layer normalisation over the last `k` dimensions, `normalized_shape = [d₁, …, d_k]`: for
/// each leading index, with `μ` and the *biased* variance `σ²` taken over those `Π dᵢ` values,
///
/// `y = γ ⊙ (x − μ)/√(σ² + ε) + β`
///
/// `x: [.., d₁, …, d_k]` → `y` of the same shape; `weight` (γ) and `bias` (β) have shape
/// `normalized_shape`. Defaults match PyTorch's `nn.LayerNorm`: `ε = 1e-5`, elementwise affine
/// with γ = 1 and β = 0. Unlike batch norm, it behaves the same in training and evaluation and
/// keeps no buffers. The forward pass is one fused op ([`Var::layer_norm`]).
///
/// ```
/// use strata_layers::{LayerNorm, Module};
/// use strata_tensor::Tensor;
///
/// let mut ln = LayerNorm::<f64>::new(&[2]);
/// let y = ln.predict(&Tensor::from_vec(vec![1.0, 3.0], &[1, 2]));
/// let s = 1.0 / (1.0f64 + 1e-5).sqrt();
/// assert!(y.allclose(&Tensor::from_vec(vec![-s, s], &[1, 2]), 1e-12, 1e-12));
/// ```
pub struct LayerNorm<T: Element = f32> {
    /// γ, shape `normalized_shape` (`None` without elementwise affine).
    pub weight: Option<Param<T>>,
    /// β, shape `normalized_shape` (`None` without elementwise affine or after
    /// [`LayerNorm::without_bias`]).
    pub bias: Option<Param<T>>,
    normalized_shape: Vec<usize>,
    eps: f64,
}

impl<T: Element> LayerNorm<T> {
    /// Normalises over the trailing dimensions `normalized_shape`, `ε = 1e-5`, with γ = 1 and
    /// β = 0.
    ///
    /// # Panics
    /// If `normalized_shape` is empty or has a zero dimension.
    pub fn new(normalized_shape: &[usize]) -> Self {
        assert!(
            !normalized_shape.is_empty() && normalized_shape.iter().all(|&d| d > 0),
            "LayerNorm: normalized_shape must be non-empty with positive dimensions, got {normalized_shape:?}"
        );
        LayerNorm {
            weight: Some(Param::new(Tensor::ones(normalized_shape))),
            bias: Some(Param::new(Tensor::zeros(normalized_shape))),
            normalized_shape: normalized_shape.to_vec(),
            eps: 1e-5,
        }
    }

    /// Sets `ε`.
    ///
    /// # Panics
    /// If `eps` is not positive and finite.
    pub fn with_eps(mut self, eps: f64) -> Self {
        assert!(
            eps > 0.0 && eps.is_finite(),
            "LayerNorm: eps must be positive and finite, got {eps}"
        );
        self.eps = eps;
        self
    }

    /// Drops γ and β (PyTorch's `elementwise_affine=False`).
    pub fn without_affine(mut self) -> Self {
        self.weight = None;
        self.bias = None;
        self
    }

    /// Drops β only (PyTorch's `bias=False`).
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// The normalised trailing shape.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }

    /// `ε`.
    pub fn eps(&self) -> f64 {
        self.eps
    }
}

impl<T: Element> Module<T> for LayerNorm<T> {
    /// `y = γ ⊙ (x − μ)/√(σ² + ε) + β` over the trailing `normalized_shape`.
    ///
    /// # Panics
    /// If the input's trailing dimensions are not `normalized_shape`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let k = self.normalized_shape.len();
        let shape = x.shape();
        assert!(
            shape.len() >= k && shape[shape.len() - k..] == self.normalized_shape[..],
            "LayerNorm: input {shape:?} does not end in normalized_shape {:?}",
            self.normalized_shape
        );
        let d = self.normalized_shape.iter().product();
        let (w, b) = (
            self.weight.as_ref().map(Param::var),
            self.bias.as_ref().map(Param::var),
        );
        crate::record_output(x.layer_norm(d, w.as_ref(), b.as_ref(), self.eps), &*self)
    }

    /// `LayerNorm(eps=0.00001)`.
    fn describe(&self) -> String {
        format!("LayerNorm(eps={})", self.eps)
    }
    module_parts!(T; optional: [weight, bias]);
}
