//! The container: a header (magic, version, payload length, CRC-32) and a payload (the kind
//! label and the bincode value); encoding, decoding, and atomic reading and writing of files.

use std::cell::Cell;
use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CheckpointError, CheckpointErrorKind, FORMAT_VERSION, HEADER_LEN, MAGIC};
use crate::short_type_name;

/// The oldest format version this build reads: version 1, without the kind label.
const OLDEST_VERSION: u32 = 1;

thread_local! {
    /// The format version of the payload being decoded on this thread (the current one when
    /// none is), so a type whose serde form changed between versions can read either.
    static DECODING_VERSION: Cell<u32> = const { Cell::new(FORMAT_VERSION) };
}

/// The format version of the checkpoint whose payload is being decoded on this thread, or
/// [`FORMAT_VERSION`] outside [`decode_checkpoint`] (a value decoded from JSON, say). A
/// payload type that gained a field reads it only from files of the version that added it
/// (bincode cannot skip a missing field); see `ModuleState`'s `Deserialize`.
pub fn decoding_version() -> u32 {
    DECODING_VERSION.with(Cell::get)
}

/// The kind label of a payload type: its short type name (`ModuleState`, `OptimizerState`,
/// `TrainingState`; see [`short_type_name`]).
pub fn checkpoint_kind<P: ?Sized>() -> String {
    short_type_name(std::any::type_name::<P>())
}

/// Encodes `payload` as a complete checkpoint (header and payload) in memory, labelled with
/// its kind ([`checkpoint_kind`]).
///
/// # Errors
/// [`CheckpointErrorKind::Encode`] if the value's `Serialize` implementation fails.
pub fn encode_checkpoint<P: Serialize + ?Sized>(payload: &P) -> Result<Vec<u8>, CheckpointError> {
    // Header first with a zero length and checksum, patched once the payload is known, so
    // the payload is encoded straight into the output buffer.
    let mut bytes = Vec::with_capacity(4096);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&[0; 12]);
    let kind = checkpoint_kind::<P>();
    let label_len = u16::try_from(kind.len()).map_err(|_| {
        CheckpointError::new(CheckpointErrorKind::Encode {
            message: format!("the type name {kind:?} is longer than 65535 bytes"),
        })
    })?;
    bytes.extend_from_slice(&label_len.to_le_bytes());
    bytes.extend_from_slice(kind.as_bytes());
    bincode::serde::encode_into_std_write(payload, &mut bytes, bincode::config::standard())
        .map_err(|e| {
            CheckpointError::new(CheckpointErrorKind::Encode {
                message: e.to_string(),
            })
        })?;
    let payload_len = (bytes.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&bytes[HEADER_LEN..]);
    bytes[12..20].copy_from_slice(&payload_len.to_le_bytes());
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Decodes a complete checkpoint (header and payload) held in memory as a `P`.
///
/// # Errors
/// In the order checked: [`CheckpointErrorKind::BadMagic`] (bytes `0..8`),
/// [`CheckpointErrorKind::UnsupportedVersion`] (bytes `8..12`),
/// [`CheckpointErrorKind::Truncated`] (shorter than the header, or than the payload length it
/// records), [`CheckpointErrorKind::TrailingBytes`], [`CheckpointErrorKind::ChecksumMismatch`],
/// [`CheckpointErrorKind::WrongKind`] (the kind label names another type than `P`: an
/// optimizer state read as a module state), [`CheckpointErrorKind::Decode`] (a malformed kind
/// label, not an encoding of `P`, or bytes left over). The error names no file;
/// [`read_checkpoint`] adds it.
///
/// Files of format version 1, which have no kind label, are read too (without the kind check).
pub fn decode_checkpoint<P: DeserializeOwned>(bytes: &[u8]) -> Result<P, CheckpointError> {
    let err = |kind| Err(CheckpointError::new(kind));
    let file_len = bytes.len() as u64;
    let magic = &bytes[..bytes.len().min(MAGIC.len())];
    if magic != &MAGIC[..magic.len()] {
        return err(CheckpointErrorKind::BadMagic {
            found: magic.to_vec(),
        });
    }
    let mut version = FORMAT_VERSION;
    if bytes.len() >= 12 {
        version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
            return err(CheckpointErrorKind::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
    }
    if bytes.len() < HEADER_LEN {
        return err(CheckpointErrorKind::Truncated {
            file_len,
            expected_len: HEADER_LEN as u64,
        });
    }
    let payload_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let stored = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    let expected_len = (HEADER_LEN as u64).saturating_add(payload_len);
    if file_len < expected_len {
        return err(CheckpointErrorKind::Truncated {
            file_len,
            expected_len,
        });
    }
    if file_len > expected_len {
        return err(CheckpointErrorKind::TrailingBytes {
            file_len,
            expected_len,
        });
    }
    let payload = &bytes[HEADER_LEN..];
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return err(CheckpointErrorKind::ChecksumMismatch { stored, computed });
    }
    let type_name = std::any::type_name::<P>();
    // Version 2 on: a kind label (u16 length, UTF-8) before the value.
    let mut start = HEADER_LEN;
    if version >= 2 {
        let malformed = |message: String| err(CheckpointErrorKind::Decode { type_name, message });
        let Some(len) = payload.get(..2) else {
            return malformed("the payload ends inside the kind label's length".into());
        };
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let Some(label) = payload.get(2..2 + len) else {
            return malformed(format!(
                "the kind label's length ({len} bytes) runs past the payload's end"
            ));
        };
        let Ok(found) = std::str::from_utf8(label) else {
            return malformed("the kind label is not UTF-8".into());
        };
        let expected = checkpoint_kind::<P>();
        if found != expected {
            return err(CheckpointErrorKind::WrongKind {
                found: found.to_string(),
                expected,
            });
        }
        start += 2 + len;
    }
    let value = &bytes[start..];
    let previous = DECODING_VERSION.with(|v| v.replace(version));
    let decoded = bincode::serde::decode_from_slice::<P, _>(value, bincode::config::standard());
    DECODING_VERSION.with(|v| v.set(previous));
    let message = match decoded {
        Ok((value, read)) if read == bytes.len() - start => return Ok(value),
        Ok((_, read)) => format!(
            "it ends at byte {}, leaving {} of the {} payload bytes unread",
            start + read,
            bytes.len() - start - read,
            payload.len()
        ),
        Err(bincode::error::DecodeError::UnexpectedEnd { additional }) => {
            format!("the payload ends at least {additional} bytes too early")
        }
        Err(e) => e.to_string(),
    };
    // A version-1 file does not say what it holds: it may simply be another kind of state.
    let message = if version < 2 {
        format!(
            "{message} (the file is of format version 1, which does not record what it holds: \
             it may be another kind of checkpoint, such as an optimizer state or a training \
             checkpoint)"
        )
    } else {
        message
    };
    err(CheckpointErrorKind::Decode { type_name, message })
}

/// Writes `payload` to `path` as a checkpoint (see the [module docs](super) for the layout),
/// atomically: through a temporary file in the same directory that is synced to disk and then
/// renamed over `path`. `payload` is any serde value — a [`ModuleState`](super::ModuleState), an optimizer's
/// state, or a struct bundling everything a training run needs to resume.
///
/// # Errors
/// [`CheckpointErrorKind::Encode`] if the value cannot be encoded;
/// [`CheckpointErrorKind::Io`] if the temporary file cannot be created, written or synced, or
/// cannot be renamed over `path` (e.g. the directory does not exist). On error the temporary
/// file is removed and any existing file at `path` is left as it was.
pub fn write_checkpoint<P: Serialize + ?Sized>(
    path: impl AsRef<Path>,
    payload: &P,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let bytes = encode_checkpoint(payload).map_err(|e| e.with_path(path))?;
    write_atomically(path, &bytes).map_err(|e| CheckpointError::at(path, e.into()))
}

/// Reads the checkpoint at `path` and decodes its payload as a `P` (the type it was written
/// as).
///
/// # Errors
/// [`CheckpointErrorKind::Io`] if the file cannot be read; otherwise those of
/// [`decode_checkpoint`] — truncated, padded, wrong magic, unsupported version, bad checksum,
/// undecodable payload — each naming `path`.
pub fn read_checkpoint<P: DeserializeOwned>(path: impl AsRef<Path>) -> Result<P, CheckpointError> {
    let path = path.as_ref();
    let bytes = read_file(path).map_err(|e| CheckpointError::at(path, e.into()))?;
    decode_checkpoint(&bytes).map_err(|e| e.with_path(path))
}

/// A failed file-system operation of a checkpoint or safetensors file: what was being done and
/// the operating system's error. Both error kinds turn it into their `Io` variant.
#[derive(Debug)]
pub(crate) struct IoFailure {
    /// What was being done (`"cannot read the file"`, `"cannot rename the temporary file …"`).
    pub(crate) action: String,
    /// The operating system's error.
    pub(crate) source: io::Error,
}

/// Writes `bytes` to `path` with the one atomic writer ([`strata_io::write_atomically`]:
/// temporary file, sync, rename, folder sync; stale temporaries of killed writers removed).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IoFailure> {
    strata_io::write_atomically(path, bytes).map_err(|e| IoFailure {
        action: e.action,
        source: e.source,
    })
}

/// The whole file at `path`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, IoFailure> {
    fs::read(path).map_err(|source| IoFailure {
        action: "cannot read the file".into(),
        source,
    })
}
