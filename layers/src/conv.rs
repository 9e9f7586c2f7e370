//! Convolution layers: `Conv1d`, `Conv2d`, `ConvTranspose2d`.

use strata_autograd::{Param, Var};
use strata_tensor::Element;
use strata_tensor::conv::{Conv1dParams, Conv2dParams};

use crate::{Init, Module, Padding, module_parts, same_padding};

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

/// Panics unless `stride` is all ones: [`Padding::Same`] is defined for stride 1 only (as in
/// PyTorch).
fn check_same_stride<S: std::fmt::Debug + PartialEq>(layer: &str, stride: S, ones: S) {
    assert!(
        stride == ones,
        "{layer}: padding Same needs stride {ones:?}, got stride {stride:?} (PyTorch's \
         padding='same' is not defined for strided convolutions; give explicit padding)"
    );
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
    /// Stride, padding, dilation, groups. With [`Padding::Same`], `padding` holds the zeros
    /// ahead of each axis (see [`Conv2d::padding_amounts`]).
    pub params: Conv2dParams,
    /// Whether the padding is [`Padding::Same`], worked out from the kernel and dilation at
    /// each forward pass.
    same: bool,
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
            same: false,
        }
    }

    /// Sets the stride.
    ///
    /// # Panics
    /// If the padding is [`Padding::Same`] and `stride` is not `(1, 1)`.
    pub fn with_stride(mut self, stride: (usize, usize)) -> Self {
        if self.same {
            check_same_stride("Conv2d", stride, (1, 1));
        }
        self.params.stride = stride;
        self
    }

    /// Sets the zero padding: `(rows, columns)` on both sides, or [`Padding::Same`]
    /// (PyTorch's `padding='same'`: the output is as large as the input; an even total
    /// `d·(k − 1)` is split evenly, an odd one puts the extra zero at the bottom and right).
    ///
    /// ```
    /// use strata_layers::{Conv2d, Module, Padding};
    /// use strata_tensor::Tensor;
    ///
    /// let mut conv = Conv2d::<f32>::new(3, 8, (4, 3)).with_padding(Padding::Same);
    /// assert_eq!(conv.padding_amounts(), [(1, 2), (1, 1)]);
    /// assert_eq!(conv.predict(&Tensor::zeros(&[1, 3, 10, 7])).shape(), [1, 8, 10, 7]);
    /// ```
    ///
    /// # Panics
    /// [`Padding::Same`] with a stride other than `(1, 1)`, naming the layer and the stride.
    pub fn with_padding(mut self, padding: impl Into<Padding<(usize, usize)>>) -> Self {
        match padding.into() {
            Padding::Explicit(padding) => {
                self.same = false;
                self.params.padding = padding;
            }
            Padding::Same => {
                check_same_stride("Conv2d", self.params.stride, (1, 1));
                self.same = true;
                self.params.padding = self.same_before();
            }
        }
        self
    }

    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: (usize, usize)) -> Self {
        self.params.dilation = dilation;
        if self.same {
            self.params.padding = self.same_before();
        }
        self
    }

    /// The padding as set: explicit amounts or [`Padding::Same`].
    pub fn padding(&self) -> Padding<(usize, usize)> {
        if self.same {
            Padding::Same
        } else {
            Padding::Explicit(self.params.padding)
        }
    }

    /// The zeros `(before, after)` added along the rows and along the columns: the explicit
    /// padding on both sides, or [`same_padding`] of the kernel and dilation.
    pub fn padding_amounts(&self) -> [(usize, usize); 2] {
        if self.same {
            self.padding_amounts_same()
        } else {
            let (ph, pw) = self.params.padding;
            [(ph, ph), (pw, pw)]
        }
    }

    /// The zeros ahead of each axis under [`Padding::Same`].
    fn same_before(&self) -> (usize, usize) {
        let [(h, _), (w, _)] = self.padding_amounts_same();
        (h, w)
    }

    /// [`same_padding`] along the rows and the columns.
    fn padding_amounts_same(&self) -> [(usize, usize); 2] {
        let (kh, kw) = (self.weight.shape()[2], self.weight.shape()[3]);
        let (dh, dw) = self.params.dilation;
        [same_padding(kh, dh), same_padding(kw, dw)]
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
    /// If the input is not `[N, C_in, H, W]` or is smaller than the (dilated) kernel; with
    /// [`Padding::Same`], if the stride is not `(1, 1)`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let bias = self.bias.as_ref().map(Param::var);
        let mut params = self.params;
        let y = if self.same {
            check_same_stride("Conv2d", params.stride, (1, 1));
            let [(top, bottom), (left, right)] = self.padding_amounts_same();
            params.padding = (top, left);
            // The conv pads symmetrically; an odd total's extra zero goes bottom and right.
            let x = if (bottom, right) == (top, left) {
                x.clone()
            } else {
                x.pad(&[(0, 0), (0, 0), (0, bottom - top), (0, right - left)])
            };
            x.conv2d(&self.weight.var(), bias.as_ref(), params)
        } else {
            x.conv2d(&self.weight.var(), bias.as_ref(), params)
        };
        crate::record_output(y, &*self)
    }
    module_parts!(T; params: [weight]; optional: [bias]);

    /// `Conv2d(stride=(1, 1), padding=(2, 2), dilation=(1, 1), groups=1)`; `padding=Same`
    /// for [`Padding::Same`].
    fn describe(&self) -> String {
        let p = &self.params;
        let padding = if self.same {
            "Same".to_string()
        } else {
            format!("{:?}", p.padding)
        };
        format!(
            "Conv2d(stride={:?}, padding={padding}, dilation={:?}, groups={})",
            p.stride, p.dilation, p.groups
        )
    }
}

/// 1-D convolution layer: `x: [N, C_in, L]` → `y: [N, C_out, OL]`, `weight: [C_out, C_in/groups, k]`.
pub struct Conv1d<T: Element = f32> {
    /// `[C_out, C_in/groups, k]`.
    pub weight: Param<T>,
    /// `[C_out]`.
    pub bias: Option<Param<T>>,
    /// Stride, padding, dilation, groups. With [`Padding::Same`], `padding` holds the zeros
    /// ahead (see [`Conv1d::padding_amounts`]).
    pub params: Conv1dParams,
    /// Whether the padding is [`Padding::Same`].
    same: bool,
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
            same: false,
        }
    }

    /// Sets stride and zero padding (on both ends).
    pub fn with_stride_padding(mut self, stride: usize, padding: usize) -> Self {
        self.params.stride = stride;
        self.params.padding = padding;
        self.same = false;
        self
    }

    /// Sets the zero padding: an amount on both ends, or [`Padding::Same`] (PyTorch's
    /// `padding='same'`: the output is as long as the input; an odd total `d·(k − 1)` puts the
    /// extra zero at the end).
    ///
    /// # Panics
    /// [`Padding::Same`] with a stride other than 1, naming the layer and the stride.
    pub fn with_padding(mut self, padding: impl Into<Padding<usize>>) -> Self {
        match padding.into() {
            Padding::Explicit(padding) => {
                self.same = false;
                self.params.padding = padding;
            }
            Padding::Same => {
                check_same_stride("Conv1d", self.params.stride, 1);
                self.same = true;
                self.params.padding = self.padding_amounts().0;
            }
        }
        self
    }

    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: usize) -> Self {
        self.params.dilation = dilation;
        if self.same {
            self.params.padding = self.padding_amounts().0;
        }
        self
    }

    /// The padding as set: an explicit amount or [`Padding::Same`].
    pub fn padding(&self) -> Padding<usize> {
        if self.same {
            Padding::Same
        } else {
            Padding::Explicit(self.params.padding)
        }
    }

    /// The zeros `(before, after)` added: the explicit padding on both ends, or
    /// [`same_padding`] of the kernel and dilation.
    pub fn padding_amounts(&self) -> (usize, usize) {
        if self.same {
            same_padding(self.weight.shape()[2], self.params.dilation)
        } else {
            (self.params.padding, self.params.padding)
        }
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
    /// If the input is not `[N, C_in, L]` or is shorter than the kernel; with
    /// [`Padding::Same`], if the stride is not 1.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let bias = self.bias.as_ref().map(Param::var);
        let mut params = self.params;
        let y = if self.same {
            check_same_stride("Conv1d", params.stride, 1);
            let (before, after) = self.padding_amounts();
            params.padding = before;
            let x = if after == before {
                x.clone()
            } else {
                x.pad(&[(0, 0), (0, 0), (0, after - before)])
            };
            x.conv1d(&self.weight.var(), bias.as_ref(), params)
        } else {
            x.conv1d(&self.weight.var(), bias.as_ref(), params)
        };
        crate::record_output(y, &*self)
    }
    module_parts!(T; params: [weight]; optional: [bias]);

    /// `Conv1d(stride=1, padding=0, dilation=1, groups=1)`; `padding=Same` for
    /// [`Padding::Same`].
    fn describe(&self) -> String {
        let p = &self.params;
        let padding = if self.same {
            "Same".to_string()
        } else {
            p.padding.to_string()
        };
        format!(
            "Conv1d(stride={}, padding={padding}, dilation={}, groups={})",
            p.stride, p.dilation, p.groups
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
