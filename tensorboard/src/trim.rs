//! Trimming a run's log before a resumed run appends to it, so no step is logged twice.

use std::path::Path;

use prost::Message;

use crate::TensorBoardError;
use crate::proto::event;
use crate::reader::{event_files, read_event_file};
use crate::record::encode_record;

/// Removes from every event file of the run's folder `dir` the summary values for which
/// `keep(tag, step)` is false (e.g. the epochs after the checkpoint a run resumes from, which
/// it is about to log again), and any incomplete last record a crash left. Events left without
/// values are dropped; other events (file version, session markers) are kept, but a file left
/// without any value is deleted. A file that changes is rewritten atomically: a temporary file beside it, synced, then renamed over it,
/// and the folder synced. Returns the number of values removed. A missing folder has none.
///
/// # Errors
/// As [`read_event_file`] for a file that cannot be read or is damaged (it is left as it is);
/// [`TensorBoardError::Io`] if a rewrite fails.
pub fn trim_run(
    dir: impl AsRef<Path>,
    keep: impl Fn(&str, i64) -> bool,
) -> Result<usize, TensorBoardError> {
    let dir = dir.as_ref();
    if !dir.exists() {
        return Ok(0);
    }
    let mut removed = 0;
    for path in event_files(dir)? {
        let log = read_event_file(&path)?;
        let mut changed = !log.warnings.is_empty();
        let mut bytes = Vec::new();
        let mut summaries = 0;
        for mut e in log.events {
            if let Some(event::What::Summary(s)) = &mut e.what {
                let before = s.value.len();
                s.value.retain(|v| keep(&v.tag, e.step));
                removed += before - s.value.len();
                changed |= s.value.len() != before;
                if s.value.is_empty() {
                    continue;
                }
                summaries += 1;
            }
            encode_record(&e.encode_to_vec(), &mut bytes);
        }
        if changed && summaries == 0 {
            std::fs::remove_file(&path).map_err(TensorBoardError::io(&path))?;
        } else if changed {
            replace_atomically(&path, &bytes)?;
        }
    }
    Ok(removed)
}

/// Replaces `path` with `bytes` through the one atomic writer ([`strata_io`]).
fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<(), TensorBoardError> {
    strata_io::write_atomically(path, bytes).map_err(|e| TensorBoardError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(e.source.kind(), format!("{}: {}", e.action, e.source)),
    })
}
