//! General matrix multiply: the one entry point every matmul, convolution and linear layer uses.
//!
//! `C ← α·A·B + β·C` for an `m×k` matrix `A`, a `k×n` matrix `B` and an `m×n` matrix `C`, each
//! given by a pointer and (row, column) strides in elements, so a transposed operand is a stride
//! swap, never a copy.
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
#[cfg(target_arch = "x86_64")]
mod pack;

use std::sync::OnceLock;

use crate::simd::SimdPath;

/// An implementation of [`sgemm`]/[`dgemm`].
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

    /// The path [`sgemm`] and [`dgemm`] use: AVX-512 or AVX2 when that is the active SIMD path
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

/// `C ← α·A·B + β·C` in `f32` on the active path ([`GemmPath::active`]); see
/// [`crate::Element::gemm`] for the contract. `A` is `m×k`, `B` is `k×n`, `C` is `m×n`; when
/// `β = 0`, `C` is only written (it may hold NaN); `k = 0` gives `C ← β·C`; `m = 0` or `n = 0`
/// does nothing.
///
/// # Safety
/// As [`crate::Element::gemm`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
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
    // SAFETY: forwarded contract; the active path is supported.
    unsafe {
        sgemm_with(
            GemmPath::active(),
            m,
            k,
            n,
            alpha,
            a,
            rsa,
            csa,
            b,
            rsb,
            csb,
            beta,
            c,
            rsc,
            csc,
        )
    }
}

/// `C ← α·A·B + β·C` in `f64` on the active path ([`GemmPath::active`]); see [`sgemm`].
///
/// # Safety
/// As [`crate::Element::gemm`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn dgemm(
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
    // SAFETY: forwarded contract; the active path is supported.
    unsafe {
        dgemm_with(
            GemmPath::active(),
            m,
            k,
            n,
            alpha,
            a,
            rsa,
            csa,
            b,
            rsb,
            csb,
            beta,
            c,
            rsc,
            csc,
        )
    }
}

/// [`sgemm`] on a chosen path: `C ← α·A·B + β·C` with `A` `m×k` (element `(i, p)` at
/// `a + i·rsa + p·csa`), `B` `k×n` and `C` `m×n` likewise.
///
/// # Safety
/// As [`crate::Element::gemm`]: every element addressed through the pointers and strides is
/// valid, `C` does not alias `A` or `B`, and distinct `(i, j)` of `C` address distinct elements.
///
/// # Panics
/// If this CPU does not support `path` ([`GemmPath::is_supported`]).
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm_with(
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
    assert!(
        path.is_supported(),
        "sgemm: GEMM path {} is not supported by this CPU",
        path.name()
    );
    // SAFETY: forwarded contract; the path's instruction set was checked above.
    unsafe {
        match path {
            #[cfg(target_arch = "x86_64")]
            GemmPath::Avx512 => {
                static KS: OnceLock<kernel::KernelSet<f32>> = OnceLock::new();
                let ks = KS.get_or_init(avx512::f32::kernel_set);
                driver::gemm(
                    ks, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                )
            }
            #[cfg(target_arch = "x86_64")]
            GemmPath::Avx2 => {
                static KS: OnceLock<kernel::KernelSet<f32>> = OnceLock::new();
                let ks = KS.get_or_init(avx2::f32::kernel_set);
                driver::gemm(
                    ks, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                )
            }
            _ => matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc),
        }
    }
}

/// [`dgemm`] on a chosen path; see [`sgemm_with`].
///
/// # Safety
/// As [`sgemm_with`].
///
/// # Panics
/// If this CPU does not support `path` ([`GemmPath::is_supported`]).
#[allow(clippy::too_many_arguments)]
pub unsafe fn dgemm_with(
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
    assert!(
        path.is_supported(),
        "dgemm: GEMM path {} is not supported by this CPU",
        path.name()
    );
    // SAFETY: forwarded contract; the path's instruction set was checked above.
    unsafe {
        match path {
            #[cfg(target_arch = "x86_64")]
            GemmPath::Avx512 => {
                static KS: OnceLock<kernel::KernelSet<f64>> = OnceLock::new();
                let ks = KS.get_or_init(avx512::f64::kernel_set);
                driver::gemm(
                    ks, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                )
            }
            #[cfg(target_arch = "x86_64")]
            GemmPath::Avx2 => {
                static KS: OnceLock<kernel::KernelSet<f64>> = OnceLock::new();
                let ks = KS.get_or_init(avx2::f64::kernel_set);
                driver::gemm(
                    ks, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                )
            }
            _ => matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc),
        }
    }
}
