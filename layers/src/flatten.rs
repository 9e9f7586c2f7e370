//! Flattening as a layer.

use strata_autograd::Var;
use strata_tensor::Element;

use crate::{Module, module_parts};

/// Flattens `[N, d₁, d₂, …]` to `[N, d₁·d₂·…]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl<T: Element> Module<T> for Flatten {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        x.flatten_from(1)
    }
    module_parts!(T);
}
