//! Convolution lowering: the geometry of one convolution and the im2col / col2im kernels.
//!
//! The column matrix of one image `x: [C, H, W]` for a `kh × kw` kernel is
//!
//! ```text
//! cols[(c·kh + i)·kw + j, oh·OW + ow] = x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
//! ```
//!
//! (zero where the position falls in the padding), a `[C·kh·kw, OH·OW]` row-major matrix. Its
//! rows are ordered like a flattened weight `[O, C, kh, kw] → [O, C·kh·kw]`, so the convolution
//! of one image is the product `W · cols`, and group `g` of a grouped convolution uses the row
//! block `g·(C/groups)·kh·kw .. (g+1)·(C/groups)·kh·kw`. col2im is the adjoint (transpose) of
//! im2col: it adds every column entry back onto the input position it was read from.

use crate::Element;

/// Everything about the spatial shape of one convolution: the input plane, the kernel, stride,
/// padding, dilation and the output plane (explicit, so a transposed convolution can ask for an
/// output smaller than the formula gives).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geometry {
    /// Input pixels per channel, `H·W`.
    #[inline]
    pub fn in_plane(&self) -> usize {
        self.h * self.w
    }

    /// Output pixels, `OH·OW`.
    #[inline]
    pub fn out_plane(&self) -> usize {
        self.oh * self.ow
    }

    /// Kernel taps per channel, `kh·kw`.
    #[inline]
    pub fn taps(&self) -> usize {
        self.kh * self.kw
    }

    /// Whether the column matrix is the input itself: a 1×1 kernel, stride 1, no padding and an
    /// output the size of the input (`cols = x` viewed as `[C, H·W]`).
    pub fn is_pointwise(&self) -> bool {
        self.kh == 1
            && self.kw == 1
            && self.sh == 1
            && self.sw == 1
            && self.ph == 0
            && self.pw == 0
            && self.oh == self.h
            && self.ow == self.w
    }

    /// The output columns `lo..hi` whose input column `ow·sw − pw + j·dw` lies inside
    /// `0..W` for kernel column `j`.
    #[inline]
    fn valid_cols(&self, j: usize) -> (usize, usize) {
        valid_range(self.w, self.ow, self.sw, self.pw, j * self.dw)
    }

    /// The input row read by output row `oh` at kernel row `i`, if inside `0..H`.
    #[inline]
    fn input_row(&self, oh: usize, i: usize) -> Option<usize> {
        (oh * self.sh + i * self.dh)
            .checked_sub(self.ph)
            .filter(|&r| r < self.h)
    }

    /// Rows and columns of the zero-padded input plane that the kernel windows cover:
    /// `((OH − 1)·sh + (kh − 1)·dh + 1, (OW − 1)·sw + (kw − 1)·dw + 1)`.
    fn padded_extent(&self) -> (usize, usize) {
        (
            (self.oh.max(1) - 1) * self.sh + (self.kh - 1) * self.dh + 1,
            (self.ow.max(1) - 1) * self.sw + (self.kw - 1) * self.dw + 1,
        )
    }

    /// The transposed column matrix of one image, `[OH·OW, channels·kh·kw]` row-major,
    ///
    /// ```text
    /// cols_t[oh·OW + ow, (c·kh + i)·kw + j] = x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
    /// ```
    ///
    /// (zero in the padding): one row per output position, laid out like a flattened weight,
    /// so a kernel row of a window is a contiguous run of the padded input. `padded` is
    /// scratch space for the zero-padded planes.
    pub fn im2col_transposed<T: Element>(
        &self,
        x: &[T],
        channels: usize,
        cols_t: &mut [T],
        padded: &mut Vec<T>,
    ) {
        let (hp, wp) = self.padded_extent();
        let (kh, kw, k) = (self.kh, self.kw, channels * self.taps());
        debug_assert!(
            x.len() >= channels * self.in_plane() && cols_t.len() >= self.out_plane() * k
        );
        padded.clear();
        padded.resize(channels * hp * wp, T::zero());
        let width = self.w.min(wp.saturating_sub(self.pw));
        for c in 0..channels {
            for r in 0..self.h.min(hp.saturating_sub(self.ph)) {
                let dst = (c * hp + r + self.ph) * wp + self.pw;
                let src = &x[(c * self.h + r) * self.w..][..width];
                copy_row(&mut padded[dst..dst + width], src);
            }
        }
        // Where kernel row `i` of channel `c` starts, relative to the window's corner.
        let starts: Vec<usize> = (0..channels * kh)
            .map(|t| (t / kh * hp + t % kh * self.dh) * wp)
            .collect();
        let span = (kw - 1) * self.dw + 1;
        for oh in 0..self.oh {
            for ow in 0..self.ow {
                let corner = oh * self.sh * wp + ow * self.sw;
                let row = &mut cols_t[(oh * self.ow + ow) * k..][..k];
                for (run, &start) in row.chunks_exact_mut(kw).zip(&starts) {
                    let src = &padded[corner + start..][..span];
                    if self.dw == 1 {
                        copy_row(run, src);
                    } else {
                        for (d, &v) in run.iter_mut().zip(src.iter().step_by(self.dw)) {
                            *d = v;
                        }
                    }
                }
            }
        }
    }

    /// im2col of output rows `oh0..oh1` of one image: `x` holds `channels` planes `[H, W]`,
    /// `cols` receives the `[channels·kh·kw, (oh1 − oh0)·OW]` row-major column block (every
    /// entry is written, padding as zero).
    pub fn im2col_rows<T: Element>(
        &self,
        x: &[T],
        channels: usize,
        oh0: usize,
        oh1: usize,
        cols: &mut [T],
    ) {
        let (hw, ow) = (self.in_plane(), self.ow);
        let np = (oh1 - oh0) * ow;
        debug_assert!(x.len() >= channels * hw && cols.len() >= channels * self.taps() * np);
        if np == 0 {
            return;
        }
        let mut rows = cols.chunks_exact_mut(np);
        for c in 0..channels {
            let plane = &x[c * hw..(c + 1) * hw];
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = rows.next().expect("cols holds channels·kh·kw rows");
                    let (lo, hi) = self.valid_cols(j);
                    // Input column of output column `ow` is `ow·sw + shift − pw`.
                    let shift = j * self.dw;
                    for (seg, oh) in row.chunks_exact_mut(ow).zip(oh0..oh1) {
                        let Some(ih) = self.input_row(oh, i) else {
                            seg.fill(T::zero());
                            continue;
                        };
                        let src = &plane[ih * self.w..(ih + 1) * self.w];
                        seg[..lo].fill(T::zero());
                        seg[hi..].fill(T::zero());
                        if lo < hi {
                            let first = lo * self.sw + shift - self.pw;
                            if self.sw == 1 {
                                copy_row(&mut seg[lo..hi], &src[first..]);
                            } else {
                                for (d, s) in seg[lo..hi]
                                    .iter_mut()
                                    .zip(src[first..].iter().step_by(self.sw))
                                {
                                    *d = *s;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// col2im of output rows `oh0..oh1` of one image, accumulating: for every entry of the
    /// `[channels·kh·kw, (oh1 − oh0)·OW]` block `cols`, adds it onto the input position
    /// im2col read it from (entries in the padding are dropped). The adjoint of
    /// [`Geometry::im2col_rows`].
    pub fn col2im_rows_add<T: Element>(
        &self,
        cols: &[T],
        channels: usize,
        oh0: usize,
        oh1: usize,
        x: &mut [T],
    ) {
        let (hw, ow) = (self.in_plane(), self.ow);
        let np = (oh1 - oh0) * ow;
        debug_assert!(x.len() >= channels * hw && cols.len() >= channels * self.taps() * np);
        if np == 0 {
            return;
        }
        let mut rows = cols.chunks_exact(np);
        for c in 0..channels {
            let plane = &mut x[c * hw..(c + 1) * hw];
            for i in 0..self.kh {
                for j in 0..self.kw {
                    let row = rows.next().expect("cols holds channels·kh·kw rows");
                    let (lo, hi) = self.valid_cols(j);
                    if lo >= hi {
                        continue;
                    }
                    let shift = j * self.dw;
                    for (seg, oh) in row.chunks_exact(ow).zip(oh0..oh1) {
                        let Some(ih) = self.input_row(oh, i) else {
                            continue;
                        };
                        let dst = &mut plane[ih * self.w..(ih + 1) * self.w];
                        let first = lo * self.sw + shift - self.pw;
                        if self.sw == 1 {
                            for (d, &s) in
                                dst[first..first + (hi - lo)].iter_mut().zip(&seg[lo..hi])
                            {
                                *d = *d + s;
                            }
                        } else {
                            for (d, &s) in
                                dst[first..].iter_mut().step_by(self.sw).zip(&seg[lo..hi])
                            {
                                *d = *d + s;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `dst[..len] = src[..len]` for the short runs (image rows) the convolution drivers move: inline moves
/// rather than a call into the C library per row.
#[inline(always)]
pub(crate) fn copy_row<T: Copy>(dst: &mut [T], src: &[T]) {
    let len = dst.len();
    let src = &src[..len];
    let mut i = 0;
    while i + 8 <= len {
        let d: &mut [T; 8] = (&mut dst[i..i + 8]).try_into().expect("8 elements");
        *d = src[i..i + 8].try_into().expect("8 elements");
        i += 8;
    }
    if i + 4 <= len {
        let d: &mut [T; 4] = (&mut dst[i..i + 4]).try_into().expect("4 elements");
        *d = src[i..i + 4].try_into().expect("4 elements");
        i += 4;
    }
    while i < len {
        dst[i] = src[i];
        i += 1;
    }
}

/// For an axis of `input` elements, `out` output positions, stride `stride`, padding `pad` and
/// kernel offset `shift` (`tap·dilation`): the range `lo..hi` of output positions `o` whose
/// input position `o·stride + shift − pad` lies inside `0..input` (empty ranges have `lo = hi`).
#[inline]
pub(crate) fn valid_range(
    input: usize,
    out: usize,
    stride: usize,
    pad: usize,
    shift: usize,
) -> (usize, usize) {
    let lo = if shift >= pad {
        0
    } else {
        (pad - shift).div_ceil(stride)
    };
    let hi = if input + pad > shift {
        ((input - 1 + pad - shift) / stride + 1).min(out)
    } else {
        0
    };
    (lo.min(hi), hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_range_matches_a_scan() {
        for input in 1..7 {
            for stride in 1..4 {
                for pad in 0..4 {
                    for shift in 0..6 {
                        let out = 9;
                        let inside: Vec<usize> = (0..out)
                            .filter(|&o| {
                                let p = (o * stride + shift) as isize - pad as isize;
                                p >= 0 && (p as usize) < input
                            })
                            .collect();
                        let (lo, hi) = valid_range(input, out, stride, pad, shift);
                        assert_eq!(
                            (lo..hi).collect::<Vec<_>>(),
                            inside,
                            "{input} {stride} {pad} {shift}"
                        );
                    }
                }
            }
        }
    }
}
