//! Finding MNIST-format datasets on disk.
//!
//! Search order: a directory given explicitly (then nothing else), else the directory named
//! by the `STRATA_DATA` environment variable (its `mnist/` or `fashion-mnist/` subdirectory
//! first, then the directory itself), else the system location
//! (`/usr/share/datasets/fashion-mnist`, where the Debian package `dataset-fashion-mnist`
//! installs Fashion-MNIST, or `/usr/share/datasets/mnist` for MNIST).

use std::path::{Path, PathBuf};

use crate::error::DatasetError;

/// Name of the environment variable naming the data root directory.
pub const STRATA_DATA_ENV: &str = "STRATA_DATA";

/// Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST.
pub const DEBIAN_FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The system location searched last for full MNIST.
pub const SYSTEM_MNIST_DIR: &str = "/usr/share/datasets/mnist";

/// Which MNIST-format dataset to look for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MnistKind {
    /// The original handwritten digits.
    Digits,
    /// Zalando's Fashion-MNIST.
    Fashion,
}

impl MnistKind {
    /// Human-readable name (`"MNIST"`, `"Fashion-MNIST"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Digits => "MNIST",
            Self::Fashion => "Fashion-MNIST",
        }
    }

    /// Subdirectory of `$STRATA_DATA` searched first (`mnist`, `fashion-mnist`).
    pub fn subdir(self) -> &'static str {
        match self {
            Self::Digits => "mnist",
            Self::Fashion => "fashion-mnist",
        }
    }

    /// The system directory searched last.
    pub fn system_dir(self) -> &'static str {
        match self {
            Self::Digits => SYSTEM_MNIST_DIR,
            Self::Fashion => DEBIAN_FASHION_MNIST_DIR,
        }
    }
}

/// Paths of the four files of an MNIST-format dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MnistFiles {
    /// Training images (`train-images-idx3-ubyte[.gz]`).
    pub train_images: PathBuf,
    /// Training labels (`train-labels-idx1-ubyte[.gz]`).
    pub train_labels: PathBuf,
    /// Test images (`t10k-images-idx3-ubyte[.gz]`).
    pub test_images: PathBuf,
    /// Test labels (`t10k-labels-idx1-ubyte[.gz]`).
    pub test_labels: PathBuf,
}

impl MnistFiles {
    /// Looks for the four standard file names in `dir`, each either gzip-compressed (`.gz`,
    /// preferred) or raw.
    ///
    /// # Errors
    ///
    /// A description of what is missing (`dir` is not a directory, or which files are absent).
    pub fn in_dir(dir: &Path) -> Result<MnistFiles, String> {
        if !dir.is_dir() {
            return Err(if dir.exists() {
                "not a directory".into()
            } else {
                "does not exist".into()
            });
        }
        let mut missing = Vec::new();
        let mut find = |stem: &str| {
            for name in [format!("{stem}.gz"), stem.to_string()] {
                let p = dir.join(&name);
                if p.is_file() {
                    return p;
                }
            }
            missing.push(format!("{stem}[.gz]"));
            PathBuf::new()
        };
        let files = MnistFiles {
            train_images: find("train-images-idx3-ubyte"),
            train_labels: find("train-labels-idx1-ubyte"),
            test_images: find("t10k-images-idx3-ubyte"),
            test_labels: find("t10k-labels-idx1-ubyte"),
        };
        if missing.is_empty() {
            Ok(files)
        } else {
            Err(format!("missing {}", missing.join(", ")))
        }
    }
}

/// Finds the files of `kind`: in `explicit` if given, else under `$STRATA_DATA`, else in the
/// system directory (see the [module documentation](self)).
///
/// # Errors
///
/// [`DatasetError::NotFound`] listing every place searched and why each was rejected.
pub fn locate(kind: MnistKind, explicit: Option<&Path>) -> Result<MnistFiles, DatasetError> {
    let env = std::env::var_os(STRATA_DATA_ENV).map(PathBuf::from);
    locate_with(kind, explicit, env.as_deref())
}

/// [`locate`] with the value of `STRATA_DATA` passed in rather than read from the
/// environment (`None`: unset or empty).
///
/// # Errors
///
/// As [`locate`].
pub fn locate_with(
    kind: MnistKind,
    explicit: Option<&Path>,
    strata_data: Option<&Path>,
) -> Result<MnistFiles, DatasetError> {
    let mut searched = Vec::new();
    let mut candidates = Vec::new();
    if let Some(dir) = explicit {
        candidates.push(dir.to_path_buf());
    } else {
        match strata_data.filter(|p| !p.as_os_str().is_empty()) {
            Some(root) => {
                candidates.push(root.join(kind.subdir()));
                candidates.push(root.to_path_buf());
            }
            None => searched.push((
                PathBuf::from(format!("${STRATA_DATA_ENV}")),
                "environment variable not set".to_string(),
            )),
        }
        candidates.push(PathBuf::from(kind.system_dir()));
    }
    for dir in candidates {
        match MnistFiles::in_dir(&dir) {
            Ok(files) => return Ok(files),
            Err(why) => searched.push((dir, why)),
        }
    }
    Err(DatasetError::NotFound {
        dataset: kind.name(),
        searched,
    })
}
