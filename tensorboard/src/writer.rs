//! [`SummaryWriter`]: appends events to a new event file in a run's folder.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::hparams::{HParams, RunStatus, end_summary};
use crate::proto::{
    DT_STRING, Event, HistogramProto, PluginData, Summary, SummaryMetadata, TensorProto,
    TensorShapeProto, event, summary,
};
use crate::record::encode_record;
use crate::{Image, TensorBoardError, histogram};

/// The file version TensorBoard expects in the first event of a file.
pub const FILE_VERSION: &str = "brain.Event:2";

/// Writes one run's TensorBoard log: a new file `events.out.tfevents.<unix time>.<host>` in
/// the run's folder (`.1`, `.2`, … appended if that name is taken), starting with the file
/// version event. Records are appended only, each framed with its length and two masked
/// CRC-32C checksums ([`crate::record`]): a crash can cut short at most the record being
/// written, which readers skip, and never damages earlier ones.
///
/// Events are buffered and written to the file when [`SummaryWriter::flush`] is called (it also
/// syncs the file to disk), when the buffer holds a flush interval's worth of time (2 s by
/// default, so a live TensorBoard follows training), and when the writer is dropped.
///
/// ```
/// use strata_tensorboard::{SummaryWriter, read_run};
///
/// let dir = std::env::temp_dir().join(format!("strata-tb-doc-{}", std::process::id()));
/// let mut log = SummaryWriter::create(&dir).unwrap();
/// for step in 1..=3 {
///     log.add_scalar("train/loss", 1.0 / step as f64, step).unwrap();
/// }
/// log.flush().unwrap();
/// let run = read_run(&dir).unwrap();
/// assert_eq!(run.scalars("train/loss"), vec![(1, 1.0), (2, 0.5), (3, 1.0 / 3.0)]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct SummaryWriter {
    path: PathBuf,
    file: File,
    pending: Vec<u8>,
    last_write: Instant,
    flush_interval: Duration,
    histogram_bins: usize,
}

impl SummaryWriter {
    /// Creates the run's folder `dir` if needed and a new event file in it.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if the folder or the file cannot be created or written.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self, TensorBoardError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(TensorBoardError::io(dir))?;
        let base = format!("events.out.tfevents.{}.{}", unix_seconds(), hostname());
        let mut n = 0;
        let (path, file) = loop {
            let name = if n == 0 {
                base.clone()
            } else {
                format!("{base}.{n}")
            };
            let path = dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(TensorBoardError::Io { path, source: e }),
            }
        };
        let mut writer = SummaryWriter {
            path,
            file,
            pending: Vec::new(),
            last_write: Instant::now(),
            flush_interval: Duration::from_secs(2),
            histogram_bins: 30,
        };
        writer.write_event(Event {
            wall_time: wall_time(),
            step: 0,
            what: Some(event::What::FileVersion(FILE_VERSION.to_string())),
        })?;
        writer.flush()?;
        Ok(writer)
    }

    /// Writes buffered events to the file at least every `interval` (checked when an event is
    /// added).
    pub fn with_flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// Sets the number of equal-width buckets of [`SummaryWriter::add_histogram`] (default 30).
    ///
    /// # Panics
    /// If `bins` is 0.
    pub fn with_histogram_bins(mut self, bins: usize) -> Self {
        assert!(
            bins > 0,
            "SummaryWriter::with_histogram_bins: bins must be at least 1"
        );
        self.histogram_bins = bins;
        self
    }

    /// The event file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs `value` (stored in single precision, as TensorBoard keeps scalars) under `tag` at
    /// `step`.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_scalar(&mut self, tag: &str, value: f64, step: i64) -> Result<(), TensorBoardError> {
        self.add_scalars(step, &[(tag, value)])
    }

    /// Logs several scalars at `step` in one event.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_scalars(
        &mut self,
        step: i64,
        values: &[(&str, f64)],
    ) -> Result<(), TensorBoardError> {
        let value = values
            .iter()
            .map(|&(tag, v)| value(tag, summary::value::Kind::SimpleValue(v as f32)))
            .collect();
        self.add_summary(step, Summary { value })
    }

    /// Logs `image` (encoded as PNG) under `tag` at `step`.
    ///
    /// # Errors
    /// [`TensorBoardError::Image`] for an image with no pixels; [`TensorBoardError::Io`] if a
    /// due write fails.
    pub fn add_image(
        &mut self,
        tag: &str,
        image: &Image,
        step: i64,
    ) -> Result<(), TensorBoardError> {
        let encoded = summary::Image {
            height: image.height() as i32,
            width: image.width() as i32,
            colorspace: i32::from(image.channels()),
            encoded_image_string: image.to_png(tag)?,
        };
        self.add_summary(
            step,
            Summary {
                value: vec![value(tag, summary::value::Kind::Image(encoded))],
            },
        )
    }

    /// Logs the histogram of the finite `values` (see [`histogram`]) under `tag` at `step`;
    /// nothing when no value is finite.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_histogram(
        &mut self,
        tag: &str,
        values: impl IntoIterator<Item = f64>,
        step: i64,
    ) -> Result<(), TensorBoardError> {
        match histogram(values, self.histogram_bins) {
            Some(h) => self.add_histogram_proto(tag, h, step),
            None => Ok(()),
        }
    }

    /// Logs a histogram built by the caller under `tag` at `step`.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_histogram_proto(
        &mut self,
        tag: &str,
        histogram: HistogramProto,
        step: i64,
    ) -> Result<(), TensorBoardError> {
        self.add_summary(
            step,
            Summary {
                value: vec![value(tag, summary::value::Kind::Histo(histogram))],
            },
        )
    }

    /// Logs `text` (Markdown, shown by the text dashboard) under `tag` at `step`.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_text(&mut self, tag: &str, text: &str, step: i64) -> Result<(), TensorBoardError> {
        let tensor = TensorProto {
            dtype: DT_STRING,
            tensor_shape: Some(TensorShapeProto { dim: vec![] }),
            string_val: vec![text.as_bytes().to_vec()],
            ..Default::default()
        };
        let mut v = value(tag, summary::value::Kind::Tensor(tensor));
        v.metadata = Some(SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: "text".to_string(),
                content: Vec::new(),
            }),
            ..Default::default()
        });
        self.add_summary(step, Summary { value: vec![v] })
    }

    /// Logs the run's hyper-parameters for the HParams dashboard (once, at the start of a
    /// run); the dashboard offers the run's scalar series as metric columns.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_hparams(&mut self, hparams: &HParams) -> Result<(), TensorBoardError> {
        self.add_summary(0, hparams.start_summary(wall_time()))
    }

    /// Records how the run ended, for the HParams dashboard's status column.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn end_run(&mut self, status: RunStatus) -> Result<(), TensorBoardError> {
        self.add_summary(0, end_summary(status, wall_time()))
    }

    /// Logs `summary` at `step`.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn add_summary(&mut self, step: i64, summary: Summary) -> Result<(), TensorBoardError> {
        self.write_event(Event {
            wall_time: wall_time(),
            step,
            what: Some(event::What::Summary(summary)),
        })
    }

    /// Appends `event` to the buffer, writing the buffer out when the flush interval has
    /// passed.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if a due write fails.
    pub fn write_event(&mut self, event: Event) -> Result<(), TensorBoardError> {
        encode_record(&prost::Message::encode_to_vec(&event), &mut self.pending);
        if self.last_write.elapsed() >= self.flush_interval {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes every buffered event to the file and syncs it to disk.
    ///
    /// # Errors
    /// [`TensorBoardError::Io`] if the file cannot be written or synced.
    pub fn flush(&mut self) -> Result<(), TensorBoardError> {
        self.write_pending()?;
        self.file
            .sync_data()
            .map_err(TensorBoardError::io(&self.path))
    }

    /// Writes the buffered records (whole records only: the buffer is cleared only after a
    /// complete write).
    fn write_pending(&mut self) -> Result<(), TensorBoardError> {
        self.last_write = Instant::now();
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file
            .write_all(&self.pending)
            .map_err(TensorBoardError::io(&self.path))?;
        self.pending.clear();
        Ok(())
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        let _ = self.write_pending();
    }
}

/// A summary value tagged `tag` holding `kind`.
fn value(tag: &str, kind: summary::value::Kind) -> summary::Value {
    summary::Value {
        tag: tag.to_string(),
        metadata: None,
        value: Some(kind),
    }
}

/// Seconds since the Unix epoch, with fractions.
fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The machine's name (Linux: `/proc/sys/kernel/hostname`; else `$HOSTNAME`, `$COMPUTERNAME`),
/// or `localhost`, with characters other than letters, digits, `-`, `_` and `.` replaced.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
