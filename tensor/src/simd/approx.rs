//! Constants of the vectorised transcendentals, shared by the AVX2 and AVX-512 paths.

/// `f32` constants. The coefficients are quoted digit for digit from Cephes (`expf.c`,
/// `tanhf.c`), hence more digits than an `f32` holds.
#[allow(clippy::excessive_precision)]
pub(super) mod f32 {
    /// log₂e, to turn `x` into `n = round(x·log₂e)`.
    pub const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// Cody–Waite split of ln 2 (Cephes `expf`): `LN2_HI` has 9 significant bits, so `n·LN2_HI`
    /// is exact for every `|n| ≤ 2¹⁵`, and `LN2_HI + LN2_LO` ≈ ln 2 to about 2⁻³².
    pub const LN2_HI: f32 = 0.693359375;
    /// The remainder `ln 2 − LN2_HI` (Cephes `C2`).
    pub const LN2_LO: f32 = -2.12194440E-4;
    /// Cephes `expf` polynomial, highest degree first: `eʳ ≈ 1 + r + r²·P(r)` on
    /// |r| ≤ ln2/2 (Moshier's minimax fit; theoretical relative error 4.2e-9).
    pub const EXP_P: [f32; 6] = [
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
    pub const EXP_HI: f32 = 89.0;
    /// See [`EXP_HI`].
    pub const EXP_LO: f32 = -104.0;
    /// Below this |x| `tanh` uses the odd polynomial, above it the `exp` formula (Cephes).
    pub const TANH_SMALL: f32 = 0.625;
    /// Cephes `tanhf` polynomial, highest degree first: `tanh x ≈ x + x³·P(x²)` for
    /// |x| < 0.625 (Moshier's minimax fit).
    pub const TANH_P: [f32; 5] = [
        -5.70498872745E-3,
        2.06390887954E-2,
        -5.37397155531E-2,
        1.33314422036E-1,
        -3.33332819422E-1,
    ];
}
