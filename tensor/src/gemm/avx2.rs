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
    use crate::simd::isa::avx2::f32::*;

    const MR: usize = 6;
    const NRV: usize = 2;
    const KC: usize = 512;
    const NC: usize = 2048;

    const DOT_S: usize = 4;

    crate::gemm::kernel::define_kernel!("avx2,fma", f32, rows: [6, 4, 3, 2, 1], dot: [2, 1, 1]);
}

/// `f64` kernels.
pub(crate) mod f64 {
    use crate::simd::isa::avx2::f64::*;

    const MR: usize = 6;
    const NRV: usize = 2;
    const KC: usize = 256;
    const NC: usize = 1024;

    const DOT_S: usize = 4;

    crate::gemm::kernel::define_kernel!("avx2,fma", f64, rows: [6, 4, 3, 2, 1], dot: [2, 1, 1]);
}
