//! The bundled MNIST sample, loading MNIST-format directories, discovery, and the errors of
//! image/label pairs.

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, bundled, gzip, idx_bytes};
use strata_datasets::locate::{DEBIAN_FASHION_MNIST_DIR, locate_with};
use strata_datasets::{
    Dataset, DatasetError, IdxArray, IdxData, ImageSet, MNIST_CLASSES, Mnist, MnistFiles,
    MnistKind, Target, TargetSpec, read_idx,
};

/// Class counts as documented in `data/mnist/README.md`.
const TRAIN_COUNTS: [usize; 10] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const TEST_COUNTS: [usize; 10] = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

#[test]
fn bundled_sample_has_the_documented_contents() {
    let m = bundled();
    assert_eq!(m.train.len(), 10_000);
    assert_eq!(m.test.len(), 10_000);
    for s in [&m.train, &m.test] {
        assert_eq!((s.rows(), s.cols(), s.image_size()), (28, 28, 784));
        assert_eq!(s.images().len(), 10_000 * 784);
        assert_eq!(s.num_classes(), 10);
        assert_eq!(s.class_names(), &MNIST_CLASSES);
    }
    assert_eq!(m.train.class_counts(), TRAIN_COUNTS);
    assert_eq!(m.test.class_counts(), TEST_COUNTS);
    // The first official training label is 5, the first test label 7.
    assert_eq!(m.train.label(0), 5);
    assert_eq!(m.test.label(0), 7);
    assert_eq!(&m.train.labels()[..10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    // Pixel statistics close to the well-known MNIST values (0.1307, 0.3081).
    let (mean, std) = m.train.pixel_mean_std();
    assert!((mean - 0.1307).abs() < 0.005, "{mean}");
    assert!((std - 0.3081).abs() < 0.005, "{std}");
    // The border is blank and the centre is inked in the first image.
    let img = m.train.image(0);
    assert_eq!(img[0], 0);
    assert!(img.iter().filter(|&&p| p > 128).count() > 50);
}

#[test]
fn bundled_files_match_the_data_directory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    let files = MnistFiles::in_dir(&dir).unwrap();
    assert_eq!(files.train_images, dir.join("train-images-idx3-ubyte.gz"));
    let from_disk = Mnist::from_files(&files, &MNIST_CLASSES).unwrap();
    assert_eq!(&from_disk, bundled());
    let images = read_idx(&files.test_images).unwrap();
    assert_eq!(images.dims(), &[10_000, 28, 28]);
}

#[test]
fn image_set_as_dataset_scales_to_unit_interval() {
    let s = &bundled().train;
    assert_eq!(Dataset::len(s), 10_000);
    assert_eq!(s.input_shape(), vec![1, 28, 28]);
    assert_eq!(s.target_spec(), TargetSpec::Classes(10));
    let e = s.get(0);
    assert_eq!(e.target, Target::Class(5));
    assert_eq!(e.input.len(), 784);
    for (x, &p) in e.input.iter().zip(s.image(0)) {
        assert_eq!(*x, f32::from(p) / 255.0);
    }
    let a = s.to_array_dataset();
    assert_eq!(a.input(3), &s.get(3).input[..]);
    assert_eq!(a.labels().unwrap()[..3], [5, 0, 4]);
}

#[test]
fn split_and_select() {
    let s = &bundled().test;
    let (a, b) = s.split_at(9_000);
    assert_eq!((a.len(), b.len()), (9_000, 1_000));
    assert_eq!(b.image(0), s.image(9_000));
    assert_eq!(b.label(999), s.label(9_999));
    let sel = s.select(&[3, 1, 3]);
    assert_eq!(sel.len(), 3);
    assert_eq!(sel.image(2), s.image(3));
    assert_eq!(sel.label(1), s.label(1));
}

fn write_pair(dir: &TempDir, images: &IdxArray, labels: &IdxArray) -> (PathBuf, PathBuf) {
    let ip = dir.join("img.idx.gz");
    let lp = dir.join("lab.idx");
    std::fs::write(&ip, gzip(&idx_bytes(images))).unwrap();
    std::fs::write(&lp, idx_bytes(labels)).unwrap();
    (ip, lp)
}

fn tiny_images(n: usize) -> IdxArray {
    IdxArray::new(
        vec![n, 2, 2],
        IdxData::U8((0..n * 4).map(|i| i as u8).collect()),
    )
}

#[test]
fn label_out_of_range_names_file_index_and_offset() {
    let dir = TempDir::new("mnist-label");
    let (ip, lp) = write_pair(
        &dir,
        &tiny_images(4),
        &IdxArray::new(vec![4], IdxData::U8(vec![1, 9, 10, 3])),
    );
    let e = ImageSet::load(&ip, &lp, &MNIST_CLASSES).unwrap_err();
    match &e {
        DatasetError::LabelOutOfRange {
            path,
            index,
            offset,
            value,
            classes,
        } => {
            assert_eq!(path, &lp);
            assert_eq!((*index, *offset, *value, *classes), (2, 10, 10, 10));
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("lab.idx") && msg.contains("offset 10") && msg.contains("0..=9"),
        "{msg}"
    );
}

#[test]
fn image_and_label_counts_must_match() {
    let dir = TempDir::new("mnist-count");
    let (ip, lp) = write_pair(
        &dir,
        &tiny_images(3),
        &IdxArray::new(vec![2], IdxData::U8(vec![1, 2])),
    );
    let e = ImageSet::load(&ip, &lp, &MNIST_CLASSES).unwrap_err();
    match &e {
        DatasetError::CountMismatch {
            images_path,
            labels_path,
            images,
            labels,
        } => {
            assert_eq!((images_path, labels_path), (&ip, &lp));
            assert_eq!((*images, *labels), (3, 2));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("3 images") && e.to_string().contains("2 labels"));
}

#[test]
fn wrong_type_and_wrong_shape() {
    let dir = TempDir::new("mnist-shape");
    let labels = IdxArray::new(vec![2], IdxData::U8(vec![1, 2]));
    let f32_images = IdxArray::new(vec![2, 1, 1], IdxData::F32(vec![0.0, 1.0]));
    let (ip, lp) = write_pair(&dir, &f32_images, &labels);
    let e = ImageSet::load(&ip, &lp, &MNIST_CLASSES).unwrap_err();
    assert!(
        matches!(
            e,
            DatasetError::WrongType {
                expected: "u8",
                found: "f32",
                ..
            }
        ),
        "{e:?}"
    );
    let flat_images = IdxArray::new(vec![2, 4], IdxData::U8(vec![0; 8]));
    let (ip, lp) = write_pair(&dir, &flat_images, &labels);
    let e = ImageSet::load(&ip, &lp, &MNIST_CLASSES).unwrap_err();
    assert!(matches!(e, DatasetError::WrongShape { .. }), "{e:?}");
    assert!(e.to_string().contains("[2, 4]"), "{e}");
    let label_matrix = IdxArray::new(vec![2, 1], IdxData::U8(vec![1, 2]));
    let (ip, lp) = write_pair(&dir, &tiny_images(2), &label_matrix);
    let e = ImageSet::load(&ip, &lp, &MNIST_CLASSES).unwrap_err();
    assert!(matches!(e, DatasetError::WrongShape { .. }), "{e:?}");
}

fn write_mnist_dir(dir: &Path, n_train: usize, n_test: usize, gz: bool) {
    let put = |name: &str, a: &IdxArray| {
        let raw = idx_bytes(a);
        if gz {
            std::fs::write(dir.join(format!("{name}.gz")), gzip(&raw)).unwrap();
        } else {
            std::fs::write(dir.join(name), raw).unwrap();
        }
    };
    let labels = |n: usize| {
        IdxArray::new(
            vec![n],
            IdxData::U8((0..n).map(|i| (i % 10) as u8).collect()),
        )
    };
    put("train-images-idx3-ubyte", &tiny_images(n_train));
    put("train-labels-idx1-ubyte", &labels(n_train));
    put("t10k-images-idx3-ubyte", &tiny_images(n_test));
    put("t10k-labels-idx1-ubyte", &labels(n_test));
}

#[test]
fn loads_a_directory_gzip_or_raw() {
    for gz in [true, false] {
        let dir = TempDir::new("mnist-dir");
        write_mnist_dir(dir.path(), 12, 5, gz);
        let m = Mnist::load(Some(dir.path())).unwrap();
        assert_eq!((m.train.len(), m.test.len()), (12, 5));
        assert_eq!((m.train.rows(), m.train.cols()), (2, 2));
        assert_eq!(m.train.label(11), 1);
        let f = Mnist::fashion(Some(dir.path())).unwrap();
        assert_eq!(f.train.class_names()[9], "Ankle boot");
    }
}

#[test]
fn discovery_order_and_not_found_message() {
    let root = TempDir::new("mnist-root");
    // Nothing anywhere under an explicit directory: only it is listed.
    let e = locate_with(MnistKind::Fashion, Some(root.path()), None).unwrap_err();
    match &e {
        DatasetError::NotFound { dataset, searched } => {
            assert_eq!(*dataset, "Fashion-MNIST");
            assert_eq!(searched.len(), 1);
            assert_eq!(searched[0].0, root.path());
            assert!(
                searched[0]
                    .1
                    .contains("missing train-images-idx3-ubyte[.gz]")
            );
        }
        other => panic!("{other:?}"),
    }
    // STRATA_DATA set but empty: its subdirectory, itself, then the Debian location are listed.
    let e = locate_with(MnistKind::Digits, None, Some(root.path())).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("MNIST not found; looked in:"), "{msg}");
    assert!(
        msg.contains(&root.join("mnist").display().to_string()),
        "{msg}"
    );
    assert!(msg.contains("does not exist"), "{msg}");
    assert!(msg.contains("/usr/share/datasets/mnist"), "{msg}");
    // STRATA_DATA unset is reported too.
    let e = locate_with(MnistKind::Digits, None, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("$STRATA_DATA: environment variable not set"),
        "{e}"
    );
    // STRATA_DATA/<subdir> is found, and preferred over STRATA_DATA itself.
    let sub = root.join("fashion-mnist");
    std::fs::create_dir_all(&sub).unwrap();
    write_mnist_dir(&sub, 3, 2, true);
    write_mnist_dir(root.path(), 4, 2, false);
    let files = locate_with(MnistKind::Fashion, None, Some(root.path())).unwrap();
    assert_eq!(files.train_images, sub.join("train-images-idx3-ubyte.gz"));
    let files = locate_with(MnistKind::Digits, None, Some(root.path())).unwrap();
    assert_eq!(files.train_images, root.join("train-images-idx3-ubyte"));
    // Without STRATA_DATA, Fashion-MNIST falls back to the Debian location (when installed).
    if Path::new(DEBIAN_FASHION_MNIST_DIR).is_dir() {
        let files = locate_with(MnistKind::Fashion, None, None).unwrap();
        assert!(files.train_images.starts_with(DEBIAN_FASHION_MNIST_DIR));
    }
    // A file instead of a directory.
    let file = root.join("train-images-idx3-ubyte");
    let e = locate_with(MnistKind::Digits, Some(&file), None).unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
}

#[test]
fn truncated_real_file_is_reported_with_its_path() {
    let dir = TempDir::new("mnist-trunc");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist/t10k-labels-idx1-ubyte.gz");
    let bytes = std::fs::read(src).unwrap();
    let p = dir.join("t10k-labels-idx1-ubyte.gz");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let e = read_idx(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DatasetError::Decompress { .. } | DatasetError::Truncated { .. }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("t10k-labels-idx1-ubyte.gz"), "{e}");
}
