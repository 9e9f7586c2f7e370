//! Running one parsed operator on Strata values: floats as graph variables (so gradients
//! reach the imported weights), integers (shapes, axes, indices) as plain vectors.

use strata_autograd::Var;
use strata_tensor::Tensor;
use strata_tensor::conv::{Conv1dParams, Conv2dParams};
use strata_tensor::pool::AvgPoolOptions;

use super::ops::{Binary, ConvSpec, Op, RecurrentSpec, Unary};
use super::tensor::{Constant, Ints};

/// A value of the graph.
#[derive(Clone)]
pub enum Value {
    /// A float tensor in the autograd graph.
    Float(Var),
    /// An integer tensor.
    Int(Ints),
}

type Outcome = Result<Vec<Value>, String>;

impl Value {
    fn float(&self) -> Var {
        match self {
            Value::Float(v) => v.clone(),
            Value::Int(i) => Var::constant(Tensor::from_vec(
                i.data.iter().map(|&v| v as f32).collect(),
                &i.shape,
            )),
        }
    }

    fn ints(&self, what: &str) -> Result<Ints, String> {
        match self {
            Value::Int(i) => Ok(i.clone()),
            Value::Float(v) if !v.requires_grad() => Ok(Ints {
                data: v.value().to_vec().iter().map(|&x| x as i64).collect(),
                shape: v.shape().to_vec(),
            }),
            Value::Float(_) => Err(format!(
                "{what} must be an integer tensor, not a computed float"
            )),
        }
    }

    fn shape(&self) -> Vec<usize> {
        match self {
            Value::Float(v) => v.shape().to_vec(),
            Value::Int(i) => i.shape.clone(),
        }
    }
}

/// A constant as a value.
pub fn constant_value(c: &Constant) -> Value {
    match c {
        Constant::Float(t) => Value::Float(Var::constant(t.clone())),
        Constant::Int(i) => Value::Int(i.clone()),
    }
}

/// `axis` (negative counts from the end) as an index into `rank` dimensions.
fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let k = if a < 0 { a + r } else { a };
    if (0..r).contains(&k) {
        Ok(k as usize)
    } else {
        Err(format!("axis {a} is out of range for rank {rank}"))
    }
}

fn input<'a>(inputs: &'a [Option<Value>], i: usize, what: &str) -> Result<&'a Value, String> {
    inputs
        .get(i)
        .and_then(Option::as_ref)
        .ok_or_else(|| format!("input {i} ({what}) is missing"))
}

fn optional(inputs: &[Option<Value>], i: usize) -> Option<&Value> {
    inputs.get(i).and_then(Option::as_ref)
}

/// A scalar float read from a constant input.
fn scalar(v: &Value, what: &str) -> Result<f32, String> {
    let t = v.float();
    let values = t.value().to_vec();
    match values.as_slice() {
        [x] => Ok(*x),
        _ => Err(format!("{what} must hold one value, not {:?}", t.shape())),
    }
}

fn one(v: Var) -> Outcome {
    Ok(vec![Value::Float(v)])
}

fn pair(values: &[usize]) -> (usize, usize) {
    (values[0], values[1])
}

fn conv2d_params(spec: &ConvSpec) -> Conv2dParams {
    Conv2dParams::default()
        .with_stride(pair(&spec.strides))
        .with_padding(pair(&spec.pads))
        .with_dilation(pair(&spec.dilations))
        .with_groups(spec.group)
}

/// Runs `op` on `inputs` (`None` for an omitted optional input).
pub fn eval(op: &Op, inputs: &[Option<Value>]) -> Outcome {
    match op {
        Op::Identity => Ok(vec![input(inputs, 0, "input")?.clone()]),
        Op::Unary(u) => one(unary(*u, &input(inputs, 0, "X")?.float())),
        Op::Binary(b) => binary(*b, input(inputs, 0, "A")?, input(inputs, 1, "B")?),
        Op::Clip => {
            let x = input(inputs, 0, "input")?.float();
            let lo = optional(inputs, 1).map(|v| scalar(v, "min")).transpose()?;
            let hi = optional(inputs, 2).map(|v| scalar(v, "max")).transpose()?;
            one(x.clamp(lo.unwrap_or(f32::NEG_INFINITY), hi.unwrap_or(f32::INFINITY)))
        }
        Op::Softmax { axis: a, log } => {
            let x = input(inputs, 0, "input")?.float();
            let k = axis(*a, x.ndim())?;
            one(if *log { x.log_softmax(k) } else { x.softmax(k) })
        }
        Op::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } => {
            let a = input(inputs, 0, "A")?.float();
            let b = input(inputs, 1, "B")?.float();
            if a.ndim() != 2 || b.ndim() != 2 {
                return Err(format!(
                    "A {:?} and B {:?} must be matrices",
                    a.shape(),
                    b.shape()
                ));
            }
            let a = if *trans_a { a.t() } else { a };
            let b = if *trans_b { b.t() } else { b };
            if a.shape()[1] != b.shape()[0] {
                return Err(format!(
                    "A {:?} and B {:?} (after transposition) do not multiply",
                    a.shape(),
                    b.shape()
                ));
            }
            let c = optional(inputs, 2).map(Value::float);
            let mut y = match &c {
                // The fused affine map when it applies: x·Wᵀ + b.
                Some(c)
                    if *trans_b && *alpha == 1.0 && *beta == 1.0 && c.shape() == [b.shape()[1]] =>
                {
                    let w = input(inputs, 1, "B")?.float();
                    return one(a.linear(&w, Some(c)));
                }
                _ => a.matmul(&b),
            };
            if *alpha != 1.0 {
                y = y.mul_scalar(*alpha);
            }
            if let Some(c) = c {
                let c = if *beta == 1.0 { c } else { c.mul_scalar(*beta) };
                y = y.add(&c);
            }
            one(y)
        }
        Op::MatMul => {
            let a = input(inputs, 0, "A")?.float();
            let b = input(inputs, 1, "B")?.float();
            let inner = |v: &Var, last: bool| -> usize {
                let s = v.shape();
                if s.len() == 1 {
                    s[0]
                } else if last {
                    s[s.len() - 1]
                } else {
                    s[s.len() - 2]
                }
            };
            if inner(&a, true) != inner(&b, false) {
                return Err(format!(
                    "A {:?} and B {:?} do not multiply",
                    a.shape(),
                    b.shape()
                ));
            }
            one(a.matmul(&b))
        }
        Op::Conv(spec) | Op::ConvTranspose(spec) => {
            let x = input(inputs, 0, "X")?.float();
            let w = input(inputs, 1, "W")?.float();
            let b = optional(inputs, 2).map(Value::float);
            let transposed = matches!(op, Op::ConvTranspose(_));
            let channels = if transposed {
                w.shape()[0]
            } else {
                w.shape()[1] * spec.group
            };
            if x.ndim() != w.ndim() || x.ndim() < 3 || x.shape()[1] != channels {
                return Err(format!(
                    "input {:?} does not fit weight {:?} (group {})",
                    x.shape(),
                    w.shape(),
                    spec.group
                ));
            }
            match (x.ndim(), transposed) {
                (4, false) => one(x.conv2d(&w, b.as_ref(), conv2d_params(spec))),
                (4, true) => one(x.conv_transpose2d(
                    &w,
                    b.as_ref(),
                    conv2d_params(spec),
                    pair(&spec.output_padding),
                )),
                (3, false) => one(x.conv1d(
                    &w,
                    b.as_ref(),
                    Conv1dParams {
                        stride: spec.strides[0],
                        padding: spec.pads[0],
                        dilation: spec.dilations[0],
                        groups: spec.group,
                    },
                )),
                _ => Err(format!("input {:?}: unsupported rank", x.shape())),
            }
        }
        Op::MaxPool { kernel, spec, ceil } => {
            let x = four_d(input(inputs, 0, "X")?)?;
            one(x.max_pool2d_with(
                pair(kernel),
                pair(&spec.strides),
                pair(&spec.pads),
                pair(&spec.dilations),
                *ceil,
            ))
        }
        Op::AveragePool {
            kernel,
            spec,
            ceil,
            count_include_pad,
        } => {
            let x = four_d(input(inputs, 0, "X")?)?;
            if spec.dilations.iter().any(|&d| d != 1) {
                return Err("dilated average pooling is not supported".into());
            }
            let options = AvgPoolOptions {
                ceil_mode: *ceil,
                count_include_pad: *count_include_pad,
                divisor_override: None,
            };
            one(x.avg_pool2d_with(
                pair(kernel),
                pair(&spec.strides),
                pair(&spec.pads),
                &options,
            ))
        }
        Op::GlobalAveragePool => one(four_d(input(inputs, 0, "X")?)?.adaptive_avg_pool2d((1, 1))),
        Op::BatchNormalization { epsilon } => {
            let x = input(inputs, 0, "X")?.float();
            let names = ["scale", "B", "input_mean", "input_var"];
            let mut p = Vec::with_capacity(4);
            for (i, name) in names.iter().enumerate() {
                p.push(input(inputs, i + 1, name)?.float());
            }
            let c = x.shape().get(1).copied().unwrap_or(0);
            if x.ndim() < 2 || p.iter().any(|v| v.shape() != [c]) {
                return Err(format!(
                    "input {:?} and per-channel tensors {:?} do not fit",
                    x.shape(),
                    p.iter().map(|v| v.shape().to_vec()).collect::<Vec<_>>()
                ));
            }
            let mut shape = vec![c];
            shape.extend(std::iter::repeat_n(1, x.ndim() - 2));
            let k = p[0].div(&p[3].add_scalar(*epsilon).sqrt()).reshape(&shape);
            let centred = x.sub(&p[2].reshape(&shape));
            one(centred.mul(&k).add(&p[1].reshape(&shape)))
        }
        Op::LayerNormalization { axis: a, epsilon } => {
            let x = input(inputs, 0, "X")?.float();
            let k = axis(*a, x.ndim())?;
            let scale = input(inputs, 1, "Scale")?.float();
            let bias = optional(inputs, 2).map(Value::float);
            let d: usize = x.shape()[k..].iter().product();
            if scale.value().numel() != d {
                return Err(format!(
                    "scale {:?} does not fit input {:?} from axis {k}",
                    scale.shape(),
                    x.shape()
                ));
            }
            one(x.layer_norm(d, Some(&scale), bias.as_ref(), f64::from(*epsilon)))
        }
        Op::PRelu => {
            let x = input(inputs, 0, "X")?.float();
            let slope = input(inputs, 1, "slope")?.float();
            one(x.relu().sub(&x.neg().relu().mul(&slope)))
        }
        Op::Flatten { axis: a } => {
            let x = input(inputs, 0, "input")?.float();
            let k = if *a == x.ndim() as i64 {
                x.ndim()
            } else {
                axis(*a, x.ndim())?
            };
            let outer: usize = x.shape()[..k].iter().product();
            let inner: usize = x.shape()[k..].iter().product();
            one(x.reshape(&[outer, inner]))
        }
        Op::Reshape { allow_zero } => {
            let data = input(inputs, 0, "data")?;
            let target = input(inputs, 1, "shape")?.ints("shape")?;
            let dims = reshaped(&data.shape(), &target.data, *allow_zero)?;
            match data {
                Value::Float(v) => one(v.reshape(&dims)),
                Value::Int(i) => Ok(vec![Value::Int(Ints {
                    data: i.data.clone(),
                    shape: dims,
                })]),
            }
        }
        Op::Transpose { perm } => {
            let x = input(inputs, 0, "data")?.float();
            let perm = perm
                .clone()
                .unwrap_or_else(|| (0..x.ndim()).rev().collect());
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            if sorted != (0..x.ndim()).collect::<Vec<_>>() {
                return Err(format!(
                    "perm {perm:?} is not a permutation of {} axes",
                    x.ndim()
                ));
            }
            one(x.permute(&perm))
        }
        Op::Squeeze | Op::Unsqueeze => {
            let data = input(inputs, 0, "data")?;
            let shape = data.shape();
            let squeeze = matches!(op, Op::Squeeze);
            let rank = if squeeze {
                shape.len()
            } else {
                shape.len() + optional(inputs, 1).map_or(0, |a| a.shape().iter().product())
            };
            let mut axes: Vec<usize> = match optional(inputs, 1) {
                Some(a) => a
                    .ints("axes")?
                    .data
                    .iter()
                    .map(|&k| axis(k, rank))
                    .collect::<Result<_, _>>()?,
                None if squeeze => (0..shape.len()).filter(|&k| shape[k] == 1).collect(),
                None => return Err("Unsqueeze needs axes".into()),
            };
            axes.sort_unstable();
            let mut new_shape = shape.clone();
            if squeeze {
                for &k in axes.iter().rev() {
                    if shape[k] != 1 {
                        return Err(format!("cannot squeeze axis {k} of {shape:?}"));
                    }
                    new_shape.remove(k);
                }
            } else {
                for &k in &axes {
                    new_shape.insert(k, 1);
                }
            }
            match data {
                Value::Float(v) => one(v.reshape(&new_shape)),
                Value::Int(i) => Ok(vec![Value::Int(Ints {
                    data: i.data.clone(),
                    shape: new_shape,
                })]),
            }
        }
        Op::Concat { axis: a } => {
            let values: Vec<&Value> = inputs.iter().flatten().collect();
            if values.is_empty() {
                return Err("nothing to concatenate".into());
            }
            if values.iter().all(|v| matches!(v, Value::Int(_))) {
                let mut data = Vec::new();
                for v in &values {
                    let i = v.ints("input")?;
                    if i.shape.len() > 1 {
                        return Err(
                            "integer tensors of more than one axis are not concatenated".into()
                        );
                    }
                    data.extend(i.data);
                }
                return Ok(vec![Value::Int(Ints::vector(data))]);
            }
            let vars: Vec<Var> = values.iter().map(|v| v.float()).collect();
            let k = axis(*a, vars[0].ndim())?;
            one(Var::concat(&vars.iter().collect::<Vec<_>>(), k))
        }
        Op::Gather { axis: a } => {
            let data = input(inputs, 0, "data")?;
            let indices = input(inputs, 1, "indices")?.ints("indices")?;
            let shape = data.shape();
            let k = axis(*a, shape.len())?;
            let n = shape[k] as i64;
            let picked: Vec<usize> = indices
                .data
                .iter()
                .map(|&i| {
                    let j = if i < 0 { i + n } else { i };
                    usize::try_from(j)
                        .ok()
                        .filter(|&j| j < shape[k])
                        .ok_or_else(|| {
                            format!("index {i} is out of range for axis {k} of {shape:?}")
                        })
                })
                .collect::<Result<_, _>>()?;
            match data {
                Value::Int(i) => {
                    if i.shape.len() != 1 {
                        return Err("only 1-D integer tensors are gathered".into());
                    }
                    let values = picked.iter().map(|&j| i.data[j]).collect();
                    Ok(vec![Value::Int(Ints {
                        data: values,
                        shape: indices.shape.clone(),
                    })])
                }
                Value::Float(v) => {
                    if indices.shape.is_empty() {
                        return one(v.select(k, picked[0]));
                    }
                    let y = v.index_select(k, &picked);
                    let mut out_shape = shape[..k].to_vec();
                    out_shape.extend(&indices.shape);
                    out_shape.extend(&shape[k + 1..]);
                    one(y.reshape(&out_shape))
                }
            }
        }
        Op::Shape { start, end } => {
            let shape = input(inputs, 0, "data")?.shape();
            let r = shape.len() as i64;
            let clampi = |x: i64| (if x < 0 { x + r } else { x }).clamp(0, r) as usize;
            let (s, e) = (clampi(*start), clampi(end.unwrap_or(r)));
            let dims = shape[s..e.max(s)].iter().map(|&d| d as i64).collect();
            Ok(vec![Value::Int(Ints::vector(dims))])
        }
        Op::Slice => {
            let data = input(inputs, 0, "data")?;
            let starts = input(inputs, 1, "starts")?.ints("starts")?.data;
            let ends = input(inputs, 2, "ends")?.ints("ends")?.data;
            let shape = data.shape();
            let axes: Vec<usize> = match optional(inputs, 3) {
                Some(a) => a
                    .ints("axes")?
                    .data
                    .iter()
                    .map(|&k| axis(k, shape.len()))
                    .collect::<Result<_, _>>()?,
                None => (0..starts.len()).collect(),
            };
            let steps = match optional(inputs, 4) {
                Some(s) => s.ints("steps")?.data,
                None => vec![1; starts.len()],
            };
            if starts.len() != ends.len()
                || axes.len() != starts.len()
                || steps.len() != starts.len()
            {
                return Err("starts, ends, axes and steps differ in length".into());
            }
            if steps.iter().any(|&s| s != 1) {
                return Err(format!("steps {steps:?}: only step 1 is supported"));
            }
            let mut ranges = Vec::new();
            for ((&k, &s), &e) in axes.iter().zip(&starts).zip(&ends) {
                let n = shape[k] as i64;
                let c = |x: i64| (if x < 0 { x + n } else { x }).clamp(0, n) as usize;
                let (s, e) = (c(s), c(e));
                ranges.push((k, s, e.max(s) - s));
            }
            match data {
                Value::Float(v) => {
                    let mut y = v.clone();
                    for (k, s, len) in ranges {
                        y = y.narrow(k, s, len);
                    }
                    one(y)
                }
                Value::Int(i) => {
                    if i.shape.len() != 1 {
                        return Err("only 1-D integer tensors are sliced".into());
                    }
                    let (_, s, len) = ranges[0];
                    Ok(vec![Value::Int(Ints::vector(i.data[s..s + len].to_vec()))])
                }
            }
        }
        Op::Expand => {
            let x = input(inputs, 0, "input")?.float();
            let target = input(inputs, 1, "shape")?.ints("shape")?;
            let target: Vec<usize> = target.data.iter().map(|&d| d.max(0) as usize).collect();
            let shape = broadcast(x.shape(), &target)?;
            one(x.broadcast_to(&shape).reshape(&shape))
        }
        Op::ConstantOfShape { value } => {
            let shape = input(inputs, 0, "input")?.ints("input")?;
            let dims: Vec<usize> = shape.data.iter().map(|&d| d.max(0) as usize).collect();
            one(Var::constant(Tensor::full(&dims, *value)))
        }
        Op::Constant(c) => Ok(vec![constant_value(c)]),
        Op::Cast { to_float } => {
            let x = input(inputs, 0, "input")?;
            Ok(vec![if *to_float {
                Value::Float(x.float())
            } else {
                Value::Int(x.ints("input")?)
            }])
        }
        Op::Lstm(spec) => recurrent(inputs, spec, true),
        Op::Gru(spec) => recurrent(inputs, spec, false),
    }
}

fn four_d(v: &Value) -> Result<Var, String> {
    let x = v.float();
    if x.ndim() == 4 {
        Ok(x)
    } else {
        Err(format!("input {:?} is not [N, C, H, W]", x.shape()))
    }
}

fn unary(u: Unary, x: &Var) -> Var {
    match u {
        Unary::Relu => x.relu(),
        Unary::Tanh => x.tanh(),
        Unary::Sigmoid => x.sigmoid(),
        Unary::Erf => x.erf(),
        Unary::Exp => x.exp(),
        Unary::Log => x.ln(),
        Unary::Neg => x.neg(),
        Unary::Abs => x.abs(),
        Unary::Sqrt => x.sqrt(),
        Unary::Softplus => x.softplus(),
        Unary::LeakyRelu(alpha) => x.leaky_relu(alpha),
        Unary::Elu(alpha) => x.elu(alpha),
        Unary::Selu { alpha, gamma } => x.elu(alpha).mul_scalar(gamma),
        Unary::Gelu { tanh: false } => x.gelu(),
        Unary::Gelu { tanh: true } => x.gelu_tanh(),
    }
}

fn binary(op: Binary, a: &Value, b: &Value) -> Outcome {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let n = x.data.len().max(y.data.len());
        if !(x.data.len() == y.data.len() || x.data.len() == 1 || y.data.len() == 1) {
            return Err(format!(
                "integer operands {:?} and {:?} do not broadcast",
                x.shape, y.shape
            ));
        }
        let at = |v: &Ints, i: usize| v.data[if v.data.len() == 1 { 0 } else { i }];
        let data = (0..n)
            .map(|i| {
                let (p, q) = (at(x, i), at(y, i));
                match op {
                    Binary::Add => Ok(p + q),
                    Binary::Sub => Ok(p - q),
                    Binary::Mul => Ok(p * q),
                    Binary::Div if q != 0 => Ok(p.div_euclid(q)),
                    Binary::Div => Err("integer division by zero".to_string()),
                    Binary::Pow => Ok(p.pow(q.clamp(0, 62) as u32)),
                }
            })
            .collect::<Result<_, _>>()?;
        let shape = if x.data.len() >= y.data.len() {
            x.shape.clone()
        } else {
            y.shape.clone()
        };
        return Ok(vec![Value::Int(Ints { data, shape })]);
    }
    let (x, y) = (a.float(), b.float());
    broadcast(x.shape(), y.shape())?;
    one(match op {
        Binary::Add => x.add(&y),
        Binary::Sub => x.sub(&y),
        Binary::Mul => x.mul(&y),
        Binary::Div => x.div(&y),
        Binary::Pow => x.pow(&y),
    })
}

/// NumPy broadcasting of two shapes, or why they do not broadcast.
fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() >= n {
            s[i + s.len() - n]
        } else {
            1
        }
    };
    (0..n)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            (x, y) => Err(format!(
                "shapes {a:?} and {b:?} do not broadcast ({x} vs {y})"
            )),
        })
        .collect()
}

/// The dimensions `Reshape` gives `shape` for a target with `0` (copy, unless `allow_zero`)
/// and one `-1` (inferred).
fn reshaped(shape: &[usize], target: &[i64], allow_zero: bool) -> Result<Vec<usize>, String> {
    let numel: usize = shape.iter().product();
    let mut dims = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                dims.push(1);
            }
            0 if !allow_zero => dims.push(
                *shape
                    .get(i)
                    .ok_or_else(|| format!("0 at {i} copies no dimension of {shape:?}"))?,
            ),
            d if d >= 0 => dims.push(d as usize),
            d => return Err(format!("target shape {target:?} has {d}")),
        }
    }
    let known: usize = dims.iter().product();
    if let Some(i) = infer {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(format!("cannot reshape {shape:?} to {target:?}"));
        }
        dims[i] = numel / known;
    } else if known != numel {
        return Err(format!(
            "cannot reshape {shape:?} ({numel} elements) to {target:?}"
        ));
    }
    Ok(dims)
}

/// ONNX LSTM (gates `i, o, f, c`) or GRU (gates `z, r, h`, `linear_before_reset = 1`) with one
/// direction, run by Strata's fused sequence ops after reordering the weight blocks to
/// PyTorch's `i, f, g, o` / `r, z, n`. Outputs `Y [T, 1, N, H]`, `Y_h [1, N, H]` (and `Y_c`),
/// or the batch-first layout.
fn recurrent(inputs: &[Option<Value>], spec: &RecurrentSpec, lstm: bool) -> Outcome {
    let gates = if lstm { 4 } else { 3 };
    let h = spec.hidden_size;
    let mut x = input(inputs, 0, "X")?.float();
    let w = input(inputs, 1, "W")?.float();
    let r = input(inputs, 2, "R")?.float();
    if x.ndim() != 3 {
        return Err(format!("X {:?} is not 3-D", x.shape()));
    }
    if spec.batch_first {
        x = x.permute(&[1, 0, 2]);
    }
    let (n, features) = (x.shape()[1], x.shape()[2]);
    if w.shape() != [1, gates * h, features] || r.shape() != [1, gates * h, h] {
        return Err(format!(
            "W {:?} and R {:?} do not fit {features} inputs and hidden size {h} in one direction \
             (bidirectional layers are not supported)",
            w.shape(),
            r.shape()
        ));
    }
    if optional(inputs, 4).is_some() {
        return Err("sequence_lens is not supported (all sequences run the full length)".into());
    }
    if lstm && optional(inputs, 7).is_some() {
        return Err("peephole weights P are not supported".into());
    }
    // ONNX block k of the weights goes to PyTorch block order[k].
    let order: &[usize] = if lstm { &[0, 2, 3, 1] } else { &[1, 0, 2] };
    let reorder = |m: &Var| -> Var {
        let blocks: Vec<Var> = order.iter().map(|&b| m.narrow(0, b * h, h)).collect();
        Var::concat(&blocks.iter().collect::<Vec<_>>(), 0)
    };
    let w_ih = reorder(&w.squeeze(0));
    let w_hh = reorder(&r.squeeze(0));
    let (b_ih, b_hh) = match optional(inputs, 3) {
        Some(b) => {
            let b = b.float();
            if b.shape() != [1, 2 * gates * h] {
                return Err(format!("B {:?} is not [1, {}]", b.shape(), 2 * gates * h));
            }
            let b = b.squeeze(0);
            (
                Some(reorder(&b.narrow(0, 0, gates * h))),
                Some(reorder(&b.narrow(0, gates * h, gates * h))),
            )
        }
        None => (None, None),
    };
    let state = |i: usize| -> Result<Var, String> {
        match optional(inputs, i) {
            Some(s) => {
                let s = s.float();
                let s = if spec.batch_first {
                    s.permute(&[1, 0, 2])
                } else {
                    s
                };
                if s.shape() != [1, n, h] {
                    return Err(format!(
                        "initial state {:?} is not [1, {n}, {h}]",
                        s.shape()
                    ));
                }
                Ok(s.squeeze(0))
            }
            None => Ok(Var::constant(Tensor::zeros(&[n, h]))),
        }
    };
    let h0 = state(5)?;
    let (out, finals) = if lstm {
        let c0 = state(6)?;
        let (out, h_n, c_n) = x.lstm_sequence(
            &h0,
            &c0,
            &w_ih,
            &w_hh,
            b_ih.as_ref(),
            b_hh.as_ref(),
            spec.reverse,
        );
        (out, vec![h_n, c_n])
    } else {
        let (out, h_n) = x.gru_sequence(
            &h0,
            &w_ih,
            &w_hh,
            b_ih.as_ref(),
            b_hh.as_ref(),
            spec.reverse,
        );
        (out, vec![h_n])
    };
    let y = if spec.batch_first {
        out.permute(&[1, 0, 2]).unsqueeze(2)
    } else {
        out.unsqueeze(1)
    };
    let mut outputs = vec![Value::Float(y)];
    for s in finals {
        outputs.push(Value::Float(if spec.batch_first {
            s.unsqueeze(1)
        } else {
            s.unsqueeze(0)
        }));
    }
    Ok(outputs)
}
