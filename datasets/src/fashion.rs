//! Fashion-MNIST: Zalando's drop-in replacement for MNIST (same IDX files, 60,000 training and
//! 10,000 test images of 28×28 pixels, 10 classes of clothing).

use std::path::Path;

use crate::error::DatasetError;
use crate::locate::{MnistKind, locate};
use crate::mnist::Mnist;

/// The Fashion-MNIST class names, indexed by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

impl Mnist {
    /// Loads Fashion-MNIST. `dir` given: only that directory is searched. `None`:
    /// `$STRATA_DATA/fashion-mnist`, then `$STRATA_DATA`, then
    /// `/usr/share/datasets/fashion-mnist` (Debian package `dataset-fashion-mnist`).
    /// Class names are [`FASHION_MNIST_CLASSES`].
    ///
    /// # Errors
    ///
    /// [`DatasetError::NotFound`] listing every place searched and why it was rejected; then
    /// any error of [`ImageSet::load`](crate::ImageSet::load).
    pub fn fashion(dir: Option<&Path>) -> Result<Mnist, DatasetError> {
        let files = locate(MnistKind::Fashion, dir)?;
        Self::from_files(&files, &FASHION_MNIST_CLASSES)
    }
}
