//! Pooling kernels over NCHW images: max, average and adaptive average pooling, forward and
//! backward.
//!
//! Every kernel works plane by plane (one `[H, W]` plane per image and channel); large inputs
//! split the `N·C` planes over the thread pool. Output sizes follow PyTorch:
//! `out = ⌊(in + 2·pad − dil·(k − 1) − 1) / stride⌋ + 1`, or with `ceil_mode` the ceiling
//! instead of the floor, less one if the last window would start past the input and its left
//! padding (PyTorch's rule), so every window holds at least one input position.
//!
//! ```
//! use strata_tensor::Tensor;
//! use strata_tensor::pool::{max_pool2d, max_pool2d_backward};
//!
//! let x = Tensor::<f32>::from_vec((0..16).map(|v| v as f32).collect(), &[1, 1, 4, 4]);
//! let (y, idx) = max_pool2d(&x, (2, 2), (2, 2), (0, 0), (1, 1));
//! assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
//! assert_eq!(idx.as_slice(), &[5, 7, 13, 15]); // flat positions in the 4×4 plane
//! let dx = max_pool2d_backward(&Tensor::<f32>::ones(&[1, 1, 2, 2]), &idx, &[1, 1, 4, 4]);
//! assert_eq!(dx.get(&[0, 0, 1, 1]), 1.0);
//! ```

#[cfg(target_arch = "x86_64")]
mod simd;

use rayon::prelude::*;

use crate::{Element, Indices, Tensor};

/// Below this many input elements a pooling kernel stays on the calling thread.
const PARALLEL_MIN: usize = 1 << 16;

/// Elements of work per parallel task (a few planes each).
const TASK_MIN: usize = 1 << 13;

/// Planes per parallel task for `planes` planes of `work` elements each, or `planes` (one
/// task, run on the calling thread) when the input is small.
fn planes_per_task(planes: usize, work: usize) -> usize {
    let total = planes * work;
    if total < PARALLEL_MIN || planes < 2 || crate::threads::num_threads() < 2 {
        return planes.max(1);
    }
    TASK_MIN.div_ceil(work.max(1)).clamp(1, planes)
}

/// The spatial shape of one pooling: input plane, window, stride, padding, dilation, output.
#[derive(Clone, Copy, Debug)]
struct Window {
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    dh: usize,
    dw: usize,
    oh: usize,
    ow: usize,
}

impl Window {
    /// The input rows of window row `oh` (first row, count of rows stepping by `dh`), or of
    /// column `ow` (with `h → w`): taps outside `0..in` are skipped.
    #[inline]
    fn taps(
        o: usize,
        stride: usize,
        pad: usize,
        k: usize,
        dil: usize,
        input: usize,
    ) -> (usize, usize) {
        // First tap index t0 with o·stride + t0·dil ≥ pad, last with < pad + input.
        let base = o * stride;
        let t0 = if base >= pad {
            0
        } else {
            (pad - base).div_ceil(dil)
        };
        let t1 = match (pad + input).checked_sub(base + 1) {
            Some(room) => (room / dil + 1).min(k),
            None => 0,
        };
        if t0 >= t1 {
            return (0, 0);
        }
        (base + t0 * dil - pad, t1 - t0)
    }

    #[inline]
    fn rows(&self, oh: usize) -> (usize, usize) {
        Self::taps(oh, self.sh, self.ph, self.kh, self.dh, self.h)
    }

    #[inline]
    fn cols(&self, ow: usize) -> (usize, usize) {
        Self::taps(ow, self.sw, self.pw, self.kw, self.dw, self.w)
    }

    /// Whether this is the common 2×2, stride-2, unpadded, undilated window with every window
    /// inside the plane (not the partial last one of `ceil_mode`).
    fn is_2x2(&self) -> bool {
        (
            self.kh, self.kw, self.sh, self.sw, self.ph, self.pw, self.dh, self.dw,
        ) == (2, 2, 2, 2, 0, 0, 1, 1)
            && 2 * self.oh <= self.h
            && 2 * self.ow <= self.w
    }
}

/// Output positions along one axis (PyTorch's `pooling_output_shape`): `⌊(in + 2·pad − span) /
/// stride⌋ + 1`, with `ceil_mode` the ceiling, less one if the last window would start at or
/// past `in + pad`.
fn out_size(input: usize, pad: usize, span: usize, stride: usize, ceil_mode: bool) -> usize {
    let room = input + 2 * pad - span;
    let mut out = if ceil_mode {
        room.div_ceil(stride)
    } else {
        room / stride
    } + 1;
    if ceil_mode && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    out
}

fn pair(p: (usize, usize)) -> String {
    format!("({}, {})", p.0, p.1)
}

/// Checks a pooling of `x` and returns `(N·C, window)`.
fn plan(
    op: &str,
    x: &[usize],
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    ceil_mode: bool,
) -> (usize, Window) {
    assert!(x.len() == 4, "{op}: input {x:?} must be 4-D [N, C, H, W]");
    assert!(
        kernel.0 > 0 && kernel.1 > 0,
        "{op}: kernel {} must be positive",
        pair(kernel)
    );
    assert!(
        stride.0 > 0 && stride.1 > 0,
        "{op}: stride {} must be positive",
        pair(stride)
    );
    assert!(
        dilation.0 > 0 && dilation.1 > 0,
        "{op}: dilation {} must be positive",
        pair(dilation)
    );
    assert!(
        2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1,
        "{op}: padding {} must be at most half the kernel {}",
        pair(padding),
        pair(kernel)
    );
    let (h, w) = (x[2], x[3]);
    let span = (
        dilation.0 * (kernel.0 - 1) + 1,
        dilation.1 * (kernel.1 - 1) + 1,
    );
    let padded = (h + 2 * padding.0, w + 2 * padding.1);
    assert!(
        span.0 <= padded.0 && span.1 <= padded.1,
        "{op}: kernel {}×{} (dilation {}) spans {}×{}, larger than the padded input {}×{} (input {x:?}, padding {})",
        kernel.0,
        kernel.1,
        pair(dilation),
        span.0,
        span.1,
        padded.0,
        padded.1,
        pair(padding)
    );
    let win = Window {
        h,
        w,
        kh: kernel.0,
        kw: kernel.1,
        sh: stride.0,
        sw: stride.1,
        ph: padding.0,
        pw: padding.1,
        dh: dilation.0,
        dw: dilation.1,
        oh: out_size(h, padding.0, span.0, stride.0, ceil_mode),
        ow: out_size(w, padding.1, span.1, stride.1, ceil_mode),
    };
    (x[0] * x[1], win)
}

// ---------------------------------------------------------------------------------------------
// Max pooling.

/// 2-D max pooling with the argmax positions (PyTorch's `max_pool2d(…, return_indices=True)`,
/// `ceil_mode = false`):
///
/// ```text
/// y[n, c, oh, ow] = max_{i < kh, j < kw} x[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
/// ```
///
/// where padding counts as −∞. `indices[n, c, oh, ow]` is the flat position `h·W + w` of the
/// maximum inside its `H×W` input plane; ties go to the first position in row-major window
/// order, and a NaN in the window wins (it propagates). Shapes: `x: [N, C, H, W]`; `y` and
/// `indices` are `[N, C, OH, OW]` with `OH = (H + 2·ph − dh·(kh − 1) − 1)/sh + 1` (likewise `OW`).
///
/// # Panics
/// If `x` is not 4-D, a kernel size, stride or dilation is zero, a padding exceeds half its
/// kernel size, or the dilated kernel is larger than the padded input.
pub fn max_pool2d<T: Element>(
    x: &Tensor<T>,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
) -> (Tensor<T>, Indices) {
    max_pool2d_with(x, kernel, stride, padding, dilation, false)
}

/// [`max_pool2d`] with PyTorch's `ceil_mode`: the output size rounds up (see the [module
/// docs](self)), the last windows being clipped to the input.
///
/// # Panics
/// As [`max_pool2d`].
pub fn max_pool2d_with<T: Element>(
    x: &Tensor<T>,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    ceil_mode: bool,
) -> (Tensor<T>, Indices) {
    let (planes, win) = plan(
        "max_pool2d",
        x.shape(),
        kernel,
        stride,
        padding,
        dilation,
        ceil_mode,
    );
    let (ip, op) = (win.h * win.w, win.oh * win.ow);
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    let mut y = crate::storage::zeroed::<T>(planes * op);
    let mut idx = vec![0usize; planes * op];
    if !y.is_empty() {
        let ppt = planes_per_task(planes, ip.max(op * win.kh * win.kw));
        let run = |x: &[T], y: &mut [T], idx: &mut [usize]| {
            for ((x, y), idx) in x
                .chunks_exact(ip)
                .zip(y.chunks_exact_mut(op))
                .zip(idx.chunks_exact_mut(op))
            {
                max_plane(&win, x, y, idx);
            }
        };
        if ppt >= planes {
            run(xs, &mut y, &mut idx);
        } else {
            y.par_chunks_mut(ppt * op)
                .zip(idx.par_chunks_mut(ppt * op))
                .zip(xs.par_chunks(ppt * ip))
                .for_each(|((y, idx), x)| run(x, y, idx));
        }
    }
    let shape = [x.shape()[0], x.shape()[1], win.oh, win.ow];
    (Tensor::from_vec(y, &shape), Indices::new(idx, &shape))
}

/// The running maximum of a window and where it is: ties keep the first position, and a NaN
/// wins over everything (it propagates, at the last NaN's position, as in PyTorch).
///
/// Branch-free on purpose: the maximum of real data moves unpredictably, and mispredicted
/// branches would cost more than the window itself.
#[derive(Clone, Copy)]
struct Argmax<T> {
    m: T,
    at: usize,
    nan_at: usize,
}

impl<T: Element> Argmax<T> {
    #[inline(always)]
    fn new(v: T, at: usize) -> Self {
        Argmax {
            m: v,
            at,
            nan_at: if v.is_nan() { at } else { usize::MAX },
        }
    }

    #[inline(always)]
    fn push(&mut self, v: T, pos: usize) {
        let gt = v > self.m;
        self.at = if gt { pos } else { self.at };
        self.m = self.m.max(v);
        self.nan_at = if v.is_nan() { pos } else { self.nan_at };
    }

    #[inline(always)]
    fn get(self) -> (T, usize) {
        if self.nan_at == usize::MAX {
            (self.m, self.at)
        } else {
            (T::nan(), self.nan_at)
        }
    }
}

/// Max pooling of one plane: the SIMD 2×2 kernel for `f32` on AVX2/AVX-512, the portable
/// loop otherwise.
fn max_plane<T: Element>(win: &Window, x: &[T], y: &mut [T], idx: &mut [usize]) {
    #[cfg(target_arch = "x86_64")]
    if win.is_2x2() && win.h * win.w < 1 << 30 {
        use std::any::TypeId;
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            // SAFETY: `T` is `f32`, so the slices are `f32` slices of the same lengths.
            let (x, y) = unsafe {
                (
                    std::slice::from_raw_parts(x.as_ptr() as *const f32, x.len()),
                    std::slice::from_raw_parts_mut(y.as_mut_ptr() as *mut f32, y.len()),
                )
            };
            if simd::max2x2_f32(win.w, win.oh, win.ow, x, y, idx) {
                return;
            }
        }
    }
    max_plane_impl(win, x, y, idx)
}

fn max_plane_impl<T: Element>(win: &Window, x: &[T], y: &mut [T], idx: &mut [usize]) {
    let w = win.w;
    if win.is_2x2() {
        for oh in 0..win.oh {
            let (r0, r1) = (2 * oh * w, (2 * oh + 1) * w);
            let (top, bottom) = (&x[r0..r0 + w], &x[r1..r1 + w]);
            let ys = &mut y[oh * win.ow..(oh + 1) * win.ow];
            let is = &mut idx[oh * win.ow..(oh + 1) * win.ow];
            for (ow, (yv, iv)) in ys.iter_mut().zip(is.iter_mut()).enumerate() {
                let c = 2 * ow;
                let mut a = Argmax::new(top[c], r0 + c);
                a.push(top[c + 1], r0 + c + 1);
                a.push(bottom[c], r1 + c);
                a.push(bottom[c + 1], r1 + c + 1);
                (*yv, *iv) = a.get();
            }
        }
        return;
    }
    for oh in 0..win.oh {
        let (h0, nh) = win.rows(oh);
        for ow in 0..win.ow {
            let (w0, nw) = win.cols(ow);
            // A window always holds at least one real position (padding ≤ half the kernel).
            let mut a = Argmax::new(T::neg_infinity(), h0 * w + w0);
            for i in 0..nh {
                let row = (h0 + i * win.dh) * w + w0;
                for j in 0..nw {
                    a.push(x[row + j * win.dw], row + j * win.dw);
                }
            }
            (y[oh * win.ow + ow], idx[oh * win.ow + ow]) = a.get();
        }
    }
}

/// Gradient of [`max_pool2d`]: routes each output gradient to the input position its maximum
/// came from, adding where windows overlap,
/// `dx[n, c, p] = Σ_{(oh, ow) : indices[n, c, oh, ow] = p} dy[n, c, oh, ow]`.
/// Shapes: `grad_y` and `indices` `[N, C, OH, OW]`, `input_shape = [N, C, H, W]`; result
/// `[N, C, H, W]`.
///
/// # Panics
/// If `grad_y` and `indices` differ in shape, either is not 4-D, their `N, C` differ from
/// `input_shape`'s, or an index lies outside the `H×W` plane.
pub fn max_pool2d_backward<T: Element>(
    grad_y: &Tensor<T>,
    indices: &Indices,
    input_shape: &[usize],
) -> Tensor<T> {
    let gs = grad_y.shape();
    assert!(
        gs.len() == 4
            && input_shape.len() == 4
            && gs == indices.shape()
            && gs[..2] == input_shape[..2],
        "max_pool2d_backward: grad_y {gs:?} and indices {:?} must be [N, C, OH, OW] for input {input_shape:?}",
        indices.shape()
    );
    let (planes, ip, op) = (
        gs[0] * gs[1],
        input_shape[2] * input_shape[3],
        gs[2] * gs[3],
    );
    let dy = grad_y.contiguous();
    let dys = dy.as_slice().expect("contiguous");
    let ids = indices.as_slice();
    let mut dx = crate::storage::zeroed::<T>(planes * ip);
    if op > 0 && ip > 0 {
        let run = |dx: &mut [T], dy: &[T], ids: &[usize]| {
            for ((dx, dy), ids) in dx
                .chunks_exact_mut(ip)
                .zip(dy.chunks_exact(op))
                .zip(ids.chunks_exact(op))
            {
                for (&g, &i) in dy.iter().zip(ids) {
                    assert!(
                        i < ip,
                        "max_pool2d_backward: index {i} is outside the {}×{} input plane",
                        input_shape[2],
                        input_shape[3]
                    );
                    dx[i] = dx[i] + g;
                }
            }
        };
        let ppt = planes_per_task(planes, ip.max(op));
        if ppt >= planes {
            run(&mut dx, dys, ids);
        } else {
            dx.par_chunks_mut(ppt * ip)
                .zip(dys.par_chunks(ppt * op))
                .zip(ids.par_chunks(ppt * op))
                .for_each(|((dx, dy), ids)| run(dx, dy, ids));
        }
    } else {
        assert!(
            op == 0 || ids.is_empty(),
            "max_pool2d_backward: indices {:?} point into an empty input plane {input_shape:?}",
            indices.shape()
        );
    }
    Tensor::from_vec(dx, input_shape)
}

// ---------------------------------------------------------------------------------------------
// Average pooling.

/// 2-D average pooling with PyTorch's defaults (`count_include_pad = true`,
/// `ceil_mode = false`):
///
/// ```text
/// y[n, c, oh, ow] = (1 / (kh·kw)) · Σ_{i < kh, j < kw} x[n, c, oh·sh − ph + i, ow·sw − pw + j]
/// ```
///
/// with padding counted as zeros. Shapes: `x: [N, C, H, W]`; result `[N, C, OH, OW]` with
/// `OH = (H + 2·ph − kh)/sh + 1` (likewise `OW`).
///
/// # Panics
/// If `x` is not 4-D, a kernel size or stride is zero, a padding exceeds half its kernel size,
/// or the kernel is larger than the padded input.
pub fn avg_pool2d<T: Element>(
    x: &Tensor<T>,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Tensor<T> {
    avg_pool2d_with(x, kernel, stride, padding, &AvgPoolOptions::default())
}

/// PyTorch's `avg_pool2d` options beyond the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPoolOptions {
    /// Round the output size up (see the [module docs](self)).
    pub ceil_mode: bool,
    /// Count padding positions in the divisor (the window clipped to the padded input);
    /// otherwise divide by the input positions the window covers.
    pub count_include_pad: bool,
    /// Divide every window by this instead.
    pub divisor_override: Option<usize>,
}

impl Default for AvgPoolOptions {
    /// PyTorch's defaults: `ceil_mode = false`, `count_include_pad = true`, no override.
    fn default() -> Self {
        AvgPoolOptions {
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
}

/// [`avg_pool2d`] with PyTorch's options: window `(oh, ow)` sums its input positions and divides
/// by `divisor_override` if set, else by the window clipped to the padded input
/// (`count_include_pad`, with `hstart = oh·sh − ph`, `hend = min(hstart + kh, H + ph)`:
/// `(hend − hstart)·(wend − wstart)`), else by the input positions it covers.
///
/// # Panics
/// As [`avg_pool2d`], and if `divisor_override` is `Some(0)`.
pub fn avg_pool2d_with<T: Element>(
    x: &Tensor<T>,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    options: &AvgPoolOptions,
) -> Tensor<T> {
    assert!(
        options.divisor_override != Some(0),
        "avg_pool2d: divisor_override must be positive"
    );
    let (planes, win) = plan(
        "avg_pool2d",
        x.shape(),
        kernel,
        stride,
        padding,
        (1, 1),
        options.ceil_mode,
    );
    let (ip, op) = (win.h * win.w, win.oh * win.ow);
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    let mut y = crate::storage::zeroed::<T>(planes * op);
    if !y.is_empty() {
        let run = |x: &[T], y: &mut [T]| {
            for (x, y) in x.chunks_exact(ip).zip(y.chunks_exact_mut(op)) {
                avg_plane(&win, options, x, y);
            }
        };
        let ppt = planes_per_task(planes, ip.max(op * win.kh * win.kw));
        if ppt >= planes {
            run(xs, &mut y);
        } else {
            y.par_chunks_mut(ppt * op)
                .zip(xs.par_chunks(ppt * ip))
                .for_each(|(y, x)| run(x, y));
        }
    }
    Tensor::from_vec(y, &[x.shape()[0], x.shape()[1], win.oh, win.ow])
}

/// The divisor of average-pooling window `(oh, ow)` covering `nh × nw` input positions (see
/// [`avg_pool2d_with`]).
fn avg_divisor(
    win: &Window,
    options: &AvgPoolOptions,
    (oh, ow): (usize, usize),
    (nh, nw): (usize, usize),
) -> usize {
    if let Some(d) = options.divisor_override {
        return d;
    }
    if !options.count_include_pad {
        return nh * nw;
    }
    // The window clipped to the padded input, in padded coordinates.
    let clipped = |o: usize, s: usize, k: usize, pad: usize, input: usize| {
        (o * s + k).min(input + 2 * pad) - o * s
    };
    clipped(oh, win.sh, win.kh, win.ph, win.h) * clipped(ow, win.sw, win.kw, win.pw, win.w)
}

fn avg_plane<T: Element>(win: &Window, options: &AvgPoolOptions, x: &[T], y: &mut [T]) {
    let w = win.w;
    if win.is_2x2() && options.divisor_override.is_none() {
        let quarter = T::from_f64_lossy(0.25);
        for oh in 0..win.oh {
            let (r0, r1) = (
                &x[2 * oh * w..(2 * oh + 1) * w],
                &x[(2 * oh + 1) * w..(2 * oh + 2) * w],
            );
            for (ow, yv) in y[oh * win.ow..(oh + 1) * win.ow].iter_mut().enumerate() {
                let c = 2 * ow;
                *yv = (r0[c] + r0[c + 1] + r1[c] + r1[c + 1]) * quarter;
            }
        }
        return;
    }
    for oh in 0..win.oh {
        let (h0, nh) = win.rows(oh);
        for ow in 0..win.ow {
            let (w0, nw) = win.cols(ow);
            let divisor = avg_divisor(win, options, (oh, ow), (nh, nw));
            let scale = T::one() / T::from_usize(divisor).expect("window size fits");
            let mut s = T::zero();
            for i in 0..nh {
                let row = &x[(h0 + i) * w + w0..(h0 + i) * w + w0 + nw];
                for &v in row {
                    s = s + v;
                }
            }
            y[oh * win.ow + ow] = s * scale;
        }
    }
}

/// Gradient of [`avg_pool2d`]: each output gradient is spread evenly over its window,
/// `dx[n, c, h, w] = Σ_{windows (oh, ow) ∋ (h, w)} dy[n, c, oh, ow] / (kh·kw)` (padding
/// positions are dropped). Shapes: `grad_y: [N, C, OH, OW]`, `input_shape = [N, C, H, W]`;
/// result `[N, C, H, W]`.
///
/// # Panics
/// As [`avg_pool2d`] for `input_shape`, and if `grad_y` is not the output shape.
pub fn avg_pool2d_backward<T: Element>(
    grad_y: &Tensor<T>,
    input_shape: &[usize],
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Tensor<T> {
    avg_pool2d_backward_with(
        grad_y,
        input_shape,
        kernel,
        stride,
        padding,
        &AvgPoolOptions::default(),
    )
}

/// Gradient of [`avg_pool2d_with`]: each output gradient spread over its window's input
/// positions, divided by the same divisor.
///
/// # Panics
/// As [`avg_pool2d_backward`].
pub fn avg_pool2d_backward_with<T: Element>(
    grad_y: &Tensor<T>,
    input_shape: &[usize],
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    options: &AvgPoolOptions,
) -> Tensor<T> {
    let (planes, win) = plan(
        "avg_pool2d_backward",
        input_shape,
        kernel,
        stride,
        padding,
        (1, 1),
        options.ceil_mode,
    );
    let expected = [input_shape[0], input_shape[1], win.oh, win.ow];
    assert!(
        grad_y.shape() == expected,
        "avg_pool2d_backward: grad_y {:?} does not match the output {expected:?} of input {input_shape:?}",
        grad_y.shape()
    );
    let (ip, op) = (win.h * win.w, win.oh * win.ow);
    let dy = grad_y.contiguous();
    let dys = dy.as_slice().expect("contiguous");
    let mut dx = crate::storage::zeroed::<T>(planes * ip);
    if !dys.is_empty() {
        let run = |dy: &[T], dx: &mut [T]| {
            for (dy, dx) in dy.chunks_exact(op).zip(dx.chunks_exact_mut(ip)) {
                avg_plane_backward(&win, options, dy, dx);
            }
        };
        let ppt = planes_per_task(planes, ip.max(op * win.kh * win.kw));
        if ppt >= planes {
            run(dys, &mut dx);
        } else {
            dx.par_chunks_mut(ppt * ip)
                .zip(dys.par_chunks(ppt * op))
                .for_each(|(dx, dy)| run(dy, dx));
        }
    }
    Tensor::from_vec(dx, input_shape)
}

fn avg_plane_backward<T: Element>(win: &Window, options: &AvgPoolOptions, dy: &[T], dx: &mut [T]) {
    let w = win.w;
    if win.is_2x2() && options.divisor_override.is_none() {
        let quarter = T::from_f64_lossy(0.25);
        for oh in 0..win.oh {
            let (top, bottom) = dx[2 * oh * w..(2 * oh + 2) * w].split_at_mut(w);
            for (ow, &g) in dy[oh * win.ow..(oh + 1) * win.ow].iter().enumerate() {
                let (c, v) = (2 * ow, g * quarter);
                top[c] = top[c] + v;
                top[c + 1] = top[c + 1] + v;
                bottom[c] = bottom[c] + v;
                bottom[c + 1] = bottom[c + 1] + v;
            }
        }
        return;
    }
    for oh in 0..win.oh {
        let (h0, nh) = win.rows(oh);
        for ow in 0..win.ow {
            let (w0, nw) = win.cols(ow);
            let divisor = avg_divisor(win, options, (oh, ow), (nh, nw));
            let v = dy[oh * win.ow + ow]
                * (T::one() / T::from_usize(divisor).expect("window size fits"));
            for i in 0..nh {
                for d in &mut dx[(h0 + i) * w + w0..(h0 + i) * w + w0 + nw] {
                    *d = *d + v;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Adaptive average pooling.

/// The input range `start..end` of adaptive bin `i` of `out` over `input` elements (PyTorch's
/// `start = ⌊i·in/out⌋`, `end = ⌈(i + 1)·in/out⌉`).
#[inline]
fn bin(i: usize, out: usize, input: usize) -> (usize, usize) {
    (i * input / out, ((i + 1) * input).div_ceil(out))
}

fn check_adaptive(op: &str, x: &[usize], output: (usize, usize)) {
    assert!(x.len() == 4, "{op}: input {x:?} must be 4-D [N, C, H, W]");
    assert!(
        output.0 > 0 && output.1 > 0,
        "{op}: output size {} must be positive",
        pair(output)
    );
    assert!(x[2] > 0 && x[3] > 0, "{op}: input {x:?} has an empty plane");
}

/// 2-D adaptive average pooling (PyTorch's `adaptive_avg_pool2d`): output bin `(i, j)` averages
/// input rows `⌊i·H/OH⌋ .. ⌈(i + 1)·H/OH⌉` and columns `⌊j·W/OW⌋ .. ⌈(j + 1)·W/OW⌉` (bins may
/// overlap when the sizes do not divide). Shapes: `x: [N, C, H, W]`, `output = (OH, OW)`;
/// result `[N, C, OH, OW]`.
///
/// # Panics
/// If `x` is not 4-D, its plane is empty, or an output size is zero.
pub fn adaptive_avg_pool2d<T: Element>(x: &Tensor<T>, output: (usize, usize)) -> Tensor<T> {
    check_adaptive("adaptive_avg_pool2d", x.shape(), output);
    let s = x.shape();
    let (planes, h, w) = (s[0] * s[1], s[2], s[3]);
    let (oh, ow) = output;
    let (ip, op) = (h * w, oh * ow);
    let x = x.contiguous();
    let xs = x.as_slice().expect("contiguous");
    let mut y = crate::storage::zeroed::<T>(planes * op);
    let plane = |x: &[T], y: &mut [T]| {
        for i in 0..oh {
            let (h0, h1) = bin(i, oh, h);
            for j in 0..ow {
                let (w0, w1) = bin(j, ow, w);
                let mut sum = T::zero();
                for r in h0..h1 {
                    for &v in &x[r * w + w0..r * w + w1] {
                        sum = sum + v;
                    }
                }
                y[i * ow + j] = sum / T::from_usize((h1 - h0) * (w1 - w0)).expect("bin size fits");
            }
        }
    };
    if !y.is_empty() {
        let run = |x: &[T], y: &mut [T]| {
            for (x, y) in x.chunks_exact(ip).zip(y.chunks_exact_mut(op)) {
                plane(x, y);
            }
        };
        let ppt = planes_per_task(planes, ip.max(op));
        if ppt >= planes {
            run(xs, &mut y);
        } else {
            y.par_chunks_mut(ppt * op)
                .zip(xs.par_chunks(ppt * ip))
                .for_each(|(y, x)| run(x, y));
        }
    }
    Tensor::from_vec(y, &[s[0], s[1], oh, ow])
}

/// Gradient of [`adaptive_avg_pool2d`]: each output gradient is spread evenly over its bin,
/// `dx[n, c, h, w] = Σ_{bins (i, j) ∋ (h, w)} dy[n, c, i, j] / |bin (i, j)|`. Shapes:
/// `grad_y: [N, C, OH, OW]`, `input_shape = [N, C, H, W]`; result `[N, C, H, W]`.
///
/// # Panics
/// If either shape is not 4-D, the input plane is empty, or `grad_y`'s `N, C` differ from
/// `input_shape`'s.
pub fn adaptive_avg_pool2d_backward<T: Element>(
    grad_y: &Tensor<T>,
    input_shape: &[usize],
) -> Tensor<T> {
    let gs = grad_y.shape();
    assert!(
        gs.len() == 4 && input_shape.len() == 4 && gs[..2] == input_shape[..2],
        "adaptive_avg_pool2d_backward: grad_y {gs:?} must be [N, C, OH, OW] for input {input_shape:?}"
    );
    check_adaptive("adaptive_avg_pool2d_backward", input_shape, (gs[2], gs[3]));
    let (planes, h, w) = (gs[0] * gs[1], input_shape[2], input_shape[3]);
    let (oh, ow) = (gs[2], gs[3]);
    let (ip, op) = (h * w, oh * ow);
    let dy = grad_y.contiguous();
    let dys = dy.as_slice().expect("contiguous");
    let mut dx = crate::storage::zeroed::<T>(planes * ip);
    let plane = |dy: &[T], dx: &mut [T]| {
        for i in 0..oh {
            let (h0, h1) = bin(i, oh, h);
            for j in 0..ow {
                let (w0, w1) = bin(j, ow, w);
                let v =
                    dy[i * ow + j] / T::from_usize((h1 - h0) * (w1 - w0)).expect("bin size fits");
                for r in h0..h1 {
                    for d in &mut dx[r * w + w0..r * w + w1] {
                        *d = *d + v;
                    }
                }
            }
        }
    };
    if !dx.is_empty() {
        let run = |dy: &[T], dx: &mut [T]| {
            for (dy, dx) in dy.chunks_exact(op).zip(dx.chunks_exact_mut(ip)) {
                plane(dy, dx);
            }
        };
        let ppt = planes_per_task(planes, ip.max(op));
        if ppt >= planes {
            run(dys, &mut dx);
        } else {
            dx.par_chunks_mut(ppt * ip)
                .zip(dys.par_chunks(ppt * op))
                .for_each(|(dx, dy)| run(dy, dx));
        }
    }
    Tensor::from_vec(dx, input_shape)
}
