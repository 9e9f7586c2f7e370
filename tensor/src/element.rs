//! The element types a [`Tensor`](crate::Tensor) can hold.

use std::fmt::{Debug, Display};

use num_traits::{Float, FromPrimitive};

use crate::gemm::{GemmPath, MatMut, MatRef};
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

    /// The per-type hook behind [`gemm`](crate::gemm::gemm) and
    /// [`gemm_on`](crate::gemm::gemm_on): `C ← α·A·B + β·C` on `path` for an `m×k` view `A`,
    /// a `k×n` view `B` and an `m×n` view `C`, with their semantics, checks and panics. Call
    /// those functions instead.
    fn gemm_on(
        path: GemmPath,
        alpha: Self,
        a: MatRef<'_, Self>,
        b: MatRef<'_, Self>,
        beta: Self,
        c: MatMut<'_, Self>,
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

    #[track_caller]
    fn gemm_on(
        path: GemmPath,
        alpha: f32,
        a: MatRef<'_, f32>,
        b: MatRef<'_, f32>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) {
        crate::gemm::gemm_f32(path, alpha, a, b, beta, c)
    }
}

impl Element for f64 {
    const DTYPE: &'static str = "f64";

    fn kernels() -> &'static Kernels<f64> {
        crate::simd::kernels_f64()
    }

    #[track_caller]
    fn gemm_on(
        path: GemmPath,
        alpha: f64,
        a: MatRef<'_, f64>,
        b: MatRef<'_, f64>,
        beta: f64,
        c: MatMut<'_, f64>,
    ) {
        crate::gemm::gemm_f64(path, alpha, a, b, beta, c)
    }
}
