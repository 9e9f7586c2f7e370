//! SIMD kernels for 2×2, stride-2 max pooling of `f32` planes (the LeNet-5 pooling), with the
//! argmax positions: AVX-512F and AVX2.
//!
//! For each pair of input rows, a vector of outputs is computed at once: the even and odd
//! columns of both rows are separated by permutes into `a, b` (top) and `c, d` (bottom), and
//! the running maximum visits them in window order `a, b, c, d` with the scalar kernel's rules
//! — a later value replaces the maximum only if strictly greater (ties keep the first
//! position), and a NaN wins at the position of the last NaN. The ragged right end uses masked
//! loads and stores.

use std::arch::x86_64::*;

use crate::simd::{SimdPath, active_path};

/// 2×2 stride-2 max pooling of one `w`-wide plane into `oh × ow` outputs `y` and flat input
/// positions `idx`. Returns `false` (and does nothing) when neither AVX-512 nor AVX2 is the
/// active SIMD path.
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
    let lanes = match active_path() {
        SimdPath::Avx512 => 16,
        SimdPath::Avx2 => 8,
        _ => return false,
    };
    for r in 0..oh {
        let (r0, r1) = (2 * r * w, (2 * r + 1) * w);
        let (ys, is) = (&mut y[r * ow..(r + 1) * ow], &mut idx[r * ow..(r + 1) * ow]);
        let mut o = 0;
        while o < ow {
            let n = lanes.min(ow - o);
            // SAFETY: outputs o..o + n read input columns 2·o..2·(o + n) ≤ 2·ow ≤ w of rows r0
            // and r1 (the blocks touch only their first n lanes) and write n outputs and
            // positions; the path is active.
            unsafe {
                let (top, bottom) = (x.as_ptr().add(r0 + 2 * o), x.as_ptr().add(r1 + 2 * o));
                let (yp, ip) = (ys.as_mut_ptr().add(o), is.as_mut_ptr().add(o));
                if lanes == 16 {
                    block_avx512(top, bottom, w, r0 + 2 * o, yp, ip, n);
                } else {
                    block_avx2(top, bottom, w, r0 + 2 * o, yp, ip, n);
                }
            }
            o += n;
        }
    }
    true
}

/// `n ≤ 16` outputs: `top`/`bottom` point at `2·n` input columns of the two rows, `base` is
/// the flat position of `top[0]` and `w` the row length.
#[target_feature(enable = "avx512f")]
unsafe fn block_avx512(
    top: *const f32,
    bottom: *const f32,
    w: usize,
    base: usize,
    y: *mut f32,
    idx: *mut usize,
    n: usize,
) {
    // SAFETY: the caller guarantees 2·n readable columns per row and n writable outputs; the
    // masks keep every access inside them.
    unsafe {
        let bits = |k: usize| {
            if k >= 16 {
                0xffff
            } else {
                ((1u32 << k) - 1) as __mmask16
            }
        };
        let (m0, m1, mo) = (bits(2 * n), bits((2 * n).saturating_sub(16)), bits(n));
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        let (t0, t1) = (
            _mm512_maskz_loadu_ps(m0, top),
            _mm512_maskz_loadu_ps(m1, top.add(16)),
        );
        let (b0, b1) = (
            _mm512_maskz_loadu_ps(m0, bottom),
            _mm512_maskz_loadu_ps(m1, bottom.add(16)),
        );
        let a = _mm512_permutex2var_ps(t0, even, t1);
        let b = _mm512_permutex2var_ps(t0, odd, t1);
        let c = _mm512_permutex2var_ps(b0, even, b1);
        let d = _mm512_permutex2var_ps(b0, odd, b1);
        let mut m = a;
        let mut off = _mm512_setzero_si512();
        let mut nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a);
        let mut nan_val = a;
        let mut nan_off = _mm512_setzero_si512();
        for (v, k) in [(b, 1), (c, w as i32), (d, w as i32 + 1)] {
            let gt = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, m);
            m = _mm512_mask_mov_ps(m, gt, v);
            off = _mm512_mask_mov_epi32(off, gt, _mm512_set1_epi32(k));
            let isn = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
            nan |= isn;
            nan_val = _mm512_mask_mov_ps(nan_val, isn, v);
            nan_off = _mm512_mask_mov_epi32(nan_off, isn, _mm512_set1_epi32(k));
        }
        m = _mm512_mask_mov_ps(m, nan, nan_val);
        off = _mm512_mask_mov_epi32(off, nan, nan_off);
        _mm512_mask_storeu_ps(y, mo, m);
        // Position = base + 2·lane + off, widened to 64 bits.
        let rel = _mm512_add_epi32(even, off);
        let b64 = _mm512_set1_epi64(base as i64);
        let lo = _mm512_add_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(rel)), b64);
        let hi = _mm512_add_epi64(
            _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64::<1>(rel)),
            b64,
        );
        _mm512_mask_storeu_epi64(idx as *mut i64, mo as __mmask8, lo);
        _mm512_mask_storeu_epi64(idx.add(8) as *mut i64, (mo >> 8) as __mmask8, hi);
    }
}

/// `n ≤ 8` outputs: as [`block_avx512`] with up to 16 input columns per row.
#[target_feature(enable = "avx2,fma")]
unsafe fn block_avx2(
    top: *const f32,
    bottom: *const f32,
    w: usize,
    base: usize,
    y: *mut f32,
    idx: *mut usize,
    n: usize,
) {
    // SAFETY: the caller guarantees 2·n readable columns per row and n writable outputs; the
    // masks keep every access inside them.
    unsafe {
        let iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let first = |k: usize| _mm256_cmpgt_epi32(_mm256_set1_epi32(k as i32), iota);
        let (m0, m1) = (first(2 * n), first((2 * n).saturating_sub(8)));
        // Even/odd columns of 16: shuffle within 128-bit lanes, then put the 64-bit pairs in
        // order.
        // (Masked moves only for a ragged end: AMD runs them far slower than plain ones.)
        let full = n == 8;
        let split = |p: *const f32| {
            let (v0, v1) = if full {
                (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)))
            } else {
                (_mm256_maskload_ps(p, m0), _mm256_maskload_ps(p.add(8), m1))
            };
            let e = _mm256_shuffle_ps::<0b10_00_10_00>(v0, v1);
            let o = _mm256_shuffle_ps::<0b11_01_11_01>(v0, v1);
            let fix = |v: __m256| {
                _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v)))
            };
            (fix(e), fix(o))
        };
        let (a, b) = split(top);
        let (c, d) = split(bottom);
        let mut m = a;
        let mut off = _mm256_setzero_si256();
        let mut nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(a, a);
        let mut nan_val = a;
        let mut nan_off = _mm256_setzero_si256();
        for (v, k) in [(b, 1), (c, w as i32), (d, w as i32 + 1)] {
            let gt = _mm256_cmp_ps::<_CMP_GT_OQ>(v, m);
            m = _mm256_blendv_ps(m, v, gt);
            off = _mm256_blendv_epi8(off, _mm256_set1_epi32(k), _mm256_castps_si256(gt));
            let isn = _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v);
            nan = _mm256_or_ps(nan, isn);
            nan_val = _mm256_blendv_ps(nan_val, v, isn);
            nan_off = _mm256_blendv_epi8(nan_off, _mm256_set1_epi32(k), _mm256_castps_si256(isn));
        }
        m = _mm256_blendv_ps(m, nan_val, nan);
        off = _mm256_blendv_epi8(off, nan_off, _mm256_castps_si256(nan));
        if full {
            _mm256_storeu_ps(y, m);
        } else {
            _mm256_maskstore_ps(y, first(n), m);
        }
        let rel = _mm256_add_epi32(_mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), off);
        let b64 = _mm256_set1_epi64x(base as i64);
        let lo = _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(rel)), b64);
        let hi = _mm256_add_epi64(
            _mm256_cvtepu32_epi64(_mm256_extracti128_si256::<1>(rel)),
            b64,
        );
        let lanes64 = _mm256_setr_epi64x(0, 1, 2, 3);
        let first64 = |k: usize| _mm256_cmpgt_epi64(_mm256_set1_epi64x(k as i64), lanes64);
        if full {
            _mm256_storeu_si256(idx as *mut __m256i, lo);
            _mm256_storeu_si256(idx.add(4) as *mut __m256i, hi);
        } else {
            _mm256_maskstore_epi64(idx as *mut i64, first64(n), lo);
            _mm256_maskstore_epi64(idx.add(4) as *mut i64, first64(n.saturating_sub(4)), hi);
        }
    }
}
