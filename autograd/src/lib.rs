//! # strata-autograd
//!
//! Reverse-mode automatic differentiation for Strata, define-by-run: each op on a [`Var`] that
//! depends on a differentiable leaf records a node (its inputs and a backward function) as it
//! runs; [`Var::backward`] walks these nodes in reverse topological order — the tape, read
//! backwards — and returns the gradient of every leaf as a value, [`Grads`].
//!
//! ```
//! use strata_autograd::{Param, Var};
//! use strata_tensor::Tensor;
//!
//! // y = Σ (x·w)² for a trainable w.
//! let w = Param::new(Tensor::<f64>::from_vec(vec![1.0, -2.0], &[2]));
//! let x = Var::constant(Tensor::from_vec(vec![3.0, 0.5], &[2]));
//! let y = x.mul(&w.var()).square().sum();
//! let grads = y.backward();
//! // ∂y/∂w = 2·x²·w
//! assert_eq!(grads.get(&w).unwrap().to_vec(), vec![18.0, -1.0]);
//! ```
//!
//! - A value that depends on no leaf carries no node, and [`no_grad`] turns recording off, so
//!   inference costs nothing beyond the tensor ops.
//! - A `Var` used several times accumulates all its gradients; [`Var::detach`] cuts the graph.
//! - `backward` consumes the graph as it goes: every intermediate is freed when it returns.
//! - [`Param`]s are the trainable leaves layers own; their ids are stable, so optimizers find
//!   their gradients in [`Grads`] step after step. Learning rules that are not backprop (an
//!   RBM's contrastive divergence) fill a `Grads` themselves.
//! - [`gradcheck`] compares every gradient with central finite differences in f64.
//!
//! Numeric loops live in `strata-tensor`; this crate only composes them.

mod backward;
mod grad_mode;
mod gradcheck;
mod grads;
mod ops;
mod param;
mod var;

pub use grad_mode::{is_recording, no_grad};
pub use gradcheck::{GradcheckReport, assert_gradcheck, gradcheck};
pub use grads::Grads;
pub use ops::{CrossEntropyOptions, Reduction};
pub use param::Param;
pub use var::{Var, VarId};
