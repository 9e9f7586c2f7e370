//! Winograd F(4×4, 2×2) for the 4×4 convolution of stride 2 and padding 1 (the layer of DCGAN
//! discriminators, and through its input gradient the transposed convolution of DCGAN
//! generators): 25 multiplies per output tile and input channel where the direct product needs
//! 64, at the cost of transforming the input, the weight and the output.
//!
//! # Polyphase split
//!
//! Pad the input by one on each side (`xp`, `(H + 2) × (W + 2)`) and split it into four phase
//! planes `P_uv[r, s] = xp[2r + u, 2s + v]` (`u, v ∈ {0, 1}`, `(H/2 + 1) × (W/2 + 1)` each), and
//! the kernel into four 2×2 kernels `w_uv[a, b] = w[2a + u, 2b + v]`. Then
//!
//! ```text
//! y[oh, ow] = Σ_{u,v} Σ_{a,b} w_uv[a, b] · P_uv[oh + a, ow + b]
//! ```
//!
//! — four stride-1 2×2 correlations, summed.
//!
//! # Winograd
//!
//! A 4×4 tile of a 2×2 correlation is `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` from its 5×5 input patch
//! `d` (Lavin & Gray 2016), with the Toom–Cook points `0, 1, −1, 2, ∞`. Summed over the input
//! channels and the phases, the 25 element-wise products of each tile become 25 matrix products,
//! one per transform point `ξ`:
//!
//! ```text
//! M_ξ[o, t] = Σ_k U_ξ[o, k] · V_ξ[k, t]      k = (u, v, c): K = 4·C;  t: tiles of the batch
//! ```
//!
//! computed by [`gemm`]. The rows of `Bᵀ` are scaled to small integers (`diag(2, 2, 6, 6, 1)`)
//! and the inverse scale is folded into `G`, so the transform of the data rounds only in its
//! additions.
//!
//! * Forward: `V` from the input patches, `U` from the weight, `y = Aᵀ M A` (+ bias), cropped to
//!   `OH × OW`.
//! * Input gradient: the adjoint is the *full* 2×2 convolution of `dy` with each `w_uv`, one per
//!   phase plane of the input gradient: the same tiles on `dy` padded by one, with the flipped
//!   sub-kernels (`K = O`, `4·C` rows of output), each tile written back to its phase's
//!   positions of `dx`.
//! * Weight gradient: `dw_uv = Σ dy ⋆ P_uv` is, per 4×4 tile of `dy`, a correlation with 2×2
//!   outputs and a 4×4 "kernel": F(2×2, 4×4) on the same points, `dw = A₂ᵀ [Σ_t (G₂ dy_t G₂ᵀ)
//!   ⊙ (Bᵀ d_t B)] A₂`, the sum over tiles being 25 matrix products.
//!
//! Transforms run on channel-contiguous copies of the data (NHWC, padded), vectorised across
//! channels. The batch is cut into chunks of about [`TILES_PER_CHUNK`] tiles, processed in
//! parallel. Rounding: the relative error is a few units of 10⁻⁶ in `f32` (about ten times the
//! direct product's), as for every Winograd convolution.

use std::array::from_fn;
use std::marker::PhantomData;

use rayon::prelude::*;

use super::{Conv, SendPtr};
use crate::Element;
use crate::gemm::{MatMut, MatRef, gemm};

/// Transform points: a 5×5 patch per tile.
const POINTS: usize = 25;
/// Tiles per chunk: the columns of each chunk's 25 products.
const TILES_PER_CHUNK: usize = 64;
/// Least input and output channels for which the transforms pay for themselves.
const MIN_CHANNELS: usize = 16;

/// Whether the Winograd kernels compute this convolution: one group, a 4×4 kernel of stride 2,
/// padding 1 and no dilation, on even heights and widths.
pub(crate) fn applies(cv: &Conv) -> bool {
    let g = cv.geom;
    cv.groups == 1
        && (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw) == (4, 4, 2, 2, 1, 1, 1, 1)
        && g.h.is_multiple_of(2)
        && g.w.is_multiple_of(2)
        && g.h >= 2
        && g.w >= 2
}

/// Whether they are also the faster choice: at least [`MIN_CHANNELS`] channels on both sides
/// (a first layer of one channel has too little to multiply for the transforms to pay).
pub(crate) fn worthwhile(cv: &Conv) -> bool {
    applies(cv) && cv.c >= MIN_CHANNELS && cv.o >= MIN_CHANNELS
}

/// `Bsᵀ d`: the scaled input transform along one axis.
#[inline(always)]
fn data_op<T: Element>(d: [T; 5]) -> [T; 5] {
    let two = T::from_f64_lossy(2.0);
    let three = T::from_f64_lossy(3.0);
    [
        two * (d[0] - d[2]) - d[1] + d[3],
        two * d[1] + d[2] - d[3],
        three * d[2] - two * d[1] - d[3],
        d[3] - d[1],
        two * (d[1] - d[3]) - d[2] + d[4],
    ]
}

/// `Gs g`: the kernel transform (2 taps), with the inverse of the data transform's scale.
#[inline(always)]
fn kernel_op<T: Element>(g: [T; 2]) -> [T; 5] {
    let half = T::from_f64_lossy(0.5);
    let sixth = T::from_f64_lossy(1.0 / 6.0);
    [
        half * g[0],
        half * (g[0] + g[1]),
        sixth * (g[0] - g[1]),
        sixth * (g[0] + g[1] + g[1]),
        g[1],
    ]
}

/// `G₂s g`: the transform of a 4-tap "kernel" (a row of an output-gradient tile) for the
/// weight gradient, with the same scale.
#[inline(always)]
fn gradient_op<T: Element>(g: [T; 4]) -> [T; 5] {
    let half = T::from_f64_lossy(0.5);
    let sixth = T::from_f64_lossy(1.0 / 6.0);
    let (two, four, eight) = (
        T::from_f64_lossy(2.0),
        T::from_f64_lossy(4.0),
        T::from_f64_lossy(8.0),
    );
    [
        half * g[0],
        half * (g[0] + g[1] + g[2] + g[3]),
        sixth * (g[0] - g[1] + g[2] - g[3]),
        sixth * (g[0] + two * g[1] + four * g[2] + eight * g[3]),
        g[3],
    ]
}

/// `Aᵀ m`: four outputs from five points.
#[inline(always)]
fn output_op<T: Element>(m: [T; 5]) -> [T; 4] {
    let (two, four, eight) = (
        T::from_f64_lossy(2.0),
        T::from_f64_lossy(4.0),
        T::from_f64_lossy(8.0),
    );
    let (p, q) = (m[1] + m[2], m[1] - m[2]);
    [
        m[0] + p + m[3],
        q + two * m[3],
        p + four * m[3],
        q + eight * m[3] + m[4],
    ]
}

/// `A₂ᵀ m`: the two weight-gradient outputs from five points.
#[inline(always)]
fn weight_output_op<T: Element>(m: [T; 5]) -> [T; 2] {
    let two = T::from_f64_lossy(2.0);
    [m[0] + m[1] + m[2] + m[3], m[1] - m[2] + two * m[3] + m[4]]
}

/// `dst[i][l] = op(src[·][l])[i]` for `l < len`: one axis of a transform, vectorised along `l`.
///
/// # Safety
/// Each `src[b]` is readable and each `dst[i]` writable for `len` elements, and no `dst` range
/// overlaps another or a `src` range.
#[inline(always)]
unsafe fn pass<T: Element, const S: usize, const R: usize>(
    src: [*const T; S],
    dst: [*mut T; R],
    len: usize,
    op: impl Fn([T; S]) -> [T; R],
) {
    for l in 0..len {
        // SAFETY: l < len; the caller's contract.
        unsafe {
            let o = op(from_fn(|b| *src[b].add(l)));
            for (i, &d) in dst.iter().enumerate() {
                *d.add(l) = o[i];
            }
        }
    }
}

/// The 2-D transform `m · d · mᵀ` of `len` lanes at once: `d[a][b]` is `len` values at
/// `src(a, b)`, result `(j, i)` goes to `dst(j, i)`; `tmp` holds `S·R·len` values.
///
/// # Safety
/// As [`pass`] for every `src(a, b)` and `dst(j, i)`, and `tmp` is writable for `S·R·len` values
/// overlapping neither.
#[inline(always)]
unsafe fn transform<T: Element, const S: usize, const R: usize>(
    src: impl Fn(usize, usize) -> *const T,
    dst: impl Fn(usize, usize) -> *mut T,
    len: usize,
    tmp: *mut T,
    op: impl Fn([T; S]) -> [T; R] + Copy,
) {
    // SAFETY: the caller's contract; `tmp` rows (a, i) are disjoint.
    unsafe {
        for a in 0..S {
            pass(
                from_fn(|b| src(a, b)),
                from_fn(|i| tmp.add((a * R + i) * len)),
                len,
                op,
            );
        }
        for i in 0..R {
            pass(
                from_fn(|a| tmp.add((a * R + i) * len) as *const T),
                from_fn(|j| dst(j, i)),
                len,
                op,
            );
        }
    }
}

/// [`transform`] compiled for the active SIMD path: inlined whole into a function with that
/// path's target features (the path's token, from [`crate::simd::isa::visit_active`], proves
/// the CPU has them).
///
/// Not [`crate::simd::vectorize`]: its closure is one function called from every path, too large
/// here for the compiler to inline, so it ran compiled for the baseline (SSE) outside the
/// target-feature function. Each path below builds its own closure, called once, which is
/// always inlined.
///
/// # Safety
/// As [`transform`].
#[inline(always)]
unsafe fn transform_on<T: Element, const S: usize, const R: usize>(
    src: impl Fn(usize, usize) -> *const T,
    dst: impl Fn(usize, usize) -> *mut T,
    len: usize,
    tmp: *mut T,
    op: impl Fn([T; S]) -> [T; R] + Copy,
) {
    crate::simd::isa::visit_active(Transform::<_, _, T, _, S, R> {
        src,
        dst,
        len,
        tmp,
        op,
        shape: PhantomData,
    })
}

/// The arguments of one [`transform`], as a visitor of the SIMD paths.
struct Transform<Src, Dst, T, Op, const S: usize, const R: usize> {
    src: Src,
    dst: Dst,
    len: usize,
    tmp: *mut T,
    op: Op,
    /// `S` inputs and `R` outputs per axis.
    shape: PhantomData<([T; S], [T; R])>,
}

impl<T, Src, Dst, Op, const S: usize, const R: usize> crate::simd::PathVisitor
    for Transform<Src, Dst, T, Op, S, R>
where
    T: Element,
    Src: Fn(usize, usize) -> *const T,
    Dst: Fn(usize, usize) -> *mut T,
    Op: Fn([T; S]) -> [T; R] + Copy,
{
    type Output = ();

    #[inline(always)]
    fn scalar(self) {
        // SAFETY: `transform_on`'s caller upholds `transform`'s contract.
        unsafe { transform(self.src, self.dst, self.len, self.tmp, self.op) }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn avx2(self, _: crate::simd::Avx2) {
        // SAFETY: the token proves AVX2 and FMA; `transform_on`'s caller upholds the contract.
        unsafe { self.run_with::<Avx2Features>() }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn avx512(self, _: crate::simd::Avx512) {
        // SAFETY: the token proves AVX-512F; `transform_on`'s caller upholds the contract.
        unsafe { self.run_with::<Avx512Features>() }
    }
}

impl<T, Src, Dst, Op, const S: usize, const R: usize> Transform<Src, Dst, T, Op, S, R>
where
    T: Element,
    Src: Fn(usize, usize) -> *const T,
    Dst: Fn(usize, usize) -> *mut T,
    Op: Fn([T; S]) -> [T; R] + Copy,
{
    /// [`transform`] inside a function compiled with `F`'s target features.
    ///
    /// # Safety
    /// The CPU has `F`'s features; [`transform`]'s contract.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn run_with<F: Features>(self) {
        // SAFETY: the caller's contract.
        unsafe { F::run(move || transform(self.src, self.dst, self.len, self.tmp, self.op)) }
    }
}

/// A set of x86 target features to compile a closure with.
#[cfg(target_arch = "x86_64")]
trait Features {
    /// Runs `f` inlined into a function with these features.
    ///
    /// # Safety
    /// The CPU has the features.
    unsafe fn run(f: impl FnOnce());
}

/// Writes a [`Features`] type for a target-feature list.
#[cfg(target_arch = "x86_64")]
macro_rules! features {
    ($name:ident, $list:literal) => {
        #[doc = concat!("The target features `", $list, "`.")]
        struct $name;

        impl Features for $name {
            #[inline(always)]
            unsafe fn run(f: impl FnOnce()) {
                #[target_feature(enable = $list)]
                #[inline]
                unsafe fn imp(f: impl FnOnce()) {
                    f()
                }
                // SAFETY: the caller's contract.
                unsafe { imp(f) }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
features!(Avx2Features, "avx2,fma");
#[cfg(target_arch = "x86_64")]
features!(Avx512Features, "avx512f");

/// Copies the channels `[C, H, W]` of one image into `dst`, channel-contiguous
/// (`[R][S][C]`), shifted down and right by `pad` with zeros around (rows and columns beyond `H`
/// and `W` up to `R`, `S` are zero too).
fn to_channels_last<T: Element>(
    src: &[T],
    (c, h, w): (usize, usize, usize),
    pad: usize,
    (rows, cols): (usize, usize),
    dst: &mut Vec<T>,
) {
    let row = cols * c;
    dst.resize(rows * row, T::zero());
    // Only the border is zeroed: the interior is written below.
    dst[..pad * row].fill(T::zero());
    dst[(pad + h) * row..].fill(T::zero());
    for r in 0..h {
        let line = &mut dst[(r + pad) * row..(r + pad + 1) * row];
        line[..pad * c].fill(T::zero());
        line[(pad + w) * c..].fill(T::zero());
    }
    let plane = h * w;
    assert!(src.len() >= c * plane, "to_channels_last: source too short");
    // Blocks of 16 channels, each read front to back (16 sequential streams, which the
    // hardware prefetches); each position's 16 values are one contiguous write.
    for ch0 in (0..c).step_by(16) {
        let ch1 = (ch0 + 16).min(c);
        for r in 0..h {
            let line = &mut dst[(r + pad) * row + pad * c..(r + pad) * row + (pad + w) * c];
            let from = src[(ch0 * h + r) * w..].as_ptr();
            for (s, cell) in line.chunks_exact_mut(c).enumerate() {
                // SAFETY: channel ch < C, row r < H, column s < W: inside `src`.
                let mut at = unsafe { from.add(s) };
                for d in &mut cell[ch0..ch1] {
                    // SAFETY: as above, one channel further each step (the pointer after the
                    // last step may be past the source, and is never read).
                    unsafe {
                        *d = *at;
                    }
                    at = at.wrapping_add(plane);
                }
            }
        }
    }
}

/// The sizes shared by the three kernels.
#[derive(Clone, Copy)]
struct Plan {
    n: usize,
    c: usize,
    o: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

impl Plan {
    fn new(cv: &Conv) -> Self {
        let g = cv.geom;
        Plan {
            n: cv.n,
            c: cv.c,
            o: cv.o,
            h: g.h,
            w: g.w,
            oh: g.oh,
            ow: g.ow,
        }
    }

    /// `K` of the forward product: phases × input channels.
    fn k(&self) -> usize {
        4 * self.c
    }

    /// Images per chunk when each image has `tiles` tiles, and the number of chunks: about
    /// [`TILES_PER_CHUNK`] tiles each, and a multiple of the thread count when there are
    /// several.
    fn chunks(&self, tiles: usize, threads: usize) -> (usize, usize) {
        let mut count = (self.n * tiles).div_ceil(TILES_PER_CHUNK).max(1);
        if threads > 1 {
            count = count.next_multiple_of(threads);
        }
        let per = self.n.div_ceil(count).max(1);
        (per, self.n.div_ceil(per))
    }

    /// Parts the work is cut into (see `crate::determinism`).
    fn threads(&self) -> usize {
        let macs = self.n * self.o * self.oh * self.ow * self.c * 16;
        crate::determinism::work_split(macs >= 1 << 18)
    }
}

/// `V[ξ][t][k]` for the tiles of `images` images starting at `first`: the transformed 5×5
/// patches of the input's phase planes (`k = (2u + v)·C + c`), with the 4×4 output tiles
/// `tiles = (th, tw)` of the forward product.
fn input_tiles<T: Element>(
    p: &Plan,
    x: &[T],
    (first, images): (usize, usize),
    (th, tw): (usize, usize),
    nhwc: &mut Vec<T>,
    tmp: &mut Vec<T>,
    v: &mut Vec<T>,
) {
    let (c, k) = (p.c, p.k());
    // The padded image, channel-contiguous, as many rows and columns as the last patch reads.
    let (rows, cols) = (8 * th + 2, 8 * tw + 2);
    let nt = th * tw;
    scratch(v, images * nt * POINTS * k);
    tmp.resize(POINTS * c, T::zero());
    let image = c * p.h * p.w;
    for i in 0..images {
        let img = &x[(first + i) * image..(first + i + 1) * image];
        to_channels_last(img, (c, p.h, p.w), 1, (rows, cols), nhwc);
        let (src, dst, t) = (nhwc.as_ptr(), v.as_mut_ptr(), tmp.as_mut_ptr());
        for tile in 0..nt {
            let (tr, tc) = (tile / tw, tile % tw);
            let col = (i * nt + tile) * k;
            let plane = images * nt * k;
            for phase in 0..4 {
                let (u, w) = (phase / 2, phase % 2);
                // Patch element (a, b) of phase (u, w) is padded position
                // (2(4tr + a) + u, 2(4tc + b) + w).
                let at =
                    |a: usize, b: usize| ((2 * (4 * tr + a) + u) * cols + 2 * (4 * tc + b) + w) * c;
                // SAFETY: patch positions are below (8·th + 2, 8·tw + 2), inside `nhwc`; the
                // destinations are tile `i·nt + tile`'s 25 rows of `k`, inside `v`, at channels
                // phase·C.. of each; `tmp` holds 25·C values.
                unsafe {
                    transform_on(
                        |a, b| src.add(at(a, b)),
                        |j, l| dst.add((j * 5 + l) * plane + col + phase * c),
                        c,
                        t,
                        data_op::<T>,
                    );
                }
            }
        }
    }
}

/// `V[ξ][t][o]` for the tiles of `images` images of the output gradient starting at `first`:
/// `op` along both axes of each `S × S` patch at `(4·tr, 4·tc)` of `dy` padded by `S − 4` (the
/// 5×5 patches of the input gradient's full convolution, or the 4×4 tiles of the weight
/// gradient), for `tiles = (th, tw)` tiles per image.
#[allow(clippy::too_many_arguments)]
fn gradient_tiles<T: Element, const S: usize>(
    p: &Plan,
    dy: &[T],
    (first, images): (usize, usize),
    (th, tw): (usize, usize),
    op: impl Fn([T; S]) -> [T; 5] + Copy,
    nhwc: &mut Vec<T>,
    tmp: &mut Vec<T>,
    v: &mut Vec<T>,
) {
    let (o, nt, pad) = (p.o, th * tw, S - 4);
    let (rows, cols) = (4 * th + pad, 4 * tw + pad);
    let (plane, tc) = (p.oh * p.ow, images * nt);
    scratch(v, tc * POINTS * o);
    tmp.resize(5 * S * o, T::zero());
    for i in 0..images {
        let img = &dy[(first + i) * o * plane..(first + i + 1) * o * plane];
        to_channels_last(img, (o, p.oh, p.ow), pad, (rows, cols), nhwc);
        let (src, dst, t) = (nhwc.as_ptr(), v.as_mut_ptr(), tmp.as_mut_ptr());
        for tile in 0..nt {
            let (tr, tcol) = (tile / tw, tile % tw);
            let at = |a: usize, b: usize| ((4 * tr + a) * cols + 4 * tcol + b) * o;
            let col = (i * nt + tile) * o;
            // SAFETY: patch positions below (4·th + S − 4, 4·tw + S − 4), inside `nhwc`; the
            // tile's 25 rows of O inside `v`; `tmp` holds 5·S·O values.
            unsafe {
                transform_on(
                    |a, b| src.add(at(a, b)),
                    |j, l| dst.add((j * 5 + l) * tc * o + col),
                    o,
                    t,
                    op,
                );
            }
        }
    }
}

/// `U[ξ][o][k]`: the transformed sub-kernels of the forward product, `k = (2u + v)·C + c`.
fn forward_weights<T: Element>(p: &Plan, w: &[T], threads: usize) -> Vec<T> {
    let (c, o, k) = (p.c, p.o, p.k());
    let mut u = crate::storage::stale::<T>(POINTS * o * k);
    let up = SendPtr(u.as_mut_ptr());
    // `wt`: one output channel's weights, tap-major (`[16][C]`).
    let each = |(wt, tmp): &mut (Vec<T>, Vec<T>), oc: usize| {
        wt.resize(16 * c, T::zero());
        tmp.resize(10 * c, T::zero());
        for ch in 0..c {
            for tap in 0..16 {
                wt[tap * c + ch] = w[(oc * c + ch) * 16 + tap];
            }
        }
        let (src, dst, t) = (wt.as_ptr(), up.get(), tmp.as_mut_ptr());
        for phase in 0..4 {
            let (pu, pv) = (phase / 2, phase % 2);
            // SAFETY: taps (2a + pu)·4 + 2b + pv < 16 rows of C in `wt`; destinations
            // U[ξ][oc][phase·C..+C] inside `u`, written by this task only; `tmp` holds 10·C.
            unsafe {
                transform_on(
                    |a, b| src.add(((2 * a + pu) * 4 + 2 * b + pv) * c),
                    |j, l| dst.add(((j * 5 + l) * o + oc) * k + phase * c),
                    c,
                    t,
                    kernel_op::<T>,
                );
            }
        }
    };
    run_each(o, threads, each);
    u
}

/// `U[ξ][k][o]`: the transformed flipped sub-kernels `w[o, c, 2(1 − a) + u, 2(1 − b) + v]` of
/// the input-gradient product.
fn backward_weights<T: Element>(p: &Plan, w: &[T], threads: usize) -> Vec<T> {
    let (c, o, k) = (p.c, p.o, p.k());
    let mut u = crate::storage::stale::<T>(POINTS * k * o);
    let up = SendPtr(u.as_mut_ptr());
    // `wt`: one input channel's weights, tap-major (`[16][O]`).
    let each = |(wt, tmp): &mut (Vec<T>, Vec<T>), ch: usize| {
        wt.resize(16 * o, T::zero());
        tmp.resize(10 * o, T::zero());
        for oc in 0..o {
            for tap in 0..16 {
                wt[tap * o + oc] = w[(oc * c + ch) * 16 + tap];
            }
        }
        let (src, dst, t) = (wt.as_ptr(), up.get(), tmp.as_mut_ptr());
        for phase in 0..4 {
            let (pu, pv) = (phase / 2, phase % 2);
            let tap = |a: usize, b: usize| (2 * (1 - a) + pu) * 4 + 2 * (1 - b) + pv;
            let row = phase * c + ch;
            // SAFETY: taps < 16 rows of O in `wt`; destinations U[ξ][row] inside `u`, written
            // by this task only; `tmp` holds 10·O values.
            unsafe {
                transform_on(
                    |a, b| src.add(tap(a, b) * o),
                    |j, l| dst.add(((j * 5 + l) * k + row) * o),
                    o,
                    t,
                    kernel_op::<T>,
                );
            }
        }
    };
    run_each(c, threads, each);
    u
}

/// `y = conv(x, w) (+ bias)`; see the module documentation.
pub(crate) fn forward<T: Element>(cv: &Conv, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    let p = Plan::new(cv);
    let (o, k) = (p.o, p.k());
    let (th, tw) = (p.oh.div_ceil(4), p.ow.div_ceil(4));
    let nt = th * tw;
    // Every output is written below.
    let mut y = crate::storage::stale::<T>(p.n * o * p.oh * p.ow);
    if y.is_empty() {
        return y;
    }
    let threads = p.threads();
    let u = forward_weights(&p, w, threads);
    let (per, chunks) = p.chunks(nt, threads);
    let yp = SendPtr(y.as_mut_ptr());
    let plane = p.oh * p.ow;
    // Where each output tile's 16 values go: (value, tile, position in the plane), for the
    // values inside OH × OW.
    let mut places = Vec::with_capacity(nt * 16);
    for tile in 0..nt {
        let (tr, tcol) = (tile / tw, tile % tw);
        for e in 0..16 {
            let (r, s) = (4 * tr + e / 4, 4 * tcol + e % 4);
            if r < p.oh && s < p.ow {
                places.push((e, tile, r * p.ow + s));
            }
        }
    }
    let chunk = |bufs: &mut Buffers<T>, ci: usize| {
        let first = ci * per;
        let images = per.min(p.n - first);
        let tc = images * nt;
        let Buffers {
            nhwc,
            tmp,
            v,
            m,
            out,
            ..
        } = bufs;
        input_tiles(&p, x, (first, images), (th, tw), nhwc, tmp, v);
        scratch(m, POINTS * o * tc);
        for xi in 0..POINTS {
            let a = MatRef::row_major(&u[xi * o * k..(xi + 1) * o * k], o, k);
            let b = MatRef::from_slice(&v[xi * tc * k..], k, tc, 1, k as isize);
            let mm = MatMut::row_major(&mut m[xi * o * tc..(xi + 1) * o * tc], o, tc);
            gemm(T::one(), a, b, T::zero(), mm);
        }
        tmp.resize(20 * tc, T::zero());
        out.resize(16 * tc, T::zero());
        let (src, t, dst) = (m.as_ptr(), tmp.as_mut_ptr(), out.as_mut_ptr());
        for oc in 0..o {
            // SAFETY: rows (ξ, oc) of M hold `tc` values; `out` 16 rows of `tc`; `tmp` 20·tc.
            unsafe {
                transform_on(
                    |a, b| src.add(((a * 5 + b) * o + oc) * tc),
                    |j, l| dst.add((j * 4 + l) * tc),
                    tc,
                    t,
                    output_op::<T>,
                );
            }
            let add = bias.map_or(T::zero(), |b| b[oc]);
            for (i, img) in (first..first + images).enumerate() {
                // SAFETY: image `img`'s plane `oc`: only this chunk writes its images.
                let yo = unsafe {
                    std::slice::from_raw_parts_mut(yp.get().add((img * o + oc) * plane), plane)
                };
                for &(e, tile, at) in &places {
                    yo[at] = out[e * tc + i * nt + tile] + add;
                }
            }
        }
    };
    run_each::<Buffers<T>>(chunks, threads, chunk);
    crate::storage::recycle(u);
    y
}

/// `dx = conv_backward_input(dy, w)`; see the module documentation.
pub(crate) fn backward_input<T: Element>(cv: &Conv, dy: &[T], w: &[T]) -> Vec<T> {
    let p = Plan::new(cv);
    let (c, o, k) = (p.c, p.o, p.k());
    // Tiles over the phase planes of the input gradient, (OH + 1) × (OW + 1).
    let (th, tw) = ((p.oh + 1).div_ceil(4), (p.ow + 1).div_ceil(4));
    let nt = th * tw;
    // Every position of the input gradient is one phase-plane position, written below.
    let mut dx = crate::storage::stale::<T>(p.n * c * p.h * p.w);
    if dx.is_empty() {
        return dx;
    }
    let threads = p.threads();
    let u = backward_weights(&p, w, threads);
    let (per, chunks) = p.chunks(nt, threads);
    let dxp = SendPtr(dx.as_mut_ptr());
    let plane = p.h * p.w;
    // Where each phase's tiles' 16 values go: (value, tile, position in the plane). Phase-plane
    // position (r, s) of phase (u, v) is input position (2r + u − 1, 2s + v − 1).
    let places: [Vec<(usize, usize, usize)>; 4] = from_fn(|phase| {
        let (pu, pv) = (phase / 2, phase % 2);
        let mut list = Vec::with_capacity(nt * 16);
        for tile in 0..nt {
            let (tr, tcol) = (tile / tw, tile % tw);
            for e in 0..16 {
                let (h, wc) = (2 * (4 * tr + e / 4) + pu, 2 * (4 * tcol + e % 4) + pv);
                if (1..=p.h).contains(&h) && (1..=p.w).contains(&wc) {
                    list.push((e, tile, (h - 1) * p.w + wc - 1));
                }
            }
        }
        list
    });
    let chunk = |bufs: &mut Buffers<T>, ci: usize| {
        let first = ci * per;
        let images = per.min(p.n - first);
        let tc = images * nt;
        let Buffers {
            nhwc,
            tmp,
            v,
            m,
            out,
            ..
        } = bufs;
        // V[ξ][t][o]: the transformed 5×5 patches of dy padded by one.
        gradient_tiles(
            &p,
            dy,
            (first, images),
            (th, tw),
            data_op::<T>,
            nhwc,
            tmp,
            v,
        );
        scratch(m, POINTS * k * tc);
        for xi in 0..POINTS {
            let a = MatRef::row_major(&u[xi * k * o..(xi + 1) * k * o], k, o);
            let b = MatRef::from_slice(&v[xi * tc * o..], o, tc, 1, o as isize);
            let mm = MatMut::row_major(&mut m[xi * k * tc..(xi + 1) * k * tc], k, tc);
            gemm(T::one(), a, b, T::zero(), mm);
        }
        tmp.resize(20 * tc, T::zero());
        out.resize(16 * tc, T::zero());
        let (src, t, dst) = (m.as_ptr(), tmp.as_mut_ptr(), out.as_mut_ptr());
        // The four phases of a channel one after another, so its planes of `dx` stay in cache
        // while they are filled.
        for (ch, phase) in (0..c).flat_map(|ch| (0..4).map(move |phase| (ch, phase))) {
            let row = phase * c + ch;
            // SAFETY: rows (ξ, row) of M hold `tc` values; `out` 16 rows of `tc`; `tmp` 20·tc.
            unsafe {
                transform_on(
                    |a, b| src.add(((a * 5 + b) * k + row) * tc),
                    |j, l| dst.add((j * 4 + l) * tc),
                    tc,
                    t,
                    output_op::<T>,
                );
            }
            for (i, img) in (first..first + images).enumerate() {
                // SAFETY: image `img`'s plane `ch`: only this chunk writes its images.
                let dxo = unsafe {
                    std::slice::from_raw_parts_mut(dxp.get().add((img * c + ch) * plane), plane)
                };
                for &(e, tile, at) in &places[phase] {
                    dxo[at] = out[e * tc + i * nt + tile];
                }
            }
        }
    };
    run_each::<Buffers<T>>(chunks, threads, chunk);
    crate::storage::recycle(u);
    dx
}

/// `dw = conv_backward_weight(dy, x)`; see the module documentation.
pub(crate) fn backward_weight<T: Element>(cv: &Conv, dy: &[T], x: &[T]) -> Vec<T> {
    let p = Plan::new(cv);
    let (c, o, k) = (p.c, p.o, p.k());
    let (th, tw) = (p.oh.div_ceil(4), p.ow.div_ceil(4));
    let nt = th * tw;
    let mut dw = vec![T::zero(); o * c * 16];
    if dw.is_empty() || p.n == 0 {
        return dw;
    }
    let parts = p.threads();
    let (per, chunks) = p.chunks(nt, parts);
    // Every part has at least one chunk (a batch smaller than the parts has fewer chunks).
    let parts = parts.min(chunks);
    // Part `j` sums chunks j, j + parts, … into its own Σ_t products `[ξ][o][k]`.
    let part = |j: usize| {
        // Written by the first chunk's products (β = 0), added to by the others.
        let mut acc = crate::storage::stale::<T>(POINTS * o * k);
        let mut bufs = Buffers::default();
        for ci in (j..chunks).step_by(parts) {
            let first = ci * per;
            let images = per.min(p.n - first);
            let tc = images * nt;
            let Buffers {
                nhwc, tmp, v, vd, ..
            } = &mut bufs;
            input_tiles(&p, x, (first, images), (th, tw), nhwc, tmp, v);
            // Vd[ξ][t][o]: the transformed 4×4 tiles of dy (zero beyond OH × OW).
            gradient_tiles(
                &p,
                dy,
                (first, images),
                (th, tw),
                gradient_op::<T>,
                nhwc,
                tmp,
                vd,
            );
            for xi in 0..POINTS {
                let a = MatRef::from_slice(&vd[xi * tc * o..], o, tc, 1, o as isize);
                let b = MatRef::from_slice(&v[xi * tc * k..], tc, k, k as isize, 1);
                let mm = MatMut::row_major(&mut acc[xi * o * k..(xi + 1) * o * k], o, k);
                let beta = if ci == j { T::zero() } else { T::one() };
                gemm(T::one(), a, b, beta, mm);
            }
        }
        acc
    };
    let acc = if parts > 1 {
        let sums = (0..parts)
            .into_par_iter()
            .map(|j| crate::gemm::serial(|| part(j)));
        sum_parts(sums.collect())
    } else {
        part(0)
    };
    // dw[o, c, 2a + u, 2b + v] = (A₂ᵀ M A₂)[a, b] of row (o, (2u + v)·C + c).
    let mut out = vec![T::zero(); 4 * k];
    let mut tmp = vec![T::zero(); 10 * k];
    let (src, t, dst) = (acc.as_ptr(), tmp.as_mut_ptr(), out.as_mut_ptr());
    for oc in 0..o {
        // SAFETY: rows (ξ, oc) of the sums hold K values; `out` 4 rows of K; `tmp` 10·K.
        unsafe {
            transform_on(
                |a, b| src.add(((a * 5 + b) * o + oc) * k),
                |j, l| dst.add((j * 2 + l) * k),
                k,
                t,
                weight_output_op::<T>,
            );
        }
        for phase in 0..4 {
            let (pu, pv) = (phase / 2, phase % 2);
            for ch in 0..c {
                for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    dw[(oc * c + ch) * 16 + (2 * a + pu) * 4 + 2 * b + pv] =
                        out[(a * 2 + b) * k + phase * c + ch];
                }
            }
        }
    }
    crate::storage::recycle(acc);
    dw
}

/// Per-thread work buffers.
#[derive(Default)]
struct Buffers<T: Element> {
    /// One image (or output gradient), padded and channel-contiguous.
    nhwc: Vec<T>,
    /// Between the two axes of a transform.
    tmp: Vec<T>,
    /// Transformed input tiles, `[ξ][t][k]`.
    v: Vec<T>,
    /// Transformed output-gradient tiles (weight gradient), `[ξ][t][o]`.
    vd: Vec<T>,
    /// The 25 products.
    m: Vec<T>,
    /// Untransformed output tiles of one channel.
    out: Vec<T>,
}

impl<T: Element> Drop for Buffers<T> {
    fn drop(&mut self) {
        for buf in [
            &mut self.nhwc,
            &mut self.tmp,
            &mut self.v,
            &mut self.vd,
            &mut self.m,
            &mut self.out,
        ] {
            crate::storage::recycle(std::mem::take(buf));
        }
    }
}

/// Makes `buf` `len` long for contents that are overwritten before they are read: no zeroing
/// of a buffer reused from an earlier chunk or taken from the thread's cache.
fn scratch<T: Element>(buf: &mut Vec<T>, len: usize) {
    if buf.capacity() < len {
        crate::storage::recycle(std::mem::take(buf));
        *buf = crate::storage::stale(len);
    } else {
        buf.resize(len, T::zero());
    }
}

/// `parts[0] + parts[1] + …` element by element, in that order, in parallel blocks (the same
/// sums as [`crate::determinism::sum_in_order`], which adds on one thread).
fn sum_parts<T: Element>(mut parts: Vec<Vec<T>>) -> Vec<T> {
    const BLOCK: usize = 1 << 14;
    let mut total = parts.remove(0);
    let add = T::kernels().add_assign;
    total
        .par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(i, block)| {
            for part in &parts {
                add(block, &part[i * BLOCK..i * BLOCK + block.len()]);
            }
        });
    for part in parts {
        crate::storage::recycle(part);
    }
    total
}

/// Runs `task(buffers, i)` for `i < count`, on the thread pool when `threads > 1` (each worker
/// with its own buffers, its products kept on its thread).
fn run_each<B: Default + Send>(
    count: usize,
    threads: usize,
    task: impl Fn(&mut B, usize) + Sync + Send,
) {
    if threads > 1 {
        (0..count)
            .into_par_iter()
            .for_each_init(B::default, |bufs, i| crate::gemm::serial(|| task(bufs, i)));
    } else {
        let mut bufs = B::default();
        (0..count).for_each(|i| task(&mut bufs, i));
    }
}
