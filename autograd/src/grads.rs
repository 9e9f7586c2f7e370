//! [`Grads`]: the gradients of one backward pass (or of any other learning rule), as a value.

use std::collections::HashMap;

use strata_tensor::{Element, Tensor};

use crate::{Param, VarId};

/// Gradients by leaf: `∂loss/∂leaf`, each of its leaf's shape.
///
/// `Var::backward` returns one; so can any other learning rule (an RBM's contrastive
/// divergence builds one with [`Grads::insert`]), and optimizers consume it without knowing
/// which produced it.
#[derive(Clone, Debug, Default)]
pub struct Grads<T: Element = f32> {
    by_id: HashMap<VarId, Tensor<T>>,
}

impl<T: Element> Grads<T> {
    /// No gradients.
    pub fn new() -> Self {
        Grads {
            by_id: HashMap::new(),
        }
    }

    /// The gradient of `param`, if it received one.
    pub fn get(&self, param: &Param<T>) -> Option<&Tensor<T>> {
        self.by_id.get(&param.id())
    }

    /// The gradient of the leaf with id `id`.
    pub fn get_id(&self, id: VarId) -> Option<&Tensor<T>> {
        self.by_id.get(&id)
    }

    /// The gradient of a leaf `Var` (see [`crate::Var::leaf`]).
    ///
    /// # Panics
    /// If `var` is not a differentiable leaf.
    pub fn wrt(&self, var: &crate::Var<T>) -> Option<&Tensor<T>> {
        let id = var.leaf_id().expect(
            "Grads::wrt: the var is not a differentiable leaf (use Var::leaf or Param::var)",
        );
        self.by_id.get(&id)
    }

    /// Sets the gradient of `id`, replacing any previous one.
    pub fn insert(&mut self, id: VarId, grad: Tensor<T>) {
        self.by_id.insert(id, grad);
    }

    /// Adds `grad` to the gradient of `id` (which starts at zero).
    ///
    /// # Panics
    /// If a gradient of another shape is already there.
    pub fn accumulate(&mut self, id: VarId, grad: Tensor<T>) {
        match self.by_id.get_mut(&id) {
            Some(g) => {
                assert_eq!(
                    g.shape(),
                    grad.shape(),
                    "Grads::accumulate: gradient shapes {:?} and {:?} differ",
                    g.shape(),
                    grad.shape()
                );
                g.add_(&grad)
            }
            None => {
                self.by_id.insert(id, grad);
            }
        }
    }

    /// Adds every gradient of `other` into `self` (e.g. summing micro-batches).
    pub fn merge(&mut self, other: Grads<T>) {
        for (id, g) in other.by_id {
            self.accumulate(id, g);
        }
    }

    /// Removes and returns the gradient of `id`.
    pub fn remove(&mut self, id: VarId) -> Option<Tensor<T>> {
        self.by_id.remove(&id)
    }

    /// Number of leaves with a gradient.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no leaf has a gradient.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// `(id, gradient)` pairs in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (VarId, &Tensor<T>)> {
        self.by_id.iter().map(|(&id, g)| (id, g))
    }

    /// `(id, gradient)` pairs, mutable (clipping rescales in place).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (VarId, &mut Tensor<T>)> {
        self.by_id.iter_mut().map(|(&id, g)| (id, g))
    }

    /// The global L2 norm `√(Σ_leaves Σ g²)`.
    pub fn global_norm(&self) -> T {
        let sq: f64 = self
            .by_id
            .values()
            .map(|g| g.square().sum().to_f64_lossless())
            .sum();
        T::from_f64_lossy(sq.sqrt())
    }

    /// Multiplies every gradient by `factor`.
    pub fn scale_(&mut self, factor: T) {
        self.by_id.values_mut().for_each(|g| g.scale_(factor));
    }
}
