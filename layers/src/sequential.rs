//! The `Sequential` container.

use strata_autograd::{Param, Var};
use strata_tensor::{Element, Tensor};

use crate::{Module, child_seed, prefixed};

/// Modules applied one after another (each `Send`, so a model can move to another thread): `y = fₙ(…f₂(f₁(x)))`. Children are named by position
/// (`0.weight`, `1.bias`, …) like PyTorch's `nn.Sequential`.
#[derive(Default)]
pub struct Sequential<T: Element = f32> {
    layers: Vec<Box<dyn Module<T> + Send>>,
}

impl<T: Element> Sequential<T> {
    /// An empty container (the identity).
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }

    /// Appends a module (builder style, as Keras' `model.add`).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<T> + Send + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed module.
    pub fn push(&mut self, layer: Box<dyn Module<T> + Send>) {
        self.layers.push(layer);
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The children, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(dyn Module<T> + Send)> {
        self.layers.iter().map(|layer| layer.as_ref())
    }

    /// Child `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn layer_mut(&mut self, i: usize) -> &mut dyn Module<T> {
        let n = self.layers.len();
        self.layers
            .get_mut(i)
            .unwrap_or_else(|| panic!("Sequential: layer {i} of {n}"))
            .as_mut()
    }
}

impl<T: Element> Module<T> for Sequential<T> {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let mut h = x.clone();
        for layer in &mut self.layers {
            h = layer.forward(&h);
        }
        h
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.params()))
            .collect()
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.params_mut()))
            .collect()
    }

    fn buffers(&self) -> Vec<(String, &Tensor<T>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.buffers()))
            .collect()
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor<T>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| prefixed(&i.to_string(), l.buffers_mut()))
            .collect()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn set_training(&mut self, training: bool) {
        self.layers
            .iter_mut()
            .for_each(|l| l.set_training(training));
    }

    fn reseed(&mut self, seed: u64) {
        for (i, l) in self.layers.iter_mut().enumerate() {
            l.reseed(child_seed(seed, i as u64));
        }
    }
}
