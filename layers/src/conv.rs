//! Convolution layers: `Conv1d`, `Conv2d`, `ConvTranspose2d`.

use strata_autograd::{Param, Var};
use strata_tensor::Element;
use strata_tensor::conv::{Conv1dParams, Conv2dParams};

use crate::{Init, Module, module_parts};

/// PyTorch's default init for a conv weight of `shape` and its bias: `U(±1/√fan_in)` for both,
/// `fan_in = (in/groups)·kh·kw`.
fn default_params<T: Element>(shape: &[usize], bias: usize) -> (Param<T>, Option<Param<T>>) {
    let fan_in: usize = shape[1..].iter().product();
    let bound = 1.0 / (fan_in as f64).sqrt();
    (
        Param::new(Init::PytorchDefault.fill(shape)),
        Some(Param::new(
            Init::Uniform {
                low: -bound,
                high: bound,
            }
            .fill(&[bias]),
        )),
    )
}

fn check_groups(layer: &str, in_channels: usize, out_channels: usize, groups: usize) {
    assert!(
        groups > 0 && in_channels.is_multiple_of(groups) && out_channels.is_multiple_of(groups),
        "{layer}: groups {groups} must divide both in_channels {in_channels} and out_channels {out_channels}"
    );
}

/// 2-D convolution layer: `x: [N, C_in, H, W]` → `y: [N, C_out, OH, OW]` with
/// `weight: [C_out, C_in/groups, kh, kw]` and `bias: [C_out]` (see `Var::conv2d` for the
/// formula). Default init as PyTorch: `U(±1/√fan_in)`.
pub struct Conv2d<T: Element = f32> {
    /// `[C_out, C_in/groups, kh, kw]`.
    pub weight: Param<T>,
    /// `[C_out]`.
    pub bias: Option<Param<T>>,
    /// Stride, padding, dilation, groups.
    pub params: Conv2dParams,
}

impl<T: Element> Conv2d<T> {
    /// A `kernel.0 × kernel.1` convolution from `in_channels` to `out_channels`, stride 1,
    /// no padding, with a bias; adjust with the `with_*` methods.
    ///
    /// # Panics
    /// If a size is 0.
    pub fn new(in_channels: usize, out_channels: usize, kernel: (usize, usize)) -> Self {
        assert!(
            in_channels > 0 && out_channels > 0 && kernel.0 > 0 && kernel.1 > 0,
            "Conv2d: sizes must be positive"
        );
        let (weight, bias) = default_params(
            &[out_channels, in_channels, kernel.0, kernel.1],
            out_channels,
        );
        Conv2d {
            weight,
            bias,
            params: Conv2dParams::default(),
        }
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: (usize, usize)) -> Self {
        self.params.stride = stride;
        self
    }

    /// Sets the zero padding.
    pub fn with_padding(mut self, padding: (usize, usize)) -> Self {
        self.params.padding = padding;
        self
    }

    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: (usize, usize)) -> Self {
        self.params.dilation = dilation;
        self
    }

    /// Splits channels into `groups` (the weight shrinks to `[C_out, C_in/groups, kh, kw]`,
    /// re-initialised).
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts.
    pub fn with_groups(mut self, groups: usize) -> Self {
        let s = self.weight.shape().to_vec();
        check_groups("Conv2d", s[1], s[0], groups);
        let (weight, bias) = default_params(&[s[0], s[1] / groups, s[2], s[3]], s[0]);
        self.weight = weight;
        if self.bias.is_some() {
            self.bias = bias;
        }
        self.params.groups = groups;
        self
    }

    /// Drops the bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// Re-initialises weight and bias.
    pub fn with_init(mut self, weight: Init, bias: Init) -> Self {
        let shape = self.weight.shape().to_vec();
        self.weight.set(weight.fill(&shape));
        if let Some(b) = &mut self.bias {
            let shape = b.shape().to_vec();
            b.set(bias.fill(&shape));
        }
        self
    }
}

impl<T: Element> Module<T> for Conv2d<T> {
    /// # Panics
    /// If the input is not `[N, C_in, H, W]` or is smaller than the (dilated) kernel.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let bias = self.bias.as_ref().map(Param::var);
        crate::record_output(
            x.conv2d(&self.weight.var(), bias.as_ref(), self.params),
            &*self,
        )
    }
    module_parts!(T; params: [weight]; optional: [bias]);

    /// `Conv2d(stride=(1, 1), padding=(2, 2), dilation=(1, 1), groups=1)`.
    fn describe(&self) -> String {
        let p = &self.params;
        format!(
            "Conv2d(stride={:?}, padding={:?}, dilation={:?}, groups={})",
            p.stride, p.padding, p.dilation, p.groups
        )
    }
}

/// 1-D convolution layer: `x: [N, C_in, L]` → `y: [N, C_out, OL]`, `weight: [C_out, C_in/groups, k]`.
pub struct Conv1d<T: Element = f32> {
    /// `[C_out, C_in/groups, k]`.
    pub weight: Param<T>,
    /// `[C_out]`.
    pub bias: Option<Param<T>>,
    /// Stride, padding, dilation, groups.
    pub params: Conv1dParams,
}

impl<T: Element> Conv1d<T> {
    /// A width-`kernel` convolution, stride 1, no padding, with a bias.
    ///
    /// # Panics
    /// If a size is 0.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        assert!(
            in_channels > 0 && out_channels > 0 && kernel > 0,
            "Conv1d: sizes must be positive"
        );
        let (weight, bias) = default_params(&[out_channels, in_channels, kernel], out_channels);
        Conv1d {
            weight,
            bias,
            params: Conv1dParams::default(),
        }
    }

    /// Sets stride and zero padding.
    pub fn with_stride_padding(mut self, stride: usize, padding: usize) -> Self {
        self.params.stride = stride;
        self.params.padding = padding;
        self
    }

    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: usize) -> Self {
        self.params.dilation = dilation;
        self
    }

    /// Splits channels into `groups` (weight re-initialised to `[C_out, C_in/groups, k]`).
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts.
    pub fn with_groups(mut self, groups: usize) -> Self {
        let s = self.weight.shape().to_vec();
        check_groups("Conv1d", s[1], s[0], groups);
        let (weight, bias) = default_params(&[s[0], s[1] / groups, s[2]], s[0]);
        self.weight = weight;
        if self.bias.is_some() {
            self.bias = bias;
        }
        self.params.groups = groups;
        self
    }

    /// Drops the bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }
}

impl<T: Element> Module<T> for Conv1d<T> {
    /// # Panics
    /// If the input is not `[N, C_in, L]` or is shorter than the kernel.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let bias = self.bias.as_ref().map(Param::var);
        crate::record_output(
            x.conv1d(&self.weight.var(), bias.as_ref(), self.params),
            &*self,
        )
    }
    module_parts!(T; params: [weight]; optional: [bias]);

    /// `Conv1d(stride=1, padding=0, dilation=1, groups=1)`.
    fn describe(&self) -> String {
        let p = &self.params;
        format!(
            "Conv1d(stride={}, padding={}, dilation={}, groups={})",
            p.stride, p.padding, p.dilation, p.groups
        )
    }
}

/// Transposed 2-D convolution layer (a learned upsampling): `x: [N, C_in, H, W]` →
/// `y: [N, C_out, OH, OW]`, `OH = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1`,
/// `weight: [C_in, C_out/groups, kh, kw]` (PyTorch's layout).
pub struct ConvTranspose2d<T: Element = f32> {
    /// `[C_in, C_out/groups, kh, kw]`.
    pub weight: Param<T>,
    /// `[C_out]`.
    pub bias: Option<Param<T>>,
    /// Stride, padding, dilation, groups (of the convolution this one transposes).
    pub params: Conv2dParams,
    /// Extra rows/columns added on one side of the output.
    pub output_padding: (usize, usize),
}

impl<T: Element> ConvTranspose2d<T> {
    /// A `kernel` transposed convolution from `in_channels` to `out_channels`, stride 1.
    /// Default init as PyTorch (`fan_in` computed from the weight's dimension 1).
    ///
    /// # Panics
    /// If a size is 0.
    pub fn new(in_channels: usize, out_channels: usize, kernel: (usize, usize)) -> Self {
        assert!(
            in_channels > 0 && out_channels > 0 && kernel.0 > 0 && kernel.1 > 0,
            "ConvTranspose2d: sizes must be positive"
        );
        let (weight, bias) = default_params(
            &[in_channels, out_channels, kernel.0, kernel.1],
            out_channels,
        );
        ConvTranspose2d {
            weight,
            bias,
            params: Conv2dParams::default(),
            output_padding: (0, 0),
        }
    }

    /// Sets stride, padding and output padding.
    pub fn with_stride_padding(
        mut self,
        stride: (usize, usize),
        padding: (usize, usize),
        output_padding: (usize, usize),
    ) -> Self {
        self.params.stride = stride;
        self.params.padding = padding;
        self.output_padding = output_padding;
        self
    }

    /// Sets the dilation (PyTorch's `dilation`): kernel taps `d` output pixels apart.
    pub fn with_dilation(mut self, dilation: (usize, usize)) -> Self {
        self.params.dilation = dilation;
        self
    }

    /// Splits channels into `groups` (PyTorch's `groups`): the weight becomes
    /// `[C_in, C_out/groups, kh, kw]`, re-initialised (with the bias, if any).
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts.
    pub fn with_groups(mut self, groups: usize) -> Self {
        let s = self.weight.shape().to_vec();
        let out_channels = s[1] * self.params.groups;
        check_groups("ConvTranspose2d", s[0], out_channels, groups);
        let (weight, bias) =
            default_params(&[s[0], out_channels / groups, s[2], s[3]], out_channels);
        self.weight = weight;
        if self.bias.is_some() {
            self.bias = bias;
        }
        self.params.groups = groups;
        self
    }

    /// Drops the bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }
}

impl<T: Element> Module<T> for ConvTranspose2d<T> {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let bias = self.bias.as_ref().map(Param::var);
        crate::record_output(
            x.conv_transpose2d(
                &self.weight.var(),
                bias.as_ref(),
                self.params,
                self.output_padding,
            ),
            &*self,
        )
    }
    module_parts!(T; params: [weight]; optional: [bias]);

    /// `ConvTranspose2d(stride=(2, 2), padding=(1, 1), output_padding=(1, 1), dilation=(1, 1), groups=1)`.
    fn describe(&self) -> String {
        let p = &self.params;
        format!(
            "ConvTranspose2d(stride={:?}, padding={:?}, output_padding={:?}, dilation={:?}, groups={})",
            p.stride, p.padding, self.output_padding, p.dilation, p.groups
        )
    }
}
