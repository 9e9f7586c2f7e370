//! TensorBoard logs from Strata: a writer of event files that TensorBoard (and anything that
//! reads TensorFlow's format) shows — scalars, images, histograms, text and the run's
//! hyper-parameters — and a reader that checks them.
//!
//! A run is a folder; each [`SummaryWriter`] appends to a new file in it
//! (`events.out.tfevents.<unix time>.<host>`), a sequence of TFRecord-framed
//! ([`record`]) protocol-buffer [`Event`](proto::Event)s ([`proto`], encoded with `prost`).
//! Point TensorBoard at the folder above the runs: `tensorboard --logdir runs`.
//!
//! Crash safety: records are only ever appended, each with checksums of its length and its
//! payload, so a crash can cut short only the record being written; [`read_event_file`]
//! skips such a tail with a warning, and [`trim_run`] removes it (with the steps a resumed
//! run is about to log again) before a resumed run appends.
//!
//! ```
//! use strata_tensorboard::{HParams, Image, SummaryWriter, read_run};
//!
//! let dir = std::env::temp_dir().join(format!("strata-tb-lib-{}", std::process::id()));
//! let mut log = SummaryWriter::create(&dir).unwrap();
//! log.add_hparams(&HParams::new().with("lr", 0.1)).unwrap();
//! log.add_scalar("val/error", 0.25, 1).unwrap();
//! log.add_histogram("fc.weight", [0.1, -0.2, 0.3], 1).unwrap();
//! log.add_image("digit", &Image::grey(2, 2, vec![0, 255, 255, 0]), 1).unwrap();
//! log.add_text("config", "epochs: 1", 0).unwrap();
//! log.flush().unwrap();
//!
//! let run = read_run(&dir).unwrap();
//! assert_eq!(run.scalars("val/error"), vec![(1, 0.25)]);
//! assert_eq!(run.histograms("fc.weight")[0].1.num, 3.0);
//! assert_eq!(run.images("digit")[0].1.width, 2);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod error;
mod histogram;
mod hparams;
mod image;
pub mod proto;
mod reader;
pub mod record;
mod trim;
mod writer;

pub use error::TensorBoardError;
pub use histogram::histogram;
pub use hparams::{HParam, HParams, RunStatus};
pub use image::Image;
pub use reader::{EventLog, event_files, read_event_file, read_run};
pub use trim::trim_run;
pub use writer::{FILE_VERSION, SummaryWriter};
