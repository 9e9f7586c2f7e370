//! [`Var`]: a tensor value plus its place in the recorded graph.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use strata_tensor::{Element, Tensor};

use crate::grad_mode::is_recording;

/// Identity of a differentiable leaf (a [`crate::Param`] or a [`Var::leaf`]); gradients in
/// [`crate::Grads`] are looked up by it. Ids are unique within a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub(crate) u64);

impl VarId {
    /// A fresh, never used id.
    pub fn fresh() -> VarId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        VarId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The backward function of one recorded op: given the gradient of the op's output and which
/// parents need a gradient, returns one optional gradient per parent (each of the parent's
/// shape). Called at most once; taking it frees everything it captured.
pub(crate) type BackwardFn<T> = Box<dyn FnOnce(&Tensor<T>, &[bool]) -> Vec<Option<Tensor<T>>>>;

/// One entry of the recorded graph.
pub(crate) struct Node<T: Element> {
    /// The inputs of the op (`None` for inputs that need no gradient); empty for leaves.
    pub(crate) parents: Vec<Option<Rc<Node<T>>>>,
    /// `None` for leaves, and after `backward` has consumed it.
    pub(crate) backward: RefCell<Option<BackwardFn<T>>>,
    /// Set on leaves: where their gradient goes.
    pub(crate) leaf: Option<VarId>,
    /// The op's name, for error messages.
    pub(crate) op: &'static str,
}

impl<T: Element> Drop for Node<T> {
    /// Drops long chains (e.g. recurrent nets unrolled over thousands of steps) iteratively, so
    /// freeing a deep graph never overflows the stack.
    fn drop(&mut self) {
        let mut stack: Vec<Rc<Node<T>>> = self.parents.drain(..).flatten().collect();
        while let Some(node) = stack.pop() {
            if let Ok(mut node) = Rc::try_unwrap(node) {
                stack.extend(node.parents.drain(..).flatten());
            }
        }
    }
}

/// A differentiable value: a [`Tensor`] and, when it depends on something that needs a
/// gradient, the graph node that records how it was computed.
///
/// Values that need no gradient (data, or anything computed under [`crate::no_grad`]) carry no
/// node, so inference costs nothing beyond the tensor ops. Cloning a `Var` is cheap (two
/// reference counts) and a clone is the same graph value: using it twice accumulates both
/// gradients.
#[derive(Clone)]
pub struct Var<T: Element = f32> {
    pub(crate) value: Tensor<T>,
    pub(crate) node: Option<Rc<Node<T>>>,
}

impl<T: Element> Var<T> {
    /// A value that needs no gradient (input data, targets, masks).
    pub fn constant(value: Tensor<T>) -> Self {
        Var { value, node: None }
    }

    /// A new differentiable leaf with a fresh [`VarId`] (use [`crate::Param`] for trainable
    /// weights, whose id stays the same from step to step). Under `no_grad` it is a constant.
    pub fn leaf(value: Tensor<T>) -> Self {
        Self::leaf_with_id(value, VarId::fresh())
    }

    pub(crate) fn leaf_with_id(value: Tensor<T>, id: VarId) -> Self {
        if !is_recording() {
            return Var::constant(value);
        }
        let node = Node {
            parents: vec![],
            backward: RefCell::new(None),
            leaf: Some(id),
            op: "leaf",
        };
        Var {
            value,
            node: Some(Rc::new(node)),
        }
    }

    /// The id of a differentiable leaf, `None` for computed values and constants.
    pub fn leaf_id(&self) -> Option<VarId> {
        self.node.as_ref().and_then(|n| n.leaf)
    }

    /// The value.
    #[inline]
    pub fn value(&self) -> &Tensor<T> {
        &self.value
    }

    /// The value, consuming the `Var` (the graph behind it is released).
    pub fn into_value(self) -> Tensor<T> {
        self.value
    }

    /// The value's shape.
    #[inline]
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }

    /// Number of dimensions of the value.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.value.ndim()
    }

    /// Whether gradients flow back through this value (it is a leaf or was computed from one
    /// while recording).
    #[inline]
    pub fn requires_grad(&self) -> bool {
        self.node.is_some()
    }

    /// The same value cut from the graph: no gradient flows back through the result.
    pub fn detach(&self) -> Self {
        Var::constant(self.value.clone())
    }

    /// Whether `self` and `other` are the same graph value (one is a clone of the other): the
    /// same node, or for constants the same view of the same storage.
    pub fn ptr_eq(&self, other: &Var<T>) -> bool {
        match (&self.node, &other.node) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => {
                let (a, b) = (&self.value, &other.value);
                std::sync::Arc::ptr_eq(a.storage(), b.storage())
                    && a.offset() == b.offset()
                    && a.shape() == b.shape()
                    && a.strides() == b.strides()
            }
            _ => false,
        }
    }

    /// The single value of a one-element `Var` (e.g. a loss).
    ///
    /// # Panics
    /// If the value does not hold exactly one element.
    pub fn item(&self) -> T {
        self.value.item()
    }

    /// Records an op: `value` computed from `parents`, whose gradients `backward` gives.
    /// When recording is off or no parent needs a gradient, `backward` is dropped unused and
    /// the result is a constant.
    pub(crate) fn record(
        op: &'static str,
        value: Tensor<T>,
        parents: &[&Var<T>],
        backward: impl FnOnce(&Tensor<T>, &[bool]) -> Vec<Option<Tensor<T>>> + 'static,
    ) -> Var<T> {
        if !is_recording() || parents.iter().all(|p| p.node.is_none()) {
            return Var::constant(value);
        }
        let node = Node {
            parents: parents.iter().map(|p| p.node.clone()).collect(),
            backward: RefCell::new(Some(Box::new(backward))),
            leaf: None,
            op,
        };
        Var {
            value,
            node: Some(Rc::new(node)),
        }
    }
}

impl<T: Element> From<Tensor<T>> for Var<T> {
    /// A constant.
    fn from(value: Tensor<T>) -> Self {
        Var::constant(value)
    }
}

impl<T: Element> std::fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.node {
            None => "constant",
            Some(n) if n.leaf.is_some() => "leaf",
            Some(n) => n.op,
        };
        write!(f, "Var({kind}, {})", self.value)
    }
}
