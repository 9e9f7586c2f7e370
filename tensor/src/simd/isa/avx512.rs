//! The AVX-512F vocabulary: 512-bit vectors of 16 `f32` or 8 `f64`, opmask registers for
//! masks. Only AVX-512F instructions are used (that is all [`crate::simd::SimdPath::Avx512`]
//! checks), so every function here is compiled with `target_feature = "avx512f"`.

/// 16 × `f32`.
pub(crate) mod f32 {
    use std::arch::x86_64::*;

    /// A vector.
    pub(crate) type V = __m512;
    /// One bit per lane.
    pub(crate) type Mask = __mmask16;
    /// Lanes per vector.
    pub(crate) const LANES: usize = 16;
    /// The lane permutation [`shift`] applies (from [`shift_by`]).
    pub(crate) type Shift = __m512i;

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn zero() -> V {
        _mm512_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn splat(x: f32) -> V {
        _mm512_set1_ps(x)
    }
    /// # Safety
    /// `p` is readable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn bcast(p: *const f32) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_set1_ps(*p) }
    }
    /// # Safety
    /// `p..p+16` is readable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn load(p: *const f32) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_loadu_ps(p) }
    }
    /// # Safety
    /// `p..p+16` is writable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn store(p: *mut f32, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn mask(n: usize) -> Mask {
        ((1u32 << n) - 1) as Mask
    }
    /// # Safety
    /// The lanes `m` selects are readable (the others are never accessed).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn load_masked(p: *const f32, m: Mask) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_maskz_loadu_ps(m, p) }
    }
    /// # Safety
    /// As [`load_masked`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn load_masked_or(p: *const f32, m: Mask, fill: V) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_loadu_ps(fill, m, p) }
    }
    /// # Safety
    /// The lanes `m` selects are writable (the others are never accessed).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn store_masked(p: *mut f32, m: Mask, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_storeu_ps(p, m, v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    // `_mm_prefetch` is an `unsafe fn` before Rust 1.90 (the minimum supported version is older).
    #[allow(unused_unsafe)]
    pub(crate) fn prefetch(p: *const f32) {
        // SAFETY: a prefetch is a hint: it never faults and never reads into the program, whatever
        // the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn add(a: V, b: V) -> V {
        _mm512_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn sub(a: V, b: V) -> V {
        _mm512_sub_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn mul(a: V, b: V) -> V {
        _mm512_mul_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn div(a: V, b: V) -> V {
        _mm512_div_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn fma(a: V, b: V, c: V) -> V {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn fnma(a: V, b: V, c: V) -> V {
        _mm512_fnmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn max(a: V, b: V) -> V {
        _mm512_max_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn min(a: V, b: V) -> V {
        _mm512_min_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn abs(a: V) -> V {
        _mm512_abs_ps(a)
    }
    /// `−|a|` (`0 − |a|`: +0 for ±0).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn neg_abs(a: V) -> V {
        _mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(a))
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn round(a: V) -> V {
        _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn scale_pow2(y: V, n: V) -> V {
        _mm512_scalef_ps(y, n)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn with_sign_of(v: V, x: V) -> V {
        // Integer AND/OR: AVX-512F has no float logic.
        let sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(i32::MIN));
        _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(v), sign))
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn lt(a: V, b: V) -> Mask {
        _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn gt(a: V, b: V) -> Mask {
        _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn is_nan(a: V) -> Mask {
        _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn select(m: Mask, yes: V, no: V) -> V {
        _mm512_mask_blend_ps(m, no, yes)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn no_lanes() -> Mask {
        0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn mask_or(a: Mask, b: Mask) -> Mask {
        a | b
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn any(m: Mask) -> bool {
        m != 0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn all(m: Mask) -> bool {
        m == 0xffff
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn hsum(v: V) -> f32 {
        _mm512_reduce_add_ps(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn hmax(v: V) -> f32 {
        _mm512_reduce_max_ps(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn shift_by(s: usize) -> Shift {
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        _mm512_add_epi32(iota, _mm512_set1_epi32(16 - s as i32))
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn shift(prev: V, cur: V, idx: Shift) -> V {
        _mm512_permutex2var_ps(prev, idx, cur)
    }

    /// The even and the odd lanes of the 32-lane sequence `lo:hi`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn unzip(lo: V, hi: V) -> (V, V) {
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        (
            _mm512_permutex2var_ps(lo, even, hi),
            _mm512_permutex2var_ps(lo, odd, hi),
        )
    }
    /// Writes `idx[l] = base + 2·l + off[l]` for lanes `l < n` (`off` integral, `0 ≤ off < 2²⁴`).
    ///
    /// # Safety
    /// `idx..idx+n` is writable, `n ≤ 16`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn store_positions(idx: *mut usize, n: usize, base: usize, off: V) {
        let lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let rel = _mm512_add_epi32(lane2, _mm512_cvtps_epi32(off));
        let b64 = _mm512_set1_epi64(base as i64);
        let lo = _mm512_add_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(rel)), b64);
        let hi = _mm512_add_epi64(
            _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(rel)),
            b64,
        );
        let m = mask(n);
        // SAFETY: forwarded to the caller; the masks select lanes 0..n.
        unsafe {
            _mm512_mask_storeu_epi64(idx as *mut i64, m as __mmask8, lo);
            _mm512_mask_storeu_epi64(idx.add(8) as *mut i64, (m >> 8) as __mmask8, hi);
        }
    }

    crate::simd::isa::transcendental::define_f32!("avx512f");
}

/// 8 × `f64`.
pub(crate) mod f64 {
    use std::arch::x86_64::*;

    /// A vector.
    pub(crate) type V = __m512d;
    /// One bit per lane.
    pub(crate) type Mask = __mmask8;
    /// Lanes per vector.
    pub(crate) const LANES: usize = 8;
    /// The lane permutation [`shift`] applies (from [`shift_by`]).
    pub(crate) type Shift = __m512i;

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn zero() -> V {
        _mm512_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn splat(x: f64) -> V {
        _mm512_set1_pd(x)
    }
    /// # Safety
    /// `p` is readable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn bcast(p: *const f64) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_set1_pd(*p) }
    }
    /// # Safety
    /// `p..p+8` is readable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn load(p: *const f64) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_loadu_pd(p) }
    }
    /// # Safety
    /// `p..p+8` is writable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn store(p: *mut f64, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_storeu_pd(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn mask(n: usize) -> Mask {
        ((1u32 << n) - 1) as Mask
    }
    /// # Safety
    /// The lanes `m` selects are readable (the others are never accessed).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn load_masked(p: *const f64, m: Mask) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_maskz_loadu_pd(m, p) }
    }
    /// # Safety
    /// As [`load_masked`].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn load_masked_or(p: *const f64, m: Mask, fill: V) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_loadu_pd(fill, m, p) }
    }
    /// # Safety
    /// The lanes `m` selects are writable (the others are never accessed).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) unsafe fn store_masked(p: *mut f64, m: Mask, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_storeu_pd(p, m, v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    // `_mm_prefetch` is an `unsafe fn` before Rust 1.90 (the minimum supported version is older).
    #[allow(unused_unsafe)]
    pub(crate) fn prefetch(p: *const f64) {
        // SAFETY: a prefetch is a hint: it never faults and never reads into the program, whatever
        // the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn add(a: V, b: V) -> V {
        _mm512_add_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn sub(a: V, b: V) -> V {
        _mm512_sub_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn mul(a: V, b: V) -> V {
        _mm512_mul_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn div(a: V, b: V) -> V {
        _mm512_div_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn fma(a: V, b: V, c: V) -> V {
        _mm512_fmadd_pd(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn max(a: V, b: V) -> V {
        _mm512_max_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn is_nan(a: V) -> Mask {
        _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(a, a)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn no_lanes() -> Mask {
        0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn mask_or(a: Mask, b: Mask) -> Mask {
        a | b
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn any(m: Mask) -> bool {
        m != 0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn hsum(v: V) -> f64 {
        _mm512_reduce_add_pd(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn hmax(v: V) -> f64 {
        _mm512_reduce_max_pd(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn shift_by(s: usize) -> Shift {
        let iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
        _mm512_add_epi64(iota, _mm512_set1_epi64(8 - s as i64))
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn shift(prev: V, cur: V, idx: Shift) -> V {
        _mm512_permutex2var_pd(prev, idx, cur)
    }
}
