//! Reading and writing the IDX file format used by MNIST and Fashion-MNIST.
//!
//! An IDX file is a big-endian header followed by the array data in row-major order:
//!
//! | offset | bytes | content |
//! | --- | --- | --- |
//! | 0 | 2 | zero |
//! | 2 | 1 | element type: `0x08` u8, `0x09` i8, `0x0B` i16, `0x0C` i32, `0x0D` f32, `0x0E` f64 |
//! | 3 | 1 | rank *r* (number of dimensions, ≥ 1) |
//! | 4 | 4·*r* | dimension sizes, big-endian u32 |
//! | 4 + 4·*r* | ∏ dims × element size | the elements, big-endian |
//!
//! Files may be gzip-compressed; compression is detected from the gzip magic bytes
//! (`1F 8B`), not from the file name. Decoding streams: the compressed bytes pass through a
//! small buffer and only the decoded array is kept in memory.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::DatasetError;

/// Size of the chunks in which array data is read and converted.
const CHUNK: usize = 1 << 18;

/// Largest up-front allocation made on the word of a header alone; larger arrays grow as
/// their data actually arrives, so a corrupt header cannot reserve absurd amounts of memory.
/// The default limit on the bytes of one array's data, [`DEFAULT_MAX_BYTES`]: far above any
/// data set of this curriculum (full MNIST is 47 MB), far below what a corrupt header can
/// declare.
pub const DEFAULT_MAX_BYTES: u64 = 16 << 30;

/// The element type of an IDX array, as coded in the third byte of the magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdxType {
    /// Unsigned byte, code `0x08`.
    U8,
    /// Signed byte, code `0x09`.
    I8,
    /// Big-endian 16-bit signed integer, code `0x0B`.
    I16,
    /// Big-endian 32-bit signed integer, code `0x0C`.
    I32,
    /// Big-endian IEEE 754 single-precision float, code `0x0D`.
    F32,
    /// Big-endian IEEE 754 double-precision float, code `0x0E`.
    F64,
}

impl IdxType {
    /// The type code stored in the magic number.
    pub fn code(self) -> u8 {
        match self {
            Self::U8 => 0x08,
            Self::I8 => 0x09,
            Self::I16 => 0x0B,
            Self::I32 => 0x0C,
            Self::F32 => 0x0D,
            Self::F64 => 0x0E,
        }
    }

    /// The element type for a type code, or `None` if the code is not a valid IDX type.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x08 => Self::U8,
            0x09 => Self::I8,
            0x0B => Self::I16,
            0x0C => Self::I32,
            0x0D => Self::F32,
            0x0E => Self::F64,
            _ => return None,
        })
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::I16 => 2,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    /// The Rust name of the element type (`"u8"`, `"i16"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::U8 => "u8",
            Self::I8 => "i8",
            Self::I16 => "i16",
            Self::I32 => "i32",
            Self::F32 => "f32",
            Self::F64 => "f64",
        }
    }
}

/// The elements of an IDX array, in row-major order, in their stored type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    /// Unsigned bytes.
    U8(Vec<u8>),
    /// Signed bytes.
    I8(Vec<i8>),
    /// 16-bit signed integers.
    I16(Vec<i16>),
    /// 32-bit signed integers.
    I32(Vec<i32>),
    /// Single-precision floats.
    F32(Vec<f32>),
    /// Double-precision floats.
    F64(Vec<f64>),
}

impl IdxData {
    /// The element type.
    pub fn dtype(&self) -> IdxType {
        match self {
            Self::U8(_) => IdxType::U8,
            Self::I8(_) => IdxType::I8,
            Self::I16(_) => IdxType::I16,
            Self::I32(_) => IdxType::I32,
            Self::F32(_) => IdxType::F32,
            Self::F64(_) => IdxType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::I8(v) => v.len(),
            Self::I16(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements converted to `f64` (exact for every IDX type).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Self::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::F64(v) => v.clone(),
        }
    }

    /// The elements converted to `f32` (values are not rescaled; `i32` and `f64` round to
    /// the nearest `f32`).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match self {
            Self::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            Self::I8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            Self::I16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            Self::I32(v) => v.iter().map(|&x| x as f32).collect(),
            Self::F32(v) => v.clone(),
            Self::F64(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// An n-dimensional array read from (or to be written to) an IDX file.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: IdxData,
}

impl IdxArray {
    /// Wraps row-major `data` with dimension sizes `dims`.
    ///
    /// # Panics
    ///
    /// If `dims` is empty, has more than 255 entries or an entry above `u32::MAX` (IDX cannot
    /// store them), or if the product of `dims` differs from the number of elements.
    pub fn new(dims: Vec<usize>, data: IdxData) -> Self {
        assert!(
            !dims.is_empty() && dims.len() <= 255,
            "IdxArray::new: rank {} is outside 1..=255",
            dims.len()
        );
        assert!(
            dims.iter().all(|&d| u32::try_from(d).is_ok()),
            "IdxArray::new: dimension sizes {dims:?} exceed u32::MAX"
        );
        let numel = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        assert!(
            numel == Some(data.len()),
            "IdxArray::new: dims {dims:?} hold {numel:?} elements but data has {}",
            data.len()
        );
        Self { dims, data }
    }

    /// The dimension sizes, outermost first (for MNIST images `[N, 28, 28]`).
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The element type.
    pub fn dtype(&self) -> IdxType {
        self.data.dtype()
    }

    /// The elements, row-major.
    pub fn data(&self) -> &IdxData {
        &self.data
    }

    /// Number of elements (the product of the dimension sizes).
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Splits the array into its dimension sizes and its elements.
    pub fn into_parts(self) -> (Vec<usize>, IdxData) {
        (self.dims, self.data)
    }
}

/// Reads an IDX file, gzip-compressed or raw.
///
/// # Errors
///
/// [`DatasetError::Io`] if the file cannot be opened or read; [`DatasetError::Decompress`] if
/// its gzip stream is corrupt; [`DatasetError::BadMagic`], [`DatasetError::Truncated`],
/// [`DatasetError::TrailingData`] or [`DatasetError::TooLarge`] if the content is not a
/// well-formed IDX array. Every error names `path`.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray, DatasetError> {
    read_idx_with_limit(path, DEFAULT_MAX_BYTES)
}

/// [`read_idx`] refusing data of more than `max_bytes` bytes ([`DatasetError::LimitExceeded`])
/// before reading it. Buffers grow only as data arrives, in bounded steps, and an allocation the
/// system refuses is an error ([`DatasetError::OutOfMemory`]), never an abort.
///
/// # Errors
///
/// As [`read_idx`], and those two.
pub fn read_idx_with_limit(
    path: impl AsRef<Path>,
    max_bytes: u64,
) -> Result<IdxArray, DatasetError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let len = file.metadata().ok().map(|m| m.len());
    read_impl(file, path, len, max_bytes)
}

/// Reads an IDX array, gzip-compressed or raw, from any reader.
///
/// `name` is used in error messages only (for example the file or archive member the bytes
/// come from).
///
/// # Errors
///
/// As [`read_idx`].
pub fn read_idx_from<R: Read>(reader: R, name: impl AsRef<Path>) -> Result<IdxArray, DatasetError> {
    read_impl(reader, name.as_ref(), None, DEFAULT_MAX_BYTES)
}

/// [`read_idx_from`] with a limit on the data's bytes (see [`read_idx_with_limit`]).
///
/// # Errors
///
/// As [`read_idx_with_limit`].
pub fn read_idx_from_with_limit<R: Read>(
    reader: R,
    name: impl AsRef<Path>,
    max_bytes: u64,
) -> Result<IdxArray, DatasetError> {
    read_impl(reader, name.as_ref(), None, max_bytes)
}

/// Reads an IDX array, gzip-compressed or raw, from bytes in memory.
///
/// `name` is used in error messages only.
///
/// # Errors
///
/// As [`read_idx`].
pub fn read_idx_bytes(bytes: &[u8], name: impl AsRef<Path>) -> Result<IdxArray, DatasetError> {
    read_impl(
        bytes,
        name.as_ref(),
        Some(bytes.len() as u64),
        DEFAULT_MAX_BYTES,
    )
}

/// Writes `array` in raw (uncompressed) IDX format. Wrap `writer` in a
/// `flate2::write::GzEncoder` to write a `.gz` file.
///
/// # Errors
///
/// Any error returned by `writer`.
pub fn write_idx<W: Write>(mut writer: W, array: &IdxArray) -> io::Result<()> {
    // `IdxArray::new` guarantees rank ≤ 255 and dimension sizes ≤ u32::MAX.
    let rank = array.dims.len() as u8;
    writer.write_all(&[0, 0, array.dtype().code(), rank])?;
    for &d in &array.dims {
        writer.write_all(&(d as u32).to_be_bytes())?;
    }
    let mut buf = Vec::with_capacity(CHUNK);
    macro_rules! put {
        ($v:expr) => {
            for chunk in $v.chunks(CHUNK / 8) {
                buf.clear();
                for x in chunk {
                    buf.extend_from_slice(&x.to_be_bytes());
                }
                writer.write_all(&buf)?;
            }
        };
    }
    match &array.data {
        IdxData::U8(v) => writer.write_all(v)?,
        IdxData::I8(v) => put!(v),
        IdxData::I16(v) => put!(v),
        IdxData::I32(v) => put!(v),
        IdxData::F32(v) => put!(v),
        IdxData::F64(v) => put!(v),
    }
    writer.flush()
}

/// A byte stream that counts what it produced and turns read failures into
/// [`DatasetError`]s naming the file.
struct Stream<'p, R> {
    inner: R,
    pos: u64,
    gzip: bool,
    path: &'p Path,
}

impl<R: Read> Stream<'_, R> {
    /// Reads until `buf` is full or the stream ends; returns the number of bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, DatasetError> {
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pos += n as u64;
                    return Err(self.error(e));
                }
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn error(&self, e: io::Error) -> DatasetError {
        let decoding = matches!(
            e.kind(),
            io::ErrorKind::InvalidData
                | io::ErrorKind::InvalidInput
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::Other
        );
        if self.gzip && decoding {
            DatasetError::Decompress {
                path: self.path.to_path_buf(),
                offset: self.pos,
                message: e.to_string(),
            }
        } else {
            DatasetError::Io {
                path: self.path.to_path_buf(),
                source: e,
            }
        }
    }

    fn truncated(&self, what: &'static str, expected: u64, found: u64) -> DatasetError {
        DatasetError::Truncated {
            path: self.path.to_path_buf(),
            what,
            offset: self.pos,
            expected,
            found,
        }
    }
}

fn read_impl<R: Read>(
    mut reader: R,
    path: &Path,
    raw_len: Option<u64>,
    max_bytes: u64,
) -> Result<IdxArray, DatasetError> {
    let mut head = [0u8; 2];
    let n = {
        let mut s = Stream {
            inner: &mut reader,
            pos: 0,
            gzip: false,
            path,
        };
        s.fill(&mut head)?
    };
    let prefixed = io::Cursor::new(head).take(n as u64).chain(reader);
    if n == 2 && head == [0x1f, 0x8b] {
        let stream = Stream {
            inner: MultiGzDecoder::new(prefixed),
            pos: 0,
            gzip: true,
            path,
        };
        parse(stream, None, max_bytes)
    } else {
        let stream = Stream {
            inner: prefixed,
            pos: 0,
            gzip: false,
            path,
        };
        parse(stream, raw_len, max_bytes)
    }
}

/// Parses header and data; `total_len` is the stream length when known (raw input).
fn parse<R: Read>(
    mut s: Stream<'_, R>,
    total_len: Option<u64>,
    max_bytes: u64,
) -> Result<IdxArray, DatasetError> {
    let mut magic = [0u8; 4];
    let n = s.fill(&mut magic)?;
    if n < 4 {
        return Err(s.truncated("magic number", 4, n as u64));
    }
    let bad = |reason| DatasetError::BadMagic {
        path: s.path.to_path_buf(),
        found: magic,
        reason,
    };
    if magic[0] != 0 || magic[1] != 0 {
        return Err(bad("the first two bytes must be zero"));
    }
    let Some(dtype) = IdxType::from_code(magic[2]) else {
        return Err(bad("unknown element type code"));
    };
    let rank = usize::from(magic[3]);
    if rank == 0 {
        return Err(bad("rank must be at least 1"));
    }

    let mut dim_bytes = vec![0u8; 4 * rank];
    let n = s.fill(&mut dim_bytes)?;
    if n < dim_bytes.len() {
        return Err(s.truncated("dimension sizes", dim_bytes.len() as u64, n as u64));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let header_len = 4 + 4 * rank as u64;

    let too_large = || DatasetError::TooLarge {
        path: s.path.to_path_buf(),
        dims: dims.clone(),
    };
    let numel = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(too_large)?;
    let nbytes = numel
        .checked_mul(dtype.size())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or_else(too_large)?;

    if nbytes as u64 > max_bytes {
        return Err(DatasetError::LimitExceeded {
            path: s.path.to_path_buf(),
            dims,
            bytes: nbytes as u64,
            limit: max_bytes,
        });
    }

    // Raw input of known length: report a short file before reading it.
    if let Some(total) = total_len {
        let available = total.saturating_sub(header_len);
        if (nbytes as u64) > available {
            return Err(DatasetError::Truncated {
                path: s.path.to_path_buf(),
                what: "data",
                offset: total,
                expected: nbytes as u64,
                found: available,
            });
        }
    }

    let data = match dtype {
        IdxType::U8 => IdxData::U8(read_bytes(&mut s, numel)?),
        IdxType::I8 => IdxData::I8(read_elems(&mut s, numel, |b: &[u8; 1]| b[0] as i8)?),
        IdxType::I16 => IdxData::I16(read_elems(&mut s, numel, |b: &[u8; 2]| {
            i16::from_be_bytes(*b)
        })?),
        IdxType::I32 => IdxData::I32(read_elems(&mut s, numel, |b: &[u8; 4]| {
            i32::from_be_bytes(*b)
        })?),
        IdxType::F32 => IdxData::F32(read_elems(&mut s, numel, |b: &[u8; 4]| {
            f32::from_be_bytes(*b)
        })?),
        IdxType::F64 => IdxData::F64(read_elems(&mut s, numel, |b: &[u8; 8]| {
            f64::from_be_bytes(*b)
        })?),
    };

    let end = s.pos;
    let mut probe = [0u8; 1];
    if s.fill(&mut probe)? != 0 {
        return Err(DatasetError::TrailingData {
            path: s.path.to_path_buf(),
            dims,
            offset: end,
        });
    }
    Ok(IdxArray { dims, data })
}

/// Reads `n` bytes straight into the result, growing it only as bytes arrive (never more than
/// [`CHUNK`] ahead of them, amortised doubling of what has arrived at most).
fn read_bytes<R: Read>(s: &mut Stream<'_, R>, n: usize) -> Result<Vec<u8>, DatasetError> {
    let mut out: Vec<u8> = Vec::new();
    while out.len() < n {
        let start = out.len();
        let want = (n - start).min(CHUNK);
        reserve(s, &mut out, want)?;
        out.resize(start + want, 0);
        let got = s.fill(&mut out[start..])?;
        out.truncate(start + got);
        if got < want {
            return Err(s.truncated("data", n as u64, out.len() as u64));
        }
    }
    Ok(out)
}

/// Makes room for `more` elements, turning a refused allocation into an error.
fn reserve<R: Read, T>(
    s: &Stream<'_, R>,
    out: &mut Vec<T>,
    more: usize,
) -> Result<(), DatasetError> {
    out.try_reserve(more)
        .map_err(|_| DatasetError::OutOfMemory {
            path: s.path.to_path_buf(),
            bytes: ((out.len() + more) * size_of::<T>()) as u64,
        })
}

/// Reads `numel` big-endian elements of `size_of::<T>()` bytes each, decoding them with `conv`.
fn read_elems<R: Read, T, const N: usize>(
    s: &mut Stream<'_, R>,
    numel: usize,
    conv: impl Fn(&[u8; N]) -> T,
) -> Result<Vec<T>, DatasetError> {
    let expected = (numel * N) as u64;
    let mut out: Vec<T> = Vec::new();
    let mut buf = vec![0u8; CHUNK.min(numel * N).max(N)];
    let buf_elems = buf.len() / N;
    while out.len() < numel {
        let want = (numel - out.len()).min(buf_elems) * N;
        reserve(s, &mut out, want / N)?;
        let got = s.fill(&mut buf[..want])?;
        let whole = got / N;
        out.extend(
            buf[..whole * N]
                .chunks_exact(N)
                .map(|c| conv(c.try_into().expect("chunks_exact yields N bytes"))),
        );
        if got < want {
            let found = (out.len() * N + (got - whole * N)) as u64;
            return Err(s.truncated("data", expected, found));
        }
    }
    Ok(out)
}
