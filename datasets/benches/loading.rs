//! Loading speed: decoding all 60,000 Fashion-MNIST training images (goal ≤ 0.5 s) and one
//! DataLoader epoch over them at batch 64 with no model (goal ≤ 0.2 s). The bundled MNIST
//! sample is benchmarked too. Fashion-MNIST benches are skipped, with a message, when the
//! data is not installed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata_datasets::locate::{MnistKind, locate};
use strata_datasets::{DataLoader, FASHION_MNIST_CLASSES, ImageSet, Mnist};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("datasets");
    g.sample_size(10).measurement_time(Duration::from_secs(8));

    g.throughput(Throughput::Elements(20_000));
    g.bench_function("bundled_mnist_decode", |b| {
        b.iter(|| black_box(Mnist::bundled().unwrap()))
    });

    let files = match locate(MnistKind::Fashion, None) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("skipping Fashion-MNIST benches: {e}");
            g.finish();
            return;
        }
    };

    g.throughput(Throughput::Elements(60_000));
    g.bench_function("fashion_train_decode_60k", |b| {
        b.iter(|| {
            black_box(
                ImageSet::load(
                    &files.train_images,
                    &files.train_labels,
                    &FASHION_MNIST_CLASSES,
                )
                .unwrap(),
            )
        })
    });

    let train = ImageSet::load(
        &files.train_images,
        &files.train_labels,
        &FASHION_MNIST_CLASSES,
    )
    .unwrap();
    let mut loader = DataLoader::new(train.clone(), 64).with_shuffle(0);
    g.throughput(Throughput::Elements(60_000));
    g.bench_function("loader_epoch_60k_batch64_u8", |b| {
        b.iter(|| {
            let mut n = 0;
            for batch in loader.iter() {
                n += black_box(batch).len();
            }
            assert_eq!(n, 60_000);
        })
    });

    let mut loader = DataLoader::new(train.to_array_dataset(), 64)
        .with_shuffle(0)
        .flatten()
        .one_hot();
    g.bench_function("loader_epoch_60k_batch64_f32_onehot", |b| {
        b.iter(|| {
            let mut n = 0;
            for batch in loader.iter() {
                n += black_box(batch).len();
            }
            assert_eq!(n, 60_000);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
