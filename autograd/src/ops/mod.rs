//! Differentiable ops. Each computes its value with `strata-tensor` and records a backward
//! function that returns the gradient of every input from the gradient of the output.
//!
//! Every op's gradient is checked against central finite differences in f64
//! (`autograd/tests/gradcheck_ops.rs`).

mod arith;
mod batch_norm;
mod conv;
mod dropout;
mod loss;
mod matmul;
mod norm;
mod pad;
mod recurrent;
mod reduce;
mod shape;
mod unary;

pub use loss::{CrossEntropyOptions, Reduction};
