//! `exp`, `tanh` and `sigmoid` on `f32` vectors, written once over the vocabulary and
//! instantiated in each instruction set's `f32` module by [`define_f32!`], with the Cephes
//! constants they share.
//!
//! The algorithms are Cephes' `expf` and `tanhf`, vectorised. Relative error against a correctly
//! rounded reference wherever the result is a normal `f32`, checked by `tests/simd.rs` over every
//! `f32` in [−80, 80]: `exp` ≤ 1.0e-7 (< 1 ulp; 8.5e-8 measured; subnormal results within one
//! subnormal ulp), `tanh` ≤ 1.5e-7 (1.42e-7), `sigmoid` ≤ 2.5e-7 (2.0e-7).

/// Writes `exp`, `tanh` and `sigmoid` inside an `f32` vocabulary module compiled with the
/// target features `$feat`. They use `splat`, `zero`, `add`, `sub`, `mul`, `div`, `fma`,
/// `fnma`, `min`, `max`, `abs`, `neg_abs`, `round`, `scale_pow2`, `with_sign_of`, `lt`,
/// `select`, `any` and `all`.
macro_rules! define_f32 {
    ($feat:literal) => {
        use $crate::simd::isa::transcendental::cephes as c;

        /// `eˣ`: `n = round(x·log₂e)`, `r = x − n·ln2` by a two-constant Cody–Waite split,
        /// `eʳ ≈ 1 + r + r²·P(r)` with Cephes' degree-5 `P` (degree 7 overall), then `·2ⁿ` by
        /// [`scale_pow2`], which rounds subnormal results (x ∈ [−103.9, −87.3]) once and
        /// overflows to +∞ above ln(f32::MAX) ≈ 88.72.
        ///
        /// Inputs are clamped to [−104, 89] first (e⁻¹⁰⁴ already underflows to +0); NaN stays
        /// NaN (the clamps return their second operand, the NaN).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(crate) fn exp(x: V) -> V {
            let x = min(splat(c::EXP_HI), x);
            let x = max(splat(c::EXP_LO), x);
            let n = round(mul(x, splat(c::LOG2E)));
            let r = fnma(n, splat(c::LN2_HI), x);
            let r = fnma(n, splat(c::LN2_LO), r);
            let mut p = splat(c::EXP_P[0]);
            for &k in &c::EXP_P[1..] {
                p = fma(p, r, splat(k));
            }
            let y = add(fma(p, mul(r, r), r), splat(1.0));
            scale_pow2(y, n)
        }

        /// `tanh x`: for |x| < 0.625 the odd polynomial `x + x³·P(x²)` (Cephes' degree-4 `P`),
        /// else `sign(x)·(1 − 2/(e^{2|x|} + 1))` with [`exp`]; saturates to ±1 (e^{2|x|} → +∞),
        /// keeps −0 and NaN.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(crate) fn tanh(x: V) -> V {
            let ax = abs(x);
            let small = lt(ax, splat(c::TANH_SMALL));
            let poly = || {
                let z = mul(x, x);
                let mut p = splat(c::TANH_P[0]);
                for &k in &c::TANH_P[1..] {
                    p = fma(p, z, splat(k));
                }
                fma(mul(p, z), x, x)
            };
            // Copying the sign of x onto the result changes the polynomial's only at x = −0
            // (which it maps to +0, since x + x³·P(x²) = −0 + +0).
            if all(small) {
                return with_sign_of(poly(), x);
            }
            let e = exp(add(ax, ax));
            let t = sub(splat(1.0), div(splat(2.0), add(e, splat(1.0))));
            let r = if any(small) {
                select(small, poly(), t)
            } else {
                t
            };
            with_sign_of(r, x)
        }

        /// `σ(x) = 1 / (1 + e⁻ˣ)` computed as `s = 1/(1 + e^{−|x|})`, then `s` for x ≥ 0 and
        /// `e^{−|x|}·s` for x < 0, so nothing overflows; σ(+∞) = 1, σ(−∞) = 0, NaN stays NaN.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(crate) fn sigmoid(x: V) -> V {
            let e = exp(neg_abs(x));
            let s = div(splat(1.0), add(splat(1.0), e));
            select(lt(x, zero()), mul(e, s), s)
        }
    };
}
pub(crate) use define_f32;

/// `f32` constants. The coefficients are quoted digit for digit from Cephes (`expf.c`,
/// `tanhf.c`), hence more digits than an `f32` holds.
#[allow(clippy::excessive_precision)]
pub(crate) mod cephes {
    /// log₂e, to turn `x` into `n = round(x·log₂e)`.
    pub(crate) const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// Cody–Waite split of ln 2 (Cephes `expf`): `LN2_HI` has 9 significant bits, so `n·LN2_HI`
    /// is exact for every `|n| ≤ 2¹⁵`, and `LN2_HI + LN2_LO` ≈ ln 2 to about 2⁻³².
    pub(crate) const LN2_HI: f32 = 0.693359375;
    /// The remainder `ln 2 − LN2_HI` (Cephes `C2`).
    pub(crate) const LN2_LO: f32 = -2.12194440E-4;
    /// Cephes `expf` polynomial, highest degree first: `eʳ ≈ 1 + r + r²·P(r)` on
    /// |r| ≤ ln2/2 (Moshier's minimax fit; theoretical relative error 4.2e-9).
    pub(crate) const EXP_P: [f32; 6] = [
        1.9875691500E-4,
        1.3981999507E-3,
        8.3334519073E-3,
        4.1665795894E-2,
        1.6666665459E-1,
        5.0000001201E-1,
    ];
    /// Inputs are clamped to `[EXP_LO, EXP_HI]` before the reduction. e^EXP_HI overflows and
    /// e^EXP_LO underflows to 0 in `f32`, so the clamp changes no finite result; it keeps `n`
    /// in the range the exponent arithmetic handles and maps ±∞ to +∞ / +0.
    pub(crate) const EXP_HI: f32 = 89.0;
    /// See [`EXP_HI`].
    pub(crate) const EXP_LO: f32 = -104.0;
    /// Below this |x| `tanh` uses the odd polynomial, above it the `exp` formula (Cephes).
    pub(crate) const TANH_SMALL: f32 = 0.625;
    /// Cephes `tanhf` polynomial, highest degree first: `tanh x ≈ x + x³·P(x²)` for
    /// |x| < 0.625 (Moshier's minimax fit).
    pub(crate) const TANH_P: [f32; 5] = [
        -5.70498872745E-3,
        2.06390887954E-2,
        -5.37397155531E-2,
        1.33314422036E-1,
        -3.33332819422E-1,
    ];
}
