//! # strata-tensor
//!
//! N-dimensional tensors for Strata, and every numeric kernel the library runs.

pub mod element;
pub mod gemm;
pub mod simd;
pub mod threads;

pub use element::Element;
