//! Residual (skip) connections.

use strata_autograd::Var;
use strata_tensor::Element;

use crate::{Module, module_parts};

/// A residual connection around any module `f` (He et al. 2016): `y = x + f(x)`.
///
/// `f` must keep the shape: `x: S` → `f(x): S` → `y: S`. The wrapped module is the child
/// `inner`, so its parameters are named `inner.weight`, `inner.0.bias`, …; buffers, training
/// mode and reseeding pass through to it.
///
/// ```
/// use strata_layers::{Linear, Module, Residual};
/// use strata_tensor::Tensor;
///
/// let mut block = Residual::new(Linear::<f32>::new(4, 4));
/// assert_eq!(block.params()[0].0, "inner.weight");
/// let y = block.predict(&Tensor::ones(&[2, 4]));
/// assert_eq!(y.shape(), &[2, 4]);
/// ```
pub struct Residual<M> {
    /// The wrapped module `f`.
    pub inner: M,
}

impl<M> Residual<M> {
    /// `y = x + inner(x)`.
    pub fn new(inner: M) -> Self {
        Residual { inner }
    }
}

impl<T: Element, M: Module<T> + 'static> Module<T> for Residual<M> {
    /// `y = x + inner(x)`.
    ///
    /// # Panics
    /// If `inner` changes the shape.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let fx = self.inner.forward(x);
        assert_eq!(
            fx.shape(),
            x.shape(),
            "Residual: the inner module maps {:?} to {:?}; x + f(x) needs the same shape",
            x.shape(),
            fx.shape()
        );
        crate::record_output(x.add(&fx), &*self)
    }
    module_parts!(T; children: [inner]);
}
