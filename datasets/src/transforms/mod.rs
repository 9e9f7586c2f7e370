//! Transforms on plain `f32` slices holding `n` examples of `d` features row-major
//! (`[n, d]`), as stored by [`ArrayDataset`](crate::ArrayDataset).
//!
//! Fitted transforms ([`ZScore`], [`Pca`], [`Zca`]) are fitted on the training set only and
//! then applied unchanged to training, validation and test sets.

pub mod augment;
pub mod binarize;
pub mod pca;
pub mod scale;
pub mod zscore;

pub use augment::{Augment, affine_bilinear};
pub use binarize::{binarize, binarize_stochastic};
pub use pca::{Pca, Zca};
pub use scale::{normalize, scale_u8, scale_u8_into};
pub use zscore::ZScore;
