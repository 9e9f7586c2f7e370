//! Convolutions: im2col/col2im lowering and the conv2d / conv_transpose2d / conv1d kernels,
//! forward and backward.
//!
//! Shapes follow PyTorch: images are NCHW (`[N, C, L]` for 1-D), a convolution weight is
//! `[O, C/groups, kh, kw]`, a transposed-convolution weight `[C_in, C_out/groups, kh, kw]`.
//!
//! Three lowerings compute the kernels, chosen per shape ([`conv2d_plan`], overridable with
//! [`with_conv_algorithm`]):
//! * **Winograd F(4×4, 2×2)** (4×4 kernels of stride 2 and padding 1 on even sizes, one group,
//!   at least 16 channels in and out — the DCGAN layer and, through its input gradient, the
//!   transposed convolution of a DCGAN generator): the input splits into four phase planes,
//!   each a stride-1 2×2 correlation, and every 4×4 output tile is 25 element-wise products
//!   of transformed 5×5 patches instead of 64 multiply-adds per channel pair; summed over
//!   channels and phases, the products are 25 GEMMs. About 1.4× the direct kernels' speed on
//!   the DCGAN discriminator's 64 → 128 layer, at ten times their rounding error (a few units of
//!   10⁻⁶ relative in `f32`).
//! * **direct** (`f32`/`f64` on AVX-512 or AVX2 + FMA — every LeNet-5, DeepLearnToolbox and
//!   convolutional-autoencoder layer): SIMD micro-kernels read the zero-padded image in place
//!   on a "wide grid" of output positions as wide as the padded input (strides fold into
//!   phase planes), so a kernel tap is a contiguous run of the input and no column matrix is
//!   ever written; the input gradient adds its products straight onto the padded gradient
//!   (col2im fused into registers), the weight gradient sums dot products over batches of
//!   images. 2–3× faster than im2col + GEMM on small images (45–65 GFLOP/s per core against
//!   15–27 on the LeNet-5 layers, AVX-512).
//! * **im2col + GEMM** (1×1 kernels, large planes, other CPUs): one image and a band of output
//!   rows at a time, lowered with [`im2col`] into a cache-sized column block and multiplied by
//!   the weight straight into the NCHW output, one GEMM per group.
//!
//! All split their work over the thread pool: images (and groups), or parts of one image when
//! the batch is smaller than the pool.
//!
//! ```
//! use strata_tensor::Tensor;
//! use strata_tensor::conv::{Conv2dParams, conv2d};
//!
//! let x = Tensor::<f32>::ones(&[1, 1, 4, 4]);
//! let w = Tensor::<f32>::ones(&[2, 1, 3, 3]);
//! let y = conv2d(&x, &w, None, &Conv2dParams::default().with_padding((1, 1)));
//! assert_eq!(y.shape(), &[1, 2, 4, 4]);
//! assert_eq!(y.get(&[0, 0, 0, 0]), 4.0); // corner: 2×2 of the 3×3 window is inside
//! assert_eq!(y.get(&[0, 1, 1, 1]), 9.0);
//! ```

mod conv1d;
mod direct;
mod im2col;
mod transpose;
mod via_gemm;
mod winograd;

pub use conv1d::{
    Conv1dParams, conv_transpose1d, conv_transpose1d_backward_input,
    conv_transpose1d_backward_weight, conv1d, conv1d_backward_input, conv1d_backward_weight,
};
pub use transpose::{
    conv_transpose2d, conv_transpose2d_backward_input, conv_transpose2d_backward_weight,
};

use std::cell::Cell;

use im2col::Geometry;

use crate::{Element, Tensor};

/// How convolutions are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConvAlgorithm {
    /// The direct kernels where they are faster (every kernel larger than 1×1 on planes up to
    /// about the L2 cache), im2col + GEMM otherwise. The default.
    #[default]
    Auto,
    /// im2col (or the input itself for 1×1 kernels) + GEMM, always.
    Gemm,
    /// The direct kernels wherever they apply (`f32`/`f64` on AVX-512 or AVX2 + FMA), im2col +
    /// GEMM elsewhere.
    Direct,
    /// Winograd F(4×4, 2×2) wherever it applies (4×4 kernels of stride 2 and padding 1, one
    /// group, even input sizes), the `Auto` choice elsewhere.
    Winograd,
}

/// A raw pointer that may cross threads; every use writes a region no other task touches.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr<T>(pub *mut T);
// SAFETY: tasks write disjoint regions through it (argued at each use).
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    #[inline]
    pub(crate) fn get(self) -> *mut T {
        self.0
    }
}

thread_local! {
    static ALGORITHM: Cell<ConvAlgorithm> = const { Cell::new(ConvAlgorithm::Auto) };
}

/// Runs `f` with convolutions on this thread computed by `algorithm` (for benchmarks and tests
/// comparing the lowerings; results agree to rounding). The choice is made by the thread that
/// calls the convolution, so set it inside [`crate::threads::with_threads`], not around it.
pub fn with_conv_algorithm<R>(algorithm: ConvAlgorithm, f: impl FnOnce() -> R) -> R {
    let old = ALGORITHM.with(|a| a.replace(algorithm));
    struct Restore(ConvAlgorithm);
    impl Drop for Restore {
        fn drop(&mut self) {
            ALGORITHM.with(|a| a.set(self.0));
        }
    }
    let _restore = Restore(old);
    f()
}

/// The sizes of one (possibly grouped) convolution: `n` images of `c` channels to `o`
/// channels in `groups` groups, spatial geometry `geom`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Conv {
    pub n: usize,
    pub c: usize,
    pub o: usize,
    pub groups: usize,
    pub geom: Geometry,
}

impl Conv {
    /// Input channels per group.
    pub fn cg(&self) -> usize {
        self.c / self.groups
    }
    /// Output channels per group.
    pub fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Columns of one group's weight matrix, `C/groups·kh·kw`.
    pub fn kg(&self) -> usize {
        self.cg() * self.geom.taps()
    }
    /// Multiply-adds of the convolution.
    pub fn macs(&self) -> usize {
        self.n * self.o * self.geom.out_plane() * self.kg()
    }

    /// This convolution on the direct kernels' wide grid, when the algorithm choice and the
    /// shape allow it.
    fn direct<T: Element>(&self) -> Option<(&'static direct::Table<T>, direct::Wide)> {
        let g = self.geom;
        let wd = direct::Wide {
            n: self.n,
            groups: self.groups,
            cs: self.cg(),
            co: self.og(),
            hs: g.h,
            ws: g.w,
            ph: g.ph,
            pw: g.pw,
            kh: g.kh,
            kw: g.kw,
            sh: g.sh,
            sw: g.sw,
            dh: g.dh,
            dw: g.dw,
        };
        self.direct_if(wd, (g.oh, g.ow))
    }

    fn direct_if<T: Element>(
        &self,
        wd: direct::Wide,
        out: (usize, usize),
    ) -> Option<(&'static direct::Table<T>, direct::Wide)> {
        let algorithm = ALGORITHM.with(|a| a.get());
        let usable = algorithm != ConvAlgorithm::Gemm
            && (wd.oh(), wd.ow()) == out
            && (algorithm == ConvAlgorithm::Direct || direct::worthwhile(&wd));
        if !usable {
            return None;
        }
        direct::table::<T>().map(|tb| (tb, wd))
    }
}

impl Conv {
    /// Whether the Winograd kernels compute this convolution under this thread's choice:
    /// under `Auto` where they apply and the layer has enough channels for them to pay.
    fn winograd(&self) -> bool {
        match ALGORITHM.with(|a| a.get()) {
            ConvAlgorithm::Auto => winograd::worthwhile(self),
            ConvAlgorithm::Winograd => winograd::applies(self),
            ConvAlgorithm::Gemm | ConvAlgorithm::Direct => false,
        }
    }
}

/// `y = conv(x, w) + bias` on NCHW slices, by the best lowering for the shape.
fn forward_kernel<T: Element>(cv: &Conv, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    if cv.winograd() {
        return winograd::forward(cv, x, w, bias);
    }
    if let Some((tb, wd)) = cv.direct::<T>() {
        let (og, kg) = (cv.og(), cv.kg());
        return direct::forward(tb, &wd, x, |g, o, k| w[(g * og + o) * kg + k], bias);
    }
    via_gemm::forward(cv, x, w, bias)
}

/// `dx = conv_backward_input(dy, w)` on NCHW slices.
fn backward_input_kernel<T: Element>(cv: &Conv, dy: &[T], w: &[T]) -> Vec<T> {
    if cv.winograd() {
        return winograd::backward_input(cv, dy, w);
    }
    if let Some((tb, wd)) = cv.direct::<T>() {
        return direct::backward_input(tb, &wd, dy, w);
    }
    via_gemm::backward_input(cv, dy, w)
}

/// `dw = conv_backward_weight(dy, x)` on NCHW slices.
fn backward_weight_kernel<T: Element>(cv: &Conv, dy: &[T], x: &[T]) -> Vec<T> {
    if cv.winograd() {
        return winograd::backward_weight(cv, dy, x);
    }
    if let Some((tb, wd)) = cv.direct_weight::<T>() {
        return direct::backward_weight(tb, &wd, x, dy);
    }
    via_gemm::backward_weight(cv, dy, x)
}

impl Conv {
    /// As [`Conv::direct`] for the weight gradient, which also needs enough grid positions per
    /// image batch, and gives way to the batched GEMM on small planes with many output
    /// channels (`via_gemm::weight_batches_well`).
    fn direct_weight<T: Element>(&self) -> Option<(&'static direct::Table<T>, direct::Wide)> {
        let (tb, wd) = self.direct::<T>()?;
        let forced = ALGORITHM.with(|a| a.get()) == ConvAlgorithm::Direct;
        let wins = direct::worthwhile_weight(tb, &wd) && !via_gemm::weight_batches_well(self);
        (forced || wins).then_some((tb, wd))
    }
}

/// The lowering each kernel of a convolution uses (resolved: `Gemm`, `Direct` or `Winograd`,
/// never `Auto`); see [`conv2d_plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvPlan {
    /// [`conv2d`] (and [`conv_transpose2d_backward_input`]).
    pub forward: ConvAlgorithm,
    /// [`conv2d_backward_input`] (and [`conv_transpose2d`]).
    pub backward_input: ConvAlgorithm,
    /// [`conv2d_backward_weight`].
    pub backward_weight: ConvAlgorithm,
}

/// Which lowering [`conv2d`] and its gradients use, on this thread, for element type `T`, an
/// input of `input_shape` and a weight of `weight_shape`: under [`ConvAlgorithm::Auto`], 4×4
/// kernels of stride 2 and padding 1 on even sizes with at least 16 channels in and out take
/// Winograd; the direct kernels need a CPU with AVX-512 or AVX2 + FMA, and under
/// [`ConvAlgorithm::Auto`] they are also skipped for 1×1 kernels,
/// planes larger than the L2 cache, grids mostly of dropped columns, and (weight gradient) small
/// images with so many channels that a batch of them does not fit the cache (see
/// [`with_conv_algorithm`]).
///
/// # Panics
/// As [`conv2d`].
pub fn conv2d_plan<T: Element>(
    input_shape: &[usize],
    weight_shape: &[usize],
    params: &Conv2dParams,
) -> ConvPlan {
    let s = Shown {
        op: "conv2d_plan",
        x: input_shape,
        w: weight_shape,
        one_d: false,
    };
    let cv = plan(s, input_shape, weight_shape, params);
    if cv.winograd() {
        return ConvPlan {
            forward: ConvAlgorithm::Winograd,
            backward_input: ConvAlgorithm::Winograd,
            backward_weight: ConvAlgorithm::Winograd,
        };
    }
    let pick = |direct: bool| {
        if direct {
            ConvAlgorithm::Direct
        } else {
            ConvAlgorithm::Gemm
        }
    };
    let d = cv.direct::<T>().is_some();
    ConvPlan {
        forward: pick(d),
        backward_input: pick(d),
        backward_weight: pick(cv.direct_weight::<T>().is_some()),
    }
}

/// Hyper-parameters of a 2-D convolution, `(height, width)` pairs as in PyTorch's `Conv2d`.
///
/// The default is stride `(1, 1)`, padding `(0, 0)`, dilation `(1, 1)`, one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dParams {
    /// Step between successive windows.
    pub stride: (usize, usize),
    /// Zeros added on both sides of each spatial axis.
    pub padding: (usize, usize),
    /// Spacing between kernel taps (`1` = contiguous kernel).
    pub dilation: (usize, usize),
    /// Channel groups: input and output channels are split into `groups` blocks, block `g` of
    /// the output seeing only block `g` of the input (`groups = C` is a depthwise convolution).
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }
}

impl Conv2dParams {
    /// These parameters with stride `stride`.
    pub fn with_stride(mut self, stride: (usize, usize)) -> Self {
        self.stride = stride;
        self
    }

    /// These parameters with padding `padding`.
    pub fn with_padding(mut self, padding: (usize, usize)) -> Self {
        self.padding = padding;
        self
    }

    /// These parameters with dilation `dilation`.
    pub fn with_dilation(mut self, dilation: (usize, usize)) -> Self {
        self.dilation = dilation;
        self
    }

    /// These parameters with `groups` channel groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// The output plane `(OH, OW)` of a convolution of an `input = (H, W)` plane with a
    /// `kernel = (kh, kw)`: `out = (in + 2·pad − dil·(k − 1) − 1) / stride + 1` per axis, or
    /// `None` when the dilated kernel is larger than the padded input (or a stride is zero).
    pub fn output_size(
        &self,
        input: (usize, usize),
        kernel: (usize, usize),
    ) -> Option<(usize, usize)> {
        let oh = conv_output_len(
            input.0,
            kernel.0,
            self.stride.0,
            self.padding.0,
            self.dilation.0,
        )?;
        let ow = conv_output_len(
            input.1,
            kernel.1,
            self.stride.1,
            self.padding.1,
            self.dilation.1,
        )?;
        Some((oh, ow))
    }
}

/// Output length of a convolution along one axis:
/// `out = (input + 2·padding − dilation·(kernel − 1) − 1) / stride + 1` (floor division), or
/// `None` when the dilated kernel `dilation·(kernel − 1) + 1` is longer than the padded input
/// `input + 2·padding`, or `kernel`, `stride` or `dilation` is zero.
pub fn conv_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return None;
    }
    let span = dilation * (kernel - 1) + 1;
    let padded = input + 2 * padding;
    (span <= padded).then(|| (padded - span) / stride + 1)
}

/// Output length of a transposed convolution along one axis (PyTorch's formula):
/// `out = (input − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1`, or
/// `None` when that is not positive.
pub fn conv_transpose_output_len(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    output_padding: usize,
) -> Option<usize> {
    if input == 0 || kernel == 0 {
        return None;
    }
    let full = (input - 1) * stride + dilation * (kernel - 1) + output_padding + 1;
    full.checked_sub(2 * padding).filter(|&o| o > 0)
}

// ---------------------------------------------------------------------------------------------
// Shape checking.

/// How shapes are shown in messages: the 1-D ops print their own 3-D shapes.
#[derive(Clone, Copy)]
struct Shown<'a> {
    op: &'a str,
    x: &'a [usize],
    w: &'a [usize],
    one_d: bool,
}

impl Shown<'_> {
    fn pair(&self, (a, b): (usize, usize)) -> String {
        if self.one_d {
            format!("{b}")
        } else {
            format!("({a}, {b})")
        }
    }
    fn plane(&self, (a, b): (usize, usize)) -> String {
        if self.one_d {
            format!("{b}")
        } else {
            format!("{a}×{b}")
        }
    }
}

fn check_params(s: Shown, params: &Conv2dParams) {
    let Conv2dParams {
        stride,
        dilation,
        groups,
        ..
    } = *params;
    assert!(groups > 0, "{}: groups must be positive, got 0", s.op);
    assert!(
        stride.0 > 0 && stride.1 > 0,
        "{}: stride must be positive, got {}",
        s.op,
        s.pair(stride)
    );
    assert!(
        dilation.0 > 0 && dilation.1 > 0,
        "{}: dilation must be positive, got {}",
        s.op,
        s.pair(dilation)
    );
}

/// Checks a convolution of input `x` (4-D) with weight `w` (4-D) and returns its sizes.
fn plan(s: Shown, x: &[usize], w: &[usize], params: &Conv2dParams) -> Conv {
    let (xr, wr) = if s.one_d { (3, 3) } else { (4, 4) };
    assert!(
        s.x.len() == xr,
        "{}: input {:?} must be {xr}-D {}",
        s.op,
        s.x,
        if s.one_d { "[N, C, L]" } else { "[N, C, H, W]" }
    );
    assert!(
        s.w.len() == wr,
        "{}: weight {:?} must be {wr}-D {}",
        s.op,
        s.w,
        if s.one_d {
            "[O, C/groups, k]"
        } else {
            "[O, C/groups, kh, kw]"
        }
    );
    check_params(s, params);
    let groups = params.groups;
    let (n, c, h, wd) = (x[0], x[1], x[2], x[3]);
    let (o, cg, kh, kw) = (w[0], w[1], w[2], w[3]);
    assert!(
        kh > 0 && kw > 0,
        "{}: weight {:?} has an empty kernel",
        s.op,
        s.w
    );
    assert!(
        o % groups == 0,
        "{}: groups {groups} does not divide the {o} output channels of weight {:?}",
        s.op,
        s.w
    );
    assert!(
        c % groups == 0,
        "{}: groups {groups} does not divide the {c} channels of input {:?}",
        s.op,
        s.x
    );
    assert!(
        c == cg * groups,
        "{}: input {:?} has {c} channels but weight {:?} expects {} (groups {groups})",
        s.op,
        s.x,
        s.w,
        cg * groups
    );
    let Some((oh, ow)) = params.output_size((h, wd), (kh, kw)) else {
        let (dh, dw) = params.dilation;
        let (ph, pw) = params.padding;
        panic!(
            "{}: kernel {} with dilation {} spans {}, larger than the padded input {} (input {:?}, padding {})",
            s.op,
            s.plane((kh, kw)),
            s.pair(params.dilation),
            s.plane((dh * (kh - 1) + 1, dw * (kw - 1) + 1)),
            s.plane((h + 2 * ph, wd + 2 * pw)),
            s.x,
            s.pair(params.padding)
        )
    };
    Conv {
        n,
        c,
        o,
        groups,
        geom: geometry((h, wd), (kh, kw), params, (oh, ow)),
    }
}

fn geometry(
    input: (usize, usize),
    kernel: (usize, usize),
    p: &Conv2dParams,
    output: (usize, usize),
) -> Geometry {
    Geometry {
        h: input.0,
        w: input.1,
        kh: kernel.0,
        kw: kernel.1,
        sh: p.stride.0,
        sw: p.stride.1,
        ph: p.padding.0,
        pw: p.padding.1,
        dh: p.dilation.0,
        dw: p.dilation.1,
        oh: output.0,
        ow: output.1,
    }
}

fn check_bias<T: Element>(s: Shown, bias: Option<&Tensor<T>>, channels: usize) {
    if let Some(b) = bias {
        assert!(
            b.shape() == [channels],
            "{}: bias {:?} must be [{channels}] for weight {:?}",
            s.op,
            b.shape(),
            s.w
        );
    }
}

fn check_grad_output(s: Shown, dy: &[usize], shown_dy: &[usize], expected: &[usize]) {
    assert!(
        dy == expected,
        "{}: grad_y {:?} does not match the output {:?} of input {:?} with weight {:?}",
        s.op,
        shown_dy,
        shown(s, expected),
        s.x,
        s.w
    );
}

/// A 4-D shape as the op shows it (dropping the unit height of the 1-D ops).
fn shown(s: Shown, shape4: &[usize]) -> Vec<usize> {
    if s.one_d && shape4.len() == 4 {
        vec![shape4[0], shape4[1], shape4[3]]
    } else {
        shape4.to_vec()
    }
}

fn slice_of<T: Element>(t: &Tensor<T>) -> Tensor<T> {
    t.contiguous()
}

fn data<T: Element>(t: &Tensor<T>) -> &[T] {
    t.as_slice().expect("contiguous")
}

// ---------------------------------------------------------------------------------------------
// conv2d.

/// 2-D convolution (cross-correlation, as PyTorch's `conv2d`):
///
/// ```text
/// y[n, o, oh, ow] = b[o] + Σ_{c, i, j} w[o, c, i, j] · x[n, g·C/groups + c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
/// ```
///
/// with `g = o / (O/groups)` the group of output channel `o` and `x` zero outside the image.
/// Shapes: `x: [N, C, H, W]`, `w: [O, C/groups, kh, kw]`, `bias: [O]`, result
/// `[N, O, OH, OW]` with `OH = (H + 2·ph − dh·(kh − 1) − 1)/sh + 1` (likewise `OW`).
///
/// Computed by the direct kernels or by im2col + GEMM, whichever [`conv2d_plan`] picks for the
/// shape.
///
/// # Panics
/// If `x` or `w` is not 4-D, the channels do not match
/// (`conv2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] expects 2 (groups 1)`),
/// `groups` is zero or does not divide the input or output channels, a stride or dilation is
/// zero, the dilated kernel is larger than the padded input, or `bias` is not `[O]`.
pub fn conv2d<T: Element>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    params: &Conv2dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv2d",
        x: x.shape(),
        w: w.shape(),
        one_d: false,
    };
    let cv = plan(s, x.shape(), w.shape(), params);
    check_bias(s, bias, cv.o);
    let y = run_forward(&cv, x, w, bias);
    Tensor::from_vec(y, &[cv.n, cv.o, cv.geom.oh, cv.geom.ow])
}

fn run_forward<T: Element>(
    cv: &Conv,
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: Option<&Tensor<T>>,
) -> Vec<T> {
    let (x, w) = (slice_of(x), slice_of(w));
    let b = bias.map(slice_of);
    forward_kernel(cv, data(&x), data(&w), b.as_ref().map(data))
}

/// Gradient of [`conv2d`] with respect to its input: the adjoint of the convolution,
///
/// ```text
/// dx[n, c, h, w] = Σ_{o ∈ group of c, i, j : h = oh·sh − ph + i·dh, w = ow·sw − pw + j·dw} w[o, c', i, j] · dy[n, o, oh, ow]
/// ```
///
/// (`c' = c mod C/groups`), computed as `cols = Wᵀ · dy` per image and group, then col2im.
/// Shapes: `grad_y: [N, O, OH, OW]`, `w: [O, C/groups, kh, kw]`, `input_shape = [N, C, H, W]`;
/// result `[N, C, H, W]`. Positions of `x` no window reads (e.g. the last rows with stride > 1)
/// get zero.
///
/// # Panics
/// As [`conv2d`] for `input_shape` and `w`, and if `grad_y` is not the output shape of that
/// convolution.
pub fn conv2d_backward_input<T: Element>(
    grad_y: &Tensor<T>,
    w: &Tensor<T>,
    input_shape: &[usize],
    params: &Conv2dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv2d_backward_input",
        x: input_shape,
        w: w.shape(),
        one_d: false,
    };
    let cv = plan(s, input_shape, w.shape(), params);
    let g = cv.geom;
    check_grad_output(s, grad_y.shape(), grad_y.shape(), &[cv.n, cv.o, g.oh, g.ow]);
    let (dy, w) = (slice_of(grad_y), slice_of(w));
    Tensor::from_vec(backward_input_kernel(&cv, data(&dy), data(&w)), input_shape)
}

/// Gradient of [`conv2d`] with respect to its weight:
///
/// ```text
/// dw[o, c, i, j] = Σ_{n, oh, ow} dy[n, o, oh, ow] · x[n, g·C/groups + c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
/// ```
///
/// computed as `dy[n] · cols(x[n])ᵀ` per image and group, summed over the batch. Shapes:
/// `grad_y: [N, O, OH, OW]`, `x: [N, C, H, W]`, `weight_shape = [O, C/groups, kh, kw]`;
/// result `weight_shape`.
///
/// # Panics
/// As [`conv2d`] for `x` and `weight_shape`, and if `grad_y` is not the output shape.
pub fn conv2d_backward_weight<T: Element>(
    grad_y: &Tensor<T>,
    x: &Tensor<T>,
    weight_shape: &[usize],
    params: &Conv2dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv2d_backward_weight",
        x: x.shape(),
        w: weight_shape,
        one_d: false,
    };
    let cv = plan(s, x.shape(), weight_shape, params);
    let g = cv.geom;
    check_grad_output(s, grad_y.shape(), grad_y.shape(), &[cv.n, cv.o, g.oh, g.ow]);
    let (dy, x) = (slice_of(grad_y), slice_of(x));
    Tensor::from_vec(
        backward_weight_kernel(&cv, data(&dy), data(&x)),
        weight_shape,
    )
}

/// Gradient of a convolution's bias: `db[o] = Σ_{n, spatial} dy[n, o, …]`.
///
/// Works for any `grad_y: [N, O, …]` (conv2d `[N, O, OH, OW]`, conv1d `[N, O, L]`, and the
/// transposed convolutions); result `[O]`.
///
/// # Panics
/// If `grad_y` has fewer than 2 dimensions.
pub fn conv2d_backward_bias<T: Element>(grad_y: &Tensor<T>) -> Tensor<T> {
    let shape = grad_y.shape();
    assert!(
        shape.len() >= 2,
        "conv2d_backward_bias: grad_y {shape:?} must be [N, O, …] with at least 2 dimensions"
    );
    let plane = shape[2..].iter().product();
    let dy = slice_of(grad_y);
    Tensor::from_vec(
        via_gemm::backward_bias(data(&dy), shape[0], shape[1], plane),
        &[shape[1]],
    )
}

// ---------------------------------------------------------------------------------------------
// im2col / col2im on tensors.

/// Lowers a batch of images to column matrices:
///
/// ```text
/// cols[n, (c·kh + i)·kw + j, oh·OW + ow] = x[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
/// ```
///
/// (zero where that position is in the padding). Shapes: `x: [N, C, H, W]`, `kernel = (kh, kw)`;
/// result `[N, C·kh·kw, OH·OW]` with `OH, OW` as in [`conv2d`]. Row `(c·kh + i)·kw + j` matches
/// column `(c, i, j)` of a weight flattened to `[O, C·kh·kw]`, so `conv2d(x, w)[n] =
/// w.reshape([O, C·kh·kw]) · cols[n]`; for `groups > 1`, group `g` is the row block
/// `g·(C/groups)·kh·kw .. (g + 1)·(C/groups)·kh·kw` (`params.groups` is otherwise ignored here).
///
/// # Panics
/// If `x` is not 4-D, the kernel is empty or larger than the padded input, or a stride or
/// dilation is zero.
pub fn im2col<T: Element>(
    x: &Tensor<T>,
    kernel: (usize, usize),
    params: &Conv2dParams,
) -> Tensor<T> {
    let (cv, rows) = plan_lowering("im2col", x.shape(), kernel, params);
    let g = cv.geom;
    let x = slice_of(x);
    let (xs, chw, p) = (data(&x), cv.c * g.in_plane(), g.out_plane());
    let mut cols = crate::storage::zeroed::<T>(cv.n * rows * p);
    if p > 0 && rows > 0 {
        for (img, block) in cols.chunks_exact_mut(rows * p).enumerate() {
            g.im2col_rows(&xs[img * chw..(img + 1) * chw], cv.c, 0, g.oh, block);
        }
    }
    Tensor::from_vec(cols, &[cv.n, rows, p])
}

/// The adjoint of [`im2col`]: scatters every column entry back onto the input position it was
/// read from, adding where windows overlap,
///
/// ```text
/// x[n, c, h, w] = Σ_{i, j, oh, ow : h = oh·sh − ph + i·dh, w = ow·sw − pw + j·dw} cols[n, (c·kh + i)·kw + j, oh·OW + ow]
/// ```
///
/// (entries that fall in the padding are dropped). Shapes: `cols: [N, C·kh·kw, OH·OW]`,
/// `input_shape = [N, C, H, W]`; result `[N, C, H, W]`.
///
/// # Panics
/// As [`im2col`] for `input_shape`, and if `cols` is not `[N, C·kh·kw, OH·OW]`.
pub fn col2im<T: Element>(
    cols: &Tensor<T>,
    input_shape: &[usize],
    kernel: (usize, usize),
    params: &Conv2dParams,
) -> Tensor<T> {
    let (cv, rows) = plan_lowering("col2im", input_shape, kernel, params);
    let g = cv.geom;
    let p = g.out_plane();
    assert!(
        cols.shape() == [cv.n, rows, p],
        "col2im: cols {:?} must be [{}, {rows}, {p}] for input {input_shape:?} and kernel {kernel:?}",
        cols.shape(),
        cv.n
    );
    let cols = slice_of(cols);
    let chw = cv.c * g.in_plane();
    let mut x = crate::storage::zeroed::<T>(cv.n * chw);
    if p > 0 && rows > 0 {
        for (img, block) in data(&cols).chunks_exact(rows * p).enumerate() {
            g.col2im_rows_add(block, cv.c, 0, g.oh, &mut x[img * chw..(img + 1) * chw]);
        }
    }
    Tensor::from_vec(x, input_shape)
}

fn plan_lowering(
    op: &str,
    x: &[usize],
    kernel: (usize, usize),
    params: &Conv2dParams,
) -> (Conv, usize) {
    assert!(x.len() == 4, "{op}: input {x:?} must be 4-D [N, C, H, W]");
    assert!(
        kernel.0 > 0 && kernel.1 > 0,
        "{op}: kernel {kernel:?} is empty"
    );
    let w = [1, x[1], kernel.0, kernel.1];
    let s = Shown {
        op,
        x,
        w: &w,
        one_d: false,
    };
    let cv = plan(s, x, &w, &params.with_groups(1));
    (cv, x[1] * kernel.0 * kernel.1)
}
