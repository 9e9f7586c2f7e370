//! # strata-layers
//!
//! Neural-network building blocks for Strata: the [`Module`] trait, containers
//! ([`Sequential`], [`ModuleList`]), layers, activations, losses, weight initializers and
//! model summaries ([`summary()`]). Gradients come from
//! `strata-autograd`; numeric kernels from `strata-tensor`. This crate owns no optimizer and no
//! training loop.
//!
//! A model is a `Module`; its parameters are listed with dotted paths (`0.weight`,
//! `fc1.bias`), the names PyTorch uses, so weights move between the two. A user-defined
//! module is a struct plus a `forward` and one [`module_parts!`] line:
//!
//! ```
//! use strata_layers::{Activation, Dropout, Linear, Module, Sequential, module_parts};
//! use strata_autograd::Var;
//! use strata_tensor::Tensor;
//!
//! struct Classifier {
//!     body: Sequential,
//!     head: Linear,
//! }
//!
//! impl Module for Classifier {
//!     fn forward(&mut self, x: &Var) -> Var {
//!         self.head.forward(&self.body.forward(x))
//!     }
//!     module_parts!(f32; children: [body, head]);
//! }
//!
//! let mut net = Classifier {
//!     body: Sequential::new().add(Linear::new(784, 100)).add(Activation::Relu).add(Dropout::new(0.5)),
//!     head: Linear::new(100, 10),
//! };
//! net.eval();
//! let y = net.predict(&Tensor::zeros(&[2, 784]));
//! assert_eq!(y.shape(), &[2, 10]);
//! assert_eq!(net.params()[0].0, "body.0.weight");
//! ```

mod activation;
pub mod attention;
mod batchnorm;
pub mod checkpoint;
mod conv;
mod dropout;
mod embedding;
mod flatten;
mod highway;
pub mod init;
mod layernorm;
mod linear;
pub mod loss;
mod module;
mod module_list;
mod numbered;
mod padding;
mod pool;
pub mod recurrent;
mod residual;
pub mod safetensors;
mod sequential;
mod summary;
pub mod transformer;

pub use activation::{Activation, Maxout, PRelu};
pub use batchnorm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use conv::{Conv1d, Conv2d, ConvTranspose2d};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::{Flatten, Unflatten};
pub use highway::Highway;
pub use init::{FanMode, Init, Nonlinearity, manual_seed};
pub use layernorm::LayerNorm;
pub use linear::Linear;
pub use module::{Module, child_seed, prefixed, short_type_name};
pub use module_list::ModuleList;
pub use padding::{Padding, same_padding};
pub use pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use residual::Residual;
pub use sequential::Sequential;
pub use strata_autograd::{CrossEntropyOptions, Param, Reduction, Var};
pub use strata_tensor::Tensor;
pub use strata_tensor::conv::{Conv1dParams, Conv2dParams};
pub use summary::{Summary, SummaryRow, record_output, summary};
