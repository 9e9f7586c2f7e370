//! The protocol-buffer messages of an ONNX model file, as `prost` types: the subset of
//! `onnx.proto` (IR version 8 and later) that dense inference graphs need, with the original
//! field numbers. Fields not listed here (sparse tensors, training info, functions, device
//! configurations) are skipped when a file written by another program is read.
//!
//! A model is a [`ModelProto`] holding one [`GraphProto`]: [`NodeProto`]s in topological order,
//! weights as [`TensorProto`] initializers, and typed [`ValueInfoProto`] inputs and outputs.

/// A whole model: format version, operator sets, producer and the graph.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    /// The IR version the file follows (8 for opset 17).
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// The operator sets the graph uses (the default domain `""` at least).
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// The program that wrote the file.
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// Its version.
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// Reverse-DNS namespace of the model.
    #[prost(string, tag = "4")]
    pub domain: String,
    /// The model's own version.
    #[prost(int64, tag = "5")]
    pub model_version: i64,
    /// Free text.
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// The computation.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Key–value metadata (Strata writes `strata_version` and `model`).
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// An operator set: a domain and its version.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    /// `""` (or `"ai.onnx"`) for the standard operators.
    #[prost(string, tag = "1")]
    pub domain: String,
    /// The opset version, e.g. 17.
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// A key and a value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringStringEntryProto {
    /// The key.
    #[prost(string, tag = "1")]
    pub key: String,
    /// The value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A graph: nodes, weights, inputs and outputs.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    /// The nodes, in topological order.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// The graph's name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Constant tensors (the weights), referenced by name.
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Free text.
    #[prost(string, tag = "10")]
    pub doc_string: String,
    /// The graph's inputs (older files also list the initializers here).
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// The graph's outputs.
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
    /// Types of intermediate values (optional).
    #[prost(message, repeated, tag = "13")]
    pub value_info: Vec<ValueInfoProto>,
}

/// One operator application: `outputs = op_type(inputs; attributes)`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    /// Names of the input values (`""` for an omitted optional input).
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Names of the output values.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// The node's name.
    #[prost(string, tag = "3")]
    pub name: String,
    /// The operator, e.g. `"Conv"`.
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// The operator's domain (`""` for the standard set).
    #[prost(string, tag = "7")]
    pub domain: String,
    /// The operator's attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    /// Free text.
    #[prost(string, tag = "6")]
    pub doc_string: String,
}

/// A named attribute of a node: one float, int, string or tensor, or a list of them.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// The attribute's name, e.g. `"kernel_shape"`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Which of the value fields is used ([`AttributeType`] as its number).
    #[prost(enumeration = "AttributeType", tag = "20")]
    pub r#type: i32,
    /// A float value.
    #[prost(float, tag = "2")]
    pub f: f32,
    /// An integer value.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// A string value (UTF-8 bytes).
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    /// A tensor value.
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// A list of floats.
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    /// A list of integers.
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// A list of strings.
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
}

/// The kinds of attribute value (the subset Strata reads and writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AttributeType {
    /// Not set.
    Undefined = 0,
    /// `f`.
    Float = 1,
    /// `i`.
    Int = 2,
    /// `s`.
    String = 3,
    /// `t`.
    Tensor = 4,
    /// A subgraph (not supported by Strata).
    Graph = 5,
    /// `floats`.
    Floats = 6,
    /// `ints`.
    Ints = 7,
    /// `strings`.
    Strings = 8,
}

/// A dense tensor: element type, dimensions and data (raw little-endian bytes or a typed list).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// The dimensions (empty for a scalar).
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// The element type ([`DataType`] as its number).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// `FLOAT` data as a list (when not in `raw_data`).
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// `INT32` (and narrower integer) data as a list.
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    /// `INT64` data as a list.
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// The tensor's name (an initializer's name is the value it defines).
    #[prost(string, tag = "8")]
    pub name: String,
    /// The data as little-endian bytes, row-major.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
    /// `DOUBLE` data as a list.
    #[prost(double, repeated, tag = "10")]
    pub double_data: Vec<f64>,
    /// Where the data lives when not in this file (not supported by Strata).
    #[prost(message, repeated, tag = "13")]
    pub external_data: Vec<StringStringEntryProto>,
    /// `0` for data in this file, `1` for external data.
    #[prost(int32, tag = "14")]
    pub data_location: i32,
}

/// Element types of a [`TensorProto`] (the subset Strata reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    /// Not set.
    Undefined = 0,
    /// `f32`.
    Float = 1,
    /// `u8`.
    Uint8 = 2,
    /// `i8`.
    Int8 = 3,
    /// `i32`.
    Int32 = 6,
    /// `i64`.
    Int64 = 7,
    /// `bool`.
    Bool = 9,
    /// `f16`.
    Float16 = 10,
    /// `f64`.
    Double = 11,
    /// `bf16`.
    Bfloat16 = 16,
}

/// A named, typed value: a graph input or output.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    /// The value's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    /// Free text.
    #[prost(string, tag = "3")]
    pub doc_string: String,
}

/// The type of a value (only tensors are supported by Strata).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProto {
    /// A tensor type.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
    /// Free text naming the meaning of the value.
    #[prost(string, tag = "6")]
    pub denotation: String,
}

/// A tensor type: element type and (possibly symbolic) shape (`TypeProto.Tensor`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorTypeProto {
    /// The element type ([`DataType`] as its number).
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// The shape, if known.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// A shape whose dimensions are numbers or names (a name such as `"N"` is a dynamic
/// dimension).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// One dimension of a [`TensorShapeProto`] (`TensorShapeProto.Dimension`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dimension {
    /// A fixed size or a name.
    #[prost(oneof = "dimension::Value", tags = "1, 2")]
    pub value: Option<dimension::Value>,
}

/// The values of a [`Dimension`].
pub mod dimension {
    /// A fixed size or a symbolic name.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// A fixed size.
        #[prost(int64, tag = "1")]
        DimValue(i64),
        /// A name, e.g. `"N"` for a dynamic batch.
        #[prost(string, tag = "2")]
        DimParam(String),
    }
}
