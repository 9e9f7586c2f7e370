//! The three convolution kernels — forward, input gradient, weight gradient — on raw NCHW
//! slices, by lowering to GEMM: the general path (any shape, element type and CPU); on AVX2 and
//! AVX-512 most convolutions take the direct kernels instead.
//!
//! Work is cut into *tiles*: one image and a band of output rows. A tile lowers its band with
//! im2col into a thread-local column block `[C·kh·kw, rows·OW]` sized to stay in the L2 cache,
//! and multiplies it with the weight, one GEMM per group, straight into (or out of) the NCHW
//! output — the output of one image is `[O, OH·OW]`, exactly the GEMM's `C`, so nothing is
//! permuted or copied afterwards. Tiles run in parallel over the thread pool; each GEMM is small
//! enough to stay single-threaded inside its tile.
//!
//! * forward: `Y[n][g] = W[g] · cols(X[n])[g]` (tiles over images × row bands);
//! * input gradient: `cols = W[g]ᵀ · dY[n][g]`, then col2im adds the columns onto `dX[n]`
//!   (tasks over images × channel blocks, so no two tasks write one input plane);
//! * weight gradient: `dW[g] += dY[n][g] · cols(X[n])[g]ᵀ`, summed by each thread over its share
//!   of the tiles into its own buffer, the buffers added at the end. Small output planes take
//!   several whole images per product instead (the transposed column matrix of the batch,
//!   read by the GEMM in place), so each product is deep enough to pay for updating `dW`.
//!
//! A pointwise convolution (1×1, stride 1, no padding) uses the input as its column matrix.

use rayon::prelude::*;

use super::im2col::copy_row;
use super::{Conv, SendPtr};
use crate::Element;
use crate::gemm::{MatMut, MatRef, gemm};

/// Elements of a thread's column block: 48 Ki elements, 192 KiB in `f32`, well inside L2.
const COLS_BLOCK: usize = 48 * 1024;

/// Positions summed by one weight-gradient GEMM when output planes are small (one `f32` panel
/// depth of the AVX-512 kernels): enough to amortise reading and writing `dW` per product.
const WEIGHT_DEPTH: usize = 384;

/// Elements of the weight gradient's column block for a batch of images: 2 MiB in `f32`,
/// within the L2 cache of current cores.
const WEIGHT_COLS: usize = 1 << 19;

/// Output channels per group from which the batched weight gradient beats the direct kernels.
const WEIGHT_MIN_ROWS: usize = 64;

/// Below this many multiply-adds a kernel stays on the calling thread.
const PARALLEL_MACS: usize = 1 << 18;

impl Conv {
    /// Parts the work is cut into (see `crate::determinism`).
    fn threads(&self) -> usize {
        crate::determinism::work_split(self.macs() >= PARALLEL_MACS)
    }

    /// Output rows per tile so a column block of `rows` channels fits `COLS_BLOCK`, and
    /// small enough that there are at least two tiles per thread when the batch alone does not
    /// give them.
    fn band(&self, rows: usize, images: usize, threads: usize) -> usize {
        let g = &self.geom;
        let mut band = (COLS_BLOCK / (rows * g.ow).max(1)).clamp(1, g.oh.max(1));
        let want = 2 * threads;
        if threads > 1 && images * g.oh.div_ceil(band) < want {
            let per_image = want.div_ceil(images.max(1));
            band = band.min(g.oh.div_ceil(per_image)).max(1);
        }
        band
    }
}

/// `y = conv(x, w) (+ bias)`: `x` is `[N, C, H, W]`, `w` is `[O, C/groups, kh, kw]`, the
/// result `[N, O, OH, OW]`.
pub(crate) fn forward<T: Element>(cv: &Conv, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    let g = cv.geom;
    let (p, hw) = (g.out_plane(), g.in_plane());
    let (og, kg, k) = (cv.og(), cv.kg(), cv.c * g.taps());
    let mut y = crate::storage::zeroed::<T>(cv.n * cv.o * p);
    if y.is_empty() {
        return y;
    }
    let threads = cv.threads();
    let band = cv.band(k, cv.n, threads);
    let bands = g.oh.div_ceil(band);
    let pointwise = g.is_pointwise();
    let yp = SendPtr(y.as_mut_ptr());
    let tile = |cols: &mut Vec<T>, t: usize| {
        let (img, b) = (t / bands, t % bands);
        let (oh0, oh1) = (b * band, ((b + 1) * band).min(g.oh));
        let (p0, np) = (oh0 * g.ow, (oh1 - oh0) * g.ow);
        let xi = &x[img * cv.c * hw..(img + 1) * cv.c * hw];
        // The column matrix [C·kh·kw, np] and its row stride: the input itself when pointwise.
        let (col_data, rsb): (&[T], usize) = if pointwise {
            (&xi[p0..], hw)
        } else {
            cols.resize(k * np, T::zero());
            g.im2col_rows(xi, cv.c, oh0, oh1, cols);
            (cols, np)
        };
        for grp in 0..cv.groups {
            // A is group `grp`'s weight block [og, kg]; B is the group's rows of the column
            // matrix [kg, np].
            let a = MatRef::row_major(&w[grp * og * kg..(grp + 1) * og * kg], og, kg);
            let b = MatRef::from_slice(&col_data[grp * kg * rsb..], kg, np, rsb as isize, 1);
            // SAFETY: C is rows grp·og.. of image `img`'s output, columns p0..p0 + np, row
            // stride OH·OW — inside `y`, a region only this tile touches, disjoint from `x`,
            // `w` and `cols`.
            let c = unsafe {
                MatMut::from_raw_parts(
                    yp.get().add(img * cv.o * p + grp * og * p + p0),
                    og,
                    np,
                    p as isize,
                    1,
                )
            };
            gemm(T::one(), a, b, T::zero(), c);
        }
        if let Some(bias) = bias {
            for (oc, &bv) in bias.iter().enumerate() {
                // SAFETY: the same tile region as the GEMM wrote, row `oc`.
                let row = unsafe {
                    std::slice::from_raw_parts_mut(yp.get().add(img * cv.o * p + oc * p + p0), np)
                };
                row.iter_mut().for_each(|v| *v = *v + bv);
            }
        }
    };
    let tiles = cv.n * bands;
    if threads > 1 {
        (0..tiles).into_par_iter().for_each_init(Vec::new, tile);
    } else {
        let mut cols = Vec::new();
        (0..tiles).for_each(|t| tile(&mut cols, t));
    }
    y
}

/// `dx = conv_backward_input(dy, w)`: `dy` is `[N, O, OH, OW]`, `w` is `[O, C/groups, kh, kw]`,
/// the result `[N, C, H, W]` — the adjoint of [`forward`] without bias in `x`.
pub(crate) fn backward_input<T: Element>(cv: &Conv, dy: &[T], w: &[T]) -> Vec<T> {
    let g = cv.geom;
    let (p, hw, taps) = (g.out_plane(), g.in_plane(), g.taps());
    let (cg, og, kg) = (cv.cg(), cv.og(), cv.kg());
    let mut dx = crate::storage::zeroed::<T>(cv.n * cv.c * hw);
    if dx.is_empty() || p == 0 {
        return dx;
    }
    let threads = cv.threads();
    // Channel blocks within a group: whole groups unless the batch and the groups give too few
    // tasks to keep every thread busy.
    let tasks_wanted = 2 * threads;
    let per_group = if threads > 1 && cv.n * cv.groups < tasks_wanted {
        tasks_wanted.div_ceil(cv.n * cv.groups).min(cg)
    } else {
        1
    };
    let block = cg.div_ceil(per_group);
    let blocks = cg.div_ceil(block);
    let band = cv.band(block * taps, 1, 1);
    let pointwise = g.is_pointwise();
    let dxp = SendPtr(dx.as_mut_ptr());
    let task = |cols: &mut Vec<T>, t: usize| {
        let (img, rest) = (t / (cv.groups * blocks), t % (cv.groups * blocks));
        let (grp, blk) = (rest / blocks, rest % blocks);
        let c0 = blk * block; // within the group
        let nc = block.min(cg - c0);
        let kc = nc * taps;
        let first = img * cv.c * hw + (grp * cg + c0) * hw;
        // SAFETY: channels grp·cg + c0 .. + nc of image `img`: only this task writes them.
        let dxi = unsafe { std::slice::from_raw_parts_mut(dxp.get().add(first), nc * hw) };
        // A = rows c0·taps.. (kc of them) of W[g]ᵀ: element (r, q) is
        // w[(grp·og + q)·kg + c0·taps + r], a [kc, og] view with strides (1, kg).
        let a = MatRef::from_slice(&w[grp * og * kg + c0 * taps..], kc, og, 1, kg as isize);
        let dyi = &dy[img * cv.o * p + grp * og * p..];
        let mut oh0 = 0;
        while oh0 < g.oh {
            let oh1 = (oh0 + band).min(g.oh);
            let (p0, np) = (oh0 * g.ow, (oh1 - oh0) * g.ow);
            // B = dY[img][g] columns p0.. ([og, np], row stride OH·OW).
            let b = MatRef::from_slice(&dyi[p0..], og, np, p as isize, 1);
            if pointwise {
                // C is this task's planes, columns p0.., row stride H·W = OH·OW.
                let c = MatMut::from_slice(&mut dxi[p0..], kc, np, hw as isize, 1);
                gemm(T::one(), a, b, T::zero(), c);
            } else {
                cols.resize(kc * np, T::zero());
                // C is this task's own [kc, np] buffer.
                gemm(T::one(), a, b, T::zero(), MatMut::row_major(cols, kc, np));
                g.col2im_rows_add(cols, nc, oh0, oh1, dxi);
            }
            oh0 = oh1;
        }
    };
    let tasks = cv.n * cv.groups * blocks;
    if threads > 1 {
        (0..tasks).into_par_iter().for_each_init(Vec::new, task);
    } else {
        let mut cols = Vec::new();
        (0..tasks).for_each(|t| task(&mut cols, t));
    }
    dx
}

/// `dw = conv_backward_weight(dy, x)`: `dy` is `[N, O, OH, OW]`, `x` is `[N, C, H, W]`, the
/// result `[O, C/groups, kh, kw]`, `dw[o, c, i, j] = Σ_{n, oh, ow} dy[n, o, oh, ow] ·
/// x[n, g·C/groups + c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]`.
pub(crate) fn backward_weight<T: Element>(cv: &Conv, dy: &[T], x: &[T]) -> Vec<T> {
    let g = cv.geom;
    let (p, hw) = (g.out_plane(), g.in_plane());
    let (og, kg, k) = (cv.og(), cv.kg(), cv.c * g.taps());
    let len = cv.o * kg;
    if len == 0 || p == 0 || cv.n == 0 {
        return crate::storage::zeroed::<T>(len);
    }
    let threads = cv.threads();
    let pointwise = g.is_pointwise();
    if let Some(images) = weight_images(cv) {
        return backward_weight_batched(cv, dy, x, images, threads);
    }
    let band = cv.band(k, cv.n, threads);
    let bands = g.oh.div_ceil(band);
    let tiles = cv.n * bands;
    // Each chunk of tiles sums into its own buffer.
    let chunk = |range: std::ops::Range<usize>| -> Vec<T> {
        let mut dw = crate::storage::zeroed::<T>(len);
        let mut cols = Vec::new();
        for t in range {
            let (img, b) = (t / bands, t % bands);
            let (oh0, oh1) = (b * band, ((b + 1) * band).min(g.oh));
            let (p0, np) = (oh0 * g.ow, (oh1 - oh0) * g.ow);
            let xi = &x[img * cv.c * hw..(img + 1) * cv.c * hw];
            // The column matrix [C·kh·kw, np] and its row stride: the input when pointwise.
            let (col_data, rsc): (&[T], usize) = if pointwise {
                (&xi[p0..], hw)
            } else {
                cols.resize(k * np, T::zero());
                g.im2col_rows(xi, cv.c, oh0, oh1, &mut cols);
                (&cols, np)
            };
            for grp in 0..cv.groups {
                // A = dY[img][g] columns p0.. ([og, np], row stride OH·OW); B = the transpose
                // of the group's column rows ([kg, np] → [np, kg]); C = this chunk's own
                // buffer, rows grp·og...
                let a = MatRef::from_slice(
                    &dy[img * cv.o * p + grp * og * p + p0..],
                    og,
                    np,
                    p as isize,
                    1,
                );
                let b =
                    MatRef::from_slice(&col_data[grp * kg * rsc..], kg, np, rsc as isize, 1).t();
                let c = MatMut::row_major(&mut dw[grp * og * kg..(grp + 1) * og * kg], og, kg);
                gemm(T::one(), a, b, T::one(), c);
            }
        }
        dw
    };
    summed_over_parts(tiles, threads, chunk)
}

/// Images per GEMM of the weight gradient when output planes are small enough to batch
/// (`None`: one image, or a band of its rows, at a time).
fn weight_images(cv: &Conv) -> Option<usize> {
    let (p, k) = (cv.geom.out_plane(), cv.c * cv.geom.taps());
    let images = WEIGHT_DEPTH
        .div_ceil(p.max(1))
        .min(WEIGHT_COLS / (k * p).max(1))
        .min(cv.n);
    (!cv.geom.is_pointwise() && images > 1).then_some(images)
}

/// Whether the batched weight gradient beats the direct kernels: small planes and enough
/// output channels per group to fill the GEMM's register tiles. Measured on AVX-512 (one
/// thread, batch 64): 1.6× faster for 64 → 128 channels 4×4 stride 2 on 14×14 (a DCGAN
/// discriminator), about even for 16 → 32 channels 3×3 stride 2 (left direct), 2.6× slower
/// for 6 → 16 channels 5×5 on 14×14.
pub(crate) fn weight_batches_well(cv: &Conv) -> bool {
    weight_images(cv).is_some() && cv.og() >= WEIGHT_MIN_ROWS
}

/// [`backward_weight`] for small output planes, where a GEMM over one image would be too
/// shallow to pay for reading and writing `dW`: `images` whole images at a time (about
/// [`WEIGHT_DEPTH`] positions), as `dW[g] += dYᵇ[g] · colsᵀ[g]` with the output gradient
/// gathered to `dYᵇ = [O, images·OH·OW]` and the transposed column matrix
/// `colsᵀ = [images·OH·OW, C·kh·kw]`, which the GEMM reads in place (contiguous rows).
fn backward_weight_batched<T: Element>(
    cv: &Conv,
    dy: &[T],
    x: &[T],
    images: usize,
    threads: usize,
) -> Vec<T> {
    let g = cv.geom;
    let (p, hw) = (g.out_plane(), g.in_plane());
    let (og, kg, k) = (cv.og(), cv.kg(), cv.c * g.taps());
    let len = cv.o * kg;
    let batches = cv.n.div_ceil(images);
    // Each chunk of batches sums into its own buffer.
    let chunk = |range: std::ops::Range<usize>| -> Vec<T> {
        let mut dw = crate::storage::zeroed::<T>(len);
        let (mut cols_t, mut dyb, mut padded) = (Vec::new(), Vec::new(), Vec::new());
        for batch in range {
            let (img0, img1) = (batch * images, ((batch + 1) * images).min(cv.n));
            let depth = (img1 - img0) * p;
            cols_t.resize(depth * k, T::zero());
            dyb.resize(cv.o * depth, T::zero());
            for (i, img) in (img0..img1).enumerate() {
                let xi = &x[img * cv.c * hw..(img + 1) * cv.c * hw];
                g.im2col_transposed(xi, cv.c, &mut cols_t[i * p * k..], &mut padded);
                for oc in 0..cv.o {
                    let src = &dy[(img * cv.o + oc) * p..][..p];
                    copy_row(&mut dyb[oc * depth + i * p..][..p], src);
                }
            }
            for grp in 0..cv.groups {
                // A = the group's rows of the gathered output gradient ([og, depth]);
                // B = the group's columns of colsᵀ ([depth, kg], row stride C·kh·kw);
                // C = this chunk's own buffer, rows grp·og...
                let a =
                    MatRef::row_major(&dyb[grp * og * depth..(grp + 1) * og * depth], og, depth);
                let b = MatRef::from_slice(&cols_t[grp * kg..], depth, kg, k as isize, 1);
                let c = MatMut::row_major(&mut dw[grp * og * kg..(grp + 1) * og * kg], og, kg);
                gemm(T::one(), a, b, T::one(), c);
            }
        }
        dw
    };
    summed_over_parts(batches, threads, chunk)
}

/// `Σ_parts chunk(part)` over `tasks` cut into `min(threads, tasks)` contiguous parts, each
/// summing into its own buffer on its own thread; the buffers are added in order.
fn summed_over_parts<T: Element>(
    tasks: usize,
    threads: usize,
    chunk: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    if threads <= 1 {
        return chunk(0..tasks);
    }
    let parts = threads.min(tasks);
    let sums: Vec<Vec<T>> = (0..parts)
        .into_par_iter()
        .map(|i| chunk(i * tasks / parts..(i + 1) * tasks / parts))
        .collect();
    crate::determinism::sum_in_order(sums)
}

/// `db[o] = Σ_{n, pixels} dy[n, o, pixels]` for `dy` of `n` images of `o` planes of `plane`.
pub(crate) fn backward_bias<T: Element>(dy: &[T], n: usize, o: usize, plane: usize) -> Vec<T> {
    let sum = T::kernels().sum;
    let mut db = crate::storage::zeroed::<T>(o);
    for img in 0..n {
        for (oc, d) in db.iter_mut().enumerate() {
            let start = (img * o + oc) * plane;
            *d = *d + sum(&dy[start..start + plane]);
        }
    }
    db
}
