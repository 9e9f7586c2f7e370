//! 1-D convolutions: the 2-D kernels over a unit height (`[N, C, L]` ↔ `[N, C, 1, L]`, views).

use super::transpose::{
    as_4d, plan_transpose, run_transpose, transpose_backward_input, transpose_backward_weight,
};
use super::{
    Conv2dParams, Shown, backward_input_kernel, backward_weight_kernel, check_bias,
    check_grad_output, data, plan, run_forward, slice_of,
};
use crate::{Element, Tensor};

/// Hyper-parameters of a 1-D convolution (PyTorch's `Conv1d`). The default is stride 1,
/// padding 0, dilation 1, one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv1dParams {
    /// Step between successive windows.
    pub stride: usize,
    /// Zeros added at both ends.
    pub padding: usize,
    /// Spacing between kernel taps.
    pub dilation: usize,
    /// Channel groups, as in [`Conv2dParams::groups`].
    pub groups: usize,
}

impl Default for Conv1dParams {
    fn default() -> Self {
        Conv1dParams {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

impl Conv1dParams {
    /// These parameters with stride `stride`.
    pub fn with_stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }

    /// These parameters with padding `padding`.
    pub fn with_padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }

    /// These parameters with dilation `dilation`.
    pub fn with_dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }

    /// These parameters with `groups` channel groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// The equivalent 2-D parameters over a unit height.
    pub fn to_2d(&self) -> Conv2dParams {
        Conv2dParams {
            stride: (1, self.stride),
            padding: (0, self.padding),
            dilation: (1, self.dilation),
            groups: self.groups,
        }
    }
}

/// `[N, C, L]` → `[N, C, 1, L]` (a view); other ranks unchanged (the checks report them).
fn lift<T: Element>(t: &Tensor<T>) -> Tensor<T> {
    if t.ndim() == 3 {
        t.unsqueeze(2)
    } else {
        t.clone()
    }
}

/// 1-D convolution, [`conv2d`](crate::conv::conv2d) over a unit height:
/// `y[n, o, l] = b[o] + Σ_{c, j} w[o, c, j] · x[n, g·C/groups + c, l·stride − padding + j·dilation]`.
/// Shapes: `x: [N, C, L]`, `w: [O, C/groups, k]`, `bias: [O]`; result `[N, O, L_out]` with
/// `L_out = (L + 2·padding − dilation·(k − 1) − 1)/stride + 1`.
///
/// # Panics
/// As [`conv2d`](crate::conv::conv2d) (messages name `conv1d` and the 3-D shapes).
pub fn conv1d<T: Element>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    params: &Conv1dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv1d",
        x: x.shape(),
        w: w.shape(),
        one_d: true,
    };
    let p2 = params.to_2d();
    let cv = plan(s, &as_4d(s, x.shape()), &as_4d(s, w.shape()), &p2);
    check_bias(s, bias, cv.o);
    let y = run_forward(&cv, &lift(x), &lift(w), bias);
    Tensor::from_vec(y, &[cv.n, cv.o, cv.geom.ow])
}

/// Gradient of [`conv1d`] with respect to its input ([`conv2d_backward_input`](crate::conv::conv2d_backward_input) over a unit
/// height). Shapes: `grad_y: [N, O, L_out]`, `w: [O, C/groups, k]`, `input_shape = [N, C, L]`;
/// result `[N, C, L]`.
///
/// # Panics
/// As [`conv1d`], and if `grad_y` is not the output shape.
pub fn conv1d_backward_input<T: Element>(
    grad_y: &Tensor<T>,
    w: &Tensor<T>,
    input_shape: &[usize],
    params: &Conv1dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv1d_backward_input",
        x: input_shape,
        w: w.shape(),
        one_d: true,
    };
    let cv = plan(
        s,
        &as_4d(s, input_shape),
        &as_4d(s, w.shape()),
        &params.to_2d(),
    );
    let g = cv.geom;
    check_grad_output(
        s,
        &as_4d(s, grad_y.shape()),
        grad_y.shape(),
        &[cv.n, cv.o, g.oh, g.ow],
    );
    let (dy, w) = (slice_of(grad_y), slice_of(w));
    Tensor::from_vec(backward_input_kernel(&cv, data(&dy), data(&w)), input_shape)
}

/// Gradient of [`conv1d`] with respect to its weight ([`conv2d_backward_weight`](crate::conv::conv2d_backward_weight) over a unit
/// height). Shapes: `grad_y: [N, O, L_out]`, `x: [N, C, L]`, `weight_shape = [O, C/groups, k]`;
/// result `weight_shape`.
///
/// # Panics
/// As [`conv1d`], and if `grad_y` is not the output shape.
pub fn conv1d_backward_weight<T: Element>(
    grad_y: &Tensor<T>,
    x: &Tensor<T>,
    weight_shape: &[usize],
    params: &Conv1dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv1d_backward_weight",
        x: x.shape(),
        w: weight_shape,
        one_d: true,
    };
    let cv = plan(
        s,
        &as_4d(s, x.shape()),
        &as_4d(s, weight_shape),
        &params.to_2d(),
    );
    let g = cv.geom;
    check_grad_output(
        s,
        &as_4d(s, grad_y.shape()),
        grad_y.shape(),
        &[cv.n, cv.o, g.oh, g.ow],
    );
    let (dy, x) = (slice_of(grad_y), slice_of(x));
    Tensor::from_vec(
        backward_weight_kernel(&cv, data(&dy), data(&x)),
        weight_shape,
    )
}

/// 1-D transposed convolution, [`conv_transpose2d`](crate::conv::conv_transpose2d) over a unit height. Shapes:
/// `x: [N, C_in, L]`, `w: [C_in, C_out/groups, k]`, `bias: [C_out]`; result
/// `[N, C_out, L_out]`, `L_out = (L − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1`.
///
/// # Panics
/// As [`conv_transpose2d`](crate::conv::conv_transpose2d) (messages name `conv_transpose1d` and the 3-D shapes).
pub fn conv_transpose1d<T: Element>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    params: &Conv1dParams,
    output_padding: usize,
) -> Tensor<T> {
    let s = Shown {
        op: "conv_transpose1d",
        x: x.shape(),
        w: w.shape(),
        one_d: true,
    };
    let cv = plan_transpose(
        s,
        &as_4d(s, x.shape()),
        &as_4d(s, w.shape()),
        &params.to_2d(),
        None,
        (0, output_padding),
    );
    check_bias(s, bias, cv.c);
    let y = run_transpose(&cv, &lift(x), &lift(w), bias);
    Tensor::from_vec(y, &[cv.n, cv.c, cv.geom.w])
}

/// Gradient of [`conv_transpose1d`] with respect to its input (a forward [`conv1d`] of
/// `grad_y`). Shapes: `grad_y: [N, C_out, L_out]`, `w: [C_in, C_out/groups, k]`,
/// `input_shape = [N, C_in, L]`; result `[N, C_in, L]`.
///
/// # Panics
/// As [`conv_transpose2d_backward_input`](crate::conv::conv_transpose2d_backward_input).
pub fn conv_transpose1d_backward_input<T: Element>(
    grad_y: &Tensor<T>,
    w: &Tensor<T>,
    input_shape: &[usize],
    params: &Conv1dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv_transpose1d_backward_input",
        x: input_shape,
        w: w.shape(),
        one_d: true,
    };
    transpose_backward_input(
        s,
        &lift(grad_y),
        &lift(w),
        &as_4d(s, input_shape),
        &params.to_2d(),
    )
}

/// Gradient of [`conv_transpose1d`] with respect to its weight. Shapes:
/// `grad_y: [N, C_out, L_out]`, `x: [N, C_in, L]`, `weight_shape = [C_in, C_out/groups, k]`;
/// result `weight_shape`.
///
/// # Panics
/// As [`conv_transpose2d_backward_weight`](crate::conv::conv_transpose2d_backward_weight).
pub fn conv_transpose1d_backward_weight<T: Element>(
    grad_y: &Tensor<T>,
    x: &Tensor<T>,
    weight_shape: &[usize],
    params: &Conv1dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv_transpose1d_backward_weight",
        x: x.shape(),
        w: weight_shape,
        one_d: true,
    };
    transpose_backward_weight(s, &lift(grad_y), &lift(x), &params.to_2d())
}
