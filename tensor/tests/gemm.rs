//! GEMM paths against `matrixmultiply`: every supported path, `f32` and `f64`, awkward sizes,
//! sizes crossing every block boundary, all transposition combinations, strided `C`, α and β,
//! a write-only `C` (β = 0 over NaN), on 1 and 2 threads.

use strata_tensor::Element;
use strata_tensor::gemm::{GemmPath, MatMut, MatRef, gemm, gemm_on, supported_gemm_paths};
use strata_tensor::threads::with_threads;

/// The element types under test.
trait Elem: Element {
    const EPS: f64;
    /// The reference: `matrixmultiply` called directly on the views.
    fn reference(
        alpha: Self,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        beta: Self,
        c: MatMut<'_, Self>,
    );
}

/// `matrixmultiply::sgemm` or `dgemm`.
type BlasGemm<T> = unsafe fn(
    usize,
    usize,
    usize,
    T,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    *mut T,
    isize,
    isize,
);

/// `f` on the views (whose shapes the callers make fit).
fn blas<T>(
    f: BlasGemm<T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    assert!(a.cols() == b.rows() && a.rows() == c.rows() && b.cols() == c.cols());
    // SAFETY: the views were built from live slices (bounds and overlap checked) and the
    // shapes fit.
    unsafe {
        f(
            c.rows(),
            a.cols(),
            c.cols(),
            alpha,
            a.as_ptr(),
            a.row_stride(),
            a.col_stride(),
            b.as_ptr(),
            b.row_stride(),
            b.col_stride(),
            beta,
            c.as_mut_ptr(),
            c.row_stride(),
            c.col_stride(),
        )
    }
}

impl Elem for f32 {
    const EPS: f64 = f32::EPSILON as f64;
    fn reference(
        alpha: f32,
        a: MatRef<'_, f32>,
        b: MatRef<'_, f32>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) {
        blas(matrixmultiply::sgemm, alpha, a, b, beta, c)
    }
}

impl Elem for f64 {
    const EPS: f64 = f64::EPSILON;
    fn reference(
        alpha: f64,
        a: MatRef<'_, f64>,
        b: MatRef<'_, f64>,
        beta: f64,
        c: MatMut<'_, f64>,
    ) {
        blas(matrixmultiply::dgemm, alpha, a, b, beta, c)
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
    let data = (0..r * c).map(|_| T::from_f64_lossy(rng.next())).collect();
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
    (vec![T::from_f64_lossy(fill); len.max(1)], off, rs, cs)
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
    let mut c0 = vec![T::zero(); m * n];
    for i in 0..m {
        for j in 0..n {
            let v = T::from_f64_lossy(rng.next());
            c0[i * n + j] = v;
            let idx = off as isize + i as isize * rsc + j as isize * csc;
            c[idx as usize] = if nan_c { T::nan() } else { v };
        }
    }
    let mut expect = c0.clone();
    let a_view = MatRef::from_slice(&a, m, k, rsa, csa);
    let b_view = MatRef::from_slice(&b, k, n, rsb, csb);
    T::reference(
        T::from_f64_lossy(alpha),
        a_view,
        b_view,
        T::from_f64_lossy(beta),
        MatMut::row_major(&mut expect, m, n),
    );
    let c_view = MatMut::from_slice(&mut c[off..], m, n, rsc, csc);
    with_threads(threads, || {
        gemm_on(
            path,
            T::from_f64_lossy(alpha),
            a_view,
            b_view,
            T::from_f64_lossy(beta),
            c_view,
        )
    });

    let amax = a
        .iter()
        .fold(0.0f64, |x, v| x.max(v.to_f64_lossless().abs()));
    let bmax = b
        .iter()
        .fold(0.0f64, |x, v| x.max(v.to_f64_lossless().abs()));
    let tol = (4.0 * (k as f64 + 2.0) * amax * bmax * alpha.abs() + 4.0 * beta.abs()) * T::EPS;
    let what = format!(
        "{} {} {threads}t m={m} k={k} n={n} A={oa:?} B={ob:?} C={layout:?} α={alpha} β={beta} nan={nan_c}",
        path.name(),
        T::DTYPE
    );
    let mut inside = vec![false; c.len()];
    for i in 0..m {
        for j in 0..n {
            let idx = (off as isize + i as isize * rsc + j as isize * csc) as usize;
            inside[idx] = true;
            let got = c[idx].to_f64_lossless();
            let want = expect[i * n + j].to_f64_lossless();
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
                v.to_f64_lossless(),
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

/// `gemm` (the active path) against the reference, `f32` and `f64`.
fn active_path_matches_reference<T: Elem>(tol: f64) {
    let (m, k, n) = (37, 45, 29);
    let mut rng = Lcg(7);
    let a: Vec<T> = (0..m * k).map(|_| T::from_f64_lossy(rng.next())).collect();
    let b: Vec<T> = (0..k * n).map(|_| T::from_f64_lossy(rng.next())).collect();
    let mut c = vec![T::nan(); m * n];
    let mut expect = vec![T::zero(); m * n];
    let (a, b) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
    gemm(T::one(), a, b, T::zero(), MatMut::row_major(&mut c, m, n));
    T::reference(
        T::one(),
        a,
        b,
        T::zero(),
        MatMut::row_major(&mut expect, m, n),
    );
    for (x, y) in c.iter().zip(&expect) {
        let (x, y) = (x.to_f64_lossless(), y.to_f64_lossless());
        assert!((x - y).abs() <= tol, "{x} vs {y}");
    }
}

#[test]
fn default_entry_points_match_reference() {
    active_path_matches_reference::<f32>(1e-4);
    active_path_matches_reference::<f64>(1e-12);
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

#[test]
fn views_describe_their_elements() {
    let data: Vec<f32> = (0..12).map(|x| x as f32).collect();
    let a = MatRef::row_major(&data, 3, 4);
    assert_eq!(
        (a.rows(), a.cols(), a.row_stride(), a.col_stride()),
        (3, 4, 4, 1)
    );
    assert_eq!(a.as_ptr(), data.as_ptr());
    let t = a.t();
    assert_eq!(
        (t.rows(), t.cols(), t.row_stride(), t.col_stride()),
        (4, 3, 1, 4)
    );
    // Column-major, a sub-block, and strides that are never used on a dimension of one.
    let _ = MatRef::from_slice(&data, 4, 3, 1, 4);
    let _ = MatRef::from_slice(&data[5..], 2, 3, 4, 1);
    let _ = MatRef::from_slice(&data, 1, 12, -7, 1);
    // A read-only view may repeat elements (a broadcast row).
    let _ = MatRef::from_slice(&data[..4], 5, 4, 0, 1);
    // An empty view fits any slice, even an empty one.
    let _ = MatRef::<f32>::from_slice(&[], 0, 7, 100, 100);
    let _ = MatRef::<f32>::from_slice(&[], 7, 0, 100, 100);
    let mut out = vec![0.0f32; 12];
    let c = MatMut::from_slice(&mut out, 3, 2, 4, 2);
    assert_eq!(
        (c.rows(), c.cols(), c.row_stride(), c.col_stride()),
        (3, 2, 4, 2)
    );
    let c = c.t();
    assert_eq!(
        (c.rows(), c.cols(), c.row_stride(), c.col_stride()),
        (2, 3, 2, 4)
    );
    let _ = MatMut::row_major(&mut out, 4, 3);
    let _ = MatMut::<f32>::from_slice(&mut [], 0, 4, 1, 0);
    let _ = MatMut::from_slice(&mut out, 1, 4, 0, 3);
}

/// The products of a transposed `C` view equal the transposes of the products.
#[test]
fn transposed_output_view() {
    let a = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2×3
    let b = [7.0f64, 8.0, 9.0, 10.0, 11.0, 12.0]; // 3×2
    let mut ct = [0.0f64; 4];
    // Cᵀ = Bᵀ·Aᵀ written through the transposed view of a row-major C.
    gemm(
        1.0,
        MatRef::row_major(&b, 3, 2).t(),
        MatRef::row_major(&a, 2, 3).t(),
        0.0,
        MatMut::row_major(&mut ct, 2, 2).t(),
    );
    assert_eq!(ct, [58.0, 64.0, 139.0, 154.0]);
}

#[test]
#[should_panic(
    expected = "MatRef::from_slice: a 3×4 view with strides (5, 1) addresses elements 0..=13, outside a slice of length 12"
)]
fn mat_ref_out_of_bounds() {
    let data = [0.0f32; 12];
    let _ = MatRef::from_slice(&data, 3, 4, 5, 1);
}

#[test]
#[should_panic(
    expected = "MatRef::from_slice: a 2×3 view with strides (-3, 1) addresses elements -3..=2"
)]
fn mat_ref_negative_stride_leaves_the_slice() {
    let data = [0.0f32; 6];
    let _ = MatRef::from_slice(&data, 2, 3, -3, 1);
}

#[test]
#[should_panic(
    expected = "MatRef::from_slice: a 3×2 view with strides (9223372036854775807, 1) has offsets beyond isize"
)]
fn mat_ref_offset_overflow() {
    let data = [0.0f32; 6];
    let _ = MatRef::from_slice(&data, 3, 2, isize::MAX, 1);
}

#[test]
#[should_panic(
    expected = "MatRef::row_major: a 2×3 row-major matrix needs 6 elements, the slice has 5"
)]
fn mat_ref_row_major_length() {
    let data = [0.0f32; 5];
    let _ = MatRef::row_major(&data, 2, 3);
}

#[test]
#[should_panic(
    expected = "MatMut::from_slice: a 2×2 view with strides (2, 1) addresses elements 0..=3, outside a slice of length 3"
)]
fn mat_mut_out_of_bounds() {
    let mut data = [0.0f64; 3];
    let _ = MatMut::from_slice(&mut data, 2, 2, 2, 1);
}

#[test]
#[should_panic(
    expected = "MatMut::from_slice: a 3×4 view with strides (3, 1) addresses some element twice"
)]
fn mat_mut_overlapping_rows() {
    let mut data = [0.0f32; 12];
    let _ = MatMut::from_slice(&mut data, 3, 4, 3, 1);
}

#[test]
#[should_panic(
    expected = "MatMut::from_slice: a 4×2 view with strides (0, 1) addresses some element twice"
)]
fn mat_mut_broadcast_rows() {
    let mut data = [0.0f32; 2];
    let _ = MatMut::from_slice(&mut data, 4, 2, 0, 1);
}

#[test]
#[should_panic(
    expected = "MatMut::row_major: a 3×3 row-major matrix needs 9 elements, the slice has 10"
)]
fn mat_mut_row_major_length() {
    let mut data = [0.0f32; 10];
    let _ = MatMut::row_major(&mut data, 3, 3);
}

#[test]
#[should_panic(expected = "gemm: shapes do not fit C ← α·A·B + β·C: A is 2×3, B is 2×2, C is 2×2")]
fn gemm_inner_dimensions_differ() {
    let (a, b, mut c) = ([0.0f32; 6], [0.0f32; 4], [0.0f32; 4]);
    gemm(
        1.0,
        MatRef::row_major(&a, 2, 3),
        MatRef::row_major(&b, 2, 2),
        0.0,
        MatMut::row_major(&mut c, 2, 2),
    );
}

#[test]
#[should_panic(expected = "gemm: shapes do not fit C ← α·A·B + β·C: A is 2×3, B is 3×2, C is 2×3")]
fn gemm_output_shape_differs() {
    let (a, b, mut c) = ([0.0f64; 6], [0.0f64; 6], [0.0f64; 6]);
    gemm_on(
        GemmPath::Portable,
        1.0,
        MatRef::row_major(&a, 2, 3),
        MatRef::row_major(&b, 3, 2),
        0.0,
        MatMut::row_major(&mut c, 2, 3),
    );
}
