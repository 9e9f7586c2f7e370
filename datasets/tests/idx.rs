//! The IDX reader: round trips of every element type and rank, gzip and raw, and one test
//! per kind of bad input.

mod common;

use std::io::Cursor;

use common::{TempDir, gzip, idx_bytes};
use strata_datasets::{
    DatasetError, IdxArray, IdxData, IdxType, read_idx, read_idx_bytes, read_idx_from,
};

fn samples() -> Vec<IdxArray> {
    vec![
        IdxArray::new(vec![3], IdxData::U8(vec![0, 128, 255])),
        IdxArray::new(vec![2, 2], IdxData::I8(vec![-128, -1, 0, 127])),
        IdxArray::new(
            vec![1, 2, 3],
            IdxData::I16(vec![-32768, -2, 0, 1, 300, 32767]),
        ),
        IdxArray::new(
            vec![2, 1, 1, 2],
            IdxData::I32(vec![i32::MIN, -7, 65536, i32::MAX]),
        ),
        IdxArray::new(vec![4], IdxData::F32(vec![-1.5, 0.0, f32::MAX, 1e-30])),
        IdxArray::new(vec![2, 1], IdxData::F64(vec![std::f64::consts::PI, -1e300])),
        IdxArray::new(vec![0, 28, 28], IdxData::U8(vec![])),
        IdxArray::new(vec![1; 7], IdxData::F64(vec![42.0])),
    ]
}

#[test]
fn round_trips_every_type_and_rank_raw_and_gzip() {
    let dir = TempDir::new("idx-roundtrip");
    for (i, a) in samples().into_iter().enumerate() {
        let raw = idx_bytes(&a);
        assert_eq!(raw[2], a.dtype().code());
        assert_eq!(usize::from(raw[3]), a.dims().len());
        let gz = gzip(&raw);
        assert_eq!(read_idx_bytes(&raw, "raw").unwrap(), a);
        assert_eq!(read_idx_bytes(&gz, "gz").unwrap(), a);
        assert_eq!(read_idx_from(Cursor::new(&gz), "gz").unwrap(), a);
        assert_eq!(read_idx_from(Cursor::new(&raw), "raw").unwrap(), a);
        let (p_raw, p_gz) = (
            dir.join(&format!("{i}.idx")),
            dir.join(&format!("{i}.idx.gz")),
        );
        std::fs::write(&p_raw, &raw).unwrap();
        std::fs::write(&p_gz, &gz).unwrap();
        assert_eq!(read_idx(&p_raw).unwrap(), a);
        assert_eq!(read_idx(&p_gz).unwrap(), a);
    }
}

#[test]
fn big_endian_layout_is_the_standard_one() {
    // 0x0000_080_3, dims [1, 2, 2]: the MNIST image header.
    let bytes = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4];
    let a = read_idx_bytes(&bytes, "x").unwrap();
    assert_eq!(a.dims(), &[1, 2, 2]);
    assert_eq!(a.dtype(), IdxType::U8);
    assert_eq!(a.data(), &IdxData::U8(vec![1, 2, 3, 4]));
    let f = [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0x80, 0, 0];
    assert_eq!(
        read_idx_bytes(&f, "x").unwrap().data(),
        &IdxData::F32(vec![1.0])
    );
    let i = [0, 0, 0x0B, 1, 0, 0, 0, 1, 0xFF, 0xFE];
    assert_eq!(
        read_idx_bytes(&i, "x").unwrap().data(),
        &IdxData::I16(vec![-2])
    );
}

#[test]
fn conversions_to_float() {
    let a = IdxArray::new(vec![3], IdxData::I16(vec![-3, 0, 7]));
    assert_eq!(a.data().to_f32_vec(), vec![-3.0, 0.0, 7.0]);
    assert_eq!(a.data().to_f64_vec(), vec![-3.0, 0.0, 7.0]);
    assert_eq!(a.numel(), 3);
}

fn image_file() -> Vec<u8> {
    idx_bytes(&IdxArray::new(
        vec![2, 3, 3],
        IdxData::U8((0..18).collect()),
    ))
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let e = read_idx("/nonexistent/strata/train-images-idx3-ubyte.gz").unwrap_err();
    assert!(matches!(e, DatasetError::Io { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("/nonexistent/strata/train-images-idx3-ubyte.gz")
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn empty_and_truncated_magic() {
    for len in 0..4 {
        let e = read_idx_bytes(&image_file()[..len], "f.idx").unwrap_err();
        match &e {
            DatasetError::Truncated {
                what,
                offset,
                expected,
                found,
                ..
            } => {
                assert_eq!(*what, "magic number");
                assert_eq!((*offset, *expected, *found), (len as u64, 4, len as u64));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("f.idx"), "{e}");
    }
}

#[test]
fn wrong_magic_number() {
    let cases: [([u8; 4], &str); 4] = [
        ([0, 1, 8, 3], "first two bytes"),
        ([0x42, 0x4D, 8, 3], "first two bytes"),
        ([0, 0, 0x0A, 3], "unknown element type"),
        ([0, 0, 8, 0], "rank"),
    ];
    for (magic, why) in cases {
        let mut f = image_file();
        f[..4].copy_from_slice(&magic);
        let e = read_idx_bytes(&f, "bad.idx").unwrap_err();
        match &e {
            DatasetError::BadMagic { found, reason, .. } => {
                assert_eq!(*found, magic);
                assert!(reason.contains(why), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let msg = e.to_string();
        assert!(
            msg.contains("bad.idx") && msg.contains("byte offset 0"),
            "{msg}"
        );
        // Also through gzip.
        let e = read_idx_bytes(&gzip(&f), "bad.idx.gz").unwrap_err();
        assert!(matches!(e, DatasetError::BadMagic { .. }), "{e:?}");
    }
}

#[test]
fn truncated_dimension_sizes() {
    let f = image_file();
    for len in 4..16 {
        for bytes in [f[..len].to_vec(), gzip(&f[..len])] {
            let e = read_idx_bytes(&bytes, "dims.idx").unwrap_err();
            match e {
                DatasetError::Truncated {
                    what,
                    offset,
                    expected,
                    found,
                    ..
                } => {
                    assert_eq!(what, "dimension sizes");
                    assert_eq!((offset, expected, found), (len as u64, 12, len as u64 - 4));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn truncated_data_raw_and_gzip_and_file() {
    let f = image_file();
    let dir = TempDir::new("idx-trunc");
    for len in 16..f.len() {
        let cut = &f[..len];
        for (name, e) in [
            ("raw", read_idx_bytes(cut, "t.idx").unwrap_err()),
            ("gz", read_idx_bytes(&gzip(cut), "t.idx.gz").unwrap_err()),
            (
                "reader",
                read_idx_from(Cursor::new(cut), "t.idx").unwrap_err(),
            ),
            ("file", {
                let p = dir.join("t.idx");
                std::fs::write(&p, cut).unwrap();
                read_idx(&p).unwrap_err()
            }),
        ] {
            match &e {
                DatasetError::Truncated {
                    what,
                    offset,
                    expected,
                    found,
                    ..
                } => {
                    assert_eq!(*what, "data", "{name}");
                    assert_eq!(*expected, 18, "{name}");
                    assert_eq!(*found, len as u64 - 16, "{name}");
                    assert_eq!(*offset, len as u64, "{name}");
                }
                other => panic!("{name}: {other:?}"),
            }
            let msg = e.to_string();
            assert!(
                msg.contains("expected 18 bytes") && msg.contains(&format!("offset {len}")),
                "{msg}"
            );
        }
    }
}

#[test]
fn dimension_sizes_not_matching_the_byte_count() {
    let f = image_file();
    // More bytes than declared: declare 1 image instead of 2.
    let mut g = f.clone();
    g[7] = 1;
    let e = read_idx_bytes(&g, "extra.idx").unwrap_err();
    match &e {
        DatasetError::TrailingData { dims, offset, .. } => {
            assert_eq!(dims, &vec![1, 3, 3]);
            assert_eq!(*offset, 16 + 9);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("do not match the byte count"), "{e}");
    let e = read_idx_bytes(&gzip(&g), "extra.idx.gz").unwrap_err();
    assert!(matches!(e, DatasetError::TrailingData { .. }), "{e:?}");
    // Fewer bytes than declared: declare 3 images.
    let mut h = f.clone();
    h[7] = 3;
    for bytes in [h.clone(), gzip(&h)] {
        match read_idx_bytes(&bytes, "short.idx").unwrap_err() {
            DatasetError::Truncated {
                expected, found, ..
            } => assert_eq!((expected, found), (27, 18)),
            other => panic!("{other:?}"),
        }
    }
    // A wider element type than the data holds.
    let mut k = f.clone();
    k[2] = 0x0E;
    assert!(matches!(
        read_idx_bytes(&k, "f64.idx").unwrap_err(),
        DatasetError::Truncated { expected: 144, .. }
    ));
}

#[test]
fn absurd_dimension_sizes_do_not_allocate_or_panic() {
    let mut f = image_file();
    f[4..16].copy_from_slice(&[0xFF; 12]);
    let e = read_idx_bytes(&f, "huge.idx").unwrap_err();
    assert!(matches!(e, DatasetError::TooLarge { .. }), "{e:?}");
    // Large but addressable: ~4 GB declared, a few bytes present (gzip: size unknown up front).
    let mut g = image_file();
    g[4..16].copy_from_slice(&[0, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0x04, 0]);
    let e = read_idx_bytes(&gzip(&g), "big.idx.gz").unwrap_err();
    assert!(matches!(e, DatasetError::Truncated { .. }), "{e:?}");
}

#[test]
fn corrupt_gzip_stream_is_a_decompress_error() {
    let gz = gzip(&image_file());
    // Flip a byte in the deflate body, then cut the stream short.
    let mut bad = gz.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xFF;
    let e = read_idx_bytes(&bad, "c.idx.gz").unwrap_err();
    assert!(
        matches!(
            e,
            DatasetError::Decompress { .. }
                | DatasetError::Truncated { .. }
                | DatasetError::TrailingData { .. }
                | DatasetError::BadMagic { .. }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("c.idx.gz"));
    // A wrong CRC in the trailer is always detected.
    let mut crc = gz.clone();
    let n = crc.len();
    crc[n - 8] ^= 0x01;
    let e = read_idx_bytes(&crc, "crc.idx.gz").unwrap_err();
    assert!(matches!(e, DatasetError::Decompress { .. }), "{e:?}");
    // Only the gzip header.
    let e = read_idx_bytes(&gz[..10], "h.idx.gz").unwrap_err();
    assert!(
        matches!(
            e,
            DatasetError::Decompress { .. } | DatasetError::Truncated { .. }
        ),
        "{e:?}"
    );
}
