//! AVX2 + FMA kernels: 256-bit vectors of 8 `f32` or 4 `f64`.
//!
//! Tails shorter than a vector go through `vmaskmov` masked loads and stores, so every element
//! of a slice is computed by the same vector code. The `f32` transcendentals are our own (see
//! [`v32::exp`], [`v32::tanh`], [`v32::sigmoid`]); the `f64` table uses the scalar `libm`
//! versions of `exp`, `tanh` and `sigmoid`.

use super::{Kernels, SimdPath, scalar};

/// The AVX2 `f32` table. Handed out only when `SimdPath::Avx2.is_supported()`.
pub(super) static F32: Kernels<f32> = Kernels {
    path: SimdPath::Avx2,
    add: k32::add,
    sub: k32::sub,
    mul: k32::mul,
    div: k32::div,
    add_assign: k32::add_assign,
    mul_assign: k32::mul_assign,
    axpy: k32::axpy,
    scale: k32::scale,
    exp: k32::exp,
    tanh: k32::tanh,
    sigmoid: k32::sigmoid,
    relu: k32::relu,
    sum: k32::sum,
    max: k32::max,
    dot: k32::dot,
};

/// The AVX2 `f64` table (transcendentals from the scalar path). Handed out only when
/// `SimdPath::Avx2.is_supported()`.
pub(super) static F64: Kernels<f64> = Kernels {
    path: SimdPath::Avx2,
    add: k64::add,
    sub: k64::sub,
    mul: k64::mul,
    div: k64::div,
    add_assign: k64::add_assign,
    mul_assign: k64::mul_assign,
    axpy: k64::axpy,
    scale: k64::scale,
    exp: scalar::exp::<f64>,
    tanh: scalar::tanh::<f64>,
    sigmoid: scalar::sigmoid_slice::<f64>,
    relu: k64::relu,
    sum: k64::sum,
    max: k64::max,
    dot: k64::dot,
};

/// `f32` kernels.
mod k32 {
    use super::v32;

    arith_kernels!("avx2,fma", f32, v32);
    map_kernel!("avx2,fma", f32, v32, exp, |x| v32::exp(x));
    map_kernel!("avx2,fma", f32, v32, tanh, |x| v32::tanh(x));
    map_kernel!("avx2,fma", f32, v32, sigmoid, |x| v32::sigmoid(x));
}

/// `f64` kernels.
mod k64 {
    use super::v64;

    arith_kernels!("avx2,fma", f64, v64);
}

/// Vector helpers for 8 × `f32` (the names the `macros` module documents).
pub(super) mod v32 {
    use std::arch::x86_64::*;

    use crate::simd::approx::f32 as c;

    pub type V = __m256;
    pub const W: usize = 8;
    pub type NanAcc = __m256;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn zero() -> V {
        _mm256_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn splat(x: f32) -> V {
        _mm256_set1_ps(x)
    }
    /// # Safety
    /// `p..p+8` must be readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn load(p: *const f32) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_loadu_ps(p) }
    }
    /// # Safety
    /// `p..p+8` must be writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn store(p: *mut f32, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    /// All-ones in lanes `0..n`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mask(n: usize) -> __m256i {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(n as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }
    /// # Safety
    /// `p..p+n` must be readable (`vmaskmovps` does not touch the masked-off lanes).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn load_part(p: *const f32, n: usize, fill: V) -> V {
        let m = mask(n);
        // SAFETY: forwarded to the caller.
        let v = unsafe { _mm256_maskload_ps(p, m) };
        _mm256_blendv_ps(fill, v, _mm256_castsi256_ps(m))
    }
    /// # Safety
    /// `p..p+n` must be writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn store_part(p: *mut f32, n: usize, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_maskstore_ps(p, mask(n), v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn add(a: V, b: V) -> V {
        _mm256_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn sub(a: V, b: V) -> V {
        _mm256_sub_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn mul(a: V, b: V) -> V {
        _mm256_mul_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn div(a: V, b: V) -> V {
        _mm256_div_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn fmadd(a: V, b: V, c: V) -> V {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn max(a: V, b: V) -> V {
        _mm256_max_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn nan_none() -> NanAcc {
        _mm256_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn nan_or(acc: NanAcc, v: V) -> NanAcc {
        _mm256_or_ps(acc, _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn nan_any(acc: NanAcc) -> bool {
        _mm256_movemask_ps(acc) != 0
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn hsum(v: V) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn hmax(v: V) -> f32 {
        let s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)))
    }

    /// `eˣ`, Cephes `expf` vectorised: `n = round(x·log₂e)`, `r = x − n·ln2` by a two-constant
    /// Cody–Waite split, `eʳ ≈ 1 + r + r²·P(r)` with Cephes' degree-5 `P` (degree 7 overall),
    /// then `·2ⁿ` built in the exponent field. When some lane has |n| > 126 the scaling goes in
    /// two halves `2^⌊n/2⌋·2^(n−⌊n/2⌋)`, so that subnormal results (x ∈ [−103.9, −87.3]) are
    /// rounded once instead of flushed, and results near f32::MAX do not overflow early.
    ///
    /// Inputs are clamped to [−104, 89] first: above ln(f32::MAX) ≈ 88.72 the result overflows
    /// to +∞, below ≈ −103.97 it underflows to +0; NaN stays NaN (the clamps return their
    /// second operand, the NaN). Relative error ≤ 1.0e-7 (< 1 ulp; 8.5e-8
    /// measured over every `f32` in [−80, 80]) wherever the result is a normal `f32`; see
    /// `tests/simd.rs`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn exp(x: V) -> V {
        let x = _mm256_min_ps(splat(c::EXP_HI), x);
        let x = _mm256_max_ps(splat(c::EXP_LO), x);
        let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm256_mul_ps(x, splat(c::LOG2E)),
        );
        let r = _mm256_fnmadd_ps(n, splat(c::LN2_HI), x);
        let r = _mm256_fnmadd_ps(n, splat(c::LN2_LO), r);
        let mut p = splat(c::EXP_P[0]);
        for &k in &c::EXP_P[1..] {
            p = _mm256_fmadd_ps(p, r, splat(k));
        }
        let y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), splat(1.0));
        // n ∈ [−150, 128] (NaN lanes give garbage here, but y is NaN there already).
        let ni = _mm256_cvtps_epi32(n);
        let bias = _mm256_set1_epi32(127);
        let extreme = _mm256_cmp_ps::<_CMP_GT_OQ>(_mm256_andnot_ps(splat(-0.0), n), splat(126.0));
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

    /// `tanh x`, Cephes `tanhf` vectorised: for |x| < 0.625 the odd polynomial
    /// `x + x³·P(x²)` (Cephes' degree-4 `P`), else `sign(x)·(1 − 2/(e^{2|x|} + 1))` with
    /// [`exp`]; saturates to ±1 (e^{2|x|} → +∞), keeps −0 and NaN. Relative error ≤ 1.5e-7
    /// (1.42e-7 measured over every `f32` in [−80, 80]; exactly ±1 beyond); see `tests/simd.rs`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn tanh(x: V) -> V {
        let sign = _mm256_and_ps(x, splat(-0.0));
        let ax = _mm256_andnot_ps(splat(-0.0), x);
        let small = _mm256_cmp_ps::<_CMP_LT_OQ>(ax, splat(c::TANH_SMALL));
        let bits = _mm256_movemask_ps(small);
        let poly = || {
            let z = _mm256_mul_ps(x, x);
            let mut p = splat(c::TANH_P[0]);
            for &k in &c::TANH_P[1..] {
                p = _mm256_fmadd_ps(p, z, splat(k));
            }
            _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x)
        };
        // OR-ing in the sign of x changes the polynomial's result only at x = −0 (which it
        // maps to +0, since x + x³·P(x²) = −0 + +0).
        if bits == 0xff {
            return _mm256_or_ps(poly(), sign);
        }
        let e = exp(_mm256_add_ps(ax, ax));
        let t = _mm256_sub_ps(
            splat(1.0),
            _mm256_div_ps(splat(2.0), _mm256_add_ps(e, splat(1.0))),
        );
        let r = if bits == 0 {
            t
        } else {
            _mm256_blendv_ps(t, poly(), small)
        };
        _mm256_or_ps(r, sign)
    }

    /// `σ(x) = 1 / (1 + e⁻ˣ)` computed as `s = 1/(1 + e^{−|x|})`, then `s` for x ≥ 0 and
    /// `e^{−|x|}·s` for x < 0, so nothing overflows; σ(+∞) = 1, σ(−∞) = 0, NaN stays NaN.
    /// Relative error ≤ 2.5e-7 (2.0e-7 measured over every `f32` in [−80, 80]) wherever σ(x)
    /// is a normal `f32`; see `tests/simd.rs`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn sigmoid(x: V) -> V {
        let e = exp(_mm256_or_ps(x, splat(-0.0)));
        let s = _mm256_div_ps(splat(1.0), _mm256_add_ps(splat(1.0), e));
        let neg = _mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_setzero_ps());
        _mm256_blendv_ps(s, _mm256_mul_ps(e, s), neg)
    }
}

/// Vector helpers for 4 × `f64` (the names the `macros` module documents).
pub(super) mod v64 {
    use std::arch::x86_64::*;

    pub type V = __m256d;
    pub const W: usize = 4;
    pub type NanAcc = __m256d;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn zero() -> V {
        _mm256_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn splat(x: f64) -> V {
        _mm256_set1_pd(x)
    }
    /// # Safety
    /// `p..p+4` must be readable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn load(p: *const f64) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_loadu_pd(p) }
    }
    /// # Safety
    /// `p..p+4` must be writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn store(p: *mut f64, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_storeu_pd(p, v) }
    }
    /// All-ones in lanes `0..n`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mask(n: usize) -> __m256i {
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(n as i64), _mm256_setr_epi64x(0, 1, 2, 3))
    }
    /// # Safety
    /// `p..p+n` must be readable (`vmaskmovpd` does not touch the masked-off lanes).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn load_part(p: *const f64, n: usize, fill: V) -> V {
        let m = mask(n);
        // SAFETY: forwarded to the caller.
        let v = unsafe { _mm256_maskload_pd(p, m) };
        _mm256_blendv_pd(fill, v, _mm256_castsi256_pd(m))
    }
    /// # Safety
    /// `p..p+n` must be writable.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn store_part(p: *mut f64, n: usize, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm256_maskstore_pd(p, mask(n), v) }
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn add(a: V, b: V) -> V {
        _mm256_add_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn sub(a: V, b: V) -> V {
        _mm256_sub_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn mul(a: V, b: V) -> V {
        _mm256_mul_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn div(a: V, b: V) -> V {
        _mm256_div_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn fmadd(a: V, b: V, c: V) -> V {
        _mm256_fmadd_pd(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn max(a: V, b: V) -> V {
        _mm256_max_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn nan_none() -> NanAcc {
        _mm256_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn nan_or(acc: NanAcc, v: V) -> NanAcc {
        _mm256_or_pd(acc, _mm256_cmp_pd::<_CMP_UNORD_Q>(v, v))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn nan_any(acc: NanAcc) -> bool {
        _mm256_movemask_pd(acc) != 0
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn hsum(v: V) -> f64 {
        let s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
    }
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub fn hmax(v: V) -> f64 {
        let s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
        _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)))
    }
}
