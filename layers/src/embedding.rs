//! Embedding tables: integer indices → learned vectors.

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::{Init, Module};

/// A lookup table of `num_embeddings` learned vectors of size `embedding_dim`:
/// `y[…, :] = weight[idx[…], :]`, so indices of shape `S` give `y: S + [embedding_dim]`.
/// `weight: [num_embeddings, embedding_dim]`, initialised N(0, 1) (PyTorch's `nn.Embedding`
/// default). The gradient of a row is the sum of the output gradients of every position that
/// looked it up.
///
/// With a `padding_idx` (see [`Embedding::with_padding_idx`]) that row starts at zeros and
/// never receives a gradient, as in PyTorch, so it stays whatever it is (zeros unless set).
///
/// Indices are `usize`s given to [`Embedding::lookup`]; [`Module::forward`] also accepts them
/// as a `Var` whose values are integers (`0.0, 1.0, …`), so an `Embedding` can open a
/// [`crate::Sequential`] (in `f32`, indices up to 2²⁴ are exact).
///
/// ```
/// use strata_layers::{Embedding, Module};
///
/// let emb = Embedding::<f32>::new(10, 3);
/// let y = emb.lookup(&[1, 4, 1, 0, 9, 2], &[2, 3]);
/// assert_eq!(y.shape(), &[2, 3, 3]);
/// assert_eq!(y.value().get(&[0, 2, 1]), emb.weight.value().get(&[1, 1]));
/// ```
pub struct Embedding<T: Element = f32> {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Param<T>,
    padding_idx: Option<usize>,
}

impl<T: Element> Embedding<T> {
    /// A table of `num_embeddings` vectors of `embedding_dim`, weights ~ N(0, 1).
    ///
    /// # Panics
    /// If either size is 0.
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Self {
        assert!(
            num_embeddings > 0 && embedding_dim > 0,
            "Embedding: sizes must be positive, got {num_embeddings} embeddings of dimension {embedding_dim}"
        );
        Embedding {
            weight: Param::new(
                Init::Normal {
                    mean: 0.0,
                    std: 1.0,
                }
                .fill(&[num_embeddings, embedding_dim]),
            ),
            padding_idx: None,
        }
    }

    /// A table holding `weight: [num_embeddings, embedding_dim]` (PyTorch's
    /// `Embedding.from_pretrained` with `freeze=False`; call `weight.set_requires_grad(false)`
    /// to freeze it).
    ///
    /// # Panics
    /// If `weight` is not 2-D with positive sizes.
    pub fn from_pretrained(weight: Tensor<T>) -> Self {
        assert!(
            weight.ndim() == 2 && weight.numel() > 0,
            "Embedding: a pretrained table must be [num_embeddings, embedding_dim], got {:?}",
            weight.shape()
        );
        Embedding {
            weight: Param::new(weight.contiguous()),
            padding_idx: None,
        }
    }

    /// Makes row `padding_idx` a padding entry: it is set to zeros now and gets no gradient.
    ///
    /// # Panics
    /// If `padding_idx ≥ num_embeddings`.
    pub fn with_padding_idx(mut self, padding_idx: usize) -> Self {
        let (num, dim) = (self.num_embeddings(), self.embedding_dim());
        assert!(
            padding_idx < num,
            "Embedding: padding_idx {padding_idx} is out of range for {num} embeddings"
        );
        let mut w = self.weight.value().to_vec();
        w[padding_idx * dim..(padding_idx + 1) * dim].fill(T::zero());
        self.weight.set(Tensor::from_vec(w, &[num, dim]));
        self.padding_idx = Some(padding_idx);
        self
    }

    /// The padding row, if any.
    pub fn padding_idx(&self) -> Option<usize> {
        self.padding_idx
    }

    /// `num_embeddings`, the number of rows.
    pub fn num_embeddings(&self) -> usize {
        self.weight.shape()[0]
    }

    /// `embedding_dim`, the size of each vector.
    pub fn embedding_dim(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The vectors of `indices` (row-major, of logical shape `shape`): `y: shape + [dim]`.
    ///
    /// # Panics
    /// If `indices.len() ≠ Π shape` or an index is `≥ num_embeddings`.
    pub fn lookup(&self, indices: &[usize], shape: &[usize]) -> Var<T> {
        let count: usize = shape.iter().product();
        assert_eq!(
            indices.len(),
            count,
            "Embedding: {} indices do not fill shape {shape:?}",
            indices.len()
        );
        let num = self.num_embeddings();
        if let Some(&bad) = indices.iter().find(|&&i| i >= num) {
            panic!("Embedding: index {bad} is out of range for {num} embeddings");
        }
        let dim = self.embedding_dim();
        let rows = self.weight.var().index_select(0, indices);
        let rows = match self.padding_idx {
            Some(pad) if rows.requires_grad() && indices.contains(&pad) => {
                // Padding positions read a constant copy of their row: same value, no gradient.
                let keep: Vec<T> = indices
                    .iter()
                    .map(|&i| if i == pad { T::zero() } else { T::one() })
                    .collect();
                let keep = Tensor::from_vec(keep, &[indices.len(), 1]);
                let frozen = rows.value().mul(&keep.rsub_scalar(T::one()));
                rows.mul_tensor(&keep).add_tensor(&frozen)
            }
            _ => rows,
        };
        let mut out_shape = shape.to_vec();
        out_shape.push(dim);
        rows.reshape(&out_shape)
    }
}

impl<T: Element> Module<T> for Embedding<T> {
    /// Looks up the indices held as the values of `x` (any shape `S`, values `0.0, 1.0, …`):
    /// `y: S + [embedding_dim]`. No gradient flows to `x`.
    ///
    /// # Panics
    /// If a value of `x` is not a non-negative integer or is `≥ num_embeddings`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let num = self.num_embeddings();
        let indices: Vec<usize> = x
            .value()
            .to_vec()
            .into_iter()
            .map(|v| {
                let f = v.to_f64_lossless();
                assert!(
                    f.is_finite() && f >= 0.0 && f.fract() == 0.0,
                    "Embedding: index {f} is not a non-negative integer"
                );
                assert!(
                    f < num as f64,
                    "Embedding: index {f} is out of range for {num} embeddings"
                );
                f as usize
            })
            .collect();
        crate::record_output(self.lookup(&indices, x.shape()), &*self)
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        vec![("weight".to_string(), &self.weight)]
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        vec![("weight".to_string(), &mut self.weight)]
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
