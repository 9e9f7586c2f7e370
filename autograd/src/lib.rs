//! # strata-autograd
//!
//! Reverse-mode automatic differentiation for Strata. This crate will own the tape (a Wengert
//! list recorded by a define-by-run forward pass), `Var`, trainable parameters, `backward`
//! returning gradients as a value (`Grads`), `no_grad`, `detach`, and the finite-difference
//! `gradcheck` every differentiable op is tested with. Numeric loops live in `strata-tensor`.
