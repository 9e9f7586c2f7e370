//! Flattening as a layer.

use strata_autograd::Var;
use strata_tensor::Element;

use crate::{Module, module_parts};

/// Flattens `[N, d₁, d₂, …]` to `[N, d₁·d₂·…]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl<T: Element> Module<T> for Flatten {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(x.flatten_from(1), &*self)
    }
    module_parts!(T);

    /// The settings, as `Debug` prints them.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Unflattens `[N, d]` to `[N, s₁, s₂, …]` with `s₁·s₂·… = d` (PyTorch `nn.Unflatten(1, s)`):
/// e.g. a generator's `Linear` output to feature maps. No copy for contiguous input.
#[derive(Clone, Debug)]
pub struct Unflatten {
    shape: Vec<usize>,
}

impl Unflatten {
    /// Reshapes every example to `shape`.
    ///
    /// # Panics
    /// If `shape` is empty or has a zero.
    pub fn new(shape: &[usize]) -> Self {
        assert!(
            !shape.is_empty() && !shape.contains(&0),
            "Unflatten: the shape must be non-empty without zeros, got {shape:?}"
        );
        Unflatten {
            shape: shape.to_vec(),
        }
    }
}

impl Unflatten {
    /// The shape each example takes.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

impl<T: Element> Module<T> for Unflatten {
    /// # Panics
    /// If an example's size is not the product of the shape.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let n = x.shape()[0];
        let per: usize = x.shape()[1..].iter().product();
        let want: usize = self.shape.iter().product();
        assert_eq!(
            per,
            want,
            "Unflatten: input {:?} has {per} values per example, the shape {:?} holds {want}",
            x.shape(),
            self.shape
        );
        let mut shape = vec![n];
        shape.extend(&self.shape);
        crate::record_output(x.reshape(&shape), &*self)
    }
    module_parts!(T);

    /// The settings, as `Debug` prints them.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}
