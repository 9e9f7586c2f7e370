//! SIMD kernels for 2×2, stride-2 max pooling of `f32` planes (the LeNet-5 pooling), with the
//! argmax positions, written once over the vocabulary of [`crate::simd::isa`] and instantiated
//! for AVX-512F and AVX2.
//!
//! For each pair of input rows, a vector of outputs is computed at once: the even and odd
//! columns of both rows are separated (`unzip`) into `a, b` (top) and `c, d` (bottom), and the
//! running maximum visits them in window order `a, b, c, d` with the scalar kernel's rules — a
//! later value replaces the maximum only if strictly greater (ties keep the first position),
//! and a NaN wins at the position of the last NaN. The window offset of the winner (0, 1, `w`
//! or `w + 1`) is tracked as an `f32` lane, exact while `w < 2²⁴`. A ragged right end uses
//! masked loads and stores (only there: AMD runs AVX2 masked moves far slower than plain ones).

use crate::simd::PathVisitor;
#[cfg(target_arch = "x86_64")]
use crate::simd::{Avx2, Avx512};

/// One block of `n ≤ LANES` outputs: `top`/`bottom` point at `2·n` input columns of the two
/// rows, `w` is the row length, `base` the flat position of `top[0]`; writes `n` maxima to `y`
/// and their flat input positions to `idx`.
type BlockFn = unsafe fn(*const f32, *const f32, usize, usize, *mut f32, *mut usize, usize);

/// Writes `block`, the [`BlockFn`] of one instruction set, inside a module that imports its
/// `f32` vocabulary.
#[cfg(target_arch = "x86_64")]
macro_rules! define_block {
    ($feat:literal) => {
        /// See [`BlockFn`](super::BlockFn).
        ///
        /// # Safety
        /// The CPU supports the target features; `2·n` columns of each row are readable and `n`
        /// outputs and positions writable, `1 ≤ n ≤ LANES`, `w + 1 < 2²⁴`.
        #[target_feature(enable = $feat)]
        pub(super) unsafe fn block(
            top: *const f32,
            bottom: *const f32,
            w: usize,
            base: usize,
            y: *mut f32,
            idx: *mut usize,
            n: usize,
        ) {
            // SAFETY: the caller's contract; the masks keep every access inside it.
            unsafe {
                let full = n == LANES;
                let columns = |p: *const f32| {
                    if full {
                        unzip(load(p), load(p.add(LANES)))
                    } else {
                        let lo = load_masked(p, mask((2 * n).min(LANES)));
                        let hi = load_masked(p.add(LANES), mask((2 * n).saturating_sub(LANES)));
                        unzip(lo, hi)
                    }
                };
                let (a, b) = columns(top);
                let (c, d) = columns(bottom);
                let (mut m, mut off) = (a, zero());
                let (mut nan, mut nan_val, mut nan_off) = (is_nan(a), a, zero());
                for (v, k) in [(b, 1.0), (c, w as f32), (d, w as f32 + 1.0)] {
                    let gt = gt(v, m);
                    m = select(gt, v, m);
                    off = select(gt, splat(k), off);
                    let isn = is_nan(v);
                    nan = mask_or(nan, isn);
                    nan_val = select(isn, v, nan_val);
                    nan_off = select(isn, splat(k), nan_off);
                }
                m = select(nan, nan_val, m);
                off = select(nan, nan_off, off);
                if full {
                    store(y, m);
                } else {
                    store_masked(y, mask(n), m);
                }
                store_positions(idx, n, base, off);
            }
        }
    };
}

/// AVX-512F.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use crate::simd::isa::avx512::f32::*;

    define_block!("avx512f");
}

/// AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use crate::simd::isa::avx2::f32::*;

    define_block!("avx2,fma");
}

/// Picks the block kernel and its width for a path.
struct Blocks;

impl PathVisitor for Blocks {
    type Output = Option<(BlockFn, usize)>;

    fn scalar(self) -> Self::Output {
        None
    }
    // Handed out only here, with the path's token: the kernels need its target features.
    #[cfg(target_arch = "x86_64")]
    fn avx2(self, _: Avx2) -> Self::Output {
        Some((avx2::block, crate::simd::isa::avx2::f32::LANES))
    }
    #[cfg(target_arch = "x86_64")]
    fn avx512(self, _: Avx512) -> Self::Output {
        Some((avx512::block, crate::simd::isa::avx512::f32::LANES))
    }
}

/// 2×2 stride-2 max pooling of one `w`-wide plane into `oh × ow` outputs `y` and flat input
/// positions `idx`. Returns `false` (and does nothing) when the active SIMD path has no kernel
/// or the rows are too wide (`w + 1 ≥ 2²⁴`) for the offsets' `f32` lanes.
///
/// # Panics
/// If the slices are too short for the plane or `2·ow > w`.
pub(super) fn max2x2_f32(
    w: usize,
    oh: usize,
    ow: usize,
    x: &[f32],
    y: &mut [f32],
    idx: &mut [usize],
) -> bool {
    assert!(x.len() >= 2 * oh * w && y.len() >= oh * ow && idx.len() >= oh * ow && 2 * ow <= w);
    let Some((block, lanes)) = crate::simd::visit_active(Blocks) else {
        return false;
    };
    if w + 1 >= 1 << 24 {
        return false;
    }
    for r in 0..oh {
        let (r0, r1) = (2 * r * w, (2 * r + 1) * w);
        let (ys, is) = (&mut y[r * ow..(r + 1) * ow], &mut idx[r * ow..(r + 1) * ow]);
        let mut o = 0;
        while o < ow {
            let n = lanes.min(ow - o);
            // SAFETY: outputs o..o + n read input columns 2·o..2·(o + n) ≤ 2·ow ≤ w of rows r0
            // and r1 and write n outputs and positions; `block` came from the active path's
            // visitor, so the CPU supports it.
            unsafe {
                let (top, bottom) = (x.as_ptr().add(r0 + 2 * o), x.as_ptr().add(r1 + 2 * o));
                let (yp, ip) = (ys.as_mut_ptr().add(o), is.as_mut_ptr().add(o));
                block(top, bottom, w, r0 + 2 * o, yp, ip, n);
            }
            o += n;
        }
    }
    true
}
