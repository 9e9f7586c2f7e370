//! # strata-datasets
//!
//! Data for Strata: an IDX reader (all element types, any rank, gzip or raw), the MNIST sample
//! bundled with the crate, full MNIST and Fashion-MNIST from disk, a character-level text
//! corpus (Tiny Shakespeare bundled), the [`Dataset`] trait and the [`DataLoader`], transforms
//! (scaling, normalization, z-score, PCA/ZCA whitening, binarization, augmentation),
//! synthetic sets for tests, and a PNG grid writer for images and filters.
//!
//! ```
//! use strata_datasets::{DataLoader, Mnist};
//!
//! # fn main() -> Result<(), strata_datasets::DatasetError> {
//! let mnist = Mnist::bundled()?; // 10,000 train + 10,000 test digits, no file needed
//! assert_eq!(mnist.train.len(), 10_000);
//! assert_eq!(mnist.train.label(0), 5);
//!
//! // Shuffled mini-batches of [64, 1, 28, 28] images in [0, 1] with one-hot targets.
//! let mut loader = DataLoader::new(mnist.train, 64)
//!     .with_shuffle(42)
//!     .with_drop_last(true)
//!     .one_hot();
//! for batch in loader.iter().take(2) {
//!     assert_eq!(batch.inputs.shape(), &[64, 1, 28, 28]);
//!     assert_eq!(batch.targets.shape(), &[64, 10]);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Full Fashion-MNIST loads with [`Mnist::fashion(None)`](Mnist::fashion) from `$STRATA_DATA` or the Debian
//! package `dataset-fashion-mnist`; see [`locate`] for the search order.
//!
//! Data credits: MNIST by Yann LeCun, Corinna Cortes and Christopher J. C. Burges
//! (CC BY-SA 3.0); Tiny Shakespeare is public-domain text by William Shakespeare.

pub mod dataset;
pub mod error;
pub mod fashion;
pub mod idx;
pub mod image_grid;
mod linalg;
pub mod loader;
pub mod locate;
pub mod mnist;
pub mod split;
pub mod synthetic;
pub mod text;
pub mod transforms;

pub use dataset::{ArrayDataset, ArrayTargets, Dataset, Example, Target, TargetSpec};
pub use error::DatasetError;
pub use fashion::FASHION_MNIST_CLASSES;
pub use idx::{
    DEFAULT_MAX_BYTES, IdxArray, IdxData, IdxType, read_idx, read_idx_bytes, read_idx_from,
    read_idx_from_with_limit, read_idx_with_limit, write_idx,
};
pub use image_grid::{GreyImage, Grid, GridScaling, write_png_grid};
pub use loader::{Batch, DataLoader, Epoch, InputLayout, InputTransform, LabelFormat, shard_range};
pub use locate::{MnistFiles, MnistKind};
pub use mnist::{ImageSet, MNIST_CLASSES, Mnist};
pub use split::{Subset, train_val_indices};
pub use text::{CharCorpus, SequenceDataset, TextBatch, TextSplit, Vocab};
