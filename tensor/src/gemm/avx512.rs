//! AVX-512F micro-kernels (512-bit vectors, 32 vector registers).
//!
//! `f32`: a 12 × 32 tile (12 rows × 2 vectors of 16 lanes) keeps 24 accumulators, 2 `B` vectors
//! and a broadcast `A` scalar in registers: each step of the `p` loop is 2 vector loads,
//! 12 broadcasts and 24 FMAs. `f64` uses the same shape with 8 lanes (12 × 16).
//!
//! Blocking, measured on a 2-core AMD EPYC (Zen 4: L1d 32 KiB, L2 1 MiB per core, L3 32 MiB):
//! the `A` sliver (`MR × KC`: 18 KiB in `f32` with `KC = 384`, 24 KiB in `f64` with `KC = 256`)
//! stays in L1 across the whole row of `B` slivers, which stream from L2/L3. `NC` is large
//! (4096 `f32`, 2048 `f64` columns) because re-packing `A` for every panel of `B` cost more here
//! than keeping the `B` panel inside L2 saved; the hardware prefetchers keep up with the
//! `B` stream (≈5 bytes per cycle).

/// `f32` kernels.
pub(crate) mod f32 {
    use crate::simd::isa::avx512::f32::*;

    const MR: usize = 12;
    const NRV: usize = 2;
    const KC: usize = 384;
    const NC: usize = 4096;

    const DOT_S: usize = 4;

    crate::gemm::kernel::define_kernel!("avx512f", f32, rows: [12, 8, 4, 2, 1], dot: [4, 2, 1]);
}

/// `f64` kernels.
pub(crate) mod f64 {
    use crate::simd::isa::avx512::f64::*;

    const MR: usize = 12;
    const NRV: usize = 2;
    const KC: usize = 256;
    const NC: usize = 2048;

    const DOT_S: usize = 4;

    crate::gemm::kernel::define_kernel!("avx512f", f64, rows: [12, 8, 4, 2, 1], dot: [4, 2, 1]);
}
