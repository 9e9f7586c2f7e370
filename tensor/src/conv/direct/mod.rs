//! Direct convolution: no column matrix, SIMD micro-kernels that read the (zero-padded) input
//! in place.
//!
//! # The wide grid
//!
//! Pad one image's channels into a buffer `xp: [C, Hp, Wp]` (`Hp = H + 2·ph`, `Wp = W + 2·pw`)
//! and number output positions on a grid as wide as the padded input, `q = oh·Wp + ow`. Then,
//! with stride 1, the input read by output `q` through input channel `c` and kernel tap
//! `(i, j)` is
//!
//! ```text
//! xp[c·Hp·Wp + i·dh·Wp + j·dw + q] = xp[off(c, i, j) + q]
//! ```
//!
//! — a *contiguous* run of `xp` for consecutive `q`. The convolution of one image and group is
//! the product of the weight `[O/groups, C/groups·kh·kw]` with the implicit matrix
//! `B[k, q] = xp[off(k) + q]`, which the kernels compute by loading vectors straight from `xp`:
//! the im2col matrix is never written. Grid columns `ow ≥ OW` (the last `dw·(kw − 1)` of each
//! row) are computed and dropped, a waste of `dw·(kw − 1)/Wp` of the work that the saved
//! memory traffic more than pays for on small images.
//!
//! A stride `(sh, sw)` is folded into the layout: each padded channel is stored as `sh·sw`
//! *phase planes* of `⌈Hp/sh⌉ × ⌈Wp/sw⌉` (phase `(a, b)` holds rows `a, a + sh, …` and columns
//! `b, b + sw, …`). Padded position `(oh·sh + i·dh, ow·sw + j·dw)` is then row `oh + ⌊i·dh/sh⌋`,
//! column `ow + ⌊j·dw/sw⌋` of phase `(i·dh mod sh, j·dw mod sw)`: again `off(c, i, j) + q` on a
//! grid `⌈Wp/sw⌉` wide, so the same kernels run strided convolutions, with only
//! `⌈dw·(kw − 1)/sw⌉` dropped columns per row.
//!
//! * Forward: tiles of `MR` output channels × `NV` vectors of `q`, one FMA per weight and
//!   position; the tile is stored and its valid columns copied to the output rows.
//! * Input gradient: the transpose of the forward product, `cols[k, q] = Σ_o w[o, k]·dy[o, q]`
//!   with `dy` on the wide grid (zeros in the dropped columns), each tile of `cols` added in
//!   registers onto the padded input gradient at `off(k) + q` — col2im fused into the product,
//!   and no more multiply-adds than the forward pass.
//! * Weight gradient: `dw[o, k] = Σ_q dy[o, q] · xp[off(k) + q]` with `dy` laid out on the same
//!   wide grid (zeros in the dropped columns): dot products along `q`, `MR` channels × `NK`
//!   taps per tile, summed over a batch of images in vector registers before one reduction
//!   across lanes.
//!
//! Used for `f32` and `f64` on AVX-512 and AVX2 + FMA (see [`worthwhile`] and
//! [`worthwhile_weight`] for when); everything else goes through im2col + GEMM.
//!
//! Measured on one core of this project's AVX-512 machine (Zen 4, `f32`): 45–65 GFLOP/s on the
//! LeNet-5 and DeepLearnToolbox layers (batch 50–64) for all three kernels, against 15–27 for
//! im2col + GEMM; 80–100 GFLOP/s on 3×3 layers of 16–64 channels; on the stride-2 layers of an
//! MNIST convolutional autoencoder 20–46 against 11–33.

#[cfg(target_arch = "x86_64")]
mod x86;

use std::any::Any;

use rayon::prelude::*;

use super::SendPtr;
use super::im2col::copy_row;
use crate::Element;
use crate::simd::PathVisitor;
#[cfg(target_arch = "x86_64")]
use crate::simd::{Avx2, Avx512};

/// Most output channels per forward tile.
pub(crate) const MR_MAX: usize = 6;
/// Most vectors of grid positions per forward tile.
pub(crate) const NV_MAX: usize = 4;
/// Most taps per weight-gradient tile.
pub(crate) const NK_MAX: usize = 6;
/// Most output channels per weight-gradient tile.
const MRW_MAX: usize = 4;

/// Arguments of a forward tile (see `x86.rs`).
pub(crate) struct FwdArgs<T> {
    /// Steps: input channels × taps.
    pub k: usize,
    /// `k` offsets into `x`, one per step.
    pub offs: *const usize,
    /// The padded input at the tile's first grid position.
    pub x: *const T,
    /// Packed weights: `k` groups of `MR` values.
    pub a: *const T,
    /// `MR` initial values (the bias), or null for zero.
    pub init: *const T,
    /// The output tile, `MR` rows of `NV·LANES`.
    pub out: *mut T,
    /// Row stride of `out`.
    pub rso: usize,
}

/// Arguments of an input-gradient tile (see `x86.rs`).
pub(crate) struct BwdArgs<T> {
    /// Steps: output channels.
    pub k: usize,
    /// The output gradient on the wide grid at the tile's first position, first channel.
    pub dy: *const T,
    /// Row (channel) stride of `dy`.
    pub rsd: usize,
    /// Packed weights: `k` groups of `MR` values.
    pub a: *const T,
    /// `MR` offsets into `x`, one per kernel row (input channel and tap).
    pub offs: *const usize,
    /// The padded input gradient at the tile's first grid position.
    pub x: *mut T,
}

/// Arguments of a weight-gradient tile (see `x86.rs`).
pub(crate) struct WgtArgs<T> {
    /// Images to sum over.
    pub images: usize,
    /// Image stride of `x`.
    pub xs: usize,
    /// Image stride of `dy`.
    pub dys: usize,
    /// Vectors of grid positions to sum over.
    pub chunks: usize,
    /// The output gradient on the wide grid, first of `MR` rows.
    pub dy: *const T,
    /// Row (channel) stride of `dy`.
    pub rsd: usize,
    /// The padded input.
    pub x: *const T,
    /// `NK` offsets into `x`, one per tap.
    pub offs: *const usize,
    /// `MR·NK` vector partial sums, `(i, j)` at `acc + (i·NK + j)·LANES`, added to.
    pub acc: *mut T,
}

pub(crate) type FwdFn<T> = unsafe fn(&FwdArgs<T>);
pub(crate) type BwdFn<T> = unsafe fn(&BwdArgs<T>);
pub(crate) type WgtFn<T> = unsafe fn(&WgtArgs<T>);

/// The kernels of one instruction set and element type.
pub(crate) struct Table<T: 'static> {
    /// Elements per vector.
    pub lanes: usize,
    /// `fwd[MR − 1][NV − 1]`.
    pub fwd: [[FwdFn<T>; NV_MAX]; MR_MAX],
    /// Most output channels per forward tile on this instruction set.
    pub fwd_mr: usize,
    /// Most vectors per forward tile for each `MR − 1`.
    pub fwd_nv: [usize; MR_MAX],
    /// `bwd[MR − 1][NV − 1]` (same register budget as `fwd`: `fwd_mr`, `fwd_nv` apply).
    pub bwd: [[BwdFn<T>; NV_MAX]; MR_MAX],
    /// `wgt[MR − 1][NK − 1]`.
    pub wgt: [[WgtFn<T>; NK_MAX]; MRW_MAX],
    /// Most output channels per weight-gradient tile on this instruction set.
    pub wgt_mr: usize,
    /// Most taps per weight-gradient tile.
    pub wgt_nk: usize,
    /// `reduce(v, n, out)`: `out[i] += Σ_lanes v[i]` for `n` vectors.
    pub reduce: unsafe fn(*const T, usize, *mut T),
}

/// The direct kernels for `T` on the active SIMD path, if there are any.
pub(crate) fn table<T: Element>() -> Option<&'static Table<T>> {
    crate::simd::visit_active(Tables::<T>(std::marker::PhantomData))
}

/// Picks the direct-convolution table of `T` for a path.
struct Tables<T>(std::marker::PhantomData<T>);

impl<T: 'static> Tables<T> {
    /// Whichever of the two tables is `T`'s.
    #[cfg(target_arch = "x86_64")]
    fn of(f32s: &'static dyn Any, f64s: &'static dyn Any) -> Option<&'static Table<T>> {
        [f32s, f64s].into_iter().find_map(|t| t.downcast_ref())
    }
}

impl<T: 'static> PathVisitor for Tables<T> {
    type Output = Option<&'static Table<T>>;

    fn scalar(self) -> Self::Output {
        None
    }
    #[cfg(target_arch = "x86_64")]
    fn avx2(self, _: Avx2) -> Self::Output {
        Self::of(&x86::avx2::f32::TABLE, &x86::avx2::f64::TABLE)
    }
    #[cfg(target_arch = "x86_64")]
    fn avx512(self, _: Avx512) -> Self::Output {
        Self::of(&x86::avx512::f32::TABLE, &x86::avx512::f64::TABLE)
    }
}

/// A convolution on the wide grid (see the module documentation): `n` images of `groups·cs`
/// source channels of `hs × ws`, padded by `(ph, pw)`, kernel `(kh, kw)` with stride `(sh, sw)`
/// and dilation `(dh, dw)`, giving `groups·co` channels of `oh × ow`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wide {
    pub n: usize,
    pub groups: usize,
    pub cs: usize,
    pub co: usize,
    pub hs: usize,
    pub ws: usize,
    pub ph: usize,
    pub pw: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub dh: usize,
    pub dw: usize,
}

impl Wide {
    /// Padded input height.
    fn hp(&self) -> usize {
        self.hs + 2 * self.ph
    }
    /// Padded input width.
    fn wp(&self) -> usize {
        self.ws + 2 * self.pw
    }
    /// Rows of one phase plane, `⌈Hp / sh⌉`.
    fn gh(&self) -> usize {
        self.hp().div_ceil(self.sh)
    }
    /// Width of one phase plane and of the grid, `⌈Wp / sw⌉`.
    fn gw(&self) -> usize {
        self.wp().div_ceil(self.sw)
    }
    /// Elements of one channel in the padded buffer: `sh·sw` phase planes.
    fn plane(&self) -> usize {
        self.sh * self.sw * self.gh() * self.gw()
    }
    pub fn oh(&self) -> usize {
        (self.hp() - self.dh * (self.kh - 1) - 1) / self.sh + 1
    }
    pub fn ow(&self) -> usize {
        (self.wp() - self.dw * (self.kw - 1) - 1) / self.sw + 1
    }
    /// Grid positions holding outputs: `OH·gw`.
    fn q_len(&self) -> usize {
        self.oh() * self.gw()
    }
    /// Steps per output: `cs·kh·kw`.
    fn k(&self) -> usize {
        self.cs * self.kh * self.kw
    }
    /// Where padded position `(r, col)` of channel `c` lives in the padded buffer: phase
    /// `(r mod sh, col mod sw)`, row `r / sh`, column `col / sw` of that phase.
    #[inline]
    fn pos(&self, c: usize, r: usize, col: usize) -> usize {
        let (gh, gw) = (self.gh(), self.gw());
        let phase = (r % self.sh) * self.sw + col % self.sw;
        c * self.plane() + phase * gh * gw + (r / self.sh) * gw + col / self.sw
    }
    /// Elements of a padded buffer: the planes plus slack for the over-reads of the last
    /// vectors (the dropped grid columns, one vector of rounding, one more tile width).
    fn padded_len(&self, lanes: usize) -> usize {
        self.cs * self.plane() + self.dw * (self.kw - 1) / self.sw + (NV_MAX + 1) * lanes
    }
    /// `off(c, i, j)` for every step, in weight order `(c·kh + i)·kw + j`: output `q` (grid
    /// row `oh`, column `ow`) reads padded position `(oh·sh + i·dh, ow·sw + j·dw)`, which is
    /// `off(c, i, j) + q` in the phase layout.
    fn offsets(&self) -> Vec<usize> {
        let mut offs = Vec::with_capacity(self.k());
        for c in 0..self.cs {
            for i in 0..self.kh {
                for j in 0..self.kw {
                    offs.push(self.pos(c, i * self.dh, j * self.dw));
                }
            }
        }
        offs
    }
    /// Copies `cs` source planes into the interior of `xp` (whose border and slack are zero
    /// and stay zero), split into phase planes when strided.
    fn pad_into<T: Element>(&self, src: &[T], xp: &mut [T]) {
        let (hs, ws) = (self.hs, self.ws);
        if self.sh == 1 && self.sw == 1 && self.ph == 0 && self.pw == 0 {
            xp[..self.cs * hs * ws].copy_from_slice(&src[..self.cs * hs * ws]);
            return;
        }
        for c in 0..self.cs {
            for r in 0..hs {
                let row = &src[(c * hs + r) * ws..(c * hs + r + 1) * ws];
                if let Some((a, b)) = self.two_runs(c, r) {
                    let (even, odd) = two_mut(xp, a, ws.div_ceil(2), b, ws / 2);
                    for ((e, o), pair) in
                        even.iter_mut().zip(odd.iter_mut()).zip(row.chunks_exact(2))
                    {
                        *e = pair[0];
                        *o = pair[1];
                    }
                    if ws % 2 == 1 {
                        even[ws / 2] = row[ws - 1];
                    }
                    continue;
                }
                self.for_each_run(c, r, |first, dst, step| {
                    if step == 1 {
                        copy_row(&mut xp[dst..dst + ws], row);
                    } else {
                        for (d, &v) in xp[dst..].iter_mut().zip(row[first..].iter().step_by(step)) {
                            *d = v;
                        }
                    }
                });
            }
        }
    }
    /// The inverse of [`Wide::pad_into`] for channels `c0..c1`: the interior of `xp` into
    /// `dst` (`c1 − c0` planes of `hs × ws`).
    fn crop_from<T: Element>(&self, xp: &[T], c0: usize, c1: usize, dst: &mut [T]) {
        let (hs, ws) = (self.hs, self.ws);
        for c in c0..c1 {
            for r in 0..hs {
                let out = &mut dst[((c - c0) * hs + r) * ws..((c - c0) * hs + r + 1) * ws];
                if let Some((a, b)) = self.two_runs(c, r) {
                    let (even, odd) = (&xp[a..a + ws.div_ceil(2)], &xp[b..b + ws / 2]);
                    for (pair, (&e, &o)) in out.chunks_exact_mut(2).zip(even.iter().zip(odd)) {
                        pair[0] = e;
                        pair[1] = o;
                    }
                    if ws % 2 == 1 {
                        out[ws - 1] = even[ws / 2];
                    }
                    continue;
                }
                self.for_each_run(c, r, |first, from, step| {
                    if step == 1 {
                        copy_row(out, &xp[from..]);
                    } else {
                        for (o, &v) in out[first..].iter_mut().step_by(step).zip(&xp[from..]) {
                            *o = v;
                        }
                    }
                });
            }
        }
    }
    /// With a column stride of 2, where source row `r` of channel `c` lands: its even columns
    /// from `a`, its odd ones from `b`, both contiguous (`None` for other strides).
    #[inline]
    fn two_runs(&self, c: usize, r: usize) -> Option<(usize, usize)> {
        if self.sw != 2 || self.ws < 2 {
            return None;
        }
        let mut starts = [0; 2];
        self.for_each_run(c, r, |first, start, _| starts[first] = start);
        Some((starts[0], starts[1]))
    }
    /// Row `r` of source channel `c` lands in the padded buffer as `sw` contiguous runs, one
    /// per column phase: calls `f(first, start, sw)` for each, where source columns
    /// `first, first + sw, …` go to `start, start + 1, …` (a single run `f(0, start, 1)` without
    /// a stride).
    #[inline]
    fn for_each_run(&self, c: usize, r: usize, mut f: impl FnMut(usize, usize, usize)) {
        let (gh, gw, sw) = (self.gh(), self.gw(), self.sw);
        let pr = r + self.ph;
        let row_base = c * self.plane() + (pr % self.sh) * sw * gh * gw + (pr / self.sh) * gw;
        for first in 0..sw.min(self.ws) {
            let col = first + self.pw;
            f(first, row_base + (col % sw) * gh * gw + col / sw, sw);
        }
    }
    fn macs(&self) -> usize {
        self.n * self.groups * self.co * self.q_len() * self.k()
    }
}

/// Two disjoint mutable runs of `xs`: `a..a + la` and `b..b + lb`.
fn two_mut<T>(xs: &mut [T], a: usize, la: usize, b: usize, lb: usize) -> (&mut [T], &mut [T]) {
    if a < b {
        let (lo, hi) = xs.split_at_mut(b);
        (&mut lo[a..a + la], &mut hi[..lb])
    } else {
        let (lo, hi) = xs.split_at_mut(a);
        (&mut hi[..la], &mut lo[b..b + lb])
    }
}

/// Whether the wide grid wastes little enough, and the buffers stay small enough, for the
/// direct kernels to beat im2col + GEMM.
///
/// Measured on AVX-512 (one thread, `f32`): the direct kernels beat im2col + GEMM by 1.5–3× on
/// 3×3 to 7×7 kernels from 4×4 to 56×56 images and 1 to 512 channels, even with half the grid
/// dropped; a 1×1 kernel needs no im2col, and GEMM wins there.
pub(crate) fn worthwhile(wd: &Wide) -> bool {
    let (gw, ow) = (wd.gw(), wd.ow());
    // A real window, at most three quarters of the grid dropped, and the padded planes of one
    // image and group within about the L2 cache.
    wd.kh * wd.kw > 1 && 4 * (gw - ow) <= 3 * gw && wd.cs * wd.plane() <= 1 << 18
}

/// Weights packed per tile: for each group and each block of `mr` output channels, `k` groups
/// of `mr` values.
struct Packed<T> {
    data: Vec<T>,
    /// Per block: first output channel (within the group), rows, start in `data`.
    blocks: Vec<(usize, usize, usize)>,
}

/// Splits `rows` into `⌈rows / max⌉` blocks of near-equal size: `(first, len)`.
fn blocks(rows: usize, max: usize) -> Vec<(usize, usize)> {
    let nb = rows.div_ceil(max).max(1);
    let (base, extra) = (rows / nb, rows % nb);
    let mut out = Vec::with_capacity(nb);
    let mut first = 0;
    for b in 0..nb {
        let len = base + usize::from(b < extra);
        out.push((first, len));
        first += len;
    }
    out
}

/// Packs `weight(g, o, k)` (group, output channel within the group, step).
fn pack<T: Element>(wd: &Wide, mr: usize, weight: impl Fn(usize, usize, usize) -> T) -> Packed<T> {
    let k = wd.k();
    let bl = blocks(wd.co, mr);
    let mut data = Vec::with_capacity(wd.groups * wd.co * k);
    let mut out = Vec::with_capacity(bl.len());
    for g in 0..wd.groups {
        for &(first, rows) in &bl {
            if g == 0 {
                out.push((first, rows, data.len()));
            }
            for kk in 0..k {
                for r in 0..rows {
                    data.push(weight(g, first + r, kk));
                }
            }
        }
    }
    Packed { data, blocks: out }
}

/// Below this many multiply-adds a kernel stays on the calling thread.
const PARALLEL_MACS: usize = 1 << 18;

/// Parts the work of `macs` multiply-adds is cut into (see `crate::determinism`).
fn threads_for(macs: usize) -> usize {
    crate::determinism::work_split(macs >= PARALLEL_MACS)
}

/// The forward pass on the wide grid: `src: [n, groups·cs, hs, ws]` with the weight given by
/// `weight(g, o, k)` (`k = (c·kh + i)·kw + j`), plus `bias[g·co + o]`; returns
/// `[n, groups·co, OH, OW]`.
pub(crate) fn forward<T: Element>(
    tb: &Table<T>,
    wd: &Wide,
    src: &[T],
    weight: impl Fn(usize, usize, usize) -> T,
    bias: Option<&[T]>,
) -> Vec<T> {
    let (oh, ow, wp) = (wd.oh(), wd.ow(), wd.gw());
    let (q_len, k, lanes) = (wd.q_len(), wd.k(), tb.lanes);
    let plane_out = oh * ow;
    let src_img = wd.cs * wd.hs * wd.ws;
    let mut y = crate::storage::zeroed::<T>(wd.n * wd.groups * wd.co * plane_out);
    if y.is_empty() {
        return y;
    }
    let packed = pack(wd, tb.fwd_mr, weight);
    let offs = wd.offsets();
    // Grid tiles: full tiles of `nv_full` vectors, the last one as narrow as it can be.
    let nv_full = NV_MAX;
    let tile_w = nv_full * lanes;
    let tiles = q_len.div_ceil(tile_w);
    let threads = threads_for(wd.macs());
    // Split the grid too when images × groups give too few tasks.
    let parts = if threads > 1 && wd.n * wd.groups < 2 * threads {
        (2 * threads).div_ceil(wd.n * wd.groups).min(tiles)
    } else {
        1
    };
    let yp = SendPtr(y.as_mut_ptr());
    let task = |xp: &mut Vec<T>, t: usize| {
        let (img_g, part) = (t / parts, t % parts);
        let (img, g) = (img_g / wd.groups, img_g % wd.groups);
        if xp.is_empty() {
            xp.resize(wd.padded_len(lanes), T::zero());
        }
        let srci = &src[img * wd.groups * src_img + g * src_img..][..src_img];
        wd.pad_into(srci, xp);
        let y_base = (img * wd.groups + g) * wd.co * plane_out;
        let mut tile = [T::zero(); MR_MAX * NV_MAX * 16];
        for ti in part * tiles / parts..(part + 1) * tiles / parts {
            let q0 = ti * tile_w;
            let width = tile_w.min(q_len - q0);
            for &(first, rows, start) in &packed.blocks {
                let nv = width.div_ceil(lanes).min(tb.fwd_nv[rows - 1]);
                // A block may need several kernel calls when its row count limits the width.
                let mut qs = q0;
                while qs < q0 + width {
                    let w_here = (nv * lanes).min(q0 + width - qs);
                    let nv_here = w_here.div_ceil(lanes);
                    let args = FwdArgs {
                        k,
                        offs: offs.as_ptr(),
                        // SAFETY: qs < q_len ≤ the padded planes.
                        x: unsafe { xp.as_ptr().add(qs) },
                        a: packed.data[start + g * wd.co * k..].as_ptr(),
                        init: bias.map_or(std::ptr::null(), |b| b[g * wd.co + first..].as_ptr()),
                        out: tile.as_mut_ptr(),
                        rso: nv_here * lanes,
                    };
                    // SAFETY: the kernel reads xp[offs[k] + qs + j] for j < nv_here·lanes,
                    // which `padded_len` covers; `a` holds k·rows packed weights; `tile`
                    // holds rows × nv_here·lanes ≤ MR_MAX·NV_MAX·16 elements.
                    unsafe { (tb.fwd[rows - 1][nv_here - 1])(&args) };
                    // Copy the valid columns of each grid row in the tile to the output.
                    for r in 0..rows {
                        let trow = &tile[r * nv_here * lanes..][..w_here];
                        let mut q = qs;
                        while q < qs + w_here {
                            let (orow, ocol) = (q / wp, q % wp);
                            let row_end = (orow * wp + wp).min(qs + w_here);
                            if ocol < ow {
                                let seg_end = (orow * wp + ow).min(row_end);
                                let len = seg_end - q;
                                let dst = y_base + (first + r) * plane_out + orow * ow + ocol;
                                // SAFETY: output row `first + r` of group `g` of image `img`,
                                // written only by this task (its grid range is its own).
                                let out = unsafe {
                                    std::slice::from_raw_parts_mut(yp.get().add(dst), len)
                                };
                                copy_row(out, &trow[q - qs..]);
                            }
                            q = row_end;
                        }
                    }
                    qs += w_here;
                }
            }
        }
    };
    let ntasks = wd.n * wd.groups * parts;
    if threads > 1 {
        (0..ntasks).into_par_iter().for_each_init(Vec::new, task);
    } else {
        let mut xp = Vec::new();
        (0..ntasks).for_each(|t| task(&mut xp, t));
    }
    y
}

/// The input gradient on the wide grid: `dy: [n, groups·co, OH, OW]` with the forward weight
/// `w: [groups·co, cs·kh·kw]`; returns `dx: [n, groups·cs, hs, ws]`,
/// `dxp[n, g][off(k) + q] += Σ_o w[g·co + o, k] · dy[n, g·co + o, q]` cropped to the interior.
pub(crate) fn backward_input<T: Element>(tb: &Table<T>, wd: &Wide, dy: &[T], w: &[T]) -> Vec<T> {
    let (oh, ow, wp) = (wd.oh(), wd.ow(), wd.gw());
    let (k, lanes, co, cs) = (wd.k(), tb.lanes, wd.co, wd.cs);
    let (hs, ws) = (wd.hs, wd.ws);
    let src_img = cs * hs * ws;
    let mut dx = crate::storage::zeroed::<T>(wd.n * wd.groups * src_img);
    if dx.is_empty() || oh * ow == 0 {
        return dx;
    }
    let q_len = wd.q_len();
    let q_pad = q_len.div_ceil(lanes) * lanes;
    let plane_out = oh * ow;
    // Kernel rows sorted by offset (a stride interleaves the phases), so each tile's rows
    // ascend as the kernel's in-register combining expects; channels stay in their own range.
    let offs0 = wd.offsets();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&r| offs0[r]);
    let offs: Vec<usize> = order.iter().map(|&r| offs0[r]).collect();
    let taps = wd.kh * wd.kw;
    // Kernel-row blocks, never straddling channels when the channels are split over tasks.
    let threads = threads_for(wd.macs());
    let cparts = if threads > 1 && wd.n * wd.groups < 2 * threads {
        (2 * threads).div_ceil(wd.n * wd.groups).min(cs)
    } else {
        1
    };
    let part_blocks: Vec<Vec<(usize, usize)>> = (0..cparts)
        .map(|p| {
            let (c0, c1) = (p * cs / cparts, (p + 1) * cs / cparts);
            blocks((c1 - c0) * taps, tb.fwd_mr)
                .into_iter()
                .map(|(f, r)| (c0 * taps + f, r))
                .collect()
        })
        .collect();
    // Packed transposed weights per group and block: `co` groups of `rows` values.
    let mut packed = Vec::with_capacity(wd.groups * co * k);
    let mut starts = Vec::new();
    for g in 0..wd.groups {
        for pb in &part_blocks {
            for &(first, rows) in pb {
                starts.push(packed.len());
                for o in 0..co {
                    for r in 0..rows {
                        packed.push(w[(g * co + o) * k + order[first + r]]);
                    }
                }
            }
        }
    }
    let blocks_per_group = starts.len() / wd.groups;
    let tile_w = NV_MAX * lanes;
    let dxp_ptr = SendPtr(dx.as_mut_ptr());
    let task = |bufs: &mut (Vec<T>, Vec<T>), t: usize| {
        let (img_g, part) = (t / cparts, t % cparts);
        let (img, g) = (img_g / wd.groups, img_g % wd.groups);
        let (xp, dyw) = bufs;
        if dyw.is_empty() {
            dyw.resize(co * q_pad, T::zero());
        }
        xp.clear();
        xp.resize(wd.padded_len(lanes), T::zero());
        let dyi = &dy[(img * wd.groups + g) * co * plane_out..][..co * plane_out];
        for o in 0..co {
            for r in 0..oh {
                let d = o * q_pad + r * wp;
                copy_row(&mut dyw[d..d + ow], &dyi[o * plane_out + r * ow..]);
            }
        }
        let first_block =
            g * blocks_per_group + part_blocks[..part].iter().map(Vec::len).sum::<usize>();
        let mut q0 = 0;
        while q0 < q_len {
            let width = tile_w.min(q_len - q0);
            for (b, &(first, rows)) in part_blocks[part].iter().enumerate() {
                let a = &packed[starts[first_block + b]..];
                let nv_max = tb.fwd_nv[rows - 1];
                let mut qs = q0;
                while qs < q0 + width {
                    let w_here = (nv_max * lanes).min(q0 + width - qs);
                    let nv = w_here.div_ceil(lanes);
                    let args = BwdArgs {
                        k: co,
                        dy: dyw[qs..].as_ptr(),
                        rsd: q_pad,
                        a: a.as_ptr(),
                        offs: offs[first..].as_ptr(),
                        // SAFETY: qs < q_len inside the padded buffer.
                        x: unsafe { xp.as_mut_ptr().add(qs) },
                    };
                    // SAFETY: dyw rows hold q_pad ≥ qs + nv·lanes elements; `a` holds co·rows
                    // values; xp[offs + qs + j] for j < nv·lanes is inside `padded_len`.
                    unsafe { (tb.bwd[rows - 1][nv - 1])(&args) };
                    qs += w_here;
                }
            }
            q0 += width;
        }
        // The interior of the padded gradient, for this task's channels.
        let (c0, c1) = (part * cs / cparts, (part + 1) * cs / cparts);
        let base = (img * wd.groups + g) * src_img + c0 * hs * ws;
        // SAFETY: channels c0..c1 of group `g` of image `img` belong to this task alone.
        let out =
            unsafe { std::slice::from_raw_parts_mut(dxp_ptr.get().add(base), (c1 - c0) * hs * ws) };
        wd.crop_from(xp, c0, c1, out);
    };
    let ntasks = wd.n * wd.groups * cparts;
    if threads > 1 {
        (0..ntasks)
            .into_par_iter()
            .for_each_init(|| (Vec::new(), Vec::new()), task);
    } else {
        let mut bufs = (Vec::new(), Vec::new());
        (0..ntasks).for_each(|t| task(&mut bufs, t));
    }
    dx
}

/// Images per batch of the weight gradient: at least 1024 grid positions per tile between
/// reductions across lanes, buffers within about 1 MiB (`f32`).
fn weight_batch(wd: &Wide, lanes: usize) -> usize {
    let q_pad = wd.q_len().div_ceil(lanes) * lanes;
    let per_image = wd.padded_len(lanes) + wd.co * q_pad;
    1024usize
        .div_ceil(q_pad)
        .min((1usize << 18) / per_image.max(1))
        .clamp(1, wd.n.max(1))
}

/// Whether the weight-gradient kernel gets long enough sums (at least 256 grid positions per
/// call) to beat im2col + GEMM: small images with many channels do not batch enough.
pub(crate) fn worthwhile_weight<T: Element>(tb: &Table<T>, wd: &Wide) -> bool {
    let q_pad = wd.q_len().div_ceil(tb.lanes) * tb.lanes;
    q_pad * weight_batch(wd, tb.lanes) >= 256
}

/// The weight gradient on the wide grid: `x: [n, groups·cs, hs, ws]` (padded by `(ph, pw)`),
/// `dy: [n, groups·co, OH, OW]`; returns `dw: [groups·co, cs·kh·kw]`,
/// `dw[g·co + o, k] = Σ_{n, q} dy[n, g·co + o, q] · xp[n, g][off(k) + q]`.
///
/// Images are taken in batches (padded side by side) and each tile sums over the whole batch
/// before its vector partial sums are reduced across lanes, so small images still give long
/// sums. Threads split the images, or the tiles when there are fewer images than threads.
pub(crate) fn backward_weight<T: Element>(tb: &Table<T>, wd: &Wide, x: &[T], dy: &[T]) -> Vec<T> {
    let (oh, ow, wp) = (wd.oh(), wd.ow(), wd.gw());
    let (k, lanes, co) = (wd.k(), tb.lanes, wd.co);
    let len = wd.groups * co * k;
    if len == 0 || wd.n == 0 || oh * ow == 0 {
        return crate::storage::zeroed::<T>(len);
    }
    let q_pad = wd.q_len().div_ceil(lanes) * lanes;
    let chunks = q_pad / lanes;
    let src_img = wd.cs * wd.hs * wd.ws;
    let plane_out = oh * ow;
    let (x_len, dy_len) = (wd.padded_len(lanes), co * q_pad);
    let batch = weight_batch(wd, lanes);
    let offs = wd.offsets();
    let mut tiles = Vec::new();
    for (o0, mr) in blocks(co, tb.wgt_mr) {
        for (k0, nk) in blocks(k, tb.wgt_nk) {
            tiles.push((o0, mr, k0, nk));
        }
    }
    // One part of the work: images `imgs`, tiles `tl` of every group.
    let part = |imgs: std::ops::Range<usize>, tl: &[(usize, usize, usize, usize)]| -> Vec<T> {
        let mut dw = crate::storage::zeroed::<T>(len);
        let nb = batch.min(imgs.len()).max(1);
        let mut xp = crate::storage::zeroed::<T>(nb * x_len);
        // The output gradient of one group on the wide grid; the dropped columns stay zero.
        let mut dyw = crate::storage::zeroed::<T>(nb * dy_len);
        let mut acc = crate::storage::zeroed::<T>(MRW_MAX * NK_MAX * lanes);
        let mut img0 = imgs.start;
        while img0 < imgs.end {
            let images = nb.min(imgs.end - img0);
            for g in 0..wd.groups {
                for b in 0..images {
                    let img = img0 + b;
                    let src = &x[(img * wd.groups + g) * src_img..][..src_img];
                    wd.pad_into(src, &mut xp[b * x_len..(b + 1) * x_len]);
                    let dyi = &dy[(img * wd.groups + g) * co * plane_out..][..co * plane_out];
                    for o in 0..co {
                        for r in 0..oh {
                            let d = b * dy_len + o * q_pad + r * wp;
                            copy_row(&mut dyw[d..d + ow], &dyi[o * plane_out + r * ow..]);
                        }
                    }
                }
                for &(o0, mr, k0, nk) in tl {
                    acc.fill(T::zero());
                    let args = WgtArgs {
                        images,
                        xs: x_len,
                        dys: dy_len,
                        chunks,
                        dy: dyw[o0 * q_pad..].as_ptr(),
                        rsd: q_pad,
                        x: xp.as_ptr(),
                        offs: offs[k0..].as_ptr(),
                        acc: acc.as_mut_ptr(),
                    };
                    // SAFETY: for each image b < images, dyw has mr rows of q_pad from o0 at
                    // b·dy_len, and xp[b·x_len + off + q] for q < q_pad stays inside image b's
                    // `padded_len`; `acc` holds MRW_MAX·NK_MAX ≥ mr·nk vectors.
                    unsafe { (tb.wgt[mr - 1][nk - 1])(&args) };
                    for i in 0..mr {
                        let out = dw[(g * co + o0 + i) * k + k0..].as_mut_ptr();
                        // SAFETY: `acc` row i holds nk vectors; dw row g·co + o0 + i has nk
                        // elements from k0.
                        unsafe { (tb.reduce)(acc[i * nk * lanes..].as_ptr(), nk, out) };
                    }
                }
            }
            img0 += images;
        }
        dw
    };
    let threads = threads_for(wd.macs());
    if threads <= 1 {
        return part(0..wd.n, &tiles);
    }
    let partial: Vec<Vec<T>> = if wd.n >= threads {
        (0..threads)
            .into_par_iter()
            .map(|i| part(i * wd.n / threads..(i + 1) * wd.n / threads, &tiles))
            .collect()
    } else {
        let parts = threads.min(tiles.len());
        (0..parts)
            .into_par_iter()
            .map(|i| {
                part(
                    0..wd.n,
                    &tiles[i * tiles.len() / parts..(i + 1) * tiles.len() / parts],
                )
            })
            .collect()
    };
    crate::determinism::sum_in_order(partial)
}
