//! The AVX2 + FMA vocabulary: 256-bit vectors of 8 `f32` or 4 `f64`; a mask is a vector whose
//! selected lanes are all ones (what `vcmpps` makes and `vmaskmov`/`vblendv` read), held as
//! `__m256i`. Every function here is compiled with `target_feature = "avx2,fma"`.

/// 8 × `f32`.
pub(crate) mod f32 {
    use std::arch::x86_64::*;

    /// A vector.
    pub(crate) type V = __m256;
    /// All ones in the selected lanes.
    pub(crate) type Mask = __m256i;
    /// Lanes per vector.
    pub(crate) const LANES: usize = 8;
    /// The lane permutation and blend [`shift`] applies (from [`shift_by`]).
    pub(crate) type Shift = (__m256i, __m256);

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn zero() -> V {
        _mm256_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn splat(x: f32) -> V {
        _mm256_set1_ps(x)
    }
    /// # Safety
    /// `p` is readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn bcast(p: *const f32) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_broadcast_ss(&*p) }
    }
    /// # Safety
    /// `p..p+8` is readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn load(p: *const f32) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_loadu_ps(p) }
    }
    /// # Safety
    /// `p..p+8` is writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn store(p: *mut f32, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn mask(n: usize) -> Mask {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
    /// # Safety
    /// The lanes `m` selects are readable (`vmaskmovps` never touches the others).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn load_masked(p: *const f32, m: Mask) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_maskload_ps(p, m) }
    }
    /// # Safety
    /// As [`load_masked`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn load_masked_or(p: *const f32, m: Mask, fill: V) -> V {
        // SAFETY: forwarded to the caller.
        let v = unsafe { _mm256_maskload_ps(p, m) };
        _mm256_blendv_ps(fill, v, _mm256_castsi256_ps(m))
    }
    /// # Safety
    /// The lanes `m` selects are writable (the others are never accessed).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn store_masked(p: *mut f32, m: Mask, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_maskstore_ps(p, m, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    // `_mm_prefetch` is an `unsafe fn` before Rust 1.90 (the minimum supported version is older).
    #[allow(unused_unsafe)]
    pub(crate) fn prefetch(p: *const f32) {
        // SAFETY: a prefetch is a hint: it never faults and never reads into the program, whatever
        // the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn add(a: V, b: V) -> V {
        _mm256_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn sub(a: V, b: V) -> V {
        _mm256_sub_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn mul(a: V, b: V) -> V {
        _mm256_mul_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn div(a: V, b: V) -> V {
        _mm256_div_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn fma(a: V, b: V, c: V) -> V {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn fnma(a: V, b: V, c: V) -> V {
        _mm256_fnmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn max(a: V, b: V) -> V {
        _mm256_max_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn min(a: V, b: V) -> V {
        _mm256_min_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn abs(a: V) -> V {
        _mm256_andnot_ps(_mm256_set1_ps(-0.0), a)
    }
    /// `−|a|` (the sign bit set).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn neg_abs(a: V) -> V {
        _mm256_or_ps(a, _mm256_set1_ps(-0.0))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn round(a: V) -> V {
        _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(a)
    }
    /// Built in the exponent field. When some lane has |n| > 126 the scaling goes in two
    /// halves `2^⌊n/2⌋·2^(n−⌊n/2⌋)`, so that subnormal results are rounded once instead of
    /// flushed, and results near `f32::MAX` do not overflow early.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn scale_pow2(y: V, n: V) -> V {
        // n ∈ [−150, 128] (NaN lanes give garbage here, but y is NaN there already).
        let ni = _mm256_cvtps_epi32(n);
        let bias = _mm256_set1_epi32(127);
        let extreme = _mm256_cmp_ps::<_CMP_GT_OQ>(abs(n), splat(126.0));
        if _mm256_movemask_ps(extreme) == 0 {
            // Every 2ⁿ is a normal f32: one scaling.
            let s = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(ni, bias)));
            return _mm256_mul_ps(y, s);
        }
        let n1 = _mm256_srai_epi32::<1>(ni);
        let n2 = _mm256_sub_epi32(ni, n1);
        let s1 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n1, bias)));
        let s2 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n2, bias)));
        _mm256_mul_ps(_mm256_mul_ps(y, s1), s2)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn with_sign_of(v: V, x: V) -> V {
        _mm256_or_ps(v, _mm256_and_ps(x, _mm256_set1_ps(-0.0)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn lt(a: V, b: V) -> Mask {
        _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(a, b))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn gt(a: V, b: V) -> Mask {
        _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(a, b))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn is_nan(a: V) -> Mask {
        _mm256_castps_si256(_mm256_cmp_ps::<_CMP_UNORD_Q>(a, a))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn select(m: Mask, yes: V, no: V) -> V {
        _mm256_blendv_ps(no, yes, _mm256_castsi256_ps(m))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn no_lanes() -> Mask {
        _mm256_setzero_si256()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn mask_or(a: Mask, b: Mask) -> Mask {
        _mm256_castps_si256(_mm256_or_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn any(m: Mask) -> bool {
        _mm256_movemask_ps(_mm256_castsi256_ps(m)) != 0
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn all(m: Mask) -> bool {
        _mm256_movemask_ps(_mm256_castsi256_ps(m)) == 0xff
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn hsum(v: V) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn hmax(v: V) -> f32 {
        let s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)))
    }
    /// Both halves permuted by `(l − s) mod 8`, blended on `l ≥ s`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn shift_by(s: usize) -> Shift {
        let iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let s = s as i32;
        let idx = _mm256_and_si256(
            _mm256_sub_epi32(iota, _mm256_set1_epi32(s)),
            _mm256_set1_epi32(7),
        );
        let take_cur = _mm256_castsi256_ps(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32(s - 1)));
        (idx, take_cur)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn shift(prev: V, cur: V, (idx, take_cur): Shift) -> V {
        _mm256_blendv_ps(
            _mm256_permutevar8x32_ps(prev, idx),
            _mm256_permutevar8x32_ps(cur, idx),
            take_cur,
        )
    }

    /// The even and the odd lanes of the 16-lane sequence `lo:hi`: shuffled within 128-bit
    /// halves, then the 64-bit pairs put in order.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn unzip(lo: V, hi: V) -> (V, V) {
        let e = _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi);
        let o = _mm256_shuffle_ps::<0b11_01_11_01>(lo, hi);
        let fix =
            |v: V| _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)));
        (fix(e), fix(o))
    }
    /// Writes `idx[l] = base + 2·l + off[l]` for lanes `l < n` (`off` integral, `0 ≤ off < 2²⁴`),
    /// with plain stores when `n = 8`.
    ///
    /// # Safety
    /// `idx..idx+n` is writable, `n ≤ 8`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn store_positions(idx: *mut usize, n: usize, base: usize, off: V) {
        let lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        let rel = _mm256_add_epi32(lane2, _mm256_cvtps_epi32(off));
        let b64 = _mm256_set1_epi64x(base as i64);
        let lo = _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(rel)), b64);
        let hi = _mm256_add_epi64(
            _mm256_cvtepu32_epi64(_mm256_extracti128_si256::<1>(rel)),
            b64,
        );
        // SAFETY: forwarded to the caller; the masks select lanes 0..n.
        unsafe {
            if n == LANES {
                _mm256_storeu_si256(idx as *mut __m256i, lo);
                _mm256_storeu_si256(idx.add(4) as *mut __m256i, hi);
            } else {
                let lanes64 = _mm256_setr_epi64x(0, 1, 2, 3);
                let first = |k: usize| _mm256_cmpgt_epi64(_mm256_set1_epi64x(k as i64), lanes64);
                _mm256_maskstore_epi64(idx as *mut i64, first(n), lo);
                _mm256_maskstore_epi64(idx.add(4) as *mut i64, first(n.saturating_sub(4)), hi);
            }
        }
    }

    crate::simd::isa::transcendental::define_f32!("avx2,fma");
}

/// 4 × `f64`.
pub(crate) mod f64 {
    use std::arch::x86_64::*;

    /// A vector.
    pub(crate) type V = __m256d;
    /// All ones in the selected lanes.
    pub(crate) type Mask = __m256i;
    /// Lanes per vector.
    pub(crate) const LANES: usize = 4;
    /// The lane permutation and blend [`shift`] applies (from [`shift_by`]).
    pub(crate) type Shift = (__m256i, __m256d);

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn zero() -> V {
        _mm256_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn splat(x: f64) -> V {
        _mm256_set1_pd(x)
    }
    /// # Safety
    /// `p` is readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn bcast(p: *const f64) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_broadcast_sd(&*p) }
    }
    /// # Safety
    /// `p..p+4` is readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn load(p: *const f64) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_loadu_pd(p) }
    }
    /// # Safety
    /// `p..p+4` is writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn store(p: *mut f64, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn mask(n: usize) -> Mask {
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(n as i64), _mm256_setr_epi64x(0, 1, 2, 3))
    }
    /// # Safety
    /// The lanes `m` selects are readable (`vmaskmovpd` never touches the others).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn load_masked(p: *const f64, m: Mask) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_maskload_pd(p, m) }
    }
    /// # Safety
    /// As [`load_masked`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn load_masked_or(p: *const f64, m: Mask, fill: V) -> V {
        // SAFETY: forwarded to the caller.
        let v = unsafe { _mm256_maskload_pd(p, m) };
        _mm256_blendv_pd(fill, v, _mm256_castsi256_pd(m))
    }
    /// # Safety
    /// The lanes `m` selects are writable (the others are never accessed).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) unsafe fn store_masked(p: *mut f64, m: Mask, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_maskstore_pd(p, m, v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    // `_mm_prefetch` is an `unsafe fn` before Rust 1.90 (the minimum supported version is older).
    #[allow(unused_unsafe)]
    pub(crate) fn prefetch(p: *const f64) {
        // SAFETY: a prefetch is a hint: it never faults and never reads into the program, whatever
        // the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn add(a: V, b: V) -> V {
        _mm256_add_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn sub(a: V, b: V) -> V {
        _mm256_sub_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn mul(a: V, b: V) -> V {
        _mm256_mul_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn div(a: V, b: V) -> V {
        _mm256_div_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn fma(a: V, b: V, c: V) -> V {
        _mm256_fmadd_pd(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn max(a: V, b: V) -> V {
        _mm256_max_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn is_nan(a: V) -> Mask {
        _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_UNORD_Q>(a, a))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn no_lanes() -> Mask {
        _mm256_setzero_si256()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn mask_or(a: Mask, b: Mask) -> Mask {
        _mm256_castpd_si256(_mm256_or_pd(_mm256_castsi256_pd(a), _mm256_castsi256_pd(b)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn any(m: Mask) -> bool {
        _mm256_movemask_pd(_mm256_castsi256_pd(m)) != 0
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn hsum(v: V) -> f64 {
        let q = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn hmax(v: V) -> f64 {
        let q = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_max_sd(q, _mm_unpackhi_pd(q, q)))
    }
    /// As for `f32`, with 4 lanes (each a pair of 32-bit halves for the permute).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn shift_by(s: usize) -> Shift {
        let s = s as i32;
        let half = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
        let lane = _mm256_and_si256(
            _mm256_sub_epi32(half, _mm256_set1_epi32(s)),
            _mm256_set1_epi32(3),
        );
        let idx = _mm256_add_epi32(
            _mm256_add_epi32(lane, lane),
            _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1),
        );
        let take_cur = _mm256_castsi256_pd(_mm256_cmpgt_epi64(
            _mm256_setr_epi64x(0, 1, 2, 3),
            _mm256_set1_epi64x(s as i64 - 1),
        ));
        (idx, take_cur)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn shift(prev: V, cur: V, (idx, take_cur): Shift) -> V {
        let p = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(prev), idx));
        let c = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(cur), idx));
        _mm256_blendv_pd(p, c, take_cur)
    }
}
