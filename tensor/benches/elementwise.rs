//! Throughput of the SIMD-dispatched elementwise and reduction kernels, on every path this CPU
//! supports, over 1,048,576 `f32` (4 MiB per array), plus the machine's copy bandwidth for
//! comparison.
//!
//! Benchmark ids are `<kernel>/<path>/<len>`. Memory-bound kernels report `Bytes` throughput
//! (bytes read + bytes written: `add`/`mul` 12 B per element, `axpy` 12, `relu` 8, `sum`/`max`
//! 4); the transcendentals report `Elements`. The `membw` group copies the same 4 MiB arrays
//! (cache-resident on most machines, like the kernels' working sets) and a 64 MiB array (far
//! beyond the last-level cache, so DRAM bandwidth), with `Bytes` = read + written.
//!
//! The `closure` group times the tensor-level ops whose element function is a closure rather
//! than a table kernel (`Tensor::leaky_relu`, and `Tensor::zip_map` with the leaky ReLU's
//! derivative, as its backward runs), on the active path at 1 and 2 threads: ids
//! `closure/<op>-<T>t/<len>`, `Bytes` = read + written.
//!
//! Run e.g. `cargo bench -p strata-tensor --bench elementwise -- exp` (a filter), or without a
//! filter for everything (a few minutes).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata_tensor::Tensor;
use strata_tensor::simd::{Kernels, kernels_f32_for, supported_paths};
use strata_tensor::threads::with_threads;

/// Elements per array: 2²⁰ `f32` = 4 MiB.
const LEN: usize = 1 << 20;

/// Elements of the large copy: 2²⁴ `f32` = 64 MiB.
const BIG: usize = 1 << 24;

/// A table entry `(a, b, out)`.
type Zip = fn(&[f32], &[f32], &mut [f32]);
/// A table entry `(x, out)`.
type Map = fn(&[f32], &mut [f32]);
/// A reduction table entry.
type Reduce = fn(&[f32]) -> f32;

/// Every `f32` table this CPU supports, scalar first.
fn tables() -> Vec<&'static Kernels<f32>> {
    supported_paths()
        .into_iter()
        .filter_map(kernels_f32_for)
        .collect()
}

/// `LEN` seeded uniform values in `[lo, hi)`.
fn data(seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..LEN).map(|_| rng.random_range(lo..hi)).collect()
}

/// Modest measurement times: the whole file runs in a few minutes.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

/// `out = a ∘ b` for `add` and `mul`: reads 8 B and writes 4 B per element.
fn binary(c: &mut Criterion, name: &str, pick: fn(&Kernels<f32>) -> Zip) {
    let (a, b) = (data(1, -1.0, 1.0), data(2, -1.0, 1.0));
    let mut out = vec![0.0f32; LEN];
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes((12 * LEN) as u64));
    for k in tables() {
        let f = pick(k);
        group.bench_function(BenchmarkId::new(k.path.name(), LEN), |bench| {
            bench.iter(|| f(black_box(&a), black_box(&b), black_box(&mut out)))
        });
    }
    group.finish();
}

/// `out = f(x)`: `throughput` per call.
fn unary(c: &mut Criterion, name: &str, pick: fn(&Kernels<f32>) -> Map, throughput: Throughput) {
    // [−10, 10) mixes both branches of tanh and both signs of sigmoid.
    let x = data(3, -10.0, 10.0);
    let mut out = vec![0.0f32; LEN];
    let mut group = c.benchmark_group(name);
    group.throughput(throughput);
    for k in tables() {
        let f = pick(k);
        group.bench_function(BenchmarkId::new(k.path.name(), LEN), |bench| {
            bench.iter(|| f(black_box(&x), black_box(&mut out)))
        });
    }
    group.finish();
}

/// A reduction of `x`: reads 4 B per element.
fn reduction(c: &mut Criterion, name: &str, pick: fn(&Kernels<f32>) -> Reduce) {
    let x = data(4, -1.0, 1.0);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes((4 * LEN) as u64));
    for k in tables() {
        let f = pick(k);
        group.bench_function(BenchmarkId::new(k.path.name(), LEN), |bench| {
            bench.iter(|| f(black_box(&x)))
        });
    }
    group.finish();
}

fn add(c: &mut Criterion) {
    binary(c, "add", |k| k.add);
}

fn mul(c: &mut Criterion) {
    binary(c, "mul", |k| k.mul);
}

fn relu(c: &mut Criterion) {
    unary(c, "relu", |k| k.relu, Throughput::Bytes((8 * LEN) as u64));
}

/// `y += α·x`: reads `x` and `y`, writes `y` (12 B per element). α is small so `y` stays
/// far from overflow however many iterations run.
fn axpy(c: &mut Criterion) {
    let x = data(5, -1.0, 1.0);
    let mut y = data(6, -1.0, 1.0);
    let mut group = c.benchmark_group("axpy");
    group.throughput(Throughput::Bytes((12 * LEN) as u64));
    for k in tables() {
        let f = k.axpy;
        group.bench_function(BenchmarkId::new(k.path.name(), LEN), |bench| {
            bench.iter(|| f(black_box(1e-6), black_box(&x), black_box(&mut y)))
        });
    }
    group.finish();
}

fn exp(c: &mut Criterion) {
    unary(c, "exp", |k| k.exp, Throughput::Elements(LEN as u64));
}

fn tanh(c: &mut Criterion) {
    unary(c, "tanh", |k| k.tanh, Throughput::Elements(LEN as u64));
}

fn sigmoid(c: &mut Criterion) {
    unary(
        c,
        "sigmoid",
        |k| k.sigmoid,
        Throughput::Elements(LEN as u64),
    );
}

fn sum(c: &mut Criterion) {
    reduction(c, "sum", |k| k.sum);
}

fn max(c: &mut Criterion) {
    reduction(c, "max", |k| k.max);
}

/// The machine's copy bandwidth (`copy_from_slice`, i.e. `memcpy`): once over the kernels'
/// 4 MiB arrays, once over 64 MiB (DRAM). `Bytes` = read + written = 2 × the array size.
fn membw(c: &mut Criterion) {
    let mut group = c.benchmark_group("membw");
    for len in [LEN, BIG] {
        let src = vec![1.0f32; len];
        let mut dst = vec![0.0f32; len];
        group.throughput(Throughput::Bytes((8 * len) as u64));
        group.bench_function(BenchmarkId::new("copy", len), |bench| {
            bench.iter(|| black_box(&mut dst[..]).copy_from_slice(black_box(&src)))
        });
    }
    group.finish();
}

/// `Tensor::leaky_relu(0.2)` (8 B per element) and its derivative through `zip_map`
/// (`g` where `x > 0`, else `0.2·g`: 12 B per element), on 1 and 2 threads. Outputs are
/// dropped on the pool's thread, as in training, so their buffers are reused.
fn closure(c: &mut Criterion) {
    let x = Tensor::from_vec(data(1, -1.0, 1.0), &[LEN]);
    let g = Tensor::from_vec(data(2, -1.0, 1.0), &[LEN]);
    let mut group = c.benchmark_group("closure");
    for threads in [1, 2] {
        group.throughput(Throughput::Bytes((8 * LEN) as u64));
        group.bench_function(
            BenchmarkId::new(format!("leaky_relu-{threads}t"), LEN),
            |bench| {
                bench.iter(|| {
                    with_threads(threads, || {
                        black_box(black_box(&x).leaky_relu(0.2));
                    })
                })
            },
        );
        group.throughput(Throughput::Bytes((12 * LEN) as u64));
        group.bench_function(
            BenchmarkId::new(format!("leaky_relu_backward-{threads}t"), LEN),
            |bench| {
                bench.iter(|| {
                    with_threads(threads, || {
                        black_box(
                            black_box(&g).zip_map(&x, |g, x| if x > 0.0 { g } else { 0.2 * g }),
                        );
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = add, mul, relu, axpy, exp, tanh, sigmoid, sum, max, membw, closure
}
criterion_main!(benches);
