//! MNIST-format image classification data: one split ([`ImageSet`]), a train/test pair
//! ([`Mnist`]) and the MNIST sample bundled with the crate.

use std::path::Path;

use crate::dataset::{ArrayDataset, Dataset, Example, Target, TargetSpec};
use crate::error::DatasetError;
use crate::idx::{IdxArray, IdxData, read_idx, read_idx_bytes};
use crate::locate::{MnistFiles, MnistKind, locate};
use crate::transforms::scale::scale_u8_into;

/// Class names of MNIST: the digits `"0"` to `"9"`.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

static BUNDLED_TRAIN_IMAGES: &[u8] = include_bytes!("../data/mnist/train-images-idx3-ubyte.gz");
static BUNDLED_TRAIN_LABELS: &[u8] = include_bytes!("../data/mnist/train-labels-idx1-ubyte.gz");
static BUNDLED_TEST_IMAGES: &[u8] = include_bytes!("../data/mnist/t10k-images-idx3-ubyte.gz");
static BUNDLED_TEST_LABELS: &[u8] = include_bytes!("../data/mnist/t10k-labels-idx1-ubyte.gz");

/// One split of an MNIST-format dataset: `len()` greyscale images of `rows × cols` bytes
/// (0 = background, 255 = ink) and one class label per image.
///
/// As a [`Dataset`], an example's input is the image scaled to `[0, 1]` with shape
/// `[1, rows, cols]` and its target is the class index.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    images: Vec<u8>,
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
    class_names: &'static [&'static str],
}

impl ImageSet {
    /// Wraps `images` (`[n, rows, cols]` row-major) and `labels` (`[n]`).
    ///
    /// # Panics
    ///
    /// If `images.len() != labels.len() * rows * cols`, if `rows * cols == 0`, or if a label
    /// is not below `class_names.len()`.
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u8>,
        rows: usize,
        cols: usize,
        class_names: &'static [&'static str],
    ) -> Self {
        assert!(
            rows * cols > 0,
            "ImageSet::new: empty image size {rows}×{cols}"
        );
        assert_eq!(
            images.len(),
            labels.len() * rows * cols,
            "ImageSet::new: {} image bytes for {} labels of {rows}×{cols}",
            images.len(),
            labels.len()
        );
        if let Some(bad) = labels
            .iter()
            .find(|&&l| usize::from(l) >= class_names.len())
        {
            panic!(
                "ImageSet::new: label {bad} out of range for {} classes",
                class_names.len()
            );
        }
        Self {
            images,
            labels,
            rows,
            cols,
            class_names,
        }
    }

    /// Builds a split from a decoded image array (`u8`, `[n, rows, cols]`) and label array
    /// (`u8`, `[n]`); the paths are used in error messages.
    ///
    /// # Errors
    ///
    /// [`DatasetError::WrongType`] or [`DatasetError::WrongShape`] if an array is not `u8` of
    /// the expected rank, [`DatasetError::CountMismatch`] if the counts differ,
    /// [`DatasetError::LabelOutOfRange`] if a label is not below `class_names.len()`.
    pub fn from_idx(
        images: IdxArray,
        labels: IdxArray,
        images_path: &Path,
        labels_path: &Path,
        class_names: &'static [&'static str],
    ) -> Result<Self, DatasetError> {
        let (idims, idata) = images.into_parts();
        let (ldims, ldata) = labels.into_parts();
        let IdxData::U8(pixels) = idata else {
            return Err(DatasetError::WrongType {
                path: images_path.to_path_buf(),
                expected: "u8",
                found: idata.dtype().name(),
            });
        };
        let IdxData::U8(label_bytes) = ldata else {
            return Err(DatasetError::WrongType {
                path: labels_path.to_path_buf(),
                expected: "u8",
                found: ldata.dtype().name(),
            });
        };
        if idims.len() != 3 || idims[1] == 0 || idims[2] == 0 {
            return Err(DatasetError::WrongShape {
                path: images_path.to_path_buf(),
                expected: "[N, rows, cols] with rows, cols ≥ 1".into(),
                found: idims,
            });
        }
        if ldims.len() != 1 {
            return Err(DatasetError::WrongShape {
                path: labels_path.to_path_buf(),
                expected: "[N]".into(),
                found: ldims,
            });
        }
        if idims[0] != ldims[0] {
            return Err(DatasetError::CountMismatch {
                images_path: images_path.to_path_buf(),
                labels_path: labels_path.to_path_buf(),
                images: idims[0],
                labels: ldims[0],
            });
        }
        if let Some((index, &value)) = label_bytes
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= class_names.len())
        {
            return Err(DatasetError::LabelOutOfRange {
                path: labels_path.to_path_buf(),
                index,
                offset: 8 + index as u64,
                value: i64::from(value),
                classes: class_names.len(),
            });
        }
        Ok(Self {
            images: pixels,
            labels: label_bytes,
            rows: idims[1],
            cols: idims[2],
            class_names,
        })
    }

    /// Reads an image IDX file and a label IDX file (each gzip-compressed or raw).
    ///
    /// # Errors
    ///
    /// Any error of [`read_idx`] for either file, then those of
    /// [`ImageSet::from_idx`].
    pub fn load(
        images_path: &Path,
        labels_path: &Path,
        class_names: &'static [&'static str],
    ) -> Result<Self, DatasetError> {
        let images = read_idx(images_path)?;
        let labels = read_idx(labels_path)?;
        Self::from_idx(images, labels, images_path, labels_path, class_names)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image height in pixels.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Image width in pixels.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Pixels per image (`rows * cols`).
    pub fn image_size(&self) -> usize {
        self.rows * self.cols
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The class names, indexed by label.
    pub fn class_names(&self) -> &'static [&'static str] {
        self.class_names
    }

    /// All pixels, `[len, rows, cols]` row-major.
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// All labels, `[len]`.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The pixels of image `i`, `[rows, cols]` row-major.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        assert!(
            i < self.len(),
            "ImageSet::image: index {i} ≥ len {}",
            self.len()
        );
        let s = self.image_size();
        &self.images[i * s..(i + 1) * s]
    }

    /// The label of image `i`.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    pub fn label(&self, i: usize) -> usize {
        usize::from(self.labels[i])
    }

    /// Number of images of each class, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// Mean and (population) standard deviation of all pixels scaled to `[0, 1]`.
    /// Returns `(0, 0)` for an empty split.
    pub fn pixel_mean_std(&self) -> (f64, f64) {
        if self.images.is_empty() {
            return (0.0, 0.0);
        }
        let mut hist = [0u64; 256];
        for &p in &self.images {
            hist[usize::from(p)] += 1;
        }
        let n = self.images.len() as f64;
        let mean = hist
            .iter()
            .enumerate()
            .map(|(v, &c)| v as f64 * c as f64)
            .sum::<f64>()
            / n;
        let var = hist
            .iter()
            .enumerate()
            .map(|(v, &c)| (v as f64 - mean).powi(2) * c as f64)
            .sum::<f64>()
            / n;
        (mean / 255.0, var.sqrt() / 255.0)
    }

    /// All images scaled to `[0, 1]` as `f32`, `[len, rows * cols]` row-major.
    pub fn to_f32(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.images.len()];
        scale_u8_into(&self.images, &mut out);
        out
    }

    /// The split as an in-memory `f32` dataset: inputs scaled to `[0, 1]` with per-example
    /// shape `[1, rows, cols]`, targets the class indices. Apply the
    /// [`transforms`](crate::transforms) to its inputs in place.
    pub fn to_array_dataset(&self) -> ArrayDataset {
        ArrayDataset::classification(
            self.to_f32(),
            vec![1, self.rows, self.cols],
            self.labels.iter().map(|&l| usize::from(l)).collect(),
            self.num_classes(),
        )
    }

    /// The images at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    ///
    /// If an index is `>= len()`.
    pub fn select(&self, indices: &[usize]) -> ImageSet {
        let s = self.image_size();
        let mut images = Vec::with_capacity(indices.len() * s);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        ImageSet {
            images,
            labels,
            rows: self.rows,
            cols: self.cols,
            class_names: self.class_names,
        }
    }

    /// Splits into the first `n` images and the rest (for example 50,000 training and
    /// 10,000 validation images of MNIST, as DeepLearnToolbox does).
    ///
    /// # Panics
    ///
    /// If `n > len()`.
    pub fn split_at(&self, n: usize) -> (ImageSet, ImageSet) {
        assert!(
            n <= self.len(),
            "ImageSet::split_at: {n} > len {}",
            self.len()
        );
        let s = self.image_size();
        let part = |r: std::ops::Range<usize>| ImageSet {
            images: self.images[r.start * s..r.end * s].to_vec(),
            labels: self.labels[r].to_vec(),
            rows: self.rows,
            cols: self.cols,
            class_names: self.class_names,
        };
        (part(0..n), part(n..self.len()))
    }
}

impl Dataset for ImageSet {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn input_shape(&self) -> Vec<usize> {
        vec![1, self.rows, self.cols]
    }

    fn target_spec(&self) -> TargetSpec {
        TargetSpec::Classes(self.num_classes())
    }

    fn get(&self, index: usize) -> Example {
        let mut input = vec![0.0; self.image_size()];
        let target = self.get_into(index, &mut input);
        Example { input, target }
    }

    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        scale_u8_into(self.image(index), input);
        Target::Class(self.label(index))
    }
}

/// An MNIST-format dataset: a training and a test split sharing image size and classes.
/// Used for MNIST (digits) and Fashion-MNIST (see [`Mnist::fashion`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    /// The training split.
    pub train: ImageSet,
    /// The test split.
    pub test: ImageSet,
}

impl Mnist {
    /// The MNIST sample bundled with the crate (embedded in the binary, so it works without
    /// any file): the first 10,000 official training images and the official 10,000 test
    /// images, 28×28, with their labels. Decoding takes a few tens of milliseconds.
    ///
    /// MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0.
    ///
    /// # Errors
    ///
    /// Only if the embedded files are corrupt (a broken build of this crate).
    pub fn bundled() -> Result<Mnist, DatasetError> {
        let dir = Path::new("strata-datasets (bundled)/data/mnist");
        let load = |images: &[u8], labels: &[u8], iname: &str, lname: &str| {
            let (ip, lp) = (dir.join(iname), dir.join(lname));
            let images = read_idx_bytes(images, &ip)?;
            let labels = read_idx_bytes(labels, &lp)?;
            ImageSet::from_idx(images, labels, &ip, &lp, &MNIST_CLASSES)
        };
        let (train, test) = std::thread::scope(|s| {
            let train = s.spawn(|| {
                load(
                    BUNDLED_TRAIN_IMAGES,
                    BUNDLED_TRAIN_LABELS,
                    "train-images-idx3-ubyte.gz",
                    "train-labels-idx1-ubyte.gz",
                )
            });
            let test = load(
                BUNDLED_TEST_IMAGES,
                BUNDLED_TEST_LABELS,
                "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
            );
            (
                train
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                test,
            )
        });
        Ok(Mnist {
            train: train?,
            test: test?,
        })
    }

    /// Loads the four MNIST files named in `files` (train and test split decoded in
    /// parallel), labelling classes with `class_names`.
    ///
    /// # Errors
    ///
    /// Any error of [`ImageSet::load`] for either split.
    pub fn from_files(
        files: &MnistFiles,
        class_names: &'static [&'static str],
    ) -> Result<Mnist, DatasetError> {
        let (train, test) = std::thread::scope(|s| {
            let train =
                s.spawn(|| ImageSet::load(&files.train_images, &files.train_labels, class_names));
            let test = ImageSet::load(&files.test_images, &files.test_labels, class_names);
            (
                train
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                test,
            )
        });
        Ok(Mnist {
            train: train?,
            test: test?,
        })
    }

    /// Loads full MNIST (digits) from a directory holding the four standard files
    /// (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
    /// `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`).
    ///
    /// `dir` given: only that directory is searched. `None`: `$STRATA_DATA/mnist`, then
    /// `$STRATA_DATA`, then `/usr/share/datasets/mnist` (see [`locate`]).
    ///
    /// # Errors
    ///
    /// [`DatasetError::NotFound`] listing every place searched and why it was rejected; then
    /// any error of [`ImageSet::load`].
    pub fn load(dir: Option<&Path>) -> Result<Mnist, DatasetError> {
        let files = locate(MnistKind::Digits, dir)?;
        Self::from_files(&files, &MNIST_CLASSES)
    }
}
