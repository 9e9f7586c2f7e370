//! Reverse-mode differentiation: walking the recorded graph from an output back to its leaves.

use std::collections::HashMap;
use std::rc::Rc;

use strata_tensor::{Element, Tensor};

use crate::var::Node;
use crate::{Grads, Var};

impl<T: Element> Var<T> {
    /// Gradients of this scalar (e.g. a loss) with respect to every leaf it depends on:
    /// `∂self/∂leaf` for each [`crate::Param`] and [`Var::leaf`] in its history.
    ///
    /// The graph's intermediates are released as the walk passes them, so calling `backward`
    /// twice on one forward pass panics: run the forward pass again instead.
    ///
    /// # Panics
    /// If the value is not a single element, does not depend on any leaf, or its graph was
    /// already consumed by an earlier `backward`.
    pub fn backward(&self) -> Grads<T> {
        assert!(
            self.value.numel() == 1,
            "backward: called on a value of shape {:?}; backward() needs a single element such as a loss — \
             reduce it with sum() or mean() first, or pass a seed gradient of the same shape to backward_with()",
            self.shape()
        );
        self.backward_with(Tensor::ones(self.shape()))
    }

    /// Vector–Jacobian product: the gradients of `Σ seed ⊙ self` with respect to every leaf.
    ///
    /// # Panics
    /// If `seed`'s shape differs from the value's, or as [`Var::backward`].
    pub fn backward_with(&self, seed: Tensor<T>) -> Grads<T> {
        assert_eq!(
            seed.shape(),
            self.shape(),
            "backward_with: seed shape {:?} differs from the value's shape {:?}",
            seed.shape(),
            self.shape()
        );
        let root = self.node.as_ref().unwrap_or_else(|| {
            panic!(
                "backward: this value does not depend on any parameter or leaf (it is a constant, detached, \
                 or computed under no_grad), so it has no gradient; build the loss from Param::var() or Var::leaf()"
            )
        });
        let order = topological_order(root);
        let position: HashMap<*const Node<T>, usize> = order
            .iter()
            .enumerate()
            .map(|(i, n)| (Rc::as_ptr(n), i))
            .collect();
        let mut pending: Vec<Option<Tensor<T>>> = vec![None; order.len()];
        *pending.last_mut().expect("the root is in the order") = Some(seed);
        let mut grads = Grads::new();
        for (i, node) in order.iter().enumerate().rev() {
            let Some(grad) = pending[i].take() else {
                continue;
            };
            if let Some(id) = node.leaf {
                grads.accumulate(id, grad);
                continue;
            }
            let backward = node.backward.borrow_mut().take().unwrap_or_else(|| {
                panic!(
                    "backward: the graph through `{}` was already consumed by an earlier backward(); \
                     each forward pass supports one backward — run the forward pass again",
                    node.op
                )
            });
            let needs: Vec<bool> = node.parents.iter().map(Option::is_some).collect();
            let parent_grads = backward(&grad, &needs);
            debug_assert_eq!(
                parent_grads.len(),
                node.parents.len(),
                "{}: wrong number of gradients",
                node.op
            );
            for (parent, g) in node.parents.iter().zip(parent_grads) {
                let (Some(parent), Some(g)) = (parent, g) else {
                    continue;
                };
                let slot = &mut pending[position[&Rc::as_ptr(parent)]];
                match slot {
                    Some(acc) => {
                        assert_eq!(
                            acc.shape(),
                            g.shape(),
                            "{}: gradient shape {:?} does not match {:?}",
                            node.op,
                            g.shape(),
                            acc.shape()
                        );
                        acc.add_(&g)
                    }
                    None => *slot = Some(g),
                }
            }
        }
        grads
    }
}

/// Every node reachable from `root`, parents before children (an iterative post-order DFS, so
/// graphs of any depth are safe).
fn topological_order<T: Element>(root: &Rc<Node<T>>) -> Vec<Rc<Node<T>>> {
    let mut order = Vec::new();
    let mut visited: std::collections::HashSet<*const Node<T>> = std::collections::HashSet::new();
    let mut stack: Vec<(Rc<Node<T>>, usize)> = vec![(root.clone(), 0)];
    visited.insert(Rc::as_ptr(root));
    while let Some((node, next)) = stack.last_mut() {
        let node_ref = node.clone();
        if let Some(parent) = node_ref.parents.iter().skip(*next).flatten().next() {
            // Advance past this parent (and any `None`s before it).
            let skipped = node_ref.parents[*next..]
                .iter()
                .position(|p| p.as_ref().is_some_and(|p| Rc::ptr_eq(p, parent)))
                .expect("parent is in the list");
            *next += skipped + 1;
            if visited.insert(Rc::as_ptr(parent)) {
                stack.push((parent.clone(), 0));
            }
        } else {
            order.push(node_ref);
            stack.pop();
        }
    }
    order
}
