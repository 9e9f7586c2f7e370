//! Property-based fuzzing of the IDX parser: random bytes and mutated valid files (bytes
//! flipped, truncated at random points, dimension fields, type code or rank changed), raw and
//! gzip-compressed. The parser must return `Ok` or an error, never panic, hang or allocate
//! absurd amounts; valid files must round trip.

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;

use common::{gzip, idx_bytes};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use strata_datasets::{DatasetError, IdxArray, IdxData, ImageSet, MNIST_CLASSES, read_idx_bytes};

/// Cases per strategy (three strategies: 30,000 parser inputs in all).
const CASES: u32 = 10_000;

fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

fn kind(r: &Result<IdxArray, DatasetError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(DatasetError::BadMagic { .. }) => "bad magic",
        Err(DatasetError::Truncated { .. }) => "truncated",
        Err(DatasetError::TrailingData { .. }) => "trailing data",
        Err(DatasetError::TooLarge { .. }) => "too large",
        Err(DatasetError::LimitExceeded { .. }) => "above the limit",
        Err(DatasetError::Decompress { .. }) => "decompress",
        Err(_) => "other",
    }
}

/// A random valid IDX array: any element type, rank 1–4, at most 64 elements.
fn valid_array() -> impl Strategy<Value = IdxArray> {
    (
        0usize..6,
        prop::collection::vec(1usize..5, 1..5),
        any::<u64>(),
    )
        .prop_map(|(t, dims, seed)| {
            let n: usize = dims.iter().product();
            let mut s = seed;
            let mut next = move || {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s >> 11
            };
            let data = match t {
                0 => IdxData::U8((0..n).map(|_| next() as u8).collect()),
                1 => IdxData::I8((0..n).map(|_| next() as i8).collect()),
                2 => IdxData::I16((0..n).map(|_| next() as i16).collect()),
                3 => IdxData::I32((0..n).map(|_| next() as i32).collect()),
                4 => IdxData::F32((0..n).map(|_| f32::from_bits(next() as u32)).collect()),
                _ => IdxData::F64((0..n).map(|_| f64::from_bits(next() << 11)).collect()),
            };
            IdxArray::new(dims, data)
        })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Truncate { at: usize },
    SetDim { which: usize, value: u32 },
    SetType { code: u8 },
    SetRank { rank: u8 },
    Append { bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (
            any::<usize>(),
            prop_oneof![0u32..10, any::<u32>(), Just(u32::MAX)]
        )
            .prop_map(|(which, value)| Mutation::SetDim { which, value }),
        any::<u8>().prop_map(|code| Mutation::SetType { code }),
        any::<u8>().prop_map(|rank| Mutation::SetRank { rank }),
        prop::collection::vec(any::<u8>(), 1..8).prop_map(|bytes| Mutation::Append { bytes }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    match m {
        Mutation::Flip { at, mask } => bytes[at % len] ^= mask,
        Mutation::Truncate { at } => bytes.truncate(at % len),
        Mutation::SetDim { which, value } => {
            let rank = usize::from(bytes[3]).max(1);
            let off = 4 + 4 * (which % rank);
            if off + 4 <= len {
                bytes[off..off + 4].copy_from_slice(&value.to_be_bytes());
            }
        }
        Mutation::SetType { code } => bytes[2] = *code,
        Mutation::SetRank { rank } => bytes[3] = *rank,
        Mutation::Append { bytes: extra } => bytes.extend_from_slice(extra),
    }
}

fn run(name: &str, strategy: impl Strategy<Value = Vec<u8>>) {
    let tally = Mutex::new(BTreeMap::<&'static str, usize>::new());
    let mut runner = TestRunner::new(config());
    runner
        .run(&strategy, |bytes| {
            let r = read_idx_bytes(&bytes, "fuzz.idx");
            if let Err(e) = &r {
                // Every error renders a message naming the input.
                prop_assert!(e.to_string().contains("fuzz.idx"), "{e}");
            }
            *tally.lock().unwrap().entry(kind(&r)).or_default() += 1;
            Ok(())
        })
        .unwrap();
    let tally = tally.into_inner().unwrap();
    let total: usize = tally.values().sum();
    eprintln!("{name}: {total} inputs without a panic: {tally:?}");
    assert!(total >= CASES as usize);
}

#[test]
fn random_bytes_never_panic() {
    let random = prop::collection::vec(any::<u8>(), 0..200);
    // Random bytes behind a plausible header, to get past the magic check.
    let headed = (1u8..5, prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(rank, body)| {
        let mut v = vec![0, 0, 0x08, rank];
        v.extend(body);
        v
    });
    run("random bytes", prop_oneof![random, headed]);
}

#[test]
fn mutated_raw_files_never_panic() {
    let strategy = (valid_array(), prop::collection::vec(mutation(), 0..4)).prop_map(|(a, ms)| {
        let mut bytes = idx_bytes(&a);
        for m in &ms {
            if bytes.len() >= 4 || matches!(m, Mutation::Append { .. }) {
                apply(&mut bytes, m);
            }
        }
        bytes
    });
    run("mutated raw files", strategy);
}

#[test]
fn mutated_gzip_files_never_panic() {
    // Mutate the IDX content before compression, or the compressed stream itself.
    let strategy = (
        valid_array(),
        prop::collection::vec(mutation(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(a, ms, after)| {
            let mut bytes = idx_bytes(&a);
            if after {
                bytes = gzip(&bytes);
            }
            for m in &ms {
                if bytes.len() >= 4 {
                    apply(&mut bytes, m);
                }
            }
            if !after {
                bytes = gzip(&bytes);
            }
            bytes
        });
    run("mutated gzip files", strategy);
}

proptest! {
    #![proptest_config(Config { cases: 500, failure_persistence: None, ..Config::default() })]

    #[test]
    fn valid_files_round_trip(a in valid_array(), gz in any::<bool>()) {
        let mut bytes = idx_bytes(&a);
        if gz {
            bytes = gzip(&bytes);
        }
        let b = read_idx_bytes(&bytes, "ok.idx").unwrap();
        // Compare bit patterns: NaN payloads must survive too.
        prop_assert_eq!(b.dims(), a.dims());
        prop_assert_eq!(format!("{:?}", b.data().to_f64_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>()),
                        format!("{:?}", a.data().to_f64_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>()));
    }

    #[test]
    fn mnist_pairs_from_mutated_files_never_panic(
        n in 0usize..5, labels in prop::collection::vec(any::<u8>(), 0..6), ms in prop::collection::vec(mutation(), 0..3)
    ) {
        let images = IdxArray::new(vec![n, 2, 2], IdxData::U8(vec![7; n * 4]));
        let labels = IdxArray::new(vec![labels.len()], IdxData::U8(labels));
        let mut bytes = idx_bytes(&images);
        for m in &ms {
            apply(&mut bytes, m);
            if bytes.len() < 4 { break; }
        }
        if let Ok(images) = read_idx_bytes(&bytes, "img.idx") {
            let p = std::path::Path::new("x");
            let _ = ImageSet::from_idx(images, labels, p, p, &MNIST_CLASSES);
        }
    }
}

/// Headers that lie about the size: any element type, rank 1–4, dimensions up to 2³² − 1
/// (declaring up to 2¹²⁸ bytes), followed by at most 4 KiB, raw or gzip-compressed. Every one is
/// refused (above the limit, too large, truncated) or read, never allocated up front, never a
/// panic.
#[test]
fn lying_headers_never_allocate_what_they_declare() {
    let lying = (
        prop::sample::select(vec![0x08u8, 0x09, 0x0b, 0x0c, 0x0d, 0x0e]),
        prop::collection::vec(any::<u32>(), 1..5),
        prop::collection::vec(any::<u8>(), 0..4096),
        any::<bool>(),
    )
        .prop_map(|(code, dims, body, gz)| {
            let mut v = vec![0, 0, code, dims.len() as u8];
            for d in dims {
                v.extend(d.to_be_bytes());
            }
            v.extend(body);
            if gz { gzip(&v) } else { v }
        });
    run("lying headers", lying);
}
