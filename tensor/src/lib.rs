//! # strata-tensor
//!
//! N-dimensional tensors for Strata, and every numeric kernel the library runs: elementwise
//! arithmetic with NumPy broadcasting, activations, reductions, softmax, matrix products
//! through one strided GEMM entry point, indexing, convolution lowering (im2col/col2im) and
//! pooling. Hot kernels are SIMD-dispatched at run time ([`simd`]); large ones split their work
//! over one thread pool ([`threads`]); [`determinism`] says what is bit-identical between runs and
//! holds the switch that makes results independent of the thread count. Gradients are not this crate's business
//! (`strata-autograd` builds on it).
//!
//! ```
//! use strata_tensor::Tensor;
//!
//! let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
//! let w = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3]);
//! let y = &x * &w; // broadcasting: [2, 3] · [3]
//! assert_eq!(y.to_vec(), vec![0.5, -2.0, 6.0, 2.0, -5.0, 12.0]);
//! let z = x.matmul(&x.t()); // [2, 3] × [3, 2]; the transpose is a view, never copied
//! assert_eq!(z.shape(), &[2, 2]);
//! assert_eq!(z.get(&[0, 1]), 32.0);
//! assert_eq!(x.sum_axis(1, false).to_vec(), vec![6.0, 15.0]);
//! ```
//!
//! Conventions: shapes are `&[usize]`, row-major; images are NCHW. Programming errors (shape
//! mismatches, out-of-range axes) panic at once with a message naming the op and the shapes.

pub mod batch_norm;
pub mod conv;
mod creation;
pub mod determinism;
pub mod element;
mod elementwise;
mod fmt;
pub mod gemm;
mod index;
mod indices;
pub mod linalg;
mod matmul;
pub mod norm;
mod parallel;
pub mod pool;
pub mod recurrent;
mod reduce;
pub mod shape;
pub mod simd;
pub mod storage;
mod tensor;
pub mod threads;

pub use element::Element;
pub use elementwise::{SELU_ALPHA, SELU_SCALE, gelu_tanh_inner, sigmoid, softplus};
pub use indices::Indices;
pub use tensor::Tensor;
