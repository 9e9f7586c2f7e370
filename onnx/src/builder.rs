//! A graph under construction: nodes, named weights, constants and unique value names.

use strata_tensor::Tensor;

use crate::proto::{AttributeProto, AttributeType, DataType, GraphProto, NodeProto, TensorProto};

/// Nodes and initializers appended in order, with value names that never collide.
#[derive(Default)]
pub struct GraphBuilder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    next: usize,
}

/// An attribute value for [`GraphBuilder::node`].
#[derive(Clone, Debug)]
pub enum Attr {
    /// One integer.
    Int(i64),
    /// One float.
    Float(f32),
    /// A list of integers.
    Ints(Vec<i64>),
    /// A string.
    Str(String),
}

impl GraphBuilder {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh value name `hint_k`, `k` counting every name this graph has handed out (so
    /// unique in the graph).
    pub fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    /// Appends node `op_type(inputs; attributes)` named `name`, with one output, and returns
    /// the output's name.
    pub fn node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        attributes: &[(&str, Attr)],
    ) -> String {
        let output = self.fresh(&format!("{name}_{}", op_type.to_lowercase()));
        self.node_with_outputs(op_type, name, inputs, &[&output], attributes);
        output
    }

    /// Appends a node with the given output names (`""` for an omitted optional output).
    pub fn node_with_outputs(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: &[(&str, Attr)],
    ) {
        let node_name = if name.is_empty() {
            format!("{op_type}_{}", self.nodes.len())
        } else {
            format!("{name}/{op_type}_{}", self.nodes.len())
        };
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: node_name,
            op_type: op_type.to_string(),
            domain: String::new(),
            attribute: attributes.iter().map(|(k, v)| attribute(k, v)).collect(),
            doc_string: String::new(),
        });
    }

    /// Adds a float initializer named `name` (a parameter path such as `features.0.weight`)
    /// and returns the name.
    pub fn weight(&mut self, name: &str, value: &Tensor) -> String {
        self.initializers.push(float_tensor(name, value));
        name.to_string()
    }

    /// Adds a float constant of `shape` with a fresh name and returns the name.
    pub fn constant(&mut self, hint: &str, values: &[f32], shape: &[usize]) -> String {
        let name = self.fresh(hint);
        self.initializers.push(float_tensor(
            &name,
            &Tensor::from_vec(values.to_vec(), shape),
        ));
        name
    }

    /// Adds an int64 constant (a shape, axes) with a fresh name and returns the name.
    pub fn int_constant(&mut self, hint: &str, values: &[i64]) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type: DataType::Int64 as i32,
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            name: name.clone(),
            ..Default::default()
        });
        name
    }

    /// The finished graph (inputs and outputs are set by the caller).
    pub fn finish(self, name: &str) -> GraphProto {
        GraphProto {
            node: self.nodes,
            name: name.to_string(),
            initializer: self.initializers,
            ..Default::default()
        }
    }
}

/// `value` as an ONNX `FLOAT` tensor named `name` (raw little-endian data).
pub fn float_tensor(name: &str, value: &Tensor) -> TensorProto {
    TensorProto {
        dims: value.shape().iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: value
            .to_vec()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        name: name.to_string(),
        ..Default::default()
    }
}

fn attribute(name: &str, value: &Attr) -> AttributeProto {
    let mut a = AttributeProto {
        name: name.to_string(),
        ..Default::default()
    };
    match value {
        Attr::Int(i) => {
            a.r#type = AttributeType::Int as i32;
            a.i = *i;
        }
        Attr::Float(f) => {
            a.r#type = AttributeType::Float as i32;
            a.f = *f;
        }
        Attr::Ints(v) => {
            a.r#type = AttributeType::Ints as i32;
            a.ints = v.clone();
        }
        Attr::Str(s) => {
            a.r#type = AttributeType::String as i32;
            a.s = s.as_bytes().to_vec();
        }
    }
    a
}
