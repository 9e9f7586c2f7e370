//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;
use strata_datasets::{DatasetError, IdxArray, Mnist, write_idx};

/// A fresh, empty temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "strata-datasets-test-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Raw IDX bytes of `array`.
pub fn idx_bytes(array: &IdxArray) -> Vec<u8> {
    let mut v = Vec::new();
    write_idx(&mut v, array).unwrap();
    v
}

/// Gzip-compressed `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Full Fashion-MNIST, loaded once per test binary. `None` (with a skip message) when it is
/// not installed, unless the environment variable `CI` is set: then its absence fails the
/// test, since CI installs the Debian package `dataset-fashion-mnist`.
pub fn fashion() -> Option<&'static Mnist> {
    static DATA: OnceLock<Option<Mnist>> = OnceLock::new();
    DATA.get_or_init(|| match Mnist::fashion(None) {
        Ok(m) => Some(m),
        Err(e @ DatasetError::NotFound { .. }) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "Fashion-MNIST is required when CI is set (install dataset-fashion-mnist): {e}"
            );
            eprintln!("skipping: Fashion-MNIST not installed ({e})");
            None
        }
        Err(e) => panic!("Fashion-MNIST is installed but does not load: {e}"),
    })
    .as_ref()
}

/// The bundled MNIST sample, decoded once per test binary.
pub fn bundled() -> &'static Mnist {
    static DATA: OnceLock<Mnist> = OnceLock::new();
    DATA.get_or_init(|| Mnist::bundled().expect("bundled MNIST decodes"))
}
