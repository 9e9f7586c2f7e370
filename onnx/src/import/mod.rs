//! ONNX graphs to Strata modules.
//!
//! [`import`] checks a model (operator set, every node's operator and attributes, every
//! initializer) and returns an [`OnnxModule`]: a `Module` that runs the nodes in order with
//! Strata's differentiable operations. Weights — the initializers that feed a weight slot
//! (`Gemm`/`MatMul`/`Conv`/`ConvTranspose` operands, normalisation scales and shifts,
//! recurrent weights, `PRelu` slopes, non-scalar operands of elementwise arithmetic) — become
//! trainable [`Param`]s under their ONNX names (PyTorch's parameter paths when PyTorch wrote
//! the file); the other initializers (running statistics, shapes, scalars) are fixed buffers.
//! Evaluation semantics: `Dropout` is the identity and `BatchNormalization` uses its running
//! statistics, in training too (fine-tuning keeps them fixed).

mod eval;
mod ops;
mod tensor;

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use strata_autograd::{Param, Var, no_grad};
use strata_layers::Module;
use strata_tensor::Tensor;

pub use ops::SUPPORTED;
pub use tensor::{Constant, Ints};

use crate::OnnxError;
use crate::proto::{ModelProto, ValueInfoProto, dimension};
use eval::Value;
use ops::{Op, node_label, parse};

/// The operator-set versions Strata imports (the semantics of `Squeeze`, `Unsqueeze`,
/// `Softmax` and `Clip` changed up to 13).
pub const OPSETS: std::ops::RangeInclusive<i64> = 13..=22;

/// One parsed node.
#[derive(Clone, Debug)]
struct Node {
    label: String,
    op_type: String,
    op: Op,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

/// An imported ONNX graph as a Strata module (see [`import`](crate::import) for what becomes
/// a parameter and the evaluation semantics).
pub struct OnnxModule {
    nodes: Vec<Node>,
    params: Vec<(String, Param)>,
    buffers: Vec<(String, Tensor)>,
    ints: HashMap<String, Ints>,
    input: String,
    output: String,
    input_shape: Vec<Option<usize>>,
    source: ModelProto,
}

impl OnnxModule {
    /// The model as ONNX again, with the current values of its weights and buffers (after
    /// fine-tuning, say): the imported file with its float initializers replaced (as
    /// little-endian `FLOAT` data).
    pub fn to_onnx(&self) -> ModelProto {
        let mut model = self.source.clone();
        let values: HashMap<&str, &Tensor> = self
            .params
            .iter()
            .map(|(n, p)| (n.as_str(), p.value()))
            .chain(self.buffers.iter().map(|(n, t)| (n.as_str(), t)))
            .collect();
        if let Some(graph) = model.graph.as_mut() {
            for t in &mut graph.initializer {
                if let Some(v) = values.get(t.name.as_str()) {
                    *t = crate::builder::float_tensor(&t.name, v);
                }
            }
        }
        model
    }

    /// The graph input's declared shape (`None` for a symbolic dimension such as the batch).
    pub fn input_shape(&self) -> &[Option<usize>] {
        &self.input_shape
    }

    /// The operators of the nodes, in order.
    pub fn op_types(&self) -> Vec<&str> {
        self.nodes.iter().map(|n| n.op_type.as_str()).collect()
    }

    /// Runs the graph on `x`, naming the node whose operation fails.
    ///
    /// # Errors
    /// [`OnnxError::Invalid`] naming the node, its operator and what did not fit.
    pub fn run(&self, x: &Var) -> Result<Var, OnnxError> {
        let mut env: HashMap<&str, Value> = HashMap::new();
        env.insert(&self.input, Value::Float(x.clone()));
        for (name, p) in &self.params {
            env.insert(name, Value::Float(p.var()));
        }
        for (name, t) in &self.buffers {
            env.insert(name, Value::Float(Var::constant(t.clone())));
        }
        for (name, i) in &self.ints {
            env.insert(name, Value::Int(i.clone()));
        }
        for node in &self.nodes {
            let invalid = |reason: String| OnnxError::Invalid {
                node: node.label.clone(),
                op: node.op_type.clone(),
                reason,
            };
            let mut inputs = Vec::with_capacity(node.inputs.len());
            for name in &node.inputs {
                if name.is_empty() {
                    inputs.push(None);
                } else {
                    let v = env.get(name.as_str()).ok_or_else(|| {
                        invalid(format!("input {name:?} is not defined before this node"))
                    })?;
                    inputs.push(Some(v.clone()));
                }
            }
            // Strata's operations panic on shapes they cannot take; name the node instead.
            let outputs = catch_unwind(AssertUnwindSafe(|| eval::eval(&node.op, &inputs)))
                .map_err(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "the operation failed".to_string());
                    invalid(message)
                })?
                .map_err(invalid)?;
            for (name, value) in node.outputs.iter().zip(outputs) {
                if !name.is_empty() {
                    env.insert(name, value);
                }
            }
        }
        match env.remove(self.output.as_str()) {
            Some(Value::Float(y)) => Ok(y),
            Some(Value::Int(_)) => Err(OnnxError::Unsupported {
                what: format!("output {:?}", self.output),
                reason: "an integer output".into(),
            }),
            None => Err(OnnxError::Invalid {
                node: "output".into(),
                op: "graph".into(),
                reason: format!("no node computes the output {:?}", self.output),
            }),
        }
    }
}

impl Module for OnnxModule {
    /// Runs the graph.
    ///
    /// # Panics
    /// With the message of [`OnnxModule::run`]'s error (the node, its operator and the shapes)
    /// when the input does not fit the graph.
    fn forward(&mut self, x: &Var) -> Var {
        self.run(x).unwrap_or_else(|e| panic!("OnnxModule: {e}"))
    }

    fn params(&self) -> Vec<(String, &Param)> {
        self.params.iter().map(|(n, p)| (n.clone(), p)).collect()
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param)> {
        self.params
            .iter_mut()
            .map(|(n, p)| (n.clone(), p))
            .collect()
    }

    fn buffers(&self) -> Vec<(String, &Tensor)> {
        self.buffers.iter().map(|(n, t)| (n.clone(), t)).collect()
    }

    fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
        self.buffers
            .iter_mut()
            .map(|(n, t)| (n.clone(), t))
            .collect()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Whether input `slot` of an `op` node holds a weight (see [`import`]).
fn weight_slot(op: &Op, slot: usize, numel: usize) -> bool {
    match op {
        Op::Gemm { .. } | Op::Conv(_) | Op::ConvTranspose(_) => slot == 1 || slot == 2,
        Op::MatMul => true,
        Op::BatchNormalization { .. } | Op::LayerNormalization { .. } => slot == 1 || slot == 2,
        Op::Lstm(_) | Op::Gru(_) => (1..=3).contains(&slot),
        Op::PRelu => slot == 1,
        Op::Binary(_) => numel > 1,
        _ => false,
    }
}

/// Imports `model` as a runnable, trainable module.
///
/// Weights — the initializers that feed a weight slot (`Gemm`/`MatMul`/`Conv`/`ConvTranspose`
/// operands, normalisation scales and shifts, recurrent weights, `PRelu` slopes, non-scalar
/// operands of elementwise arithmetic) — become trainable parameters under their ONNX names
/// (PyTorch's parameter paths when PyTorch wrote the file); the other initializers (running
/// statistics, shapes, scalars) are fixed buffers. `Dropout` is the identity and
/// `BatchNormalization` uses its running statistics, in training too.
///
/// The model is checked first: the operator set,
/// every node (operator, attributes, that its inputs exist), every initializer, and — when the
/// input's shape is declared — one run on zeros (symbolic dimensions taken as 1), so a graph
/// whose shapes do not fit is refused here, naming the node.
///
/// # Errors
/// [`OnnxError::Unsupported`] for an opset outside [`OPSETS`] or a feature Strata does not run,
/// [`OnnxError::UnknownOp`] naming the first unsupported operator and its node,
/// [`OnnxError::Invalid`] for a malformed graph or shapes that do not fit, and
/// [`OnnxError::Decode`] for bad initializer data.
pub fn import(model: &ModelProto) -> Result<OnnxModule, OnnxError> {
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version);
    match opset {
        Some(v) if OPSETS.contains(&v) => {}
        other => {
            return Err(OnnxError::Unsupported {
                what: "the model".into(),
                reason: format!(
                    "operator set {} (Strata imports {}..={}; convert it with onnx.version_converter)",
                    other.map_or("none".to_string(), |v| v.to_string()),
                    OPSETS.start(),
                    OPSETS.end()
                ),
            });
        }
    }
    let graph = model.graph.as_ref().ok_or_else(|| OnnxError::Decode {
        what: "the model".into(),
        reason: "it has no graph".into(),
    })?;
    let nodes: Vec<Node> = graph
        .node
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Ok(Node {
                label: node_label(n, i),
                op_type: n.op_type.clone(),
                op: parse(n, i)?,
                inputs: n.input.clone(),
                outputs: n.output.clone(),
            })
        })
        .collect::<Result<_, OnnxError>>()?;
    // Initializers: weights, fixed float buffers, integer constants.
    let mut seen = HashSet::new();
    let mut weights: HashSet<&str> = HashSet::new();
    let numel: HashMap<&str, usize> = graph
        .initializer
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.dims.iter().map(|&d| d.max(0) as usize).product(),
            )
        })
        .collect();
    for node in &nodes {
        for (slot, name) in node.inputs.iter().enumerate() {
            if let Some(&n) = numel.get(name.as_str())
                && weight_slot(&node.op, slot, n)
            {
                weights.insert(name);
            }
        }
    }
    let (mut params, mut buffers, mut ints) = (Vec::new(), Vec::new(), HashMap::new());
    for t in &graph.initializer {
        if !seen.insert(t.name.as_str()) {
            return Err(OnnxError::Invalid {
                node: t.name.clone(),
                op: "initializer".into(),
                reason: "the name is given twice".into(),
            });
        }
        match tensor::constant(t, &format!("initializer {:?}", t.name))? {
            Constant::Float(v) if weights.contains(t.name.as_str()) => {
                params.push((t.name.clone(), Param::new(v)));
            }
            Constant::Float(v) => buffers.push((t.name.clone(), v)),
            Constant::Int(i) => {
                ints.insert(t.name.clone(), i);
            }
        }
    }
    // The one real input: the first graph input that no initializer defines.
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|v| !seen.contains(v.name.as_str()))
        .collect();
    let (input, output) = match (inputs.as_slice(), graph.output.as_slice()) {
        ([input], [output]) => (*input, output),
        (i, o) => {
            return Err(OnnxError::Unsupported {
                what: "the graph".into(),
                reason: format!(
                    "{} inputs and {} outputs (Strata modules take one and give one)",
                    i.len(),
                    o.len()
                ),
            });
        }
    };
    let input_shape: Vec<Option<usize>> = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(dimension::Value::DimValue(v)) if *v > 0 => Some(*v as usize),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let module = OnnxModule {
        nodes,
        params,
        buffers,
        ints,
        input: input.name.clone(),
        output: output.name.clone(),
        input_shape,
        source: model.clone(),
    };
    if !module.input_shape.is_empty() {
        let probe: Vec<usize> = module.input_shape.iter().map(|d| d.unwrap_or(1)).collect();
        no_grad(|| module.run(&Var::constant(Tensor::zeros(&probe))))?;
    }
    Ok(module)
}
