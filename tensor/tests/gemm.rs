//! GEMM paths against `matrixmultiply`: every supported path, `f32` and `f64`, awkward sizes,
//! sizes crossing every block boundary, all transposition combinations, strided `C`, α and β,
//! a write-only `C` (β = 0 over NaN), on 1 and 2 threads.

use strata_tensor::gemm::{GemmPath, dgemm_with, sgemm_with, supported_gemm_paths};
use strata_tensor::threads::with_threads;

/// The element types under test.
trait Elem: Copy + Send + Sync + std::fmt::Debug + PartialEq + 'static {
    const EPS: f64;
    const NAME: &'static str;
    fn from(x: f64) -> Self;
    fn to(self) -> f64;
    /// `C ← α·A·B + β·C` on `path`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        path: GemmPath,
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
    /// The reference: `matrixmultiply` called directly.
    #[allow(clippy::too_many_arguments)]
    unsafe fn reference(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

impl Elem for f32 {
    const EPS: f64 = f32::EPSILON as f64;
    const NAME: &'static str = "f32";
    fn from(x: f64) -> Self {
        x as f32
    }
    fn to(self) -> f64 {
        self as f64
    }
    unsafe fn gemm(
        path: GemmPath,
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from this `unsafe fn`'s contract: the caller passes valid matrices.
        unsafe {
            sgemm_with(
                path, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
            )
        }
    }
    unsafe fn reference(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        beta: f32,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from this `unsafe fn`'s contract: the caller passes valid matrices.
        unsafe {
            matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}

impl Elem for f64 {
    const EPS: f64 = f64::EPSILON;
    const NAME: &'static str = "f64";
    fn from(x: f64) -> Self {
        x
    }
    fn to(self) -> f64 {
        self
    }
    unsafe fn gemm(
        path: GemmPath,
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        beta: f64,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from this `unsafe fn`'s contract: the caller passes valid matrices.
        unsafe {
            dgemm_with(
                path, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
            )
        }
    }
    unsafe fn reference(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        beta: f64,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: forwarded from this `unsafe fn`'s contract: the caller passes valid matrices.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }
}

/// Deterministic values in `[-1, 1)` (a 64-bit LCG; no dependence on a RNG crate's stream).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Storage order of an operand.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Order {
    /// Row-major: unit column stride.
    Row,
    /// Column-major (a transposed view): unit row stride.
    Col,
}

/// How `C` is laid out inside its buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum CLayout {
    /// Dense row-major.
    Row,
    /// Dense column-major.
    Col,
    /// Row-major sub-view: row stride `n + 5`, starting 3 elements into the buffer.
    SubView,
    /// Neither stride is 1: element `(i, j)` at `3 + i·(2n + 1) + 2j`.
    Strided,
}

/// An `r × c` operand stored in `order`, with its (row, column) strides.
fn operand<T: Elem>(rng: &mut Lcg, r: usize, c: usize, order: Order) -> (Vec<T>, isize, isize) {
    let data = (0..r * c).map(|_| T::from(rng.next())).collect();
    match order {
        Order::Row => (data, c as isize, 1),
        Order::Col => (data, 1, r as isize),
    }
}

/// A buffer holding an `m × n` view of `C`: (buffer, offset, row stride, column stride).
fn c_buffer<T: Elem>(
    m: usize,
    n: usize,
    layout: CLayout,
    fill: f64,
) -> (Vec<T>, usize, isize, isize) {
    let (len, off, rs, cs) = match layout {
        CLayout::Row => (m * n, 0, n as isize, 1),
        CLayout::Col => (m * n, 0, 1, m as isize),
        CLayout::SubView => (3 + m * (n + 5), 3, (n + 5) as isize, 1),
        CLayout::Strided => (3 + m * (2 * n + 1), 3, (2 * n + 1) as isize, 2),
    };
    (vec![T::from(fill); len.max(1)], off, rs, cs)
}

/// One case: compares `path` against `matrixmultiply` and checks the padding of `C`'s buffer.
#[allow(clippy::too_many_arguments)]
fn check<T: Elem>(
    path: GemmPath,
    threads: usize,
    (m, k, n): (usize, usize, usize),
    oa: Order,
    ob: Order,
    layout: CLayout,
    alpha: f64,
    beta: f64,
    nan_c: bool,
) {
    let seed = (m * 1_000_003 + k * 1009 + n) as u64 ^ ((oa as u64) << 40) ^ ((ob as u64) << 41);
    let mut rng = Lcg(seed);
    let (a, rsa, csa) = operand::<T>(&mut rng, m, k, oa);
    let (b, rsb, csb) = operand::<T>(&mut rng, k, n, ob);
    const SENTINEL: f64 = 12345.0;
    let (mut c, off, rsc, csc) = c_buffer::<T>(m, n, layout, SENTINEL);
    // The reference C is row-major and never NaN; the tested C starts equal (or NaN).
    let mut c0 = vec![T::from(0.0); m * n];
    for i in 0..m {
        for j in 0..n {
            let v = T::from(rng.next());
            c0[i * n + j] = v;
            let idx = off as isize + i as isize * rsc + j as isize * csc;
            c[idx as usize] = if nan_c { T::from(f64::NAN) } else { v };
        }
    }
    let mut expect = c0.clone();
    // SAFETY: `a`, `b` and the output are live vectors of the sizes the dimensions and strides describe.
    unsafe {
        T::reference(
            m,
            k,
            n,
            T::from(alpha),
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            T::from(beta),
            expect.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    let c_ptr = c.as_mut_ptr() as usize;
    // SAFETY: the matrices are live vectors of the sizes the dimensions and strides describe, kept alive across the call.
    with_threads(threads, || unsafe {
        T::gemm(
            path,
            m,
            k,
            n,
            T::from(alpha),
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            T::from(beta),
            (c_ptr as *mut T).add(off),
            rsc,
            csc,
        );
    });

    let amax = a.iter().fold(0.0f64, |x, v| x.max(v.to().abs()));
    let bmax = b.iter().fold(0.0f64, |x, v| x.max(v.to().abs()));
    let tol = (4.0 * (k as f64 + 2.0) * amax * bmax * alpha.abs() + 4.0 * beta.abs()) * T::EPS;
    let what = format!(
        "{} {} {threads}t m={m} k={k} n={n} A={oa:?} B={ob:?} C={layout:?} α={alpha} β={beta} nan={nan_c}",
        path.name(),
        T::NAME
    );
    let mut inside = vec![false; c.len()];
    for i in 0..m {
        for j in 0..n {
            let idx = (off as isize + i as isize * rsc + j as isize * csc) as usize;
            inside[idx] = true;
            let got = c[idx].to();
            let want = expect[i * n + j].to();
            assert!(got.is_finite(), "{what}: C[{i},{j}] = {got} is not finite");
            assert!(
                (got - want).abs() <= tol,
                "{what}: C[{i},{j}] = {got}, expected {want} (tol {tol:e})"
            );
        }
    }
    for (idx, v) in c.iter().enumerate() {
        if !inside[idx] {
            assert_eq!(
                v.to(),
                SENTINEL,
                "{what}: element {idx} outside C was written"
            );
        }
    }
}

const ORDERS: [(Order, Order); 4] = [
    (Order::Row, Order::Row),
    (Order::Row, Order::Col),
    (Order::Col, Order::Row),
    (Order::Col, Order::Col),
];

/// Empty, tiny and odd sizes: every layout, α, β and thread count.
fn small_sizes<T: Elem>(path: GemmPath) {
    let sizes = [
        (0, 0, 0),
        (0, 3, 4),
        (3, 0, 4),
        (3, 4, 0),
        (1, 1, 1),
        (1, 7, 1),
        (1, 9, 40),
        (40, 9, 1),
        (2, 3, 2),
        (3, 5, 7),
        (7, 5, 3),
        (13, 1, 33),
        (17, 33, 65),
        (5, 64, 17),
        (16, 100, 10),
        (25, 31, 9),
        (11, 13, 50),
        (9, 40, 1),
        (1, 300, 1),
    ];
    for threads in [1, 2] {
        for &size in &sizes {
            for (oa, ob) in ORDERS {
                for layout in [
                    CLayout::Row,
                    CLayout::Col,
                    CLayout::SubView,
                    CLayout::Strided,
                ] {
                    for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.75, 0.5), (2.0, 1.0)] {
                        check::<T>(path, threads, size, oa, ob, layout, alpha, beta, false);
                    }
                    check::<T>(path, threads, size, oa, ob, layout, 1.5, 0.0, true);
                }
            }
        }
    }
}

/// Sizes crossing the register tiles (12/6 rows, 32/16/8 columns), the depth panels (256–512),
/// the column panels (1024–4096), the threading threshold, and the inner-product path.
fn large_sizes<T: Elem>(path: GemmPath) {
    let sizes = [
        (129, 67, 250),
        (25, 300, 530),
        (13, 520, 70),
        (50, 257, 1030),
        (100, 784, 100),
        (7, 600, 1100),
        (1, 784, 100),
        (2000, 64, 20),
        (31, 513, 47),
        (200, 130, 257),
        (30, 20, 4200),
        (300, 700, 1),
        (260, 40, 300),
    ];
    for threads in [1, 2] {
        for &size in &sizes {
            for (oa, ob) in ORDERS {
                check::<T>(path, threads, size, oa, ob, CLayout::Row, 1.0, 0.0, true);
                check::<T>(
                    path,
                    threads,
                    size,
                    oa,
                    ob,
                    CLayout::SubView,
                    -0.5,
                    0.5,
                    false,
                );
            }
            check::<T>(
                path,
                threads,
                size,
                Order::Row,
                Order::Col,
                CLayout::Col,
                1.0,
                1.0,
                false,
            );
            check::<T>(
                path,
                threads,
                size,
                Order::Col,
                Order::Row,
                CLayout::Strided,
                0.5,
                1.0,
                false,
            );
        }
    }
}

#[test]
fn paths_are_listed() {
    let paths = supported_gemm_paths();
    assert!(paths.contains(&GemmPath::Portable));
    assert!(paths.contains(&GemmPath::active()));
    let names: Vec<_> = paths.iter().map(|p| p.name()).collect();
    assert!(names.contains(&"matrixmultiply"));
}

#[test]
fn sgemm_small_sizes() {
    for path in supported_gemm_paths() {
        small_sizes::<f32>(path);
    }
}

#[test]
fn dgemm_small_sizes() {
    for path in supported_gemm_paths() {
        small_sizes::<f64>(path);
    }
}

#[test]
fn sgemm_large_sizes() {
    for path in supported_gemm_paths() {
        large_sizes::<f32>(path);
    }
}

#[test]
fn dgemm_large_sizes() {
    for path in supported_gemm_paths() {
        large_sizes::<f64>(path);
    }
}

#[test]
fn default_entry_points_match_reference() {
    let (m, k, n) = (37, 45, 29);
    let mut rng = Lcg(7);
    let a: Vec<f32> = (0..m * k).map(|_| rng.next() as f32).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.next() as f32).collect();
    let mut c = vec![f32::NAN; m * n];
    let mut expect = vec![0.0f32; m * n];
    // SAFETY: `a`, `b` and the output are live vectors of the sizes the dimensions and strides describe.
    unsafe {
        strata_tensor::gemm::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            expect.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    for (x, y) in c.iter().zip(&expect) {
        assert!((x - y).abs() <= 1e-4, "{x} vs {y}");
    }
    let a: Vec<f64> = a.iter().map(|&x| x as f64).collect();
    let b: Vec<f64> = b.iter().map(|&x| x as f64).collect();
    let mut c = vec![f64::NAN; m * n];
    let mut expect = vec![0.0f64; m * n];
    // SAFETY: `a`, `b` and the output are live vectors of the sizes the dimensions and strides describe.
    unsafe {
        strata_tensor::gemm::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            expect.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    for (x, y) in c.iter().zip(&expect) {
        assert!((x - y).abs() <= 1e-12, "{x} vs {y}");
    }
}

/// Many products at once from inside the pool (each may itself go parallel), so calls nest
/// on the worker threads and share their packing buffers.
#[test]
fn concurrent_calls_from_the_pool() {
    use rayon::prelude::*;
    for path in supported_gemm_paths() {
        with_threads(2, || {
            (0..8usize).into_par_iter().for_each(|i| {
                let size = [(64, 300, 200), (5, 40, 700), (130, 90, 33), (1, 784, 100)][i % 4];
                let (oa, ob) = ORDERS[i % 4];
                check::<f32>(path, 2, size, oa, ob, CLayout::Row, 1.0, 0.5, false);
                check::<f64>(path, 2, size, ob, oa, CLayout::SubView, 1.0, 0.0, true);
            });
        });
    }
}
