//! Checkpoint files: any serde value in a checked, atomically written container, and
//! [`ModuleState`], a module's named parameters and buffers as such a value.
//!
//! # File layout
//!
//! A checkpoint is a fixed 24-byte header followed by the payload. All integers are
//! little-endian.
//!
//! | bytes      | field            | contents                                              |
//! |------------|------------------|-------------------------------------------------------|
//! | `0..8`     | magic            | [`MAGIC`], `b"STRATACK"`                              |
//! | `8..12`    | format version   | `u32`, [`FORMAT_VERSION`]                             |
//! | `12..20`   | payload length   | `u64`, the number of payload bytes `n`                |
//! | `20..24`   | payload checksum | `u32`, CRC-32 (IEEE 802.3, as zlib and PNG) of the payload |
//! | `24..26`   | kind length      | `u16`, the length `k` of the kind label               |
//! | `26..26+k` | kind label       | UTF-8, the payload type's short name ([`checkpoint_kind`]: `ModuleState`, `OptimizerState`, `TrainingState`) |
//! | `26+k..24+n` | value          | the value, bincode 2 (serde, `config::standard()`)    |
//!
//! The payload is the kind label and the value. The file ends exactly after the payload.
//! Reading checks the magic, the version, the length and the checksum before decoding a single
//! value, so a truncated, padded or corrupted file is reported as such rather than decoded into
//! garbage; and it checks the kind label, so a file of another kind (an optimizer state read as
//! a module state) is reported as such ([`CheckpointErrorKind::WrongKind`]).
//!
//! Files of format version 1 — the same without the kind label, the value starting at byte 24
//! — are still read, without the kind check; a [`ModuleState`] in them has no architecture
//! record (see [`ModuleState::architecture`]).
//!
//! bincode is not self-describing: a payload must be read back as the type it was written as
//! (one with the same short name and serde layout). Callers storing several things — the
//! training loop stores model, optimizer state, epoch, random state and configuration — wrap
//! them in one struct of their own and pass it to [`write_checkpoint`] / [`read_checkpoint`].
//!
//! # Atomic writes
//!
//! [`write_checkpoint`] (and [`save_module`]) write to a temporary file in the target's
//! directory, flush it to disk (`sync_all`), rename it over the target and then flush the
//! directory entry (best effort). A crash or a failed write never leaves a half-written file
//! in place of a good one: the target holds either the old checkpoint or the new one.
//!
//! ```
//! use strata_layers::checkpoint::{load_module, save_module};
//! use strata_layers::{Linear, Module, Sequential, Activation};
//!
//! let dir = std::env::temp_dir().join(format!("strata-doc-ckpt-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("mlp.ckpt");
//!
//! let net = Sequential::<f32>::new().add(Linear::new(4, 8)).add(Activation::Relu).add(Linear::new(8, 2));
//! save_module(&net, &path).unwrap();
//!
//! let mut fresh = Sequential::<f32>::new().add(Linear::new(4, 8)).add(Activation::Relu).add(Linear::new(8, 2));
//! load_module(&mut fresh, &path).unwrap();
//! assert_eq!(fresh.params()[0].1.value().to_vec(), net.params()[0].1.value().to_vec());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod architecture;
mod container;
mod error;
mod module_state;

pub use architecture::{LayerDescription, describe_architecture};
pub(crate) use container::{IoFailure, read_file, write_atomically};
pub use container::{
    checkpoint_kind, decode_checkpoint, decoding_version, encode_checkpoint, read_checkpoint,
    write_checkpoint,
};
pub use error::{CheckpointError, CheckpointErrorKind, TensorKind};
pub use module_state::{ModuleState, NamedTensor, TensorValues, load_module, save_module};
/// The first eight bytes of every checkpoint file.
pub const MAGIC: [u8; 8] = *b"STRATACK";

/// The format version this build writes: 2, with the kind label. It reads versions 1 and 2.
pub const FORMAT_VERSION: u32 = 2;

/// Length of the fixed header in bytes: magic (8), version (4), payload length (8), CRC-32 (4).
pub const HEADER_LEN: usize = 24;
