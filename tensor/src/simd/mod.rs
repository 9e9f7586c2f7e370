//! Runtime SIMD dispatch for the hot elementwise and reduction kernels.
//!
//! Each element type has a [`Kernels`] table of plain function pointers, filled once at start-up
//! from the best path the CPU supports (AVX-512, then AVX2+FMA on x86_64; the scalar path
//! everywhere). Setting `STRATA_SIMD=scalar|avx2|avx512|neon` forces a path; forcing one the
//! CPU lacks panics with a message saying so. Every table entry works on contiguous slices of
//! equal length and panics if they differ.
//!
//! # Paths
//!
//! | path | vectors | `f32` | `f64` |
//! | --- | --- | --- | --- |
//! | scalar | compiler auto-vectorised loops, `libm` transcendentals | all | all |
//! | AVX2+FMA (x86_64) | 256-bit, `vmaskmov` tails | all 15 kernels | all but `exp`, `tanh`, `sigmoid` (scalar `libm`) |
//! | AVX-512F (x86_64) | 512-bit, opmask tails | all 15 kernels | all but `exp`, `tanh`, `sigmoid` (scalar `libm`) |
//! | NEON (aarch64) | — | no table yet: [`kernels_f32`] / [`kernels_f64`] fall back to scalar | same |
//!
//! There is deliberately no NEON table yet: it would ship untested until it can be built and
//! run on an aarch64 machine. `kernels_f32_for(SimdPath::Neon)` returns `None`, and a forced
//! `STRATA_SIMD=neon` runs the scalar kernels.
//!
//! # Accuracy
//!
//! On the SIMD paths `add`, `sub`, `mul`, `div`, `add_assign`, `mul_assign`, `axpy` (fused,
//! like `mul_add`), `scale` and `relu` return exactly the scalar path's bits, and `max` the
//! same value (a NaN if any element is NaN; the sign of a zero maximum may differ). `sum` and
//! `dot` keep several accumulators and so round differently: for `n` elements the two results
//! differ by at most about `2·n·ε·Σ|xᵢ|` (resp. `Σ|aᵢbᵢ|`), and far less in practice. `relu`
//! follows the scalar definition `if x > 0 { x } else { 0 }`, so it maps NaN to 0 on every
//! path. The `f32` transcendentals are vectorised Cephes
//! algorithms; their maximum relative error against a correctly rounded reference, measured
//! wherever the result is a normal `f32` and checked by `tests/simd.rs`, is
//!
//! | kernel | bound (AVX2 and AVX-512) | measured over every `f32` in [−80, 80] |
//! | --- | --- | --- |
//! | `exp` | 1.0e-7 (< 1 ulp); subnormal results within one subnormal ulp | 8.5e-8 |
//! | `tanh` | 1.5e-7 | 1.42e-7 |
//! | `sigmoid` | 2.5e-7 | 2.0e-7 |

pub mod isa;
#[cfg(target_arch = "x86_64")]
#[macro_use]
mod macros;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod tables;

pub use isa::{Avx2, Avx512, PathVisitor, vectorize, vectorize_on, visit, visit_active};

use std::sync::OnceLock;

/// An instruction-set path for the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimdPath {
    /// Portable Rust (auto-vectorised by the compiler for the baseline target).
    Scalar,
    /// x86_64 AVX2 with FMA, 256-bit vectors.
    Avx2,
    /// x86_64 AVX-512F, 512-bit vectors.
    Avx512,
    /// aarch64 NEON, 128-bit vectors (no kernels yet: selecting it runs the scalar table).
    Neon,
}

impl SimdPath {
    /// Lower-case name as accepted by `STRATA_SIMD` and printed in benchmark reports.
    pub fn name(self) -> &'static str {
        match self {
            SimdPath::Scalar => "scalar",
            SimdPath::Avx2 => "avx2",
            SimdPath::Avx512 => "avx512",
            SimdPath::Neon => "neon",
        }
    }

    /// Parses a `STRATA_SIMD` value.
    pub fn parse(name: &str) -> Option<SimdPath> {
        match name.trim().to_ascii_lowercase().as_str() {
            "scalar" => Some(SimdPath::Scalar),
            "avx2" => Some(SimdPath::Avx2),
            "avx512" => Some(SimdPath::Avx512),
            "neon" => Some(SimdPath::Neon),
            _ => None,
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            SimdPath::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            SimdPath::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            SimdPath::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// Every path this CPU supports, best last.
pub fn supported_paths() -> Vec<SimdPath> {
    [
        SimdPath::Scalar,
        SimdPath::Neon,
        SimdPath::Avx2,
        SimdPath::Avx512,
    ]
    .into_iter()
    .filter(|p| p.is_supported())
    .collect()
}

/// The path in use: `STRATA_SIMD` if set, else the best supported one. Decided once.
///
/// # Panics
/// If `STRATA_SIMD` names an unknown path or one this CPU does not support.
pub fn active_path() -> SimdPath {
    static ACTIVE: OnceLock<SimdPath> = OnceLock::new();
    *ACTIVE.get_or_init(|| match std::env::var("STRATA_SIMD") {
        Ok(value) => {
            let path = SimdPath::parse(&value).unwrap_or_else(|| {
                panic!("STRATA_SIMD={value:?}: expected one of scalar, avx2, avx512, neon")
            });
            assert!(
                path.is_supported(),
                "STRATA_SIMD={value}: this CPU does not support it"
            );
            path
        }
        Err(_) => *supported_paths()
            .last()
            .expect("scalar is always supported"),
    })
}

/// The table of hot kernels for one element type and one path.
///
/// Binary kernels take `(a, b, out)` with `out[i] = a[i] ∘ b[i]`; all slices have one length
/// `n` (every entry panics if the lengths differ). Reductions of an empty slice return the
/// identity (`0` for `sum` and `dot`, `-∞` for `max`); `max` propagates NaN. The module doc
/// lists what each path computes exactly and the error bounds of `exp`, `tanh`, `sigmoid`.
#[derive(Clone, Copy, Debug)]
pub struct Kernels<T: 'static> {
    /// The path these kernels were built for.
    pub path: SimdPath,
    /// `out = a + b`.
    pub add: fn(&[T], &[T], &mut [T]),
    /// `out = a − b`.
    pub sub: fn(&[T], &[T], &mut [T]),
    /// `out = a · b`.
    pub mul: fn(&[T], &[T], &mut [T]),
    /// `out = a / b`.
    pub div: fn(&[T], &[T], &mut [T]),
    /// `y += x`.
    pub add_assign: fn(&mut [T], &[T]),
    /// `y ·= x`.
    pub mul_assign: fn(&mut [T], &[T]),
    /// `y += α·x` (BLAS axpy).
    pub axpy: fn(T, &[T], &mut [T]),
    /// `y ·= α`.
    pub scale: fn(T, &mut [T]),
    /// `out = eˣ`.
    pub exp: fn(&[T], &mut [T]),
    /// `out = tanh x`.
    pub tanh: fn(&[T], &mut [T]),
    /// `out = 1 / (1 + e⁻ˣ)`.
    pub sigmoid: fn(&[T], &mut [T]),
    /// `out = max(x, 0)`.
    pub relu: fn(&[T], &mut [T]),
    /// `Σ x`.
    pub sum: fn(&[T]) -> T,
    /// `max x` (`-∞` when empty, NaN if any element is NaN).
    pub max: fn(&[T]) -> T,
    /// `Σ a·b`.
    pub dot: fn(&[T], &[T]) -> T,
}

/// The `f32` table for `path`, or `None` when this CPU (or build target) lacks it.
pub fn kernels_f32_for(path: SimdPath) -> Option<&'static Kernels<f32>> {
    visit(path, TableOf(std::marker::PhantomData::<f32>))
}

/// The `f64` table for `path`, or `None` when this CPU (or build target) lacks it.
pub fn kernels_f64_for(path: SimdPath) -> Option<&'static Kernels<f64>> {
    visit(path, TableOf(std::marker::PhantomData::<f64>))
}

/// Picks the kernel table of element type `T` for a path.
struct TableOf<T>(std::marker::PhantomData<T>);

/// The static tables of one element type.
trait HasTables: crate::Element {
    /// The scalar table, built once.
    fn scalar_table() -> &'static Kernels<Self>;
    /// The AVX2 table.
    #[cfg(target_arch = "x86_64")]
    fn avx2_table() -> &'static Kernels<Self>;
    /// The AVX-512 table.
    #[cfg(target_arch = "x86_64")]
    fn avx512_table() -> &'static Kernels<Self>;
}

impl HasTables for f32 {
    fn scalar_table() -> &'static Kernels<f32> {
        static SCALAR: OnceLock<Kernels<f32>> = OnceLock::new();
        SCALAR.get_or_init(scalar::table)
    }
    #[cfg(target_arch = "x86_64")]
    fn avx2_table() -> &'static Kernels<f32> {
        &tables::avx2::F32
    }
    #[cfg(target_arch = "x86_64")]
    fn avx512_table() -> &'static Kernels<f32> {
        &tables::avx512::F32
    }
}

impl HasTables for f64 {
    fn scalar_table() -> &'static Kernels<f64> {
        static SCALAR: OnceLock<Kernels<f64>> = OnceLock::new();
        SCALAR.get_or_init(scalar::table)
    }
    #[cfg(target_arch = "x86_64")]
    fn avx2_table() -> &'static Kernels<f64> {
        &tables::avx2::F64
    }
    #[cfg(target_arch = "x86_64")]
    fn avx512_table() -> &'static Kernels<f64> {
        &tables::avx512::F64
    }
}

impl<T: HasTables> PathVisitor for TableOf<T> {
    type Output = &'static Kernels<T>;

    fn scalar(self) -> Self::Output {
        T::scalar_table()
    }
    // Handing the SIMD tables out only here, where the path's token proves the CPU supports
    // it, is what makes their safe entries sound: each calls a `#[target_feature]` body.
    #[cfg(target_arch = "x86_64")]
    fn avx2(self, _: Avx2) -> Self::Output {
        T::avx2_table()
    }
    #[cfg(target_arch = "x86_64")]
    fn avx512(self, _: Avx512) -> Self::Output {
        T::avx512_table()
    }
}

/// The `f32` table of the [`active_path`] (the scalar table on a path without one).
pub fn kernels_f32() -> &'static Kernels<f32> {
    static TABLE: OnceLock<&'static Kernels<f32>> = OnceLock::new();
    TABLE.get_or_init(|| visit_active(TableOf(std::marker::PhantomData)))
}

/// The `f64` table of the [`active_path`] (the scalar table on a path without one).
pub fn kernels_f64() -> &'static Kernels<f64> {
    static TABLE: OnceLock<&'static Kernels<f64>> = OnceLock::new();
    TABLE.get_or_init(|| visit_active(TableOf(std::marker::PhantomData)))
}
