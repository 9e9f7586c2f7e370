//! Hyper-parameters for TensorBoard's HParams dashboard, so runs with different settings
//! compare in one table.
//!
//! A run records two summaries, each a value whose metadata names the `hparams` plugin and
//! carries an `HParamsPluginData` message: the session start (the run's values) and the
//! session end (its status). No experiment summary is written: TensorBoard then builds the
//! table from every run's values (the union of their names) and offers every scalar series of
//! the runs as a metric column. (An experiment summary would fix the columns to those of the
//! first run that wrote one, so runs with different settings could not be compared.)

use std::collections::BTreeMap;

use crate::proto::{PluginData, Summary, SummaryMetadata, summary};

/// Tag of the session-start summary.
pub const SESSION_START_TAG: &str = "_hparams_/session_start_info";
/// Tag of the session-end summary.
pub const SESSION_END_TAG: &str = "_hparams_/session_end_info";
/// The plugin's name.
pub const PLUGIN_NAME: &str = "hparams";

/// One hyper-parameter's value.
#[derive(Clone, Debug, PartialEq)]
pub enum HParam {
    /// A number (counts, rates, sizes).
    Number(f64),
    /// A name (optimizer, activation, data set).
    Text(String),
    /// A switch.
    Bool(bool),
}

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for HParam {
            fn from(v: $t) -> Self {
                HParam::Number(v as f64)
            }
        }
    )*};
}
number_from!(f64, f32, usize, u64, u32, i64, i32);

impl From<bool> for HParam {
    fn from(v: bool) -> Self {
        HParam::Bool(v)
    }
}

impl From<&str> for HParam {
    fn from(v: &str) -> Self {
        HParam::Text(v.to_string())
    }
}

impl From<String> for HParam {
    fn from(v: String) -> Self {
        HParam::Text(v)
    }
}

/// How a run ended, for the session-end summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Finished.
    Success = 1,
    /// Stopped by an error.
    Failure = 2,
    /// Still running.
    Running = 3,
}

/// The hyper-parameters of a run, by name.
///
/// ```
/// use strata_tensorboard::HParams;
///
/// let hp = HParams::new().with("learning_rate", 1e-3).with("optimizer", "adam");
/// assert_eq!(hp.values().len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HParams {
    values: BTreeMap<String, HParam>,
}

impl HParams {
    /// No hyper-parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (replacing an earlier value of the same name).
    pub fn with(mut self, name: &str, value: impl Into<HParam>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets `name` to `value` in place.
    pub fn insert(&mut self, name: &str, value: impl Into<HParam>) {
        self.values.insert(name.to_string(), value.into());
    }

    /// The values by name.
    pub fn values(&self) -> &BTreeMap<String, HParam> {
        &self.values
    }

    /// Adds every value of `other` (its values win).
    pub fn merge(&mut self, other: &HParams) {
        self.values
            .extend(other.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// The session-start summary (written once when a run starts).
    pub(crate) fn start_summary(&self, start_time: f64) -> Summary {
        let start = Data::SessionStartInfo(SessionStartInfo {
            hparams: self
                .values
                .iter()
                .map(|(k, v)| (k.clone(), ProtoValue::from(v)))
                .collect(),
            start_time_secs: start_time,
        });
        plugin_summary(SESSION_START_TAG, start)
    }
}

/// The session-end summary for a run that ended with `status` at `end_time`.
pub(crate) fn end_summary(status: RunStatus, end_time: f64) -> Summary {
    plugin_summary(
        SESSION_END_TAG,
        Data::SessionEndInfo(SessionEndInfo {
            status: status as i32,
            end_time_secs: end_time,
        }),
    )
}

/// A summary of one value tagged `tag` with no value of its own, whose metadata carries
/// `data` for the hparams plugin (as TensorBoard's and PyTorch's writers do).
fn plugin_summary(tag: &str, data: Data) -> Summary {
    let content = prost::Message::encode_to_vec(&HParamsPluginData {
        version: 0,
        data: Some(data),
    });
    Summary {
        value: vec![summary::Value {
            tag: tag.to_string(),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: PLUGIN_NAME.to_string(),
                    content,
                }),
                ..Default::default()
            }),
            value: None,
        }],
    }
}

// The plugin's own messages (tensorboard/plugins/hparams/{api,plugin_data}.proto), with their
// field numbers; only the fields Strata writes.

#[derive(Clone, PartialEq, prost::Message)]
struct HParamsPluginData {
    #[prost(int32, tag = "1")]
    version: i32,
    #[prost(oneof = "Data", tags = "3, 4")]
    data: Option<Data>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Data {
    #[prost(message, tag = "3")]
    SessionStartInfo(SessionStartInfo),
    #[prost(message, tag = "4")]
    SessionEndInfo(SessionEndInfo),
}

#[derive(Clone, PartialEq, prost::Message)]
struct SessionStartInfo {
    #[prost(btree_map = "string, message", tag = "1")]
    hparams: BTreeMap<String, ProtoValue>,
    #[prost(double, tag = "5")]
    start_time_secs: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SessionEndInfo {
    #[prost(int32, tag = "1")]
    status: i32,
    #[prost(double, tag = "2")]
    end_time_secs: f64,
}

/// `google.protobuf.Value`, the kinds a hyper-parameter takes.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoValue {
    #[prost(oneof = "ProtoKind", tags = "2, 3, 4")]
    kind: Option<ProtoKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum ProtoKind {
    #[prost(double, tag = "2")]
    Number(f64),
    #[prost(string, tag = "3")]
    Text(String),
    #[prost(bool, tag = "4")]
    Bool(bool),
}

impl From<&HParam> for ProtoValue {
    fn from(v: &HParam) -> Self {
        ProtoValue {
            kind: Some(match v {
                HParam::Number(x) => ProtoKind::Number(*x),
                HParam::Text(s) => ProtoKind::Text(s.clone()),
                HParam::Bool(b) => ProtoKind::Bool(*b),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The session-start summary decodes back to the values it was given.
    #[test]
    fn session_start_carries_the_values() {
        let hp = HParams::new()
            .with("lr", 0.5)
            .with("opt", "sgd")
            .with("nesterov", true);
        let start = hp.start_summary(12.0);
        let meta = start.value[0].metadata.as_ref().unwrap();
        let plugin = meta.plugin_data.as_ref().unwrap();
        assert_eq!(plugin.plugin_name, PLUGIN_NAME);
        let data = HParamsPluginData::decode(&plugin.content[..]).unwrap();
        let Some(Data::SessionStartInfo(info)) = data.data else {
            panic!("not a session start: {data:?}")
        };
        assert_eq!(info.hparams["lr"], ProtoValue::from(&HParam::Number(0.5)));
        assert_eq!(
            info.hparams["opt"],
            ProtoValue::from(&HParam::Text("sgd".into()))
        );
        assert_eq!(
            info.hparams["nesterov"],
            ProtoValue::from(&HParam::Bool(true))
        );
        assert_eq!(info.start_time_secs, 12.0);
    }
}
