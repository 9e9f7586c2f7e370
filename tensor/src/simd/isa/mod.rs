//! One vector vocabulary per instruction set and element type, and the one place a path is
//! picked.
//!
//! # The vocabulary
//!
//! `isa::avx2::{f32, f64}` and `isa::avx512::{f32, f64}` each define the same names, every
//! function `#[inline]` and compiled with its path's target features, so a kernel body written
//! once over these names (by a macro invoked inside a module that `use`s one vocabulary) is
//! compiled for each path. The elementwise kernels (`simd/tables.rs`), the GEMM micro-kernels
//! (`gemm/kernel.rs`), the direct convolution (`conv/direct/x86.rs`) and the pooling kernel
//! (`pool/simd.rs`) are all written this way, as are `exp`, `tanh` and `sigmoid`
//! (`transcendental.rs`).
//!
//! | name | meaning |
//! | --- | --- |
//! | `V`, `LANES`, `Mask` | the vector type, its lanes, a set of lanes |
//! | `zero()`, `splat(x)`, `bcast(p)` | broadcasts (of `0`, of `x`, of `*p`) |
//! | `load(p)`, `store(p, v)` | unaligned `LANES`-lane access (`unsafe`: `p..p+LANES` valid) |
//! | `mask(n)` | lanes `0..n`, `0 ≤ n ≤ LANES` |
//! | `load_masked(p, m)`, `load_masked_or(p, m, fill)`, `store_masked(p, m, v)` | only the lanes of `m` touch memory; the others read as 0 / `fill`, or are left alone |
//! | `add sub mul div` | lanewise IEEE arithmetic |
//! | `fma(a, b, c)`, `fnma(a, b, c)` | `a·b + c`, `c − a·b`, one rounding |
//! | `max(a, b)`, `min(a, b)` | x86 `MAX`/`MIN`: `a > b ? a : b` (so `b` when either is NaN) |
//! | `abs`, `neg_abs` (`−|x|`), `round` (to nearest even), `with_sign_of(v, x)` (`v` with `x`'s sign bit OR-ed in), `scale_pow2(y, n)` (`y·2ⁿ`, one rounding) | `f32` helpers of the transcendentals |
//! | `lt`, `gt`, `is_nan` → `Mask`; `select(m, yes, no)`; `no_lanes()`, `mask_or(a, b)`, `any(m)`, `all(m)` | comparisons and masks |
//! | `hsum(v)`, `hmax(v)` | horizontal sum / maximum (no NaN) |
//! | `prefetch(p)` | a hint to load `p`'s cache line into L1 |
//! | `Shift`, `shift_by(s)`, `shift(prev, cur, sh)` | lane `l` of the result is lane `l − s` of `prev:cur` read as one sequence (`0 ≤ s < LANES`) |
//!
//! The `f32` modules add what only `f32` kernels use: `gt`, `select`, the helpers of the
//! transcendentals, `exp`/`tanh`/`sigmoid` themselves, and the pooling kernel's `unzip(lo, hi)`
//! (even and odd lanes of `lo:hi`) and `store_positions`. A NEON port adds `neon.rs` with the
//! same names.
//!
//! # Picking a path
//!
//! [`visit`] is the one `match` on [`SimdPath`]: it hands a [`PathVisitor`] a zero-sized token,
//! [`Avx2`] or [`Avx512`], that only exists once the CPU is known to support the path. Kernel
//! tables are handed out from inside a visitor's method, so a safe function pointer in a table
//! may call a `#[target_feature]` body: holding the table proves the features are there.

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
#[cfg(target_arch = "x86_64")]
pub(crate) mod transcendental;

use super::SimdPath;

/// Proof that this CPU runs AVX2 and FMA: made only by [`visit`] after the check.
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

/// Proof that this CPU runs AVX-512F: made only by [`visit`] after the check.
#[derive(Clone, Copy, Debug)]
pub struct Avx512(());

impl Avx2 {
    /// Runs `f` inside a function compiled with AVX2 and FMA enabled, so the compiler
    /// vectorises `f`'s loops (and inlines what it calls) for 256-bit vectors.
    #[inline(always)]
    pub fn vectorize<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2,fma")]
            fn imp<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the token exists only on a CPU with AVX2 and FMA (see `visit`).
            unsafe { imp(f) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        f()
    }
}

impl Avx512 {
    /// Runs `f` inside a function compiled with AVX-512F enabled, so the compiler vectorises
    /// `f`'s loops (and inlines what it calls) for 512-bit vectors.
    #[inline(always)]
    pub fn vectorize<R>(self, f: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            fn imp<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the token exists only on a CPU with AVX-512F (see `visit`).
            unsafe { imp(f) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        f()
    }
}

/// Code that differs per SIMD path: [`visit`] calls the method of the path it is given.
///
/// Only `scalar` is required: a path without its own method runs the scalar one (so NEON,
/// which has no kernels yet, runs `scalar`).
pub trait PathVisitor: Sized {
    /// What every method returns.
    type Output;
    /// The portable code.
    fn scalar(self) -> Self::Output;
    /// The AVX2 + FMA code; `isa` proves the CPU runs it.
    fn avx2(self, isa: Avx2) -> Self::Output {
        let _ = isa;
        self.scalar()
    }
    /// The AVX-512F code; `isa` proves the CPU runs it.
    fn avx512(self, isa: Avx512) -> Self::Output {
        let _ = isa;
        self.scalar()
    }
}

/// Calls `visitor`'s method for `path`, or returns `None` when this CPU (or build target) does
/// not support `path`. The one place a SIMD path is turned into code.
pub fn visit<V: PathVisitor>(path: SimdPath, visitor: V) -> Option<V::Output> {
    path.is_supported().then(|| dispatch(path, visitor))
}

/// [`visit`] on the [`active_path`](super::active_path), which is always supported.
#[inline]
pub fn visit_active<V: PathVisitor>(visitor: V) -> V::Output {
    dispatch(super::active_path(), visitor)
}

/// Runs `f` compiled for `path`: inside that path's target features, so the compiler
/// vectorises `f`'s loops for its vectors (and inlines what `f` calls), or `None` when this CPU
/// does not support `path`. For plain loops over slices whose element function is a closure,
/// which the kernel tables cannot hold.
#[inline(always)]
pub fn vectorize_on<R>(path: SimdPath, f: impl FnOnce() -> R) -> Option<R> {
    visit(path, Vectorize(f))
}

/// [`vectorize_on`] the [`active_path`](super::active_path).
#[inline(always)]
pub fn vectorize<R>(f: impl FnOnce() -> R) -> R {
    visit_active(Vectorize(f))
}

/// A closure as a [`PathVisitor`]: each path runs it inside its target features.
struct Vectorize<F>(F);

impl<R, F: FnOnce() -> R> PathVisitor for Vectorize<F> {
    type Output = R;

    #[inline(always)]
    fn scalar(self) -> R {
        (self.0)()
    }
    #[inline(always)]
    fn avx2(self, isa: Avx2) -> R {
        isa.vectorize(self.0)
    }
    #[inline(always)]
    fn avx512(self, isa: Avx512) -> R {
        isa.vectorize(self.0)
    }
}

/// The match of [`visit`], for a `path` known to be supported.
#[inline]
fn dispatch<V: PathVisitor>(path: SimdPath, visitor: V) -> V::Output {
    match path {
        SimdPath::Avx2 => visitor.avx2(Avx2(())),
        SimdPath::Avx512 => visitor.avx512(Avx512(())),
        SimdPath::Scalar | SimdPath::Neon => visitor.scalar(),
    }
}
