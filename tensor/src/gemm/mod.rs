//! General matrix multiply: the one entry point every matmul, convolution and linear layer uses.
//!
//! [`gemm`]: `C ← α·A·B + β·C` for an `m×k` matrix `A`, a `k×n` matrix `B` and an `m×n` matrix
//! `C`, each a strided view ([`MatRef`], [`MatMut`]: shape and (row, column) strides in
//! elements), so a transposed operand is a stride swap ([`MatRef::t`]), never a copy.
//! [`gemm_on`] runs a chosen path.
//!
//! Paths ([`GemmPath`]), chosen from [`crate::simd::active_path`] (so `STRATA_SIMD` forces one):
//! * **AVX-512** and **AVX2 + FMA**: Strata's own packed, cache-blocked GEMM — the Goto/BLIS loop
//!   nest in `driver.rs`, operand packing in `pack.rs`, register-tiled micro-kernels written once
//!   in `kernel.rs` and instantiated per instruction set in `avx512.rs` (12 × 32 `f32` tiles) and
//!   `avx2.rs` (6 × 16 `f32` tiles). Large products are split over the rayon pool
//!   ([`crate::threads`]); small ones stay on the calling thread.
//! * **Portable**: `matrixmultiply` (also the reference in tests). Its threading is its own
//!   (`MATMUL_NUM_THREADS`), not the rayon pool.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod driver;
#[cfg(target_arch = "x86_64")]
mod kernel;
mod mat;
#[cfg(target_arch = "x86_64")]
mod pack;

use std::sync::OnceLock;

pub use mat::{MatMut, MatRef};

use crate::Element;
use crate::simd::SimdPath;
#[cfg(target_arch = "x86_64")]
use crate::simd::{Avx2, Avx512, PathVisitor};

/// An implementation of [`gemm`] ([`gemm_on`] chooses one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GemmPath {
    /// Strata's packed GEMM with AVX-512F micro-kernels (x86_64).
    Avx512,
    /// Strata's packed GEMM with AVX2 + FMA micro-kernels (x86_64).
    Avx2,
    /// `matrixmultiply`, on every CPU.
    Portable,
}

impl GemmPath {
    /// Lower-case name used in benchmark ids: `"avx512"`, `"avx2"` or `"matrixmultiply"`.
    pub fn name(self) -> &'static str {
        match self {
            GemmPath::Avx512 => "avx512",
            GemmPath::Avx2 => "avx2",
            GemmPath::Portable => "matrixmultiply",
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            GemmPath::Avx512 => cfg!(target_arch = "x86_64") && SimdPath::Avx512.is_supported(),
            GemmPath::Avx2 => cfg!(target_arch = "x86_64") && SimdPath::Avx2.is_supported(),
            GemmPath::Portable => true,
        }
    }

    /// The path [`gemm`] uses: AVX-512 or AVX2 when that is the active SIMD path
    /// ([`crate::simd::active_path`]), else the portable one. Decided once.
    pub fn active() -> GemmPath {
        static ACTIVE: OnceLock<GemmPath> = OnceLock::new();
        *ACTIVE.get_or_init(|| match crate::simd::active_path() {
            SimdPath::Avx512 if GemmPath::Avx512.is_supported() => GemmPath::Avx512,
            SimdPath::Avx2 if GemmPath::Avx2.is_supported() => GemmPath::Avx2,
            _ => GemmPath::Portable,
        })
    }
}

/// Every GEMM path this CPU supports, portable first.
pub fn supported_gemm_paths() -> Vec<GemmPath> {
    [GemmPath::Portable, GemmPath::Avx2, GemmPath::Avx512]
        .into_iter()
        .filter(|p| p.is_supported())
        .collect()
}

/// `C ← α·A·B + β·C` on the active path ([`GemmPath::active`]), for an `m×k` view `A`, a `k×n`
/// view `B` and an `m×n` view `C` (`cᵢⱼ ← α·Σₚ aᵢₚ·bₚⱼ + β·cᵢⱼ`).
///
/// When `β = 0`, `C` is only written (it may hold NaN); `k = 0` gives `C ← β·C`; an empty `C`
/// (`m = 0` or `n = 0`) is left alone. Views built from slices make the call safe: their
/// elements are in bounds, `C`'s are distinct, and the borrow checker keeps `C` apart from `A`
/// and `B` (for views from `from_raw_parts`, that is the constructors' contract).
///
/// ```
/// use strata_tensor::gemm::{MatMut, MatRef, gemm};
///
/// // A = [1 2 3; 4 5 6] (2×3), B = [7 8; 9 10; 11 12] (3×2), both row-major.
/// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let b = [7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0];
/// let mut c = [0.0f32; 4];
/// let (a, b) = (MatRef::row_major(&a, 2, 3), MatRef::row_major(&b, 3, 2));
/// gemm(1.0, a, b, 0.0, MatMut::row_major(&mut c, 2, 2));
/// assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
///
/// // The same B stored as Bᵀ (row-major 2×3): its transpose is a view, not a copy.
/// let bt = [7.0f32, 9.0, 11.0, 8.0, 10.0, 12.0];
/// let b = MatRef::row_major(&bt, 2, 3).t();
/// assert_eq!((b.rows(), b.cols(), b.row_stride(), b.col_stride()), (3, 2, 1, 3));
/// // C ← 2·A·B − C (views are `Copy`: `a` is used again).
/// gemm(2.0, a, b, -1.0, MatMut::row_major(&mut c, 2, 2));
/// assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
/// ```
///
/// # Panics
/// If the shapes do not fit (`A.cols ≠ B.rows`, or `C` is not `A.rows × B.cols`); the message
/// names `gemm` and the three shapes.
#[track_caller]
pub fn gemm<T: Element>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    T::gemm_on(GemmPath::active(), alpha, a, b, beta, c)
}

/// [`gemm`] on a chosen path: `C ← α·A·B + β·C` for an `m×k` view `A`, a `k×n` view `B` and an
/// `m×n` view `C`, with the same semantics.
///
/// # Panics
/// If the shapes do not fit (as [`gemm`]), or if this CPU does not support `path`
/// ([`GemmPath::is_supported`]).
#[track_caller]
pub fn gemm_on<T: Element>(
    path: GemmPath,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) {
    T::gemm_on(path, alpha, a, b, beta, c)
}

/// Panics unless `A` (`m×k`), `B` (`k×n`) and `C` (`m×n`) fit and this CPU supports `path`.
#[track_caller]
fn check<T>(path: GemmPath, a: &MatRef<'_, T>, b: &MatRef<'_, T>, c: &MatMut<'_, T>) {
    assert!(
        a.cols() == b.rows() && c.rows() == a.rows() && c.cols() == b.cols(),
        "gemm: shapes do not fit C ← α·A·B + β·C: A is {}×{}, B is {}×{}, C is {}×{}",
        a.rows(),
        a.cols(),
        b.rows(),
        b.cols(),
        c.rows(),
        c.cols()
    );
    assert!(
        path.is_supported(),
        "gemm: GEMM path {} is not supported by this CPU",
        path.name()
    );
}

/// Strata's kernels of element type `T` for `path`, built once; `None` for the portable path
/// (or a `T` without kernels).
#[cfg(target_arch = "x86_64")]
fn kernel_set<T: 'static>(path: GemmPath) -> Option<&'static kernel::KernelSet<T>> {
    let simd = match path {
        GemmPath::Avx512 => SimdPath::Avx512,
        GemmPath::Avx2 => SimdPath::Avx2,
        GemmPath::Portable => return None,
    };
    crate::simd::visit(simd, KernelSets(std::marker::PhantomData)).flatten()
}

/// Picks the micro-kernels of `T` for a SIMD path (none on the scalar path).
#[cfg(target_arch = "x86_64")]
struct KernelSets<T>(std::marker::PhantomData<T>);

#[cfg(target_arch = "x86_64")]
impl<T: 'static> KernelSets<T> {
    /// Whichever of the two sets is `T`'s.
    fn of(
        f32s: &'static kernel::KernelSet<f32>,
        f64s: &'static kernel::KernelSet<f64>,
    ) -> Option<&'static kernel::KernelSet<T>> {
        let sets: [&'static dyn std::any::Any; 2] = [f32s, f64s];
        sets.into_iter().find_map(|s| s.downcast_ref())
    }
}

// The kernel sets are handed out only here, with the path's token: their kernels are compiled
// for the path's target features.
#[cfg(target_arch = "x86_64")]
impl<T: 'static> PathVisitor for KernelSets<T> {
    type Output = Option<&'static kernel::KernelSet<T>>;

    fn scalar(self) -> Self::Output {
        None
    }
    fn avx2(self, _: Avx2) -> Self::Output {
        static F32: OnceLock<kernel::KernelSet<f32>> = OnceLock::new();
        static F64: OnceLock<kernel::KernelSet<f64>> = OnceLock::new();
        Self::of(
            F32.get_or_init(avx2::f32::kernel_set),
            F64.get_or_init(avx2::f64::kernel_set),
        )
    }
    fn avx512(self, _: Avx512) -> Self::Output {
        static F32: OnceLock<kernel::KernelSet<f32>> = OnceLock::new();
        static F64: OnceLock<kernel::KernelSet<f64>> = OnceLock::new();
        Self::of(
            F32.get_or_init(avx512::f32::kernel_set),
            F64.get_or_init(avx512::f64::kernel_set),
        )
    }
}

/// Runs `f` with every product it computes on this thread kept on this thread, for callers
/// that already share their work out over the thread pool (results are the same either way).
pub(crate) fn serial<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    return driver::serial(f);
    #[cfg(not(target_arch = "x86_64"))]
    f()
}

/// [`gemm_on`] in `f32`: the body of `f32`'s [`Element::gemm_on`].
#[track_caller]
pub(crate) fn gemm_f32(
    path: GemmPath,
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: MatMut<'_, f32>,
) {
    check(path, &a, &b, &c);
    #[cfg(target_arch = "x86_64")]
    if let Some(ks) = kernel_set::<f32>(path) {
        // SAFETY: `check` verified the shapes and that the CPU supports `path`, whose kernels
        // `ks` are; the views' constructors guarantee valid, non-aliasing operands.
        unsafe { driver::gemm(ks, alpha, a, b, beta, c) };
        return;
    }
    portable(matrixmultiply::sgemm, alpha, a, b, beta, c);
}

/// [`gemm_on`] in `f64`: the body of `f64`'s [`Element::gemm_on`].
#[track_caller]
pub(crate) fn gemm_f64(
    path: GemmPath,
    alpha: f64,
    a: MatRef<'_, f64>,
    b: MatRef<'_, f64>,
    beta: f64,
    c: MatMut<'_, f64>,
) {
    check(path, &a, &b, &c);
    #[cfg(target_arch = "x86_64")]
    if let Some(ks) = kernel_set::<f64>(path) {
        // SAFETY: as in `gemm_f32`.
        unsafe { driver::gemm(ks, alpha, a, b, beta, c) };
        return;
    }
    portable(matrixmultiply::dgemm, alpha, a, b, beta, c);
}

/// `matrixmultiply::sgemm` or `dgemm`: `(m, k, n, α, a, rsa, csa, b, rsb, csb, β, c, rsc, csc)`.
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

/// The portable path: `f` (`matrixmultiply`) on the views, whose shapes fit.
fn portable<T>(
    f: BlasGemm<T>,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    // SAFETY: the views address valid elements, `C`'s distinct and not shared with `A` or `B`
    // (their constructors' contracts); the shapes fit (checked by the caller).
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
