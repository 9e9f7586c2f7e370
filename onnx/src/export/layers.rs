//! The ONNX form of each `strata-layers` layer and of `Sequential`.

use std::any::Any;

use strata_layers::recurrent::Lstm;
use strata_layers::{
    Activation, AdaptiveAvgPool2d, AvgPool2d, BatchNorm, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d,
    ConvTranspose2d, Dropout, Flatten, LayerNorm, Linear, MaxPool2d, PRelu, Param, Sequential,
    Unflatten,
};
use strata_tensor::Tensor;

use super::{Flow, export_module, join, refuse};
use crate::OnnxError;
use crate::builder::{Attr, GraphBuilder};

/// `Some(output)` if `any` is a layer this file knows, `None` otherwise.
pub(super) fn export(
    any: &dyn Any,
    path: &str,
    g: &mut GraphBuilder,
    x: &Flow,
) -> Result<Option<Flow>, OnnxError> {
    let y = if let Some(s) = any.downcast_ref::<Sequential>() {
        let mut h = x.clone();
        for (i, child) in s.iter().enumerate() {
            h = export_module(child, &join(path, i), g, h)?;
        }
        h
    } else if let Some(l) = any.downcast_ref::<Linear>() {
        linear(g, path, x, &l.weight, l.bias.as_ref(), true)
    } else if let Some(c) = any.downcast_ref::<Conv2d>() {
        let p = c.params;
        // Per-side amounts: `Padding::Same` with an even total pads the bottom/right more.
        let [(top, bottom), (left, right)] = c.padding_amounts();
        let mut attributes = conv_attributes(
            c.weight.shape(),
            [p.stride.0, p.stride.1],
            [top, left],
            [p.dilation.0, p.dilation.1],
            p.groups,
        );
        set_pads(&mut attributes, &[top, left, bottom, right]);
        conv(g, "Conv", path, x, &c.weight, c.bias.as_ref(), attributes)
    } else if let Some(c) = any.downcast_ref::<Conv1d>() {
        let p = c.params;
        let (before, after) = c.padding_amounts();
        let mut attributes = conv_attributes(
            c.weight.shape(),
            [p.stride],
            [before],
            [p.dilation],
            p.groups,
        );
        set_pads(&mut attributes, &[before, after]);
        conv(g, "Conv", path, x, &c.weight, c.bias.as_ref(), attributes)
    } else if let Some(c) = any.downcast_ref::<ConvTranspose2d>() {
        let p = c.params;
        let mut attributes = conv_attributes(
            c.weight.shape(),
            [p.stride.0, p.stride.1],
            [p.padding.0, p.padding.1],
            [p.dilation.0, p.dilation.1],
            p.groups,
        );
        attributes.push((
            "output_padding",
            ints(&[c.output_padding.0, c.output_padding.1]),
        ));
        conv(
            g,
            "ConvTranspose",
            path,
            x,
            &c.weight,
            c.bias.as_ref(),
            attributes,
        )
    } else if let Some(m) = any.downcast_ref::<MaxPool2d>() {
        let attributes = vec![
            ("kernel_shape", ints(&[m.kernel.0, m.kernel.1])),
            ("strides", ints(&[m.stride.0, m.stride.1])),
            ("pads", pads(&[m.padding.0, m.padding.1])),
            ("dilations", ints(&[m.dilation.0, m.dilation.1])),
            ("ceil_mode", Attr::Int(m.ceil_mode.into())),
        ];
        x.to(g.node("MaxPool", path, &[&x.name], &attributes))
    } else if let Some(a) = any.downcast_ref::<AvgPool2d>() {
        if a.options.divisor_override.is_some() {
            return Err(refuse(
                "AvgPool2d",
                path,
                "ONNX AveragePool has no divisor_override",
            ));
        }
        let attributes = vec![
            ("kernel_shape", ints(&[a.kernel.0, a.kernel.1])),
            ("strides", ints(&[a.stride.0, a.stride.1])),
            ("pads", pads(&[a.padding.0, a.padding.1])),
            ("ceil_mode", Attr::Int(a.options.ceil_mode.into())),
            (
                "count_include_pad",
                Attr::Int(a.options.count_include_pad.into()),
            ),
        ];
        x.to(g.node("AveragePool", path, &[&x.name], &attributes))
    } else if let Some(a) = any.downcast_ref::<AdaptiveAvgPool2d>() {
        if a.output != (1, 1) {
            return Err(refuse(
                "AdaptiveAvgPool2d",
                path,
                format!(
                    "only a (1, 1) output has an ONNX form (GlobalAveragePool), not {:?}",
                    a.output
                ),
            ));
        }
        x.to(g.node("GlobalAveragePool", path, &[&x.name], &[]))
    } else if let Some(a) = any.downcast_ref::<Activation>() {
        activation(g, path, x, *a)
    } else if let Some(p) = any.downcast_ref::<PRelu>() {
        // The slope broadcasts over the channel axis 1 of [N, C, …].
        let c = p.weight.numel();
        let mut shape = vec![c];
        shape.extend(std::iter::repeat_n(1, x.rank.saturating_sub(2)));
        let slope = g.weight(&join(path, "weight"), &p.weight.value().reshape(&shape));
        x.to(g.node("PRelu", path, &[&x.name, &slope], &[]))
    } else if let Some(b) = any.downcast_ref::<BatchNorm1d>() {
        batch_norm(g, path, x, b)?
    } else if let Some(b) = any.downcast_ref::<BatchNorm2d>() {
        batch_norm(g, path, x, b)?
    } else if let Some(l) = any.downcast_ref::<LayerNorm>() {
        let shape = l.normalized_shape();
        let numel: usize = shape.iter().product();
        let scale = match &l.weight {
            Some(w) => g.weight(&join(path, "weight"), w.value()),
            None => g.constant("ones", &vec![1.0; numel], shape),
        };
        let mut inputs = vec![x.name.clone(), scale];
        if let Some(b) = &l.bias {
            inputs.push(g.weight(&join(path, "bias"), b.value()));
        }
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let attributes = [
            ("axis", Attr::Int(-(shape.len() as i64))),
            ("epsilon", Attr::Float(l.eps() as f32)),
        ];
        x.to(g.node("LayerNormalization", path, &inputs, &attributes))
    } else if any.is::<Flatten>() {
        Flow {
            name: g.node("Flatten", path, &[&x.name], &[("axis", Attr::Int(1))]),
            rank: 2,
        }
    } else if let Some(u) = any.downcast_ref::<Unflatten>() {
        // Dimension 0 of the shape copies the input's (the batch).
        let mut target = vec![0i64];
        target.extend(u.shape().iter().map(|&d| d as i64));
        let shape = g.int_constant("shape", &target);
        Flow {
            name: g.node("Reshape", path, &[&x.name, &shape], &[]),
            rank: target.len(),
        }
    } else if let Some(l) = any.downcast_ref::<Lstm>() {
        // Time-major for the operator, back to the layer's layout after.
        let batch_first = l.config().batch_first;
        let input = if batch_first {
            transpose(g, path, &x.name, &[1, 0, 2])
        } else {
            x.name.clone()
        };
        let (y, _) = lstm(g, path, l, &input)?;
        let y = squeeze(g, path, &y, &[1]);
        let y = if batch_first {
            transpose(g, path, &y, &[1, 0, 2])
        } else {
            y
        };
        x.to(y)
    } else if any.is::<Dropout>() {
        // Evaluation mode: the identity.
        x.clone()
    } else {
        return Ok(None);
    };
    Ok(Some(y))
}

/// `y = x·Wᵀ + b`: `Gemm` with `transB = 1` on 2-D input, else `MatMul(x, Transpose(W))`
/// then `Add(b)`. `transposed` says the weight is `[out, in]` (as `Linear`'s); otherwise it is
/// `[in, out]`.
pub(super) fn linear(
    g: &mut GraphBuilder,
    path: &str,
    x: &Flow,
    weight: &Param,
    bias: Option<&Param>,
    transposed: bool,
) -> Flow {
    let w = g.weight(&join(path, "weight"), weight.value());
    let b = bias.map(|b| g.weight(&join(path, "bias"), b.value()));
    if x.rank == 2 {
        let mut inputs = vec![x.name.as_str(), w.as_str()];
        if let Some(b) = &b {
            inputs.push(b);
        }
        return x.to(g.node(
            "Gemm",
            path,
            &inputs,
            &[("transB", Attr::Int(transposed.into()))],
        ));
    }
    let w = if transposed {
        g.node(
            "Transpose",
            path,
            &[&w],
            &[("perm", Attr::Ints(vec![1, 0]))],
        )
    } else {
        w
    };
    let y = g.node("MatMul", path, &[&x.name, &w], &[]);
    match b {
        Some(b) => x.to(g.node("Add", path, &[&y, &b], &[])),
        None => x.to(y),
    }
}

fn ints(values: &[usize]) -> Attr {
    Attr::Ints(values.iter().map(|&v| v as i64).collect())
}

/// ONNX `pads`: the begin of every spatial axis, then the end of every one.
fn pads(padding: &[usize]) -> Attr {
    let mut v: Vec<i64> = padding.iter().map(|&p| p as i64).collect();
    v.extend_from_within(..);
    Attr::Ints(v)
}

/// Replaces the `pads` attribute with `amounts` as given (ONNX order: every axis's start,
/// then every axis's end).
fn set_pads(attributes: &mut [(&'static str, Attr)], amounts: &[usize]) {
    for (name, value) in attributes.iter_mut() {
        if *name == "pads" {
            *value = Attr::Ints(amounts.iter().map(|&p| p as i64).collect());
        }
    }
}

fn conv_attributes<const K: usize>(
    weight_shape: &[usize],
    stride: [usize; K],
    padding: [usize; K],
    dilation: [usize; K],
    groups: usize,
) -> Vec<(&'static str, Attr)> {
    vec![
        ("kernel_shape", ints(&weight_shape[2..])),
        ("strides", ints(&stride)),
        ("pads", pads(&padding)),
        ("dilations", ints(&dilation)),
        ("group", Attr::Int(groups as i64)),
    ]
}

fn conv(
    g: &mut GraphBuilder,
    op: &str,
    path: &str,
    x: &Flow,
    weight: &Param,
    bias: Option<&Param>,
    attributes: Vec<(&'static str, Attr)>,
) -> Flow {
    let w = g.weight(&join(path, "weight"), weight.value());
    let mut inputs = vec![x.name.clone(), w];
    if let Some(b) = bias {
        inputs.push(g.weight(&join(path, "bias"), b.value()));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    x.to(g.node(op, path, &inputs, &attributes))
}

/// `BatchNormalization` with the layer's running statistics (ones and zeros for a missing
/// affine scale and shift).
fn batch_norm<const D: usize>(
    g: &mut GraphBuilder,
    path: &str,
    x: &Flow,
    b: &BatchNorm<f32, D>,
) -> Result<Flow, OnnxError> {
    let (features, eps) = (b.num_features(), b.eps());
    let (Some(mean), Some(var)) = (&b.running_mean, &b.running_var) else {
        return Err(refuse(
            "BatchNorm",
            path,
            "without running statistics (track_running_stats = false) it normalises with \
             batch statistics, which ONNX BatchNormalization does not do in inference",
        ));
    };
    let scale = match &b.weight {
        Some(w) => g.weight(&join(path, "weight"), w.value()),
        None => g.constant("ones", &vec![1.0; features], &[features]),
    };
    let shift = match &b.bias {
        Some(b) => g.weight(&join(path, "bias"), b.value()),
        None => g.constant("zeros", &vec![0.0; features], &[features]),
    };
    let mean = g.weight(&join(path, "running_mean"), mean);
    let var = g.weight(&join(path, "running_var"), var);
    Ok(x.to(g.node(
        "BatchNormalization",
        path,
        &[&x.name, &scale, &shift, &mean, &var],
        &[("epsilon", Attr::Float(eps as f32))],
    )))
}

/// The ONNX form of an activation (opset 17 has no Gelu or Mish operator: they are written
/// out from `Erf`, `Tanh` and `Softplus`).
pub(super) fn activation(g: &mut GraphBuilder, path: &str, x: &Flow, a: Activation) -> Flow {
    let v = x.name.as_str();
    let name = match a {
        Activation::Identity => return x.clone(),
        Activation::Sigmoid => g.node("Sigmoid", path, &[v], &[]),
        Activation::Tanh => g.node("Tanh", path, &[v], &[]),
        Activation::Relu => g.node("Relu", path, &[v], &[]),
        Activation::LeakyRelu(slope) => g.node(
            "LeakyRelu",
            path,
            &[v],
            &[("alpha", Attr::Float(slope as f32))],
        ),
        Activation::Elu(alpha) => {
            g.node("Elu", path, &[v], &[("alpha", Attr::Float(alpha as f32))])
        }
        Activation::Selu => g.node("Selu", path, &[v], &[]),
        Activation::Softplus => g.node("Softplus", path, &[v], &[]),
        Activation::Softmax(axis) => {
            g.node("Softmax", path, &[v], &[("axis", Attr::Int(axis as i64))])
        }
        Activation::LogSoftmax(axis) => g.node(
            "LogSoftmax",
            path,
            &[v],
            &[("axis", Attr::Int(axis as i64))],
        ),
        Activation::Hardtanh(min, max) => {
            let lo = g.constant("min", &[min as f32], &[]);
            let hi = g.constant("max", &[max as f32], &[]);
            g.node("Clip", path, &[v, &lo, &hi], &[])
        }
        Activation::LecunTanh => {
            let inner = g.constant("two_thirds", &[2.0 / 3.0], &[]);
            let outer = g.constant("lecun_scale", &[1.7159], &[]);
            let scaled = g.node("Mul", path, &[v, &inner], &[]);
            let t = g.node("Tanh", path, &[&scaled], &[]);
            g.node("Mul", path, &[&t, &outer], &[])
        }
        Activation::Silu => {
            let s = g.node("Sigmoid", path, &[v], &[]);
            g.node("Mul", path, &[v, &s], &[])
        }
        Activation::Mish => {
            let sp = g.node("Softplus", path, &[v], &[]);
            let t = g.node("Tanh", path, &[&sp], &[]);
            g.node("Mul", path, &[v, &t], &[])
        }
        Activation::LogSigmoid => {
            let neg = g.node("Neg", path, &[v], &[]);
            let sp = g.node("Softplus", path, &[&neg], &[]);
            g.node("Neg", path, &[&sp], &[])
        }
        Activation::Gelu => {
            // ½·x·(1 + erf(x/√2))
            let r = g.constant("inv_sqrt2", &[std::f32::consts::FRAC_1_SQRT_2], &[]);
            let one = g.constant("one", &[1.0], &[]);
            let half = g.constant("half", &[0.5], &[]);
            let z = g.node("Mul", path, &[v, &r], &[]);
            let e = g.node("Erf", path, &[&z], &[]);
            let p = g.node("Add", path, &[&e, &one], &[]);
            let h = g.node("Mul", path, &[v, &half], &[]);
            g.node("Mul", path, &[&h, &p], &[])
        }
        Activation::GeluTanh => {
            // ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
            let c = g.constant("gelu_c", &[0.044715], &[]);
            let k = g.constant(
                "sqrt_2_over_pi",
                &[(2.0 / std::f32::consts::PI).sqrt()],
                &[],
            );
            let one = g.constant("one", &[1.0], &[]);
            let half = g.constant("half", &[0.5], &[]);
            let x2 = g.node("Mul", path, &[v, v], &[]);
            let x3 = g.node("Mul", path, &[&x2, v], &[]);
            let cx3 = g.node("Mul", path, &[&x3, &c], &[]);
            let inner = g.node("Add", path, &[v, &cx3], &[]);
            let u = g.node("Mul", path, &[&inner, &k], &[]);
            let t = g.node("Tanh", path, &[&u], &[]);
            let p = g.node("Add", path, &[&t, &one], &[]);
            let h = g.node("Mul", path, &[v, &half], &[]);
            g.node("Mul", path, &[&h, &p], &[])
        }
    };
    x.to(name)
}

/// The ONNX `LSTM` operator for a one-layer, one-direction Strata (PyTorch-layout) LSTM on
/// time-major input `x: [T, N, I]`: returns the names of `Y: [T, 1, N, H]` and
/// `Y_h: [1, N, H]`. PyTorch's gate blocks `(i, f, g, o)` are reordered to ONNX's
/// `(i, o, f, c)`; the two biases are concatenated.
pub(super) fn lstm(
    g: &mut GraphBuilder,
    path: &str,
    lstm: &Lstm,
    x: &str,
) -> Result<(String, String), OnnxError> {
    let config = lstm.config();
    if config.num_layers != 1 || config.bidirectional {
        return Err(refuse(
            "Lstm",
            path,
            format!(
                "only one layer in one direction has an ONNX form, not {} layer(s){}",
                config.num_layers,
                if config.bidirectional {
                    ", bidirectional"
                } else {
                    ""
                }
            ),
        ));
    }
    if !config.bias {
        return Err(refuse(
            "Lstm",
            path,
            "an LSTM without biases is not exported",
        ));
    }
    let h = config.hidden_size;
    let get = |name: &str| {
        lstm.param(name)
            .map(|p| p.value().clone())
            .ok_or_else(|| refuse("Lstm", path, format!("parameter {name} is missing")))
    };
    let reorder = |t: &Tensor| -> Tensor {
        // Row blocks (i, f, g, o) → (i, o, f, g).
        let blocks: Vec<Tensor> = [0, 3, 1, 2]
            .iter()
            .map(|&b| t.narrow(0, b * h, h))
            .collect();
        Tensor::concat(&blocks.iter().collect::<Vec<_>>(), 0)
    };
    let w = reorder(&get("weight_ih_l0")?);
    let r = reorder(&get("weight_hh_l0")?);
    let b = Tensor::concat(
        &[&reorder(&get("bias_ih_l0")?), &reorder(&get("bias_hh_l0")?)],
        0,
    );
    let w = g.weight(&join(path, "W"), &w.unsqueeze(0));
    let r = g.weight(&join(path, "R"), &r.unsqueeze(0));
    let b = g.weight(&join(path, "B"), &b.unsqueeze(0));
    let y = g.fresh(&format!("{path}_y"));
    let y_h = g.fresh(&format!("{path}_y_h"));
    g.node_with_outputs(
        "LSTM",
        path,
        &[x, &w, &r, &b],
        &[&y, &y_h],
        &[("hidden_size", Attr::Int(h as i64))],
    );
    Ok((y, y_h))
}

/// `Squeeze(x, axes)` (opset 13: the axes are an input).
pub(super) fn squeeze(g: &mut GraphBuilder, path: &str, x: &str, axes: &[i64]) -> String {
    let axes = g.int_constant("axes", axes);
    g.node("Squeeze", path, &[x, &axes], &[])
}

/// `Transpose(x, perm)`.
pub(super) fn transpose(g: &mut GraphBuilder, path: &str, x: &str, perm: &[i64]) -> String {
    g.node(
        "Transpose",
        path,
        &[x],
        &[("perm", Attr::Ints(perm.to_vec()))],
    )
}
