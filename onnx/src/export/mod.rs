//! Strata modules to ONNX graphs (opset 17): layers from `strata-layers`, containers, and the
//! ready models of `strata-models`.
//!
//! The exporter walks the module tree (each module tells its type through
//! [`Module::as_any`]) and appends the ONNX operators that compute the same function in
//! evaluation mode: dropout is the identity and batch normalisation uses its running
//! statistics. Weights become initializers under their parameter paths (`features.0.weight`),
//! PyTorch's names; the batch dimension of the input and output is the symbolic `"N"`.

mod layers;
mod models;

use strata_autograd::no_grad;
use strata_layers::Module;
use strata_tensor::Tensor;

use crate::builder::GraphBuilder;
use crate::proto::{
    DataType, Dimension, ModelProto, OperatorSetIdProto, StringStringEntryProto, TensorShapeProto,
    TensorTypeProto, TypeProto, ValueInfoProto, dimension,
};
use crate::{OPSET, OnnxError};

/// A value flowing through the graph being built: its name and rank (batch included).
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    /// The ONNX value name.
    pub name: String,
    /// Number of dimensions, the batch dimension included.
    pub rank: usize,
}

impl Flow {
    fn to(&self, name: String) -> Flow {
        Flow {
            name,
            rank: self.rank,
        }
    }
}

/// `parent.child` (or `child` at the root).
pub(crate) fn join(parent: &str, child: impl std::fmt::Display) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// An export error for module `module` at `path`.
pub(crate) fn refuse(module: &str, path: &str, reason: impl Into<String>) -> OnnxError {
    OnnxError::Export {
        module: module.to_string(),
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Appends `module`'s computation on `x` to `g`; `path` is its parameter prefix.
pub(crate) fn export_module(
    module: &dyn Module,
    path: &str,
    g: &mut GraphBuilder,
    x: Flow,
) -> Result<Flow, OnnxError> {
    let Some(any) = module.as_any() else {
        return Err(refuse(
            module.type_name(),
            path,
            "the module does not say what it is (`Module::as_any` returns None); implement \
             it, or use `module_parts!`",
        ));
    };
    if let Some(y) = layers::export(any, path, g, &x)? {
        return Ok(y);
    }
    if let Some(y) = models::export(any, path, g, &x)? {
        return Ok(y);
    }
    Err(refuse(
        module.type_name(),
        path,
        "no ONNX form is known for this module type",
    ))
}

/// Exports `model`, which takes inputs of shape `[N, example_shape…]`, as an ONNX model named
/// `name` (opset 17, IR version 8): weights under their parameter paths, the batch dimension
/// `"N"` dynamic, metadata `strata_version` and `model`. The model runs once on zeros (in
/// evaluation mode, left there) to find the output shape.
///
/// # Errors
/// [`OnnxError::Export`] naming the module and its path when a part has no ONNX form (an
/// unknown module type, average pooling with `divisor_override`, batch norm without running
/// statistics, a multi-layer or bidirectional LSTM).
pub fn export(
    model: &mut dyn Module,
    example_shape: &[usize],
    name: &str,
) -> Result<ModelProto, OnnxError> {
    model.eval();
    let mut probe_shape = vec![1];
    probe_shape.extend_from_slice(example_shape);
    let output_shape = no_grad(|| model.predict(&Tensor::zeros(&probe_shape)))
        .shape()
        .to_vec();
    let mut g = GraphBuilder::new();
    let input = Flow {
        name: "input".to_string(),
        rank: probe_shape.len(),
    };
    let y = export_module(&*model, "", &mut g, input)?;
    // The graph's output is named "output".
    g.node_with_outputs("Identity", "output", &[&y.name], &["output"], &[]);
    let mut graph = g.finish(name);
    graph.input = vec![value_info("input", example_shape)];
    graph.output = vec![value_info("output", &output_shape[1..])];
    Ok(ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "strata".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        graph: Some(graph),
        metadata_props: vec![
            entry("strata_version", env!("CARGO_PKG_VERSION")),
            entry("model", name),
        ],
        ..Default::default()
    })
}

fn entry(key: &str, value: &str) -> StringStringEntryProto {
    StringStringEntryProto {
        key: key.to_string(),
        value: value.to_string(),
    }
}

/// A float tensor value `[N, dims…]` with a symbolic batch dimension.
fn value_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    let mut dim = vec![Dimension {
        value: Some(dimension::Value::DimParam("N".to_string())),
    }];
    dim.extend(dims.iter().map(|&d| Dimension {
        value: Some(dimension::Value::DimValue(d as i64)),
    }));
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            }),
            denotation: String::new(),
        }),
        doc_string: String::new(),
    }
}
