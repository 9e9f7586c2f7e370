//! The protocol-buffer messages of a TensorBoard event file, as `prost` types: the subset of
//! TensorFlow's `event.proto`, `summary.proto`, `tensor.proto` and `tensor_shape.proto` that
//! scalars, images, histograms and text need, with the original field numbers (fields not
//! listed here are skipped when a file written by another program is read).
//!
//! An event file is a sequence of [`Event`]s: the first carries the file version
//! (`"brain.Event:2"`), the others a [`Summary`] of tagged values at a step.

/// One record of an event file: a wall-clock time, a step and what happened.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch when the event was written.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The training step (or epoch) the values belong to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// The payload.
    #[prost(oneof = "event::What", tags = "3, 5, 7")]
    pub what: Option<event::What>,
}

/// The payloads of an [`Event`].
pub mod event {
    /// What an [`Event`](super::Event) carries.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum What {
        /// The file format version, `"brain.Event:2"`, in the first event of a file.
        #[prost(string, tag = "3")]
        FileVersion(String),
        /// Tagged values.
        #[prost(message, tag = "5")]
        Summary(super::Summary),
        /// A session marker (start, stop, checkpoint).
        #[prost(message, tag = "7")]
        SessionLog(super::SessionLog),
    }
}

/// A session marker. TensorBoard drops every earlier value at or after the step of a `START`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionLog {
    /// [`SessionStatus`] as its number.
    #[prost(enumeration = "SessionStatus", tag = "1")]
    pub status: i32,
    /// Path of a checkpoint (for `CHECKPOINT`).
    #[prost(string, tag = "2")]
    pub checkpoint_path: String,
    /// A message.
    #[prost(string, tag = "3")]
    pub msg: String,
}

/// The status of a [`SessionLog`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SessionStatus {
    /// Not set.
    Unspecified = 0,
    /// A (re)start.
    Start = 1,
    /// A stop.
    Stop = 2,
    /// A checkpoint was written.
    Checkpoint = 3,
}

/// A set of tagged values at one step.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<summary::Value>,
}

/// The parts of a [`Summary`].
pub mod summary {
    /// One tagged value: a scalar, an image, a histogram or a tensor (text, plugin data).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        /// The series name (`"train/loss"`).
        #[prost(string, tag = "1")]
        pub tag: String,
        /// Which plugin reads the value, and its own data.
        #[prost(message, optional, tag = "9")]
        pub metadata: Option<super::SummaryMetadata>,
        /// The value itself (none for the hyper-parameter markers, whose data is in `metadata`).
        #[prost(oneof = "value::Kind", tags = "2, 4, 5, 8")]
        pub value: Option<value::Kind>,
    }

    /// The kinds of [`Value`].
    pub mod value {
        /// What a [`Value`](super::Value) holds.
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Kind {
            /// A scalar (single precision, as TensorBoard stores it).
            #[prost(float, tag = "2")]
            SimpleValue(f32),
            /// An encoded (PNG) image.
            #[prost(message, tag = "4")]
            Image(super::Image),
            /// A histogram.
            #[prost(message, tag = "5")]
            Histo(super::super::HistogramProto),
            /// A tensor (text is a string tensor read by the `text` plugin).
            #[prost(message, tag = "8")]
            Tensor(super::super::TensorProto),
        }
    }

    /// An encoded image.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Image {
        /// Height in pixels.
        #[prost(int32, tag = "1")]
        pub height: i32,
        /// Width in pixels.
        #[prost(int32, tag = "2")]
        pub width: i32,
        /// Channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
        #[prost(int32, tag = "3")]
        pub colorspace: i32,
        /// The PNG file's bytes.
        #[prost(bytes = "vec", tag = "4")]
        pub encoded_image_string: Vec<u8>,
    }
}

/// A histogram: bucket `i` counts the values in `(bucket_limit[i-1], bucket_limit[i]]`
/// (the first from −∞).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistogramProto {
    /// Smallest value.
    #[prost(double, tag = "1")]
    pub min: f64,
    /// Largest value.
    #[prost(double, tag = "2")]
    pub max: f64,
    /// Number of values.
    #[prost(double, tag = "3")]
    pub num: f64,
    /// Σ x.
    #[prost(double, tag = "4")]
    pub sum: f64,
    /// Σ x².
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    /// Right edge of each bucket, increasing.
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    /// Count of each bucket.
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// Which plugin reads a value, and the plugin's own data.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The plugin.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    /// A display name.
    #[prost(string, tag = "2")]
    pub display_name: String,
    /// A description (Markdown).
    #[prost(string, tag = "3")]
    pub summary_description: String,
    /// The data class: 0 unknown, 1 scalar, 2 tensor, 3 blob sequence.
    #[prost(int32, tag = "4")]
    pub data_class: i32,
}

/// A plugin's name and data.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// `"text"`, `"hparams"`, …
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// The plugin's own serialized data.
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// A tensor; Strata writes string tensors (text).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// The element type (7 = string).
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// Single-precision elements.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// Double-precision elements.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    /// String elements.
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// The string element type of a [`TensorProto`] (`DT_STRING`).
pub const DT_STRING: i32 = 7;

/// A tensor's shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// One dimension of a [`TensorShapeProto`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dim {
    /// Its size.
    #[prost(int64, tag = "1")]
    pub size: i64,
}
