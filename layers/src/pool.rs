//! Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`.

use strata_autograd::Var;
use strata_tensor::Element;

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
}

impl MaxPool2d {
    /// Non-overlapping `kernel` windows (stride = kernel), no padding.
    pub fn new(kernel: (usize, usize)) -> Self {
        MaxPool2d {
            kernel,
            stride: kernel,
            padding: (0, 0),
            dilation: (1, 1),
        }
    }

    /// Sets stride and padding.
    pub fn with_stride_padding(mut self, stride: (usize, usize), padding: (usize, usize)) -> Self {
        self.stride = stride;
        self.padding = padding;
        self
    }
}

impl<T: Element> Module<T> for MaxPool2d {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        x.max_pool2d(self.kernel, self.stride, self.padding, self.dilation)
    }
    module_parts!(T);
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
}

impl AvgPool2d {
    /// Non-overlapping `kernel` windows, no padding.
    pub fn new(kernel: (usize, usize)) -> Self {
        AvgPool2d {
            kernel,
            stride: kernel,
            padding: (0, 0),
        }
    }

    /// Sets stride and padding.
    pub fn with_stride_padding(mut self, stride: (usize, usize), padding: (usize, usize)) -> Self {
        self.stride = stride;
        self.padding = padding;
        self
    }
}

impl<T: Element> Module<T> for AvgPool2d {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        x.avg_pool2d(self.kernel, self.stride, self.padding)
    }
    module_parts!(T);
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
        x.adaptive_avg_pool2d(self.output)
    }
    module_parts!(T);
}
