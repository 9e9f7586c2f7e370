//! Reading event files back: every record's checksums checked, the events decoded, and the
//! values of a tag collected as a series.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use prost::Message;

use crate::TensorBoardError;
use crate::proto::{Event, HistogramProto, event, summary};
use crate::record::split_records;

/// The events of one file or of a whole run (its files in name order, which is time order),
/// and what was skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventLog {
    /// The events, in file order.
    pub events: Vec<Event>,
    /// One line per file whose last record was cut short (a crash while it was written), with
    /// the path and offset; those bytes were skipped.
    pub warnings: Vec<String>,
}

impl EventLog {
    /// Every summary value with its step, in order.
    pub fn values(&self) -> impl Iterator<Item = (i64, &summary::Value)> {
        self.events.iter().flat_map(|e| match &e.what {
            Some(event::What::Summary(s)) => s.value.iter().map(|v| (e.step, v)).collect(),
            _ => Vec::new(),
        })
    }

    /// The tags of every summary value.
    pub fn tags(&self) -> BTreeSet<&str> {
        self.values().map(|(_, v)| v.tag.as_str()).collect()
    }

    /// The scalar series of `tag`: `(step, value)` in order.
    pub fn scalars(&self, tag: &str) -> Vec<(i64, f32)> {
        self.of(tag, |k| match k {
            summary::value::Kind::SimpleValue(x) => Some(*x),
            _ => None,
        })
    }

    /// The images of `tag`: `(step, image)` in order.
    pub fn images(&self, tag: &str) -> Vec<(i64, &summary::Image)> {
        self.of(tag, |k| match k {
            summary::value::Kind::Image(i) => Some(i),
            _ => None,
        })
    }

    /// The histograms of `tag`: `(step, histogram)` in order.
    pub fn histograms(&self, tag: &str) -> Vec<(i64, &HistogramProto)> {
        self.of(tag, |k| match k {
            summary::value::Kind::Histo(h) => Some(h),
            _ => None,
        })
    }

    /// The texts of `tag`: `(step, text)` in order.
    pub fn texts(&self, tag: &str) -> Vec<(i64, String)> {
        self.of(tag, |k| match k {
            summary::value::Kind::Tensor(t) => t
                .string_val
                .first()
                .map(|s| String::from_utf8_lossy(s).into_owned()),
            _ => None,
        })
    }

    fn of<'a, R>(
        &'a self,
        tag: &str,
        pick: impl Fn(&'a summary::value::Kind) -> Option<R>,
    ) -> Vec<(i64, R)> {
        self.values()
            .filter(|(_, v)| v.tag == tag)
            .filter_map(|(step, v)| v.value.as_ref().and_then(&pick).map(|r| (step, r)))
            .collect()
    }
}

/// Reads one event file.
///
/// # Errors
/// [`TensorBoardError::Io`] if it cannot be read; [`TensorBoardError::Corrupt`] for a complete
/// record with a wrong checksum; [`TensorBoardError::Decode`] for a record that is not an
/// event. A last record cut short is a warning in [`EventLog::warnings`].
pub fn read_event_file(path: impl AsRef<Path>) -> Result<EventLog, TensorBoardError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(TensorBoardError::io(path))?;
    let mut log = EventLog::default();
    let records = split_records(&bytes).map_err(|bad| TensorBoardError::Corrupt {
        path: path.to_path_buf(),
        offset: bad.offset,
        what: bad.what,
    })?;
    for (offset, payload) in records.payloads {
        let event = Event::decode(payload).map_err(|e| TensorBoardError::Decode {
            path: path.to_path_buf(),
            offset,
            message: e.to_string(),
        })?;
        log.events.push(event);
    }
    if let Some(at) = records.truncated_at {
        log.warnings.push(format!(
            "{}: the last record (from byte {at} of {}) is incomplete and was skipped",
            path.display(),
            bytes.len()
        ));
    }
    Ok(log)
}

/// The event files of a run's folder (names containing `tfevents`), in name order.
///
/// # Errors
/// [`TensorBoardError::Io`] if the folder cannot be listed.
pub fn event_files(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, TensorBoardError> {
    let dir = dir.as_ref();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(TensorBoardError::io(dir))? {
        let entry = entry.map_err(TensorBoardError::io(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.contains("tfevents") && !name.starts_with('.') && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every event file of a run's folder, in name order, as one log.
///
/// # Errors
/// As [`read_event_file`], for the first file that fails.
pub fn read_run(dir: impl AsRef<Path>) -> Result<EventLog, TensorBoardError> {
    let mut log = EventLog::default();
    for path in event_files(dir)? {
        let file = read_event_file(&path)?;
        log.events.extend(file.events);
        log.warnings.extend(file.warnings);
    }
    Ok(log)
}
