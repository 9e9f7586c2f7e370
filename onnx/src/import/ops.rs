//! The operators Strata imports, parsed from nodes with their attributes checked.

use crate::OnnxError;
use crate::proto::{AttributeProto, NodeProto};

use super::tensor::{Constant, constant};

/// The operators [`import`](super::import) accepts, for messages.
pub const SUPPORTED: &str = "Abs, Add, AveragePool, BatchNormalization, Cast, Clip, Concat, \
    Constant, ConstantOfShape, Conv (1-D, 2-D), ConvTranspose (2-D), Div, Dropout, Elu, Erf, Exp, \
    Expand, Flatten, GRU, Gather, Gelu, Gemm, GlobalAveragePool, Identity, LSTM, \
    LayerNormalization, LeakyRelu, Log, LogSoftmax, MatMul, MaxPool, Mul, Neg, PRelu, Pow, \
    Relu, Reshape, Selu, Shape, Sigmoid, Slice, Softmax, Softplus, Sqrt, Squeeze, Sub, Tanh, \
    Transpose, Unsqueeze";

/// An elementwise function of one input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    Relu,
    Tanh,
    Sigmoid,
    Erf,
    Exp,
    Log,
    Neg,
    Abs,
    Sqrt,
    Softplus,
    LeakyRelu(f32),
    Elu(f32),
    /// `gamma·elu(x, alpha)`.
    Selu {
        alpha: f32,
        gamma: f32,
    },
    /// Exact (`"none"`) or tanh-approximated GELU.
    Gelu {
        tanh: bool,
    },
}

/// A broadcasting binary operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// Convolution settings, per spatial axis.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvSpec {
    pub strides: Vec<usize>,
    pub pads: Vec<usize>,
    pub dilations: Vec<usize>,
    pub group: usize,
    pub output_padding: Vec<usize>,
}

/// A recurrent layer's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrentSpec {
    pub hidden_size: usize,
    pub reverse: bool,
    pub batch_first: bool,
}

/// A parsed operator.
#[derive(Clone, Debug)]
pub enum Op {
    Identity,
    Unary(Unary),
    Binary(Binary),
    Clip,
    Softmax {
        axis: i64,
        log: bool,
    },
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    MatMul,
    Conv(ConvSpec),
    ConvTranspose(ConvSpec),
    MaxPool {
        kernel: Vec<usize>,
        spec: ConvSpec,
        ceil: bool,
    },
    AveragePool {
        kernel: Vec<usize>,
        spec: ConvSpec,
        ceil: bool,
        count_include_pad: bool,
    },
    GlobalAveragePool,
    BatchNormalization {
        epsilon: f32,
    },
    LayerNormalization {
        axis: i64,
        epsilon: f32,
    },
    PRelu,
    Flatten {
        axis: i64,
    },
    Reshape {
        allow_zero: bool,
    },
    Transpose {
        perm: Option<Vec<usize>>,
    },
    Squeeze,
    Unsqueeze,
    Concat {
        axis: i64,
    },
    Gather {
        axis: i64,
    },
    Shape {
        start: i64,
        end: Option<i64>,
    },
    Slice,
    Expand,
    ConstantOfShape {
        value: f32,
    },
    Constant(Constant),
    Cast {
        to_float: bool,
    },
    Lstm(RecurrentSpec),
    Gru(RecurrentSpec),
}

/// The node's name for messages (its index when unnamed).
pub fn node_label(node: &NodeProto, index: usize) -> String {
    if node.name.is_empty() {
        format!("#{index}")
    } else {
        node.name.clone()
    }
}

struct Attributes<'a> {
    node: &'a NodeProto,
    label: &'a str,
}

impl Attributes<'_> {
    fn get(&self, name: &str) -> Option<&AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    fn invalid(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::Invalid {
            node: self.label.to_string(),
            op: self.node.op_type.clone(),
            reason: reason.into(),
        }
    }

    fn unsupported(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::Unsupported {
            what: format!("node {:?} ({})", self.label, self.node.op_type),
            reason: reason.into(),
        }
    }

    fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }

    fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    fn ints(&self, name: &str) -> Option<&[i64]> {
        self.get(name).map(|a| a.ints.as_slice())
    }

    /// A list of non-negative sizes, or `default` when absent.
    fn sizes(&self, name: &str, default: Vec<usize>) -> Result<Vec<usize>, OnnxError> {
        match self.ints(name) {
            None => Ok(default),
            Some(v) => v
                .iter()
                .map(|&x| usize::try_from(x).map_err(|_| self.invalid(format!("{name} holds {x}"))))
                .collect(),
        }
    }

    /// Strides, pads (symmetric only), dilations and group for `k` spatial axes.
    fn conv_spec(&self, k: usize) -> Result<ConvSpec, OnnxError> {
        if let Some(pad) = self.string("auto_pad")
            && pad != "NOTSET"
            && !(pad == "VALID" && self.ints("pads").is_none())
        {
            return Err(self.unsupported(format!("auto_pad {pad} (give explicit pads)")));
        }
        let pads = self.sizes("pads", vec![0; 2 * k])?;
        if pads.len() != 2 * k || pads[..k] != pads[k..] {
            return Err(self.unsupported(format!(
                "pads {pads:?}: only the same padding at both ends of each of the {k} axes"
            )));
        }
        let spec = ConvSpec {
            strides: self.sizes("strides", vec![1; k])?,
            pads: pads[..k].to_vec(),
            dilations: self.sizes("dilations", vec![1; k])?,
            group: usize::try_from(self.int("group", 1))
                .map_err(|_| self.invalid("negative group"))?,
            output_padding: self.sizes("output_padding", vec![0; k])?,
        };
        if spec.strides.len() != k || spec.dilations.len() != k || spec.output_padding.len() != k {
            return Err(self.invalid(format!("attributes do not all have {k} axes: {spec:?}")));
        }
        if spec.strides.contains(&0) || spec.dilations.contains(&0) || spec.group == 0 {
            return Err(self.invalid(format!("zero stride, dilation or group: {spec:?}")));
        }
        Ok(spec)
    }

    fn recurrent(&self) -> Result<RecurrentSpec, OnnxError> {
        let hidden = self.int("hidden_size", 0);
        let hidden_size = usize::try_from(hidden)
            .ok()
            .filter(|&h| h > 0)
            .ok_or_else(|| self.invalid(format!("hidden_size {hidden}")))?;
        let reverse = match self.string("direction").as_deref() {
            None | Some("forward") => false,
            Some("reverse") => true,
            Some(other) => return Err(self.unsupported(format!("direction {other}"))),
        };
        if self.get("activations").is_some() || self.get("clip").is_some() {
            return Err(self.unsupported("custom activations or a cell clip"));
        }
        if self.int("input_forget", 0) != 0 {
            return Err(self.unsupported("input_forget = 1"));
        }
        Ok(RecurrentSpec {
            hidden_size,
            reverse,
            batch_first: self.int("layout", 0) == 1,
        })
    }
}

/// Parses node number `index`.
///
/// # Errors
/// [`OnnxError::UnknownOp`] for an operator outside [`SUPPORTED`] (or another domain),
/// [`OnnxError::Unsupported`] for an attribute value Strata does not run, and
/// [`OnnxError::Invalid`] for a malformed attribute.
pub fn parse(node: &NodeProto, index: usize) -> Result<Op, OnnxError> {
    let label = node_label(node, index);
    let a = Attributes {
        node,
        label: &label,
    };
    if !node.domain.is_empty() && node.domain != "ai.onnx" {
        return Err(OnnxError::UnknownOp {
            node: label,
            op: format!("{}::{}", node.domain, node.op_type),
            supported: SUPPORTED.to_string(),
        });
    }
    let op = match node.op_type.as_str() {
        "Identity" | "Dropout" => Op::Identity,
        "Relu" => Op::Unary(Unary::Relu),
        "Tanh" => Op::Unary(Unary::Tanh),
        "Sigmoid" => Op::Unary(Unary::Sigmoid),
        "Erf" => Op::Unary(Unary::Erf),
        "Exp" => Op::Unary(Unary::Exp),
        "Log" => Op::Unary(Unary::Log),
        "Neg" => Op::Unary(Unary::Neg),
        "Abs" => Op::Unary(Unary::Abs),
        "Sqrt" => Op::Unary(Unary::Sqrt),
        "Softplus" => Op::Unary(Unary::Softplus),
        "LeakyRelu" => Op::Unary(Unary::LeakyRelu(a.float("alpha", 0.01))),
        "Elu" => Op::Unary(Unary::Elu(a.float("alpha", 1.0))),
        "Selu" => Op::Unary(Unary::Selu {
            alpha: a.float("alpha", strata_tensor::SELU_ALPHA as f32),
            gamma: a.float("gamma", strata_tensor::SELU_SCALE as f32),
        }),
        "Gelu" => Op::Unary(Unary::Gelu {
            tanh: match a.string("approximate").as_deref() {
                None | Some("none") => false,
                Some("tanh") => true,
                Some(other) => return Err(a.unsupported(format!("approximate = {other}"))),
            },
        }),
        "Add" => Op::Binary(Binary::Add),
        "Sub" => Op::Binary(Binary::Sub),
        "Mul" => Op::Binary(Binary::Mul),
        "Div" => Op::Binary(Binary::Div),
        "Pow" => Op::Binary(Binary::Pow),
        "Clip" => Op::Clip,
        "Softmax" | "LogSoftmax" => Op::Softmax {
            axis: a.int("axis", -1),
            log: node.op_type == "LogSoftmax",
        },
        "Gemm" => Op::Gemm {
            alpha: a.float("alpha", 1.0),
            beta: a.float("beta", 1.0),
            trans_a: a.int("transA", 0) != 0,
            trans_b: a.int("transB", 0) != 0,
        },
        "MatMul" => Op::MatMul,
        "Conv" | "ConvTranspose" => {
            let kernel = a.ints("kernel_shape").map_or(2, <[i64]>::len);
            let k = if node.op_type == "Conv" { kernel } else { 2 };
            if !(1..=2).contains(&k) || (node.op_type == "ConvTranspose" && kernel != 2) {
                return Err(a.unsupported(format!("{kernel} spatial axes")));
            }
            if a.get("output_shape").is_some() {
                return Err(a.unsupported("output_shape (give output_padding)"));
            }
            let spec = a.conv_spec(k)?;
            if node.op_type == "Conv" {
                Op::Conv(spec)
            } else {
                Op::ConvTranspose(spec)
            }
        }
        "MaxPool" | "AveragePool" => {
            let kernel = a.sizes("kernel_shape", Vec::new())?;
            if kernel.len() != 2 || kernel.contains(&0) {
                return Err(a.unsupported(format!("kernel_shape {kernel:?}: 2-D pooling only")));
            }
            if a.int("storage_order", 0) != 0 {
                return Err(a.unsupported("storage_order = 1"));
            }
            let spec = a.conv_spec(2)?;
            let ceil = a.int("ceil_mode", 0) != 0;
            if node.op_type == "MaxPool" {
                if node.output.len() > 1 && !node.output[1].is_empty() {
                    return Err(a.unsupported("the Indices output"));
                }
                Op::MaxPool { kernel, spec, ceil }
            } else {
                Op::AveragePool {
                    kernel,
                    spec,
                    ceil,
                    count_include_pad: a.int("count_include_pad", 0) != 0,
                }
            }
        }
        "GlobalAveragePool" => Op::GlobalAveragePool,
        "BatchNormalization" => {
            if a.int("training_mode", 0) != 0 {
                return Err(a.unsupported("training_mode = 1 (inference graphs only)"));
            }
            Op::BatchNormalization {
                epsilon: a.float("epsilon", 1e-5),
            }
        }
        "LayerNormalization" => {
            if a.int("stash_type", 1) != 1 {
                return Err(a.unsupported("stash_type other than float"));
            }
            Op::LayerNormalization {
                axis: a.int("axis", -1),
                epsilon: a.float("epsilon", 1e-5),
            }
        }
        "PRelu" => Op::PRelu,
        "Flatten" => Op::Flatten {
            axis: a.int("axis", 1),
        },
        "Reshape" => Op::Reshape {
            allow_zero: a.int("allowzero", 0) != 0,
        },
        "Transpose" => Op::Transpose {
            perm: a
                .ints("perm")
                .map(|_| a.sizes("perm", Vec::new()))
                .transpose()?,
        },
        "Squeeze" => Op::Squeeze,
        "Unsqueeze" => Op::Unsqueeze,
        "Concat" => Op::Concat {
            axis: a
                .get("axis")
                .map(|x| x.i)
                .ok_or_else(|| a.invalid("no axis"))?,
        },
        "Gather" => Op::Gather {
            axis: a.int("axis", 0),
        },
        "Shape" => Op::Shape {
            start: a.int("start", 0),
            end: a.get("end").map(|x| x.i),
        },
        "Slice" => Op::Slice,
        "Expand" => Op::Expand,
        "ConstantOfShape" => Op::ConstantOfShape {
            value: match a.get("value").and_then(|v| v.t.as_ref()) {
                None => 0.0,
                Some(t) => match constant(t, &format!("node {label:?} value"))? {
                    Constant::Float(v) if v.numel() == 1 => v.to_vec()[0],
                    Constant::Int(v) if v.data.len() == 1 => v.data[0] as f32,
                    _ => return Err(a.invalid("value is not one element")),
                },
            },
        },
        "Constant" => {
            let value = if let Some(t) = a.get("value").and_then(|v| v.t.as_ref()) {
                constant(t, &format!("node {label:?} value"))?
            } else if let Some(v) = a.get("value_float") {
                Constant::Float(strata_tensor::Tensor::scalar(v.f))
            } else if let Some(v) = a.get("value_floats") {
                Constant::Float(strata_tensor::Tensor::from_vec(
                    v.floats.clone(),
                    &[v.floats.len()],
                ))
            } else if let Some(v) = a.get("value_int") {
                Constant::Int(super::tensor::Ints {
                    data: vec![v.i],
                    shape: Vec::new(),
                })
            } else if let Some(v) = a.get("value_ints") {
                Constant::Int(super::tensor::Ints::vector(v.ints.clone()))
            } else {
                return Err(a.unsupported("a constant that is not a dense tensor, float or int"));
            };
            Op::Constant(value)
        }
        "Cast" => Op::Cast {
            to_float: match a.int("to", 1) {
                1 | 10 | 11 | 16 => true,
                2..=7 | 9 | 12 | 13 => false,
                other => return Err(a.unsupported(format!("cast to element type {other}"))),
            },
        },
        "LSTM" => Op::Lstm(a.recurrent()?),
        "GRU" => {
            if a.int("linear_before_reset", 0) != 1 {
                return Err(a.unsupported(
                    "linear_before_reset = 0 (PyTorch's GRU, and Strata's, apply the reset after the linear map: 1)",
                ));
            }
            Op::Gru(a.recurrent()?)
        }
        other => {
            return Err(OnnxError::UnknownOp {
                node: label,
                op: other.to_string(),
                supported: SUPPORTED.to_string(),
            });
        }
    };
    Ok(op)
}
