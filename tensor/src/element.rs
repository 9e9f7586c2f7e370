//! The element types a [`Tensor`](crate::Tensor) can hold.

use std::fmt::{Debug, Display};

use num_traits::{Float, FromPrimitive};

use crate::simd::Kernels;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: `f32` (the default everywhere) or `f64` (used for gradient
/// checks). The trait is sealed; each implementation carries its SIMD kernel table and GEMM.
pub trait Element:
    Float + FromPrimitive + Default + Debug + Display + Send + Sync + sealed::Sealed + 'static
{
    /// Name printed by `Debug`/`Display` (`"f32"` or `"f64"`).
    const DTYPE: &'static str;

    /// The SIMD kernel table chosen at start-up for this type (see [`crate::simd`]).
    fn kernels() -> &'static Kernels<Self>;

    /// `C ← α·A·B + β·C` for an `m×k` matrix `A`, a `k×n` matrix `B` and an `m×n` matrix `C`,
    /// each given by a pointer and (row, column) strides in elements.
    ///
    /// # Safety
    /// Every element addressed through the pointers and strides must be valid; `C` must not
    /// alias `A` or `B`, and distinct `(i, j)` of `C` must address distinct elements.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
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

    /// Converts an `f64` literal (exact for `f64`, rounded for `f32`).
    #[inline]
    fn from_f64_lossy(x: f64) -> Self {
        <Self as FromPrimitive>::from_f64(x).expect("every f64 converts to a float")
    }

    /// Converts to `f64` (exact).
    #[inline]
    fn to_f64_lossless(self) -> f64 {
        num_traits::ToPrimitive::to_f64(&self).expect("floats convert to f64")
    }
}

impl Element for f32 {
    const DTYPE: &'static str = "f32";

    fn kernels() -> &'static Kernels<f32> {
        crate::simd::kernels_f32()
    }

    unsafe fn gemm(
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
        // SAFETY: forwarded contract.
        unsafe { crate::gemm::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
    }
}

impl Element for f64 {
    const DTYPE: &'static str = "f64";

    fn kernels() -> &'static Kernels<f64> {
        crate::simd::kernels_f64()
    }

    unsafe fn gemm(
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
        // SAFETY: forwarded contract.
        unsafe { crate::gemm::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
    }
}
