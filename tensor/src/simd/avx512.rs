//! AVX-512F kernels: 512-bit vectors of 16 `f32` or 8 `f64`.
//!
//! Only AVX-512F instructions are used (that is all `SimdPath::Avx512.is_supported` checks).
//! Tails shorter than a vector use opmask-masked loads and stores, so every element of a slice
//! is computed by the same vector code. The `f32` transcendentals are our own (see
//! [`v32::exp`], [`v32::tanh`], [`v32::sigmoid`]); the `f64` table uses the scalar `libm`
//! versions of `exp`, `tanh` and `sigmoid`.

use super::{Kernels, SimdPath, scalar};

/// The AVX-512 `f32` table. Handed out only when `SimdPath::Avx512.is_supported()`.
pub(super) static F32: Kernels<f32> = Kernels {
    path: SimdPath::Avx512,
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

/// The AVX-512 `f64` table (transcendentals from the scalar path). Handed out only when
/// `SimdPath::Avx512.is_supported()`.
pub(super) static F64: Kernels<f64> = Kernels {
    path: SimdPath::Avx512,
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

    arith_kernels!("avx512f", f32, v32);
    map_kernel!("avx512f", f32, v32, exp, |x| v32::exp(x));
    map_kernel!("avx512f", f32, v32, tanh, |x| v32::tanh(x));
    map_kernel!("avx512f", f32, v32, sigmoid, |x| v32::sigmoid(x));
}

/// `f64` kernels.
mod k64 {
    use super::v64;

    arith_kernels!("avx512f", f64, v64);
}

/// Vector helpers for 16 × `f32` (the names the `macros` module documents).
pub(super) mod v32 {
    use std::arch::x86_64::*;

    use crate::simd::approx::f32 as c;

    pub type V = __m512;
    pub const W: usize = 16;
    pub type NanAcc = __mmask16;

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn zero() -> V {
        _mm512_setzero_ps()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn splat(x: f32) -> V {
        _mm512_set1_ps(x)
    }
    /// # Safety
    /// `p..p+16` must be readable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn load(p: *const f32) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_loadu_ps(p) }
    }
    /// # Safety
    /// `p..p+16` must be writable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn store(p: *mut f32, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    /// Lanes `0..n` (`n < 16`).
    #[inline]
    fn mask(n: usize) -> __mmask16 {
        ((1u32 << n) - 1) as __mmask16
    }
    /// # Safety
    /// `p..p+n` must be readable (masked-off lanes are never accessed).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn load_part(p: *const f32, n: usize, fill: V) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_loadu_ps(fill, mask(n), p) }
    }
    /// # Safety
    /// `p..p+n` must be writable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn store_part(p: *mut f32, n: usize, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_storeu_ps(p, mask(n), v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn add(a: V, b: V) -> V {
        _mm512_add_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn sub(a: V, b: V) -> V {
        _mm512_sub_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn mul(a: V, b: V) -> V {
        _mm512_mul_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn div(a: V, b: V) -> V {
        _mm512_div_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn fmadd(a: V, b: V, c: V) -> V {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn max(a: V, b: V) -> V {
        _mm512_max_ps(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn nan_none() -> NanAcc {
        0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn nan_or(acc: NanAcc, v: V) -> NanAcc {
        acc | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn nan_any(acc: NanAcc) -> bool {
        acc != 0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn hsum(v: V) -> f32 {
        _mm512_reduce_add_ps(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn hmax(v: V) -> f32 {
        _mm512_reduce_max_ps(v)
    }

    /// `eˣ`, Cephes `expf` vectorised: `n = round(x·log₂e)`, `r = x − n·ln2` by a two-constant
    /// Cody–Waite split, `eʳ ≈ 1 + r + r²·P(r)` with Cephes' degree-5 `P` (degree 7 overall),
    /// then `·2ⁿ` by `vscalefps`, which rounds subnormal results (x ∈ [−103.9, −87.3]) once
    /// and overflows to +∞ above ln(f32::MAX) ≈ 88.72.
    ///
    /// Inputs are clamped to [−104, 89] first (e⁻¹⁰⁴ already underflows to +0); NaN stays NaN
    /// (the clamps return their second operand, the NaN). Relative error ≤ 1.0e-7 (< 1 ulp;
    /// 8.5e-8 measured over every `f32` in [−80, 80]) wherever the result is a normal `f32`;
    /// see `tests/simd.rs`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn exp(x: V) -> V {
        let x = _mm512_min_ps(splat(c::EXP_HI), x);
        let x = _mm512_max_ps(splat(c::EXP_LO), x);
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(x, splat(c::LOG2E)),
        );
        let r = _mm512_fnmadd_ps(n, splat(c::LN2_HI), x);
        let r = _mm512_fnmadd_ps(n, splat(c::LN2_LO), r);
        let mut p = splat(c::EXP_P[0]);
        for &k in &c::EXP_P[1..] {
            p = _mm512_fmadd_ps(p, r, splat(k));
        }
        let y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), splat(1.0));
        _mm512_scalef_ps(y, n)
    }

    /// `tanh x`, Cephes `tanhf` vectorised: for |x| < 0.625 the odd polynomial
    /// `x + x³·P(x²)` (Cephes' degree-4 `P`), else `sign(x)·(1 − 2/(e^{2|x|} + 1))` with
    /// [`exp`]; saturates to ±1 (e^{2|x|} → +∞), keeps −0 and NaN. Relative error ≤ 1.5e-7
    /// (1.42e-7 measured over every `f32` in [−80, 80]; exactly ±1 beyond); see `tests/simd.rs`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn tanh(x: V) -> V {
        let ax = _mm512_abs_ps(x);
        let small = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(ax, splat(c::TANH_SMALL));
        let poly = || {
            let z = _mm512_mul_ps(x, x);
            let mut p = splat(c::TANH_P[0]);
            for &k in &c::TANH_P[1..] {
                p = _mm512_fmadd_ps(p, z, splat(k));
            }
            _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x)
        };
        // Copies the sign of x onto the result (integer OR: AVX-512F has no float OR). That
        // changes the polynomial's result only at x = −0 (which it maps to +0, since
        // x + x³·P(x²) = −0 + +0).
        let with_sign = |v: V| {
            let sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(i32::MIN));
            _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(v), sign))
        };
        if small == 0xffff {
            return with_sign(poly());
        }
        let e = exp(_mm512_add_ps(ax, ax));
        let t = _mm512_sub_ps(
            splat(1.0),
            _mm512_div_ps(splat(2.0), _mm512_add_ps(e, splat(1.0))),
        );
        let r = if small == 0 {
            t
        } else {
            _mm512_mask_blend_ps(small, t, poly())
        };
        with_sign(r)
    }

    /// `σ(x) = 1 / (1 + e⁻ˣ)` computed as `s = 1/(1 + e^{−|x|})`, then `s` for x ≥ 0 and
    /// `e^{−|x|}·s` for x < 0, so nothing overflows; σ(+∞) = 1, σ(−∞) = 0, NaN stays NaN.
    /// Relative error ≤ 2.5e-7 (2.0e-7 measured over every `f32` in [−80, 80]) wherever σ(x)
    /// is a normal `f32`; see `tests/simd.rs`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn sigmoid(x: V) -> V {
        let e = exp(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
        let s = _mm512_div_ps(splat(1.0), _mm512_add_ps(splat(1.0), e));
        let neg = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, _mm512_setzero_ps());
        _mm512_mask_mul_ps(s, neg, e, s)
    }
}

/// Vector helpers for 8 × `f64` (the names the `macros` module documents).
pub(super) mod v64 {
    use std::arch::x86_64::*;

    pub type V = __m512d;
    pub const W: usize = 8;
    pub type NanAcc = __mmask8;

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn zero() -> V {
        _mm512_setzero_pd()
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn splat(x: f64) -> V {
        _mm512_set1_pd(x)
    }
    /// # Safety
    /// `p..p+8` must be readable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn load(p: *const f64) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_loadu_pd(p) }
    }
    /// # Safety
    /// `p..p+8` must be writable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn store(p: *mut f64, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_storeu_pd(p, v) }
    }
    /// Lanes `0..n` (`n < 8`).
    #[inline]
    fn mask(n: usize) -> __mmask8 {
        ((1u32 << n) - 1) as __mmask8
    }
    /// # Safety
    /// `p..p+n` must be readable (masked-off lanes are never accessed).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn load_part(p: *const f64, n: usize, fill: V) -> V {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_loadu_pd(fill, mask(n), p) }
    }
    /// # Safety
    /// `p..p+n` must be writable.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn store_part(p: *mut f64, n: usize, v: V) {
        // SAFETY: forwarded to the caller.
        unsafe { _mm512_mask_storeu_pd(p, mask(n), v) }
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn add(a: V, b: V) -> V {
        _mm512_add_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn sub(a: V, b: V) -> V {
        _mm512_sub_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn mul(a: V, b: V) -> V {
        _mm512_mul_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn div(a: V, b: V) -> V {
        _mm512_div_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn fmadd(a: V, b: V, c: V) -> V {
        _mm512_fmadd_pd(a, b, c)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn max(a: V, b: V) -> V {
        _mm512_max_pd(a, b)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn nan_none() -> NanAcc {
        0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn nan_or(acc: NanAcc, v: V) -> NanAcc {
        acc | _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(v, v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn nan_any(acc: NanAcc) -> bool {
        acc != 0
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn hsum(v: V) -> f64 {
        _mm512_reduce_add_pd(v)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn hmax(v: V) -> f64 {
        _mm512_reduce_max_pd(v)
    }
}
