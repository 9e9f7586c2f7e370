//! Transposed convolutions: the input gradient of a convolution used as a forward map, and its
//! two gradients — the forward convolution and the weight gradient with the roles of input
//! and output swapped, on the same kernels.

use super::{
    Conv, Conv2dParams, Shown, backward_input_kernel, backward_weight_kernel, check_bias,
    check_params, conv_transpose_output_len, data, geometry, run_forward, shown, slice_of,
};
use crate::{Element, Tensor};

/// Checks a transposed convolution of input `[N, C_in, H, W]` with weight
/// `[C_in, C_out/groups, kh, kw]` into spatial output `out`; returns the equivalent forward
/// convolution (input `[N, C_out, out]`, output `[N, C_in, H, W]`).
pub(super) fn plan_transpose(
    s: Shown,
    x: &[usize],
    w: &[usize],
    params: &Conv2dParams,
    out: Option<(usize, usize)>,
    output_padding: (usize, usize),
) -> Conv {
    let (xr, wr) = if s.one_d { (3, 3) } else { (4, 4) };
    assert!(
        s.x.len() == xr,
        "{}: input {:?} must be {xr}-D {}",
        s.op,
        s.x,
        if s.one_d {
            "[N, C_in, L]"
        } else {
            "[N, C_in, H, W]"
        }
    );
    assert!(
        s.w.len() == wr,
        "{}: weight {:?} must be {wr}-D {}",
        s.op,
        s.w,
        if s.one_d {
            "[C_in, C_out/groups, k]"
        } else {
            "[C_in, C_out/groups, kh, kw]"
        }
    );
    check_params(s, params);
    let groups = params.groups;
    let (n, cin, h, wd) = (x[0], x[1], x[2], x[3]);
    let (wi, cog, kh, kw) = (w[0], w[1], w[2], w[3]);
    assert!(
        kh > 0 && kw > 0,
        "{}: weight {:?} has an empty kernel",
        s.op,
        s.w
    );
    assert!(
        cin % groups == 0,
        "{}: groups {groups} does not divide the {cin} channels of input {:?}",
        s.op,
        s.x
    );
    assert!(
        cin == wi,
        "{}: input {:?} has {cin} channels but weight {:?} expects {wi}",
        s.op,
        s.x,
        s.w
    );
    let (st, pd, dl) = (params.stride, params.padding, params.dilation);
    let op = output_padding;
    assert!(
        (op.0 < st.0 || op.0 < dl.0) && (op.1 < st.1 || op.1 < dl.1),
        "{}: output_padding {} must be smaller than the stride {} or the dilation {}",
        s.op,
        s.pair(op),
        s.pair(st),
        s.pair(dl)
    );
    let (oh, ow) = match out {
        Some(o) => o,
        None => {
            let oh = conv_transpose_output_len(h, kh, st.0, pd.0, dl.0, op.0);
            let ow = conv_transpose_output_len(wd, kw, st.1, pd.1, dl.1, op.1);
            match (oh, ow) {
                (Some(oh), Some(ow)) => (oh, ow),
                _ => panic!(
                    "{}: input {:?} with weight {:?}, stride {}, padding {} and dilation {} gives an empty output",
                    s.op,
                    s.x,
                    s.w,
                    s.pair(st),
                    s.pair(pd),
                    s.pair(dl)
                ),
            }
        }
    };
    Conv {
        n,
        c: cog * groups,
        o: cin,
        groups,
        geom: geometry((oh, ow), (kh, kw), params, (h, wd)),
    }
}

/// 2-D transposed convolution (PyTorch's `conv_transpose2d`, also called fractionally strided
/// convolution or "deconvolution"): the input gradient of [`conv2d`](crate::conv::conv2d) applied as a forward map,
///
/// ```text
/// y[n, g·C_out/groups + c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] += w[ci, c, i, j] · x[n, ci, oh, ow]
/// ```
///
/// summed over input channels `ci` of group `g`, plus `b[c]`. Shapes: `x: [N, C_in, H, W]`,
/// `w: [C_in, C_out/groups, kh, kw]`, `bias: [C_out]`; result `[N, C_out, H_out, W_out]` with
/// `H_out = (H − 1)·sh − 2·ph + dh·(kh − 1) + output_padding.0 + 1` (likewise `W_out`).
///
/// # Panics
/// If `x` or `w` is not 4-D, `w[0] ≠ C_in`, `groups` is zero or does not divide `C_in`, a stride
/// or dilation is zero, an `output_padding` is not smaller than the stride or the dilation of
/// its axis, the output would be empty, or `bias` is not `[C_out]`.
pub fn conv_transpose2d<T: Element>(
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: Option<&Tensor<T>>,
    params: &Conv2dParams,
    output_padding: (usize, usize),
) -> Tensor<T> {
    let s = Shown {
        op: "conv_transpose2d",
        x: x.shape(),
        w: w.shape(),
        one_d: false,
    };
    let cv = plan_transpose(s, x.shape(), w.shape(), params, None, output_padding);
    check_bias(s, bias, cv.c);
    let y = run_transpose(&cv, x, w, bias);
    Tensor::from_vec(y, &[cv.n, cv.c, cv.geom.h, cv.geom.w])
}

pub(super) fn run_transpose<T: Element>(
    cv: &Conv,
    x: &Tensor<T>,
    w: &Tensor<T>,
    bias: Option<&Tensor<T>>,
) -> Vec<T> {
    let (x, w) = (slice_of(x), slice_of(w));
    let mut y = backward_input_kernel(cv, data(&x), data(&w));
    if let Some(b) = bias {
        let b = slice_of(b);
        let plane = cv.geom.in_plane();
        if plane > 0 {
            for (k, chunk) in y.chunks_exact_mut(plane).enumerate() {
                let bv = data(&b)[k % cv.c];
                chunk.iter_mut().for_each(|v| *v = *v + bv);
            }
        }
    }
    y
}

/// Rank checks of the transposed-convolution gradients (`grad_y` as the caller passed it,
/// before lifting a 1-D shape).
fn check_transpose_ranks(s: Shown, dy: &[usize]) {
    let rank = if s.one_d { 3 } else { 4 };
    let lifted = if s.one_d { 4 } else { rank };
    for (what, shape) in [("grad_y", dy), ("input", s.x), ("weight", s.w)] {
        let len = if what == "grad_y" { lifted } else { rank };
        assert!(
            shape.len() == len,
            "{}: {what} {:?} must be {rank}-D",
            s.op,
            shown(s, shape)
        );
    }
}

/// The transposed-convolution output plane for `grad_y` of [`conv_transpose2d`](crate::conv::conv_transpose2d)'s input
/// `input_shape`: checks that `grad_y`'s plane is the formula's for some valid output padding.
fn transpose_out_plane(
    s: Shown,
    dy: &[usize],
    input: &[usize],
    w: &[usize],
    params: &Conv2dParams,
) -> (usize, usize) {
    let ok = |axis: usize| {
        let (k, st, pd, dl) = match axis {
            0 => (w[2], params.stride.0, params.padding.0, params.dilation.0),
            _ => (w[3], params.stride.1, params.padding.1, params.dilation.1),
        };
        let base = conv_transpose_output_len(input[2 + axis], k, st, pd, dl, 0);
        matches!(base, Some(b) if dy[2 + axis] >= b && dy[2 + axis] - b < st.max(dl))
    };
    let expected_channels = w[1] * params.groups.max(1);
    assert!(
        dy[0] == input[0] && dy[1] == expected_channels && ok(0) && ok(1),
        "{}: grad_y {:?} is not an output of input {:?} with weight {:?} (stride {}, padding {}, dilation {}, groups {})",
        s.op,
        shown(s, dy),
        s.x,
        s.w,
        s.pair(params.stride),
        s.pair(params.padding),
        s.pair(params.dilation),
        params.groups
    );
    (dy[2], dy[3])
}

/// Gradient of [`conv_transpose2d`](crate::conv::conv_transpose2d) with respect to its input: a forward [`conv2d`](crate::conv::conv2d) of
/// `grad_y` with the same weight and parameters,
/// `dx[n, ci, h, w] = Σ_{c, i, j} w[ci, c, i, j] · dy[n, g·C_out/groups + c, h·sh − ph + i·dh, w·sw − pw + j·dw]`.
/// Shapes: `grad_y: [N, C_out, H_out, W_out]`, `w: [C_in, C_out/groups, kh, kw]`,
/// `input_shape = [N, C_in, H, W]`; result `[N, C_in, H, W]`.
///
/// # Panics
/// As [`conv_transpose2d`](crate::conv::conv_transpose2d), and if `grad_y` is not an output shape of that transposed
/// convolution (for some valid output padding).
pub fn conv_transpose2d_backward_input<T: Element>(
    grad_y: &Tensor<T>,
    w: &Tensor<T>,
    input_shape: &[usize],
    params: &Conv2dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv_transpose2d_backward_input",
        x: input_shape,
        w: w.shape(),
        one_d: false,
    };
    transpose_backward_input(s, grad_y, w, input_shape, params)
}

pub(super) fn transpose_backward_input<T: Element>(
    s: Shown,
    grad_y: &Tensor<T>,
    w: &Tensor<T>,
    input4: &[usize],
    params: &Conv2dParams,
) -> Tensor<T> {
    let (w4, dy4) = (as_4d(s, w.shape()), as_4d(s, grad_y.shape()));
    check_transpose_ranks(s, grad_y.shape());
    check_params(s, params);
    let out = transpose_out_plane(s, &dy4, input4, &w4, params);
    let cv = plan_transpose(s, input4, &w4, params, Some(out), (0, 0));
    let y = run_forward(&cv, grad_y, w, None);
    Tensor::from_vec(y, s.x)
}

/// Gradient of [`conv_transpose2d`](crate::conv::conv_transpose2d) with respect to its weight: [`conv2d_backward_weight`](crate::conv::conv2d_backward_weight) with
/// the roles of input and output swapped,
/// `dw[ci, c, i, j] = Σ_{n, h, w} x[n, ci, h, w] · dy[n, g·C_out/groups + c, h·sh − ph + i·dh, w·sw − pw + j·dw]`.
/// Shapes: `grad_y: [N, C_out, H_out, W_out]`, `x: [N, C_in, H, W]`,
/// `weight_shape = [C_in, C_out/groups, kh, kw]`; result `weight_shape`.
///
/// # Panics
/// As [`conv_transpose2d_backward_input`](crate::conv::conv_transpose2d_backward_input).
pub fn conv_transpose2d_backward_weight<T: Element>(
    grad_y: &Tensor<T>,
    x: &Tensor<T>,
    weight_shape: &[usize],
    params: &Conv2dParams,
) -> Tensor<T> {
    let s = Shown {
        op: "conv_transpose2d_backward_weight",
        x: x.shape(),
        w: weight_shape,
        one_d: false,
    };
    transpose_backward_weight(s, grad_y, x, params)
}

pub(super) fn transpose_backward_weight<T: Element>(
    s: Shown,
    grad_y: &Tensor<T>,
    x: &Tensor<T>,
    params: &Conv2dParams,
) -> Tensor<T> {
    let (w4, dy4, x4) = (as_4d(s, s.w), as_4d(s, grad_y.shape()), as_4d(s, x.shape()));
    check_transpose_ranks(s, grad_y.shape());
    check_params(s, params);
    let out = transpose_out_plane(s, &dy4, &x4, &w4, params);
    let cv = plan_transpose(s, &x4, &w4, params, Some(out), (0, 0));
    let (dy, x) = (slice_of(grad_y), slice_of(x));
    // In the equivalent convolution `grad_y` is the input and `x` the output gradient.
    Tensor::from_vec(backward_weight_kernel(&cv, data(&x), data(&dy)), s.w)
}

/// A shape as 4-D: 1-D ops insert a unit height; other ranks are returned as they are (the
/// rank checks report them).
pub(super) fn as_4d(s: Shown, shape: &[usize]) -> Vec<usize> {
    if s.one_d && shape.len() == 3 {
        vec![shape[0], shape[1], 1, shape[2]]
    } else {
        shape.to_vec()
    }
}
