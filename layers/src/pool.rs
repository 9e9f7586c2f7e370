//! Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`.

use strata_autograd::Var;
use strata_tensor::Element;
use strata_tensor::pool::AvgPoolOptions;

use crate::{Module, module_parts};

/// Max pooling over `[N, C, H, W]` windows of `kernel` (stride defaults to the kernel, as in
/// PyTorch): `y = max_window x`.
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    /// Window size.
    pub kernel: (usize, usize),
    /// Step between windows.
    pub stride: (usize, usize),
    /// Implicit −∞ padding.
    pub padding: (usize, usize),
    /// Spacing of window taps.
    pub dilation: (usize, usize),
    /// Round the output size up (PyTorch's `ceil_mode`).
    pub ceil_mode: bool,
}

impl MaxPool2d {
    /// Non-overlapping `kernel` windows (stride = kernel), no padding.
    pub fn new(kernel: (usize, usize)) -> Self {
        MaxPool2d {
            kernel,
            stride: kernel,
            padding: (0, 0),
            dilation: (1, 1),
            ceil_mode: false,
        }
    }

    /// Sets stride and padding.
    pub fn with_stride_padding(mut self, stride: (usize, usize), padding: (usize, usize)) -> Self {
        self.stride = stride;
        self.padding = padding;
        self
    }

    /// Sets the spacing of window taps.
    pub fn with_dilation(mut self, dilation: (usize, usize)) -> Self {
        self.dilation = dilation;
        self
    }

    /// Rounds the output size up instead of down (PyTorch's `ceil_mode`).
    pub fn with_ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
}

impl<T: Element> Module<T> for MaxPool2d {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(
            x.max_pool2d_with(
                self.kernel,
                self.stride,
                self.padding,
                self.dilation,
                self.ceil_mode,
            ),
            &*self,
        )
    }
    module_parts!(T);

    /// The settings, as `Debug` prints them.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Average pooling over `[N, C, H, W]` windows (stride defaults to the kernel; zero padding
/// counted in the divisor, as PyTorch's default): `y = mean_window x`. The DeepLearnToolbox's
/// "mean-pool subsampling" is `AvgPool2d::new((2, 2))`.
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d {
    /// Window size.
    pub kernel: (usize, usize),
    /// Step between windows.
    pub stride: (usize, usize),
    /// Implicit zero padding.
    pub padding: (usize, usize),
    /// `ceil_mode`, `count_include_pad` and `divisor_override`.
    pub options: AvgPoolOptions,
}

impl AvgPool2d {
    /// Non-overlapping `kernel` windows, no padding.
    pub fn new(kernel: (usize, usize)) -> Self {
        AvgPool2d {
            kernel,
            stride: kernel,
            padding: (0, 0),
            options: AvgPoolOptions::default(),
        }
    }

    /// Sets stride and padding.
    pub fn with_stride_padding(mut self, stride: (usize, usize), padding: (usize, usize)) -> Self {
        self.stride = stride;
        self.padding = padding;
        self
    }

    /// Rounds the output size up instead of down (PyTorch's `ceil_mode`).
    pub fn with_ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.options.ceil_mode = ceil_mode;
        self
    }

    /// Whether padding positions count in each window's divisor (PyTorch's
    /// `count_include_pad`, default true).
    pub fn with_count_include_pad(mut self, include: bool) -> Self {
        self.options.count_include_pad = include;
        self
    }

    /// Divides every window by `divisor` instead (PyTorch's `divisor_override`).
    ///
    /// # Panics
    /// If `divisor` is `Some(0)`.
    pub fn with_divisor_override(mut self, divisor: Option<usize>) -> Self {
        assert!(
            divisor != Some(0),
            "AvgPool2d: divisor_override must be positive"
        );
        self.options.divisor_override = divisor;
        self
    }
}

impl<T: Element> Module<T> for AvgPool2d {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(
            x.avg_pool2d_with(self.kernel, self.stride, self.padding, &self.options),
            &*self,
        )
    }
    module_parts!(T);

    /// The settings, as `Debug` prints them.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

/// Adaptive average pooling of `[N, C, H, W]` to a fixed `[N, C, OH, OW]` (PyTorch's bins).
#[derive(Clone, Copy, Debug)]
pub struct AdaptiveAvgPool2d {
    /// `(OH, OW)`.
    pub output: (usize, usize),
}

impl AdaptiveAvgPool2d {
    /// Pools to `output`.
    pub fn new(output: (usize, usize)) -> Self {
        AdaptiveAvgPool2d { output }
    }
}

impl<T: Element> Module<T> for AdaptiveAvgPool2d {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        crate::record_output(x.adaptive_avg_pool2d(self.output), &*self)
    }
    module_parts!(T);

    /// The settings, as `Debug` prints them.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}
