//! TFRecord framing, the container of an event file: each record is
//!
//! | bytes          | what                                     |
//! |----------------|------------------------------------------|
//! | `0..8`         | payload length `n`, `u64` little-endian  |
//! | `8..12`        | masked CRC-32C of bytes `0..8`           |
//! | `12..12+n`     | the payload (an encoded `Event`)         |
//! | `12+n..16+n`   | masked CRC-32C of the payload            |
//!
//! where `mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8` (wrapping), as TensorFlow writes it.

use crc::{CRC_32_ISCSI, Crc};

/// CRC-32C (Castagnoli), the checksum of TFRecord.
const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

/// Bytes of framing around each payload: length (8), its CRC (4), the payload's CRC (4).
pub const FRAMING_BYTES: usize = 16;

/// The masked CRC-32C of `bytes`: `mask(crc32c(bytes))`.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = CRC32C.checksum(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends `payload` framed as one record to `out`.
pub fn encode_record(payload: &[u8], out: &mut Vec<u8>) {
    let len = (payload.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&masked_crc32c(payload).to_le_bytes());
}

/// What splitting a byte stream into records found.
#[derive(Debug, PartialEq)]
pub struct Records<'a> {
    /// The payloads of the complete records, in order, with their byte offsets.
    pub payloads: Vec<(usize, &'a [u8])>,
    /// Where a final, incomplete record starts (a write cut short): its bytes are ignored.
    pub truncated_at: Option<usize>,
}

/// A record whose checksum does not match: `offset` is where the record starts, `what` says
/// which checksum failed.
#[derive(Debug, PartialEq)]
pub struct BadRecord {
    /// Byte offset of the record.
    pub offset: usize,
    /// `"length checksum"` or `"payload checksum"`.
    pub what: &'static str,
}

/// Splits `bytes` into records, checking both checksums of each. A last record cut short (a
/// crash while it was written) is reported in [`Records::truncated_at`], not as an error.
///
/// # Errors
/// [`BadRecord`] for a complete record whose length or payload checksum is wrong.
pub fn split_records(bytes: &[u8]) -> Result<Records<'_>, BadRecord> {
    let mut payloads = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < 12 {
            return Ok(Records {
                payloads,
                truncated_at: Some(at),
            });
        }
        let len_bytes = &rest[..8];
        let crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
        if masked_crc32c(len_bytes) != crc {
            return Err(BadRecord {
                offset: at,
                what: "length checksum",
            });
        }
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
        let end = usize::try_from(len)
            .ok()
            .and_then(|n| n.checked_add(FRAMING_BYTES));
        let Some(end) = end.filter(|&e| e <= rest.len()) else {
            return Ok(Records {
                payloads,
                truncated_at: Some(at),
            });
        };
        let payload = &rest[12..end - 4];
        let crc = u32::from_le_bytes(rest[end - 4..end].try_into().expect("4 bytes"));
        if masked_crc32c(payload) != crc {
            return Err(BadRecord {
                offset: at,
                what: "payload checksum",
            });
        }
        payloads.push((at, payload));
        at += end;
    }
    Ok(Records {
        payloads,
        truncated_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CRC-32C check value of the catalogue (`"123456789"` → 0xE3069283) and TensorFlow's
    /// masking of it.
    #[test]
    fn checksum_matches_the_catalogue() {
        assert_eq!(CRC32C.checksum(b"123456789"), 0xE306_9283);
        // ((c >> 15) | (c << 17)) + 0xa282ead8 mod 2³², worked out by hand.
        assert_eq!(masked_crc32c(b"123456789"), 0xC78A_B0E5);
    }

    /// Records round-trip; every cut inside the last record is a truncation, never an error.
    #[test]
    fn round_trip_and_every_truncation() {
        let mut bytes = Vec::new();
        encode_record(b"first", &mut bytes);
        let first_len = bytes.len();
        encode_record(b"second record", &mut bytes);
        let all = split_records(&bytes).unwrap();
        assert_eq!(
            all.payloads,
            vec![(0, &b"first"[..]), (first_len, &b"second record"[..])]
        );
        assert_eq!(all.truncated_at, None);
        for cut in first_len + 1..bytes.len() {
            let r = split_records(&bytes[..cut]).unwrap();
            assert_eq!(r.payloads.len(), 1, "cut at {cut}");
            assert_eq!(r.truncated_at, Some(first_len), "cut at {cut}");
        }
    }

    /// A flipped bit in a length or a payload is an error naming the record's offset.
    #[test]
    fn corruption_is_an_error() {
        let mut bytes = Vec::new();
        encode_record(b"abc", &mut bytes);
        encode_record(b"defg", &mut bytes);
        let second = FRAMING_BYTES + 3;
        let mut bad = bytes.clone();
        bad[second + 1] ^= 1;
        assert_eq!(
            split_records(&bad),
            Err(BadRecord {
                offset: second,
                what: "length checksum"
            })
        );
        let mut bad = bytes.clone();
        bad[second + 13] ^= 4;
        assert_eq!(
            split_records(&bad),
            Err(BadRecord {
                offset: second,
                what: "payload checksum"
            })
        );
    }
}
