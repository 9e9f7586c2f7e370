//! Full Fashion-MNIST (from `$STRATA_DATA` or the Debian package `dataset-fashion-mnist`).
//! Each test fails when the data is missing and `CI` is set, and is skipped otherwise.

mod common;

use strata_datasets::{DataLoader, FASHION_MNIST_CLASSES};

#[test]
fn fashion_mnist_has_the_published_contents() {
    let Some(f) = common::fashion() else { return };
    assert_eq!(f.train.len(), 60_000);
    assert_eq!(f.test.len(), 10_000);
    assert_eq!((f.train.rows(), f.train.cols()), (28, 28));
    assert_eq!(f.train.class_names(), &FASHION_MNIST_CLASSES);
    // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert_eq!(f.train.class_counts(), vec![6_000; 10]);
    assert_eq!(f.test.class_counts(), vec![1_000; 10]);
    // The first training image is an ankle boot, the first test image too.
    assert_eq!(f.train.label(0), 9);
    assert_eq!(f.test.label(0), 9);
    let (mean, std) = f.train.pixel_mean_std();
    assert!((mean - 0.2860).abs() < 0.001, "{mean}");
    assert!((std - 0.3530).abs() < 0.001, "{std}");
}

#[test]
fn fashion_mnist_epoch_visits_every_image_once() {
    let Some(f) = common::fashion() else { return };
    let mut loader = DataLoader::new(f.train.clone(), 64)
        .with_shuffle(1)
        .flatten();
    let mut seen = vec![false; 60_000];
    let mut batches = 0;
    for b in loader.iter() {
        assert_eq!(b.inputs.shape()[1], 784);
        for &i in &b.indices {
            assert!(!seen[i]);
            seen[i] = true;
        }
        batches += 1;
    }
    assert_eq!(batches, 938);
    assert!(seen.iter().all(|&s| s));
}
