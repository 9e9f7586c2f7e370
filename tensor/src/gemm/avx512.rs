//! AVX-512F micro-kernels (512-bit vectors, 32 vector registers).
//!
//! `f32`: a 12 × 32 tile (12 rows × 2 vectors of 16 lanes) keeps 24 accumulators, 2 `B` vectors
//! and a broadcast `A` scalar in registers: each step of the `p` loop is 2 vector loads,
//! 12 broadcasts and 24 FMAs. `f64` uses the same shape with 8 lanes (12 × 16).
//!
//! Blocking, measured on a 2-core AMD EPYC (Zen 4: L1d 32 KiB, L2 1 MiB per core, L3 32 MiB):
//! the `A` sliver (`MR × KC`: 18 KiB in `f32` with `KC = 384`, 24 KiB in `f64` with `KC = 256`)
//! stays in L1 across the whole row of `B` slivers, which stream from L2/L3. `NC` is large
//! (4096 `f32`, 2048 `f64` columns) because re-packing `A` for every panel of `B` cost more here
//! than keeping the `B` panel inside L2 saved; the hardware prefetchers keep up with the
//! `B` stream (≈5 bytes per cycle).

/// `f32` kernels.
pub(crate) mod f32 {
    use std::arch::x86_64::*;

    const MR: usize = 12;
    const NRV: usize = 2;
    const LANES: usize = 16;
    const KC: usize = 384;
    const NC: usize = 4096;

    const DOT_S: usize = 4;

    type Mask = __mmask16;

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load(p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `p` is valid for reading one full vector (this function's contract).
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn loadm(p: *const f32, m: Mask) -> __m512 {
        // SAFETY: the caller guarantees `p` is valid for reading the lanes `m` selects (this function's contract).
        unsafe { _mm512_maskz_loadu_ps(m, p) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn bcast(p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `p` is valid for reading one value (this function's contract).
        unsafe { _mm512_set1_ps(*p) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn splat(x: f32) -> __m512 {
        _mm512_set1_ps(x)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn mul(a: __m512, b: __m512) -> __m512 {
        _mm512_mul_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn add(a: __m512, b: __m512) -> __m512 {
        _mm512_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn hsum(v: __m512) -> f32 {
        _mm512_reduce_add_ps(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(p: *mut f32, v: __m512) {
        // SAFETY: the caller guarantees `p` is valid for writing one full vector (this function's contract).
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn storem(p: *mut f32, v: __m512, m: Mask) {
        // SAFETY: the caller guarantees `p` is valid for writing the lanes `m` selects (this function's contract).
        unsafe { _mm512_mask_storeu_ps(p, m, v) }
    }
    #[inline]
    fn mask(n: usize) -> Mask {
        ((1u32 << n) - 1) as Mask
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn prefetch(p: *const f32) {
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }

    crate::gemm::kernel::define_kernel!("avx512f", f32, rows: [12, 8, 4, 2, 1], dot: [4, 2, 1]);
}

/// `f64` kernels.
pub(crate) mod f64 {
    use std::arch::x86_64::*;

    const MR: usize = 12;
    const NRV: usize = 2;
    const LANES: usize = 8;
    const KC: usize = 256;
    const NC: usize = 2048;

    const DOT_S: usize = 4;

    type Mask = __mmask8;

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn zero() -> __m512d {
        _mm512_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load(p: *const f64) -> __m512d {
        // SAFETY: the caller guarantees `p` is valid for reading one full vector (this function's contract).
        unsafe { _mm512_loadu_pd(p) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn loadm(p: *const f64, m: Mask) -> __m512d {
        // SAFETY: the caller guarantees `p` is valid for reading the lanes `m` selects (this function's contract).
        unsafe { _mm512_maskz_loadu_pd(m, p) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn bcast(p: *const f64) -> __m512d {
        // SAFETY: the caller guarantees `p` is valid for reading one value (this function's contract).
        unsafe { _mm512_set1_pd(*p) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn splat(x: f64) -> __m512d {
        _mm512_set1_pd(x)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn fma(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        _mm512_fmadd_pd(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn mul(a: __m512d, b: __m512d) -> __m512d {
        _mm512_mul_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn add(a: __m512d, b: __m512d) -> __m512d {
        _mm512_add_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn hsum(v: __m512d) -> f64 {
        _mm512_reduce_add_pd(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(p: *mut f64, v: __m512d) {
        // SAFETY: the caller guarantees `p` is valid for writing one full vector (this function's contract).
        unsafe { _mm512_storeu_pd(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn storem(p: *mut f64, v: __m512d, m: Mask) {
        // SAFETY: the caller guarantees `p` is valid for writing the lanes `m` selects (this function's contract).
        unsafe { _mm512_mask_storeu_pd(p, m, v) }
    }
    #[inline]
    fn mask(n: usize) -> Mask {
        ((1u32 << n) - 1) as Mask
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn prefetch(p: *const f64) {
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }

    crate::gemm::kernel::define_kernel!("avx512f", f64, rows: [12, 8, 4, 2, 1], dot: [4, 2, 1]);
}
