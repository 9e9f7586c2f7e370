//! ONNX interchange for Strata: export the models Strata trains to ONNX files that ONNX Runtime
//! (or any ONNX consumer) runs, and import ONNX graphs made of the operators Strata has as
//! runnable, trainable Strata modules.
//!
//! ```no_run
//! use strata_models::{LeNet5, LeNetConfig};
//! let mut model = LeNet5::new(LeNetConfig::default());
//! let onnx = strata_onnx::export(&mut model, &[1, 28, 28], "lenet5").unwrap();
//! strata_onnx::save(&onnx, "lenet5.onnx").unwrap();
//! ```
//!
//! Files are protocol buffers (`prost` messages with `onnx.proto`'s field numbers,
//! [`proto`]); exported graphs use opset [`OPSET`] and a dynamic batch dimension `"N"`.

mod builder;
mod error;
mod export;
mod file;
mod import;
pub mod proto;

pub use builder::{Attr, GraphBuilder};
pub use error::OnnxError;
pub use export::export;
pub use file::{decode, load, save};
pub use import::{Constant, Ints, OPSETS, OnnxModule, SUPPORTED, import};

/// The operator set version exported graphs use (ONNX 1.12, 2022).
pub const OPSET: i64 = 17;
