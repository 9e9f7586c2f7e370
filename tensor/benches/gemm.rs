//! GEMM throughput per path and thread count (throughput in floating-point operations,
//! `2·m·n·k` per product, which the report turns into GFLOP/s for the `sgemm`/`dgemm` groups).
//!
//! Groups:
//! * `sgemm`: square `f32` products, n ∈ {64, …, 2048}, ids `"{path}-{threads}t/{n}"`;
//! * `dgemm`: square `f64` products, n = 1024;
//! * `sgemm_small`: the small-batch training shapes `m×k×n` (ids `"{path}-{threads}t/{m}x{k}x{n}"`,
//!   suffix `-wt` when `B = Wᵀ` is a transposed view, as in a linear layer's forward pass),
//!   and `128×1024×3136`: a short `C` over a wide row-major `B` (rows 12.5 KiB apart), the
//!   shape of a batched convolution weight gradient, where packing `B` decides the speed;
//! * `fma_peak`: the FMA throughput of the cores (independent FMA chains, no memory traffic),
//!   the ceiling the GEMM numbers should be read against.
//!
//! Paths are `avx512`, `avx2` (Strata's kernels, threads from [`with_threads`]) and
//! `matrixmultiply`. `matrixmultiply` threads on its own pool sized by `MATMUL_NUM_THREADS`, so
//! this bench sets that to 1 (unless already set) and runs its 2-thread case as two column halves
//! on two rayon threads.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};
use strata_tensor::Element;
use strata_tensor::gemm::{GemmPath, MatMut, MatRef, gemm_on, supported_gemm_paths};
use strata_tensor::threads::with_threads;

/// Deterministic operand values in `[-1, 1)`.
fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// Runs the product `C ← A·B` on `path` (`A` `m×k` row-major, `B` `k×n` row-major or, with
/// `wt`, the transposed view of an `n×k` row-major matrix; `C` `m×n` row-major); called on a
/// pool of `threads` threads (see the module docs for `matrixmultiply`).
#[allow(clippy::too_many_arguments)]
fn run<T: Element>(
    path: GemmPath,
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    b: &[T],
    wt: bool,
    c: &mut [T],
) {
    let a = MatRef::row_major(a, m, k);
    let b_full = if wt {
        MatRef::row_major(b, n, k).t()
    } else {
        MatRef::row_major(b, k, n)
    };
    if path == GemmPath::Portable && threads > 1 {
        // Two column halves of B and C, one per rayon thread.
        let half = n / 2;
        let (rsb, csb) = (b_full.row_stride(), b_full.col_stride());
        let cp = c.as_mut_ptr() as usize;
        let call = |j0: usize, cols: usize| {
            let b = MatRef::from_slice(&b[j0 * csb as usize..], k, cols, rsb, csb);
            // SAFETY: columns `j0..j0 + cols` of the row-major `m×n` matrix `c`, which the two
            // calls split between them; `c` outlives both.
            let c =
                unsafe { MatMut::from_raw_parts((cp as *mut T).add(j0), m, cols, n as isize, 1) };
            gemm_on(path, T::one(), a, b, T::zero(), c);
        };
        rayon::join(|| call(0, half), || call(half, n - half));
    } else {
        gemm_on(
            path,
            T::one(),
            a,
            b_full,
            T::zero(),
            MatMut::row_major(c, m, n),
        );
    }
}

/// Benchmarks one product in `group` under `id`.
#[allow(clippy::too_many_arguments)]
fn bench_one<T: Element>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    path: GemmPath,
    threads: usize,
    (m, k, n): (usize, usize, usize),
    wt: bool,
) {
    let a: Vec<T> = values(m * k, 1)
        .into_iter()
        .map(T::from_f64_lossy)
        .collect();
    let b: Vec<T> = values(k * n, 2)
        .into_iter()
        .map(T::from_f64_lossy)
        .collect();
    let mut c = vec![T::zero(); m * n];
    group.throughput(Throughput::Elements((2 * m * n * k) as u64));
    // The whole measurement runs on a pool of `threads` threads, so "-1t" is one thread.
    group.bench_function(id, |bench| {
        with_threads(threads, || {
            bench.iter(|| {
                run(
                    path,
                    threads,
                    m,
                    k,
                    n,
                    black_box(&a),
                    black_box(&b),
                    wt,
                    &mut c,
                )
            })
        })
    });
}

fn sgemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for path in supported_gemm_paths() {
        for threads in [1, 2] {
            for n in [64, 128, 256, 512, 1024, 2048] {
                let (warm, measure) = if n >= 1024 { (1.0, 2.0) } else { (0.3, 1.0) };
                group.warm_up_time(Duration::from_secs_f64(warm));
                group.measurement_time(Duration::from_secs_f64(measure));
                let id = BenchmarkId::new(format!("{}-{threads}t", path.name()), n);
                bench_one::<f32>(&mut group, id, path, threads, (n, n, n), false);
            }
        }
    }
    group.finish();
}

fn dgemm(c: &mut Criterion) {
    let mut group = c.benchmark_group("dgemm");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for path in supported_gemm_paths() {
        for threads in [1, 2] {
            let n = 1024;
            let id = BenchmarkId::new(format!("{}-{threads}t", path.name()), n);
            bench_one::<f64>(&mut group, id, path, threads, (n, n, n), false);
        }
    }
    group.finish();
}

fn sgemm_small(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgemm_small");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
    let shapes = [
        (1, 784, 100),
        (16, 784, 100),
        (100, 784, 100),
        (100, 100, 10),
        (128, 1024, 3136),
    ];
    for path in supported_gemm_paths() {
        for threads in [1, 2] {
            for (m, k, n) in shapes {
                for wt in [false, true] {
                    let shape = format!("{m}x{k}x{n}{}", if wt { "-wt" } else { "" });
                    let id = BenchmarkId::new(format!("{}-{threads}t", path.name()), shape);
                    bench_one::<f32>(&mut group, id, path, threads, (m, k, n), wt);
                }
            }
        }
    }
    group.finish();
}

/// Independent FMA chains on one thread: `iters` rounds of 12 FMAs on `W`-lane vectors.
#[cfg(target_arch = "x86_64")]
mod peak {
    use std::arch::x86_64::*;

    /// Floating-point operations per call of [`avx512`] / [`avx2`] with `iters` rounds.
    pub fn flops(iters: usize, lanes: usize) -> u64 {
        (iters * 12 * lanes * 2) as u64
    }

    /// 12 chains of `_mm512_fmadd_ps`; returns a value depending on all of them.
    #[target_feature(enable = "avx512f")]
    pub fn avx512(iters: usize, x: f32) -> f32 {
        let mut acc = [_mm512_set1_ps(x); 12];
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = _mm512_fmadd_ps(*v, a, b);
            }
        }
        let mut s = _mm512_setzero_ps();
        for v in acc {
            s = _mm512_add_ps(s, v);
        }
        _mm512_reduce_add_ps(s)
    }

    /// 12 chains of `_mm256_fmadd_ps`; returns a value depending on all of them.
    #[target_feature(enable = "avx2,fma")]
    pub fn avx2(iters: usize, x: f32) -> f32 {
        let mut acc = [_mm256_set1_ps(x); 12];
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..iters {
            for v in acc.iter_mut() {
                *v = _mm256_fmadd_ps(*v, a, b);
            }
        }
        let mut s = _mm256_setzero_ps();
        for v in acc {
            s = _mm256_add_ps(s, v);
        }
        let mut out = [0.0f32; 8];
        // SAFETY: `out` holds 8 lanes.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().sum()
    }
}

/// One thread's FMA-chain kernel: `(iterations, seed) → checksum`.
type PeakFn = fn(usize, f32) -> f32;

fn fma_peak(c: &mut Criterion) {
    #[cfg(target_arch = "x86_64")]
    {
        let mut group = c.benchmark_group("gemm_fma_peak");
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        const ITERS: usize = 1 << 20;
        let kernels: [(GemmPath, usize, PeakFn); 2] = [
            // SAFETY: called only when the CPU supports this path (checked before the table is used).
            (GemmPath::Avx512, 16, |i, x| unsafe { peak::avx512(i, x) }),
            // SAFETY: called only when the CPU supports this path (checked before the table is used).
            (GemmPath::Avx2, 8, |i, x| unsafe { peak::avx2(i, x) }),
        ];
        for (path, lanes, kernel) in kernels {
            if !path.is_supported() {
                continue;
            }
            for threads in [1, 2] {
                group.throughput(Throughput::Elements(
                    threads as u64 * peak::flops(ITERS, lanes),
                ));
                let id = BenchmarkId::new(format!("{}-{threads}t", path.name()), "f32");
                group.bench_function(id, |bench| {
                    bench.iter_custom(|iters| {
                        with_threads(threads, || {
                            let start = Instant::now();
                            for _ in 0..iters {
                                let sums = rayon::broadcast(|_| kernel(ITERS, black_box(1.0)));
                                black_box(sums);
                            }
                            start.elapsed()
                        })
                    })
                });
            }
        }
        group.finish();
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = c;
}

criterion_group!(benches, sgemm, dgemm, sgemm_small, fma_peak);

fn main() {
    // matrixmultiply sizes its own thread pool once from this variable; pin it to one thread so
    // its "-1t" numbers are single-threaded (see the module docs).
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        // SAFETY: nothing else runs yet; no other thread reads the environment.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", "1") };
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
