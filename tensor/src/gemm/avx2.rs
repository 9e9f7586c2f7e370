//! AVX2 + FMA micro-kernels (256-bit vectors, 16 vector registers).
//!
//! `f32`: the classic 6 × 16 tile (6 rows × 2 vectors of 8 lanes): 12 accumulators, 2 `B`
//! vectors and one broadcast `A` scalar fill 15 of the 16 registers; each step of the `p` loop
//! is 2 vector loads, 6 broadcasts and 12 FMAs. `f64` uses the same shape with 4 lanes (6 × 8).
//!
//! Blocking as for AVX-512 (see `avx512.rs`): `KC = 512` (`f32`, a 12 KiB `A` sliver in L1),
//! `NC = 2048`; `f64` 256 × 1024.

/// `f32` kernels.
pub(crate) mod f32 {
    use std::arch::x86_64::*;

    const MR: usize = 6;
    const NRV: usize = 2;
    const LANES: usize = 8;
    const KC: usize = 512;
    const NC: usize = 2048;

    const DOT_S: usize = 4;

    type Mask = __m256i;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees `p` is valid for reading one full vector (this function's contract).
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn loadm(p: *const f32, m: Mask) -> __m256 {
        // SAFETY: the caller guarantees `p` is valid for reading the lanes `m` selects (this function's contract).
        unsafe { _mm256_maskload_ps(p, m) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn bcast(p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees `p` is valid for reading one value (this function's contract).
        unsafe { _mm256_broadcast_ss(&*p) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn splat(x: f32) -> __m256 {
        _mm256_set1_ps(x)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mul(a: __m256, b: __m256) -> __m256 {
        _mm256_mul_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn add(a: __m256, b: __m256) -> __m256 {
        _mm256_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(p: *mut f32, v: __m256) {
        // SAFETY: the caller guarantees `p` is valid for writing one full vector (this function's contract).
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn storem(p: *mut f32, v: __m256, m: Mask) {
        // SAFETY: the caller guarantees `p` is valid for writing the lanes `m` selects (this function's contract).
        unsafe { _mm256_maskstore_ps(p, m, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mask(n: usize) -> Mask {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn prefetch(p: *const f32) {
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }

    crate::gemm::kernel::define_kernel!("avx2,fma", f32, rows: [6, 4, 3, 2, 1], dot: [2, 1, 1]);
}

/// `f64` kernels.
pub(crate) mod f64 {
    use std::arch::x86_64::*;

    const MR: usize = 6;
    const NRV: usize = 2;
    const LANES: usize = 4;
    const KC: usize = 256;
    const NC: usize = 1024;

    const DOT_S: usize = 4;

    type Mask = __m256i;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn zero() -> __m256d {
        _mm256_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load(p: *const f64) -> __m256d {
        // SAFETY: the caller guarantees `p` is valid for reading one full vector (this function's contract).
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn loadm(p: *const f64, m: Mask) -> __m256d {
        // SAFETY: the caller guarantees `p` is valid for reading the lanes `m` selects (this function's contract).
        unsafe { _mm256_maskload_pd(p, m) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn bcast(p: *const f64) -> __m256d {
        // SAFETY: the caller guarantees `p` is valid for reading one value (this function's contract).
        unsafe { _mm256_broadcast_sd(&*p) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn splat(x: f64) -> __m256d {
        _mm256_set1_pd(x)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn fma(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        _mm256_fmadd_pd(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mul(a: __m256d, b: __m256d) -> __m256d {
        _mm256_mul_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn add(a: __m256d, b: __m256d) -> __m256d {
        _mm256_add_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256d) -> f64 {
        let s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store(p: *mut f64, v: __m256d) {
        // SAFETY: the caller guarantees `p` is valid for writing one full vector (this function's contract).
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn storem(p: *mut f64, v: __m256d, m: Mask) {
        // SAFETY: the caller guarantees `p` is valid for writing the lanes `m` selects (this function's contract).
        unsafe { _mm256_maskstore_pd(p, m, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mask(n: usize) -> Mask {
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(n as i64), _mm256_setr_epi64x(0, 1, 2, 3))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn prefetch(p: *const f64) {
        _mm_prefetch::<_MM_HINT_T0>(p as *const i8)
    }

    crate::gemm::kernel::define_kernel!("avx2,fma", f64, rows: [6, 4, 3, 2, 1], dot: [2, 1, 1]);
}
