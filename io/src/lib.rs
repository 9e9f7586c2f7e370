//! Files that are either whole or not there: every file Strata writes — checkpoints,
//! safetensors, histories, plots, image grids, rewritten TensorBoard logs — goes through
//! [`write_atomically`].
//!
//! A write goes to a temporary file `.<name>.tmp-<pid>-<n>` beside the target, is synced to
//! disk, renamed over the target (atomic on POSIX file systems) and the folder is synced, so
//! a crash or a full disk leaves either the old file or the new one, never a mix. A writer that
//! is killed between creating and renaming its temporary file leaves it behind; the next write
//! of the same target removes such files whose process is gone ([`remove_stale_temporaries`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A failed atomic write: the target, what was being done (with the temporary file's path) and
/// the operating system's error. The target is left as it was and the temporary file removed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {action}: {source}", path.display())]
pub struct WriteError {
    /// The file being written.
    pub path: PathBuf,
    /// What failed (`"cannot write the temporary file /x/.a.tmp-12-0"`).
    pub action: String,
    /// The operating system's error.
    pub source: io::Error,
}

/// Distinguishes the temporary files of concurrent writers within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically (see the [crate docs](crate)). The folder must exist.
/// Stale temporaries of `path` left by killed writers are removed first.
///
/// # Errors
/// [`WriteError`] if `path` has no file name, or the temporary file cannot be created,
/// written, synced or renamed over `path`.
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), WriteError> {
    let path = path.as_ref();
    let fail = |action: String, source: io::Error| WriteError {
        path: path.to_path_buf(),
        action,
        source,
    };
    let Some(name) = path.file_name() else {
        let e = io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not end in a file name",
        );
        return Err(fail("cannot write".into(), e));
    };
    remove_stale_temporaries(path);
    let dir = folder(path);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{n}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| {
            fail(
                format!("cannot create the temporary file {}", tmp.display()),
                e,
            )
        })?;
    let written = file
        .write_all(bytes)
        .map_err(|e| {
            fail(
                format!("cannot write the temporary file {}", tmp.display()),
                e,
            )
        })
        .and_then(|()| {
            file.sync_all().map_err(|e| {
                fail(
                    format!("cannot sync the temporary file {}", tmp.display()),
                    e,
                )
            })
        });
    drop(file);
    let renamed = written.and_then(|()| {
        fs::rename(&tmp, path).map_err(|e| {
            fail(
                format!("cannot rename the temporary file {} over it", tmp.display()),
                e,
            )
        })
    });
    if let Err(e) = renamed {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename durable. Folders cannot be opened for syncing everywhere (Windows); the
    // data is already safe, so a failure here is ignored.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// As [`write_atomically`], creating missing parent folders first.
///
/// # Errors
/// As [`write_atomically`], and [`WriteError`] if a folder cannot be created.
pub fn write_atomically_creating_folders(
    path: impl AsRef<Path>,
    bytes: &[u8],
) -> Result<(), WriteError> {
    let path = path.as_ref();
    let dir = folder(path);
    fs::create_dir_all(dir).map_err(|source| WriteError {
        path: path.to_path_buf(),
        action: format!("cannot create the folder {}", dir.display()),
        source,
    })?;
    write_atomically(path, bytes)
}

/// The folder `path` is in (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Removes the temporary files `.<name>.tmp-<pid>-<n>` of `path` whose writing process no
/// longer runs (a writer killed before its rename). Only where the process table can be read
/// (`/proc` on Linux); elsewhere nothing is removed. Returns how many were removed.
pub fn remove_stale_temporaries(path: impl AsRef<Path>) -> usize {
    let path = path.as_ref();
    let (Some(name), Ok(entries)) = (path.file_name(), fs::read_dir(folder(path))) else {
        return 0;
    };
    if !Path::new("/proc/self").exists() {
        return 0;
    }
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let mut removed = 0;
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let Some((pid, n)) = rest.split_once('-') else {
            continue;
        };
        let ours = pid.parse::<u32>().is_ok() && n.parse::<u64>().is_ok();
        if ours && !Path::new("/proc").join(pid).exists() && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("strata-io-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_replace_the_file_and_leave_no_temporary() {
        let dir = scratch("replace");
        let path = dir.join("a.bin");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A temporary of a process that is gone is removed by the next write; one of a running
    /// process (this one) and files that merely look alike are kept.
    #[test]
    fn stale_temporaries_of_dead_writers_are_removed() {
        let dir = scratch("stale");
        let path = dir.join("last.ckpt");
        // PIDs above the kernel's maximum (2²² on Linux) never run.
        let dead = dir.join(".last.ckpt.tmp-4999999-0");
        let alive = dir.join(format!(".last.ckpt.tmp-{}-99", std::process::id()));
        let other = dir.join(".last.ckpt.tmp-notes");
        for f in [&dead, &alive, &other] {
            fs::write(f, b"partial").unwrap();
        }
        write_atomically(&path, b"whole").unwrap();
        assert_eq!(dead.exists(), !Path::new("/proc/self").exists());
        assert!(alive.exists() && other.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file() {
        let dir = scratch("missing");
        let path = dir.join("no/such/folder/x.png");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert!(
            err.to_string().contains("x.png") && err.to_string().contains("temporary"),
            "{err}"
        );
        write_atomically_creating_folders(&path, b"x").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
        fs::remove_dir_all(&dir).unwrap();
    }
}
