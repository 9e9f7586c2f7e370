//! [`Param`]: a trainable tensor with a stable identity.

use strata_tensor::{Element, Tensor};

use crate::{Var, VarId};

/// A trainable leaf: a tensor owned by a layer, updated in place by an optimizer, whose
/// gradient is found in [`crate::Grads`] by the param's [`VarId`], the same on every step.
///
/// Cloning a `Param` copies its value under a **new** id (a copied model trains separately).
/// A frozen param ([`Param::set_requires_grad`]`(false)`) enters the graph as a constant.
pub struct Param<T: Element = f32> {
    id: VarId,
    value: Tensor<T>,
    requires_grad: bool,
}

impl<T: Element> Param<T> {
    /// A trainable parameter holding `value`.
    pub fn new(value: Tensor<T>) -> Self {
        Param {
            id: VarId::fresh(),
            value,
            requires_grad: true,
        }
    }

    /// The id its gradients are filed under.
    pub fn id(&self) -> VarId {
        self.id
    }

    /// The current value.
    pub fn value(&self) -> &Tensor<T> {
        &self.value
    }

    /// The value for in-place updates (copy-on-write if a graph still holds it).
    pub fn value_mut(&mut self) -> &mut Tensor<T> {
        &mut self.value
    }

    /// Replaces the value.
    ///
    /// # Panics
    /// If the new shape differs from the old one.
    pub fn set(&mut self, value: Tensor<T>) {
        assert_eq!(
            value.shape(),
            self.value.shape(),
            "Param::set: new shape {:?} differs from the parameter's {:?}",
            value.shape(),
            self.value.shape()
        );
        self.value = value;
    }

    /// The shape of the value.
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    /// Number of scalars.
    pub fn numel(&self) -> usize {
        self.value.numel()
    }

    /// Whether the parameter is trained (enters the graph as a leaf).
    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    /// Freezes (`false`) or unfreezes (`true`) the parameter.
    pub fn set_requires_grad(&mut self, requires_grad: bool) {
        self.requires_grad = requires_grad;
    }

    /// The parameter as a graph value: a leaf whose gradient lands under [`Param::id`], or a
    /// constant when frozen or under `no_grad`.
    pub fn var(&self) -> Var<T> {
        if self.requires_grad {
            Var::leaf_with_id(self.value.clone(), self.id)
        } else {
            Var::constant(self.value.clone())
        }
    }
}

impl<T: Element> Clone for Param<T> {
    /// A copy of the value under a fresh id.
    fn clone(&self) -> Self {
        Param {
            id: VarId::fresh(),
            value: self.value.clone(),
            requires_grad: self.requires_grad,
        }
    }
}

impl<T: Element> std::fmt::Debug for Param<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Param(id={}, shape={:?}, requires_grad={})",
            self.id.0,
            self.value.shape(),
            self.requires_grad
        )
    }
}
