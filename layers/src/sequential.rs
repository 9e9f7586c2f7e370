//! The `Sequential` container.

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::Module;
use crate::numbered::{Numbered, numbered_parts};

/// Modules applied one after another (each `Send`, so a model can move to another thread): `y = fₙ(…f₂(f₁(x)))`. Children are named by position
/// (`0.weight`, `1.bias`, …) like PyTorch's `nn.Sequential`.
#[derive(Default)]
pub struct Sequential<T: Element = f32> {
    layers: Numbered<T>,
}

impl<T: Element> Sequential<T> {
    /// An empty container (the identity).
    pub fn new() -> Self {
        Sequential {
            layers: Numbered::default(),
        }
    }

    /// Appends a module (builder style, as Keras' `model.add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<T> + Send + 'static) -> Self {
        self.layers.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed module.
    pub fn push(&mut self, layer: Box<dyn Module<T> + Send>) {
        self.layers.layers.push(layer);
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.layers.layers.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.layers.layers.is_empty()
    }

    /// The children, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(dyn Module<T> + Send)> {
        self.layers.layers.iter().map(|layer| layer.as_ref())
    }

    /// Child `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn layer_mut(&mut self, i: usize) -> &mut dyn Module<T> {
        self.layers.get_mut("Sequential", i)
    }
}

impl<T: Element> Module<T> for Sequential<T> {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let mut h = x.clone();
        for layer in &mut self.layers.layers {
            h = layer.forward(&h);
        }
        crate::summary::record_output(h, &*self)
    }

    numbered_parts!(layers);
}
