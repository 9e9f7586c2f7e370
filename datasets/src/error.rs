//! The error type of `strata-datasets`.
//!
//! Every function that reads the outside world (IDX files, directories, text files, PNG
//! output) returns [`DatasetError`]. Each variant names the file involved, what was expected
//! and what was found, with a byte offset where one makes sense.

use std::fmt;
use std::path::PathBuf;

/// A failure while reading, decoding, locating or writing data.
///
/// Byte offsets in IDX errors count bytes of the *decompressed* stream (for a raw file that is
/// the file itself), starting at 0 for the first byte of the magic number.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// An operating-system level failure opening, reading or writing `path`.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The gzip stream of `path` is corrupt (bad header, bad deflate data, wrong checksum) or
    /// ends early.
    #[error("{}: corrupt gzip stream after {offset} decompressed bytes: {message}", path.display())]
    Decompress {
        /// The file involved.
        path: PathBuf,
        /// How many decompressed bytes had been produced when decoding failed.
        offset: u64,
        /// The decoder's description of the problem.
        message: String,
    },
    /// The first four bytes are not an IDX magic number (`0x00 0x00 <type> <rank>`).
    #[error(
        "{}: bad IDX magic number at byte offset 0: expected 00 00 <type 08|09|0B|0C|0D|0E> \
         <rank ≥ 1>, found {:02X} {:02X} {:02X} {:02X} ({reason})",
        path.display(), found[0], found[1], found[2], found[3]
    )]
    BadMagic {
        /// The file involved.
        path: PathBuf,
        /// The four bytes found at offset 0.
        found: [u8; 4],
        /// Which part of the magic number is wrong.
        reason: &'static str,
    },
    /// The file holds a valid IDX array of another element type than the caller needs.
    #[error("{}: expected IDX elements of type {expected}, found {found}", path.display())]
    WrongType {
        /// The file involved.
        path: PathBuf,
        /// The element type the caller needs (for example `u8` for MNIST images).
        expected: &'static str,
        /// The element type declared in the header.
        found: &'static str,
    },
    /// The file holds a valid IDX array of another rank or shape than the caller needs.
    #[error("{}: expected an IDX array of shape {expected}, found dimensions {found:?}", path.display())]
    WrongShape {
        /// The file involved.
        path: PathBuf,
        /// A description of the expected shape (for example `[N, rows, cols]`).
        expected: String,
        /// The dimensions declared in the header.
        found: Vec<usize>,
    },
    /// The file ends before the header or the data it declares is complete.
    #[error(
        "{}: truncated {what}: expected {expected} bytes, found {found} \
         (stream ends at byte offset {offset})",
        path.display()
    )]
    Truncated {
        /// The file involved.
        path: PathBuf,
        /// What was being read (`"magic number"`, `"dimension sizes"`, `"data"`).
        what: &'static str,
        /// Byte offset at which the stream ended.
        offset: u64,
        /// Number of bytes of `what` that were expected.
        expected: u64,
        /// Number of bytes of `what` that were present.
        found: u64,
    },
    /// The file holds more bytes than its header declares: the dimension sizes do not match
    /// the byte count.
    #[error(
        "{}: dimension sizes {dims:?} do not match the byte count: the declared array \
         ends at byte offset {offset} but the file continues",
        path.display()
    )]
    TrailingData {
        /// The file involved.
        path: PathBuf,
        /// The dimensions declared in the header.
        dims: Vec<usize>,
        /// Byte offset at which the declared array ends (the first unexpected byte).
        offset: u64,
    },
    /// The header declares an array whose byte size does not fit in memory addresses.
    #[error("{}: dimension sizes {dims:?} declare an array too large to address", path.display())]
    TooLarge {
        /// The file involved.
        path: PathBuf,
        /// The dimensions declared in the header.
        dims: Vec<usize>,
    },
    /// The header declares more data than the reader's limit
    /// ([`DEFAULT_MAX_BYTES`](crate::idx::DEFAULT_MAX_BYTES) unless set).
    #[error(
        "{}: dimension sizes {dims:?} declare {bytes} bytes of data, above the limit of {limit} bytes",
        path.display()
    )]
    LimitExceeded {
        /// The file involved.
        path: PathBuf,
        /// The dimensions declared in the header.
        dims: Vec<usize>,
        /// The bytes they declare.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The system refused memory for the data read so far.
    #[error("{}: out of memory growing the data buffer to {bytes} bytes", path.display())]
    OutOfMemory {
        /// The file involved.
        path: PathBuf,
        /// The bytes the buffer needed.
        bytes: u64,
    },
    /// A label is not a valid class index.
    #[error(
        "{}: label {index} at byte offset {offset} is {value}, expected 0..={}",
        path.display(),
        classes.saturating_sub(1)
    )]
    LabelOutOfRange {
        /// The label file involved.
        path: PathBuf,
        /// Index of the example carrying the label.
        index: usize,
        /// Byte offset of the label in the decompressed file.
        offset: u64,
        /// The label value found.
        value: i64,
        /// Number of classes: valid labels are `0..classes`.
        classes: usize,
    },
    /// An image file and its label file disagree on the number of examples.
    #[error(
        "{} holds {images} images but {} holds {labels} labels; expected equal counts",
        images_path.display(),
        labels_path.display()
    )]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// The label file.
        labels_path: PathBuf,
        /// Number of images in the image file.
        images: usize,
        /// Number of labels in the label file.
        labels: usize,
    },
    /// A dataset could not be found in any of the places searched.
    #[error("{dataset} not found; looked in:{}", Searched(searched))]
    NotFound {
        /// The dataset looked for (for example `"Fashion-MNIST"`).
        dataset: &'static str,
        /// Each place searched, with the reason it was rejected.
        searched: Vec<(PathBuf, String)>,
    },
    /// A text file is not valid UTF-8.
    #[error(
        "{}: expected UTF-8 text, found an invalid byte sequence at byte offset {offset}",
        path.display()
    )]
    InvalidUtf8 {
        /// The file involved.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: u64,
    },
    /// Text to encode holds a character that is not in the vocabulary.
    #[error("character {ch:?} at position {position} is not in the vocabulary")]
    UnknownChar {
        /// The character.
        ch: char,
        /// Its character (not byte) position in the text being encoded.
        position: usize,
    },
    /// Writing a PNG image failed.
    #[error("{}: writing PNG failed: {message}", path.display())]
    Png {
        /// The file being written.
        path: PathBuf,
        /// The encoder's description of the problem.
        message: String,
    },
}

/// The places a [`DatasetError::NotFound`] lists, one per line: `\n  <place>: <why>`.
struct Searched<'a>(&'a [(PathBuf, String)]);

impl fmt::Display for Searched<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (place, why) in self.0 {
            write!(f, "\n  {}: {why}", place.display())?;
        }
        Ok(())
    }
}
