//! safetensors interchange: files Strata writes read with the `safetensors` crate's own
//! reader, files that crate writes (as PyTorch's `save_file` would) read into Strata layers,
//! F16 and BF16 files (one written by PyTorch) widened exactly on import, and strict,
//! non-destructive failures.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, View};
use strata_layers::checkpoint::TensorKind;
use strata_layers::safetensors::{
    SafetensorsError, SafetensorsErrorKind, export_safetensors, export_safetensors_bytes,
    import_safetensors, import_safetensors_bytes,
};
use strata_layers::{Activation, Conv2d, Flatten, Linear, Module, Sequential, Tensor, manual_seed};

/// A fresh, empty directory for one test, removed by `Drop`.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("strata-st-test-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// conv(1→3, 3×3) → ReLU → flatten → linear(48→4), on `[N, 1, 6, 6]`.
fn cnn<T: strata_tensor::Element>() -> Sequential<T> {
    Sequential::new()
        .add(Conv2d::new(1, 3, (3, 3)))
        .add(Activation::Relu)
        .add(Flatten)
        .add(Linear::new(48, 4))
}

fn input() -> Tensor {
    Tensor::from_vec(
        (0..72)
            .map(|i| ((i * 29 % 17) as f32 - 8.0) / 5.0)
            .collect(),
        &[2, 1, 6, 6],
    )
}

fn snapshot<M: Module + ?Sized>(m: &M) -> Vec<(String, Vec<u32>)> {
    m.params()
        .into_iter()
        .map(|(n, p)| (n, p.value().to_vec().iter().map(|x| x.to_bits()).collect()))
        .collect()
}

/// A tensor for the `safetensors` writer, as PyTorch's `save_file` would hand it over.
struct Owned {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Owned {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn f32s(shape: &[usize], values: &[f32]) -> Owned {
    Owned {
        dtype: Dtype::F32,
        shape: shape.to_vec(),
        bytes: values.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

/// A safetensors file made by the reference writer, with PyTorch's metadata.
fn reference_file(tensors: &[(&str, &Owned)]) -> Vec<u8> {
    let metadata: HashMap<String, String> = [("format".to_string(), "pt".to_string())].into();
    safetensors::serialize(tensors.iter().map(|&(n, t)| (n, t)), Some(metadata)).unwrap()
}

fn names_file(err: &SafetensorsError, path: &Path) -> String {
    let msg = err.to_string();
    assert_eq!(err.path(), Some(path), "{msg}");
    assert!(
        msg.starts_with(&format!("safetensors file {}: ", path.display())),
        "{msg}"
    );
    msg
}

#[test]
fn strata_files_read_with_the_reference_reader() {
    let dir = TempDir::new("export");
    let path = dir.join("cnn.safetensors");
    let net = cnn::<f32>();
    export_safetensors(&net, &path).unwrap();
    assert_eq!(dir.listing(), ["cnn.safetensors"]);

    let bytes = fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort_unstable();
    assert_eq!(names, ["0.bias", "0.weight", "3.bias", "3.weight"]);
    for (name, p) in net.params() {
        let view = file.tensor(&name).unwrap();
        assert_eq!(view.dtype(), Dtype::F32, "{name}");
        assert_eq!(view.shape(), p.shape(), "{name}");
        let le: Vec<u8> = p
            .value()
            .to_vec()
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(view.data(), le.as_slice(), "{name}");
    }
    assert_eq!(file.tensor("0.weight").unwrap().shape(), [3, 1, 3, 3]);
    assert_eq!(file.tensor("3.weight").unwrap().shape(), [4, 48]);
    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(
        metadata
            .metadata()
            .as_ref()
            .unwrap()
            .get("format")
            .map(String::as_str),
        Some("pt")
    );

    // f64 modules export F64.
    let bytes = export_safetensors_bytes(&Linear::<f64>::new(3, 2)).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.tensor("weight").unwrap().dtype(), Dtype::F64);
    assert_eq!(file.tensor("bias").unwrap().shape(), [2]);
}

#[test]
fn reference_files_import_into_a_linear() {
    // As `torch.nn.Linear(3, 2)` saved by `safetensors.torch.save_file(m.state_dict(), …)`.
    let w = [0.5f32, -1.0, 2.0, 0.25, 0.0, -0.75];
    let b = [0.1f32, -0.2];
    let bytes = reference_file(&[("weight", &f32s(&[2, 3], &w)), ("bias", &f32s(&[2], &b))]);

    let mut linear = Linear::<f32>::new(3, 2);
    import_safetensors_bytes(&mut linear, &bytes).unwrap();
    assert_eq!(linear.weight.value().to_vec(), w);
    assert_eq!(linear.bias.as_ref().unwrap().value().to_vec(), b);
    // y = x·Wᵀ + b
    let y = linear.predict(&Tensor::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]));
    assert_eq!(y.to_vec(), [0.5 - 2.0 + 6.0 + 0.1, 0.25 + 0.0 - 2.25 - 0.2]);

    // PyTorch's batch-norm step counter is skipped when the model has no such buffer.
    let counter = Owned {
        dtype: Dtype::I64,
        shape: vec![],
        bytes: 5i64.to_le_bytes().to_vec(),
    };
    let bytes = reference_file(&[
        ("0.weight", &f32s(&[2, 3], &w)),
        ("0.bias", &f32s(&[2], &b)),
        ("1.num_batches_tracked", &counter),
    ]);
    let mut seq = Sequential::<f32>::new().add(Linear::new(3, 2));
    import_safetensors_bytes(&mut seq, &bytes).unwrap();
    assert_eq!(seq.params()[0].1.value().to_vec(), w);
}

#[test]
fn file_round_trip_gives_bitwise_identical_outputs() {
    let dir = TempDir::new("round-trip");
    let path = dir.join("cnn.safetensors");
    manual_seed(11);
    let mut net = cnn::<f32>();
    let expected = net.predict(&input());
    export_safetensors(&net, &path).unwrap();
    // Overwrite once more: still no temporary file left.
    export_safetensors(&net, &path).unwrap();
    assert_eq!(dir.listing(), ["cnn.safetensors"]);

    manual_seed(12);
    let mut fresh = cnn::<f32>();
    assert_ne!(fresh.predict(&input()).to_vec(), expected.to_vec());
    import_safetensors(&mut fresh, &path).unwrap();
    let bits = |t: &Tensor| t.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fresh.predict(&input())), bits(&expected));

    let mut fresh64 = cnn::<f64>();
    let bytes64 = export_safetensors_bytes(&cnn::<f64>()).unwrap();
    import_safetensors_bytes(&mut fresh64, &bytes64).unwrap();
}

/// Writes `bytes` to `path`, imports into a fresh `Linear(3, 2)`, asserts failure without
/// change and a message naming the file, and returns the error.
fn failing_import(path: &Path, bytes: &[u8]) -> SafetensorsError {
    fs::write(path, bytes).unwrap();
    let mut linear = Linear::<f32>::new(3, 2);
    let before = snapshot(&linear);
    let err = import_safetensors(&mut linear, path).unwrap_err();
    names_file(&err, path);
    assert_eq!(
        snapshot(&linear),
        before,
        "module changed by a failed import: {err}"
    );
    err
}

#[test]
fn mismatches_are_reported_and_leave_the_module_unchanged() {
    let dir = TempDir::new("mismatch");
    let path = dir.join("m.safetensors");
    let w = f32s(&[2, 3], &[1.0; 6]);
    let b = f32s(&[2], &[2.0; 2]);

    let err = failing_import(&path, &reference_file(&[("weight", &w)]));
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::MissingTensor { kind: TensorKind::Parameter, name } if name == "bias"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "safetensors file {}: parameter \"bias\" of the model is missing from the file",
            path.display()
        )
    );

    let extra = f32s(&[1], &[0.0]);
    let err = failing_import(
        &path,
        &reference_file(&[("weight", &w), ("bias", &b), ("scale", &extra)]),
    );
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::UnexpectedTensor { name } if name == "scale"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("the file has tensor \"scale\", which the model does not have"),
        "{err}"
    );

    let wide = f32s(&[2, 4], &[1.0; 8]);
    let err = failing_import(&path, &reference_file(&[("weight", &wide), ("bias", &b)]));
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::ShapeMismatch { name, file, model, .. }
            if name == "weight" && file == &[2, 4] && model == &[2, 3]),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "safetensors file {}: parameter \"weight\" has shape [2, 4] in the file but [2, 3] in the model",
            path.display()
        )
    );

    // Integers are not converted (F16 and BF16 are).
    let ints = Owned {
        dtype: Dtype::I32,
        shape: vec![2],
        bytes: vec![0; 8],
    };
    let err = failing_import(&path, &reference_file(&[("weight", &w), ("bias", &ints)]));
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::DtypeMismatch { name, file, model: "F32", .. } if name == "bias" && file == "I32"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("parameter \"bias\" is I32 in the file but F32 in the model"),
        "{err}"
    );
    let fp8 = Owned {
        dtype: Dtype::F8_E4M3,
        shape: vec![2, 3],
        bytes: vec![0; 6],
    };
    let err = failing_import(&path, &reference_file(&[("weight", &fp8), ("bias", &b)]));
    assert!(
        err.to_string()
            .ends_with("parameter \"weight\" is F8_E4M3 in the file but F32 in the model"),
        "{err}"
    );

    // f64 weights into an f32 model.
    let err = failing_import(
        &path,
        &export_safetensors_bytes(&Linear::<f64>::new(3, 2)).unwrap(),
    );
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::DtypeMismatch { file, .. } if file == "F64"),
        "{err}"
    );
}

/// PyTorch's float32 values (`t.float()`, as bits) of the tensors in
/// `tests/fixtures/half_precision.safetensors`, printed by `reference/safetensors_half.py`:
/// `0.weight` and `1.bias` are F16, `0.bias` and `1.weight` BF16, with subnormals, the
/// extremes, signed zeros, infinities and NaNs.
#[rustfmt::skip]
const PYTORCH_HALF_AS_F32: [(&str, &[u32]); 4] = [
    ("0.weight", &[0x33800000, 0x387FC000, 0xB8000000, 0x38800000, 0x477FE000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FFFFFFF, 0x7FFFFFFF, 0x3EAAA000, 0xC0200000]),
    ("0.bias", &[0x00010000, 0x807F0000, 0x7F7F0000]),
    ("1.weight", &[0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F810000, 0x3EAB0000]),
    ("1.bias", &[0x3F800000, 0x00000000]),
];

/// PyTorch widens every F16 NaN to its one NaN `0x7FFFFFFF`; the import keeps the NaN's sign
/// and payload (checked bit by bit in `every_f16_and_bf16_value_imports_exactly`), so there
/// only NaN-ness is compared. Everything else matches bit for bit.
fn same_as_pytorch(got: f32, pytorch: u32) -> bool {
    if pytorch == 0x7FFF_FFFF {
        got.is_nan()
    } else {
        got.to_bits() == pytorch
    }
}

#[test]
fn pytorch_half_precision_files_import_exactly() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/half_precision.safetensors");
    fn two_layers<T: strata_tensor::Element>() -> Sequential<T> {
        Sequential::new()
            .add(Linear::new(4, 3))
            .add(Linear::new(3, 2))
    }

    let mut net = two_layers::<f32>();
    import_safetensors(&mut net, &path).unwrap();
    let params = net.params();
    assert_eq!(params.len(), PYTORCH_HALF_AS_F32.len());
    for (name, want) in PYTORCH_HALF_AS_F32 {
        let got = params
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .value()
            .to_vec();
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            assert!(
                same_as_pytorch(g, w),
                "{name}[{i}]: {:#010X}, PyTorch {w:#010X}",
                g.to_bits()
            );
        }
    }

    // Into an f64 model: the same values, exactly.
    let mut net64 = two_layers::<f64>();
    import_safetensors(&mut net64, &path).unwrap();
    for (name, p) in net64.params() {
        let want = PYTORCH_HALF_AS_F32
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1;
        for (i, (&g, &w)) in p.value().to_vec().iter().zip(want).enumerate() {
            let w = f32::from_bits(w);
            assert!(
                if w.is_nan() {
                    g.is_nan()
                } else {
                    g.to_bits() == f64::from(w).to_bits()
                },
                "{name}[{i}]: {g:e}, PyTorch {w:e}"
            );
        }
    }
    // The fixture does hold half-precision tensors.
    let bytes = fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    for (name, dtype) in [
        ("0.weight", Dtype::F16),
        ("0.bias", Dtype::BF16),
        ("1.weight", Dtype::BF16),
        ("1.bias", Dtype::F16),
    ] {
        assert_eq!(file.tensor(name).unwrap().dtype(), dtype, "{name}");
    }
}

/// `(−1)^s·2^(e−15)·(1 + m/2¹⁰)`, `(−1)^s·m·2⁻²⁴` for `e = 0`, from the definition of binary16
/// (infinities and NaNs excluded).
fn f16_by_definition(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let (e, m) = (i32::from((bits >> 10) & 0x1F), f64::from(bits & 0x3FF));
    sign * if e == 0 {
        m * 2f64.powi(-24)
    } else {
        (1.0 + m / 1024.0) * 2f64.powi(e - 15)
    }
}

#[test]
fn every_f16_and_bf16_value_imports_exactly() {
    // weight [65536, 1] ← every F16 bit pattern, bias [65536] ← every BF16 bit pattern.
    let all: Vec<u8> = (0..=u16::MAX).flat_map(u16::to_le_bytes).collect();
    let tensor = |dtype, shape: &[usize]| Owned {
        dtype,
        shape: shape.to_vec(),
        bytes: all.clone(),
    };
    let bytes = reference_file(&[
        ("weight", &tensor(Dtype::F16, &[65536, 1])),
        ("bias", &tensor(Dtype::BF16, &[65536])),
    ]);

    let mut linear = Linear::<f32>::new(1, 65536);
    import_safetensors_bytes(&mut linear, &bytes).unwrap();
    let weight = linear.weight.value().to_vec();
    let bias = linear.bias.as_ref().unwrap().value().to_vec();
    let mut linear64 = Linear::<f64>::new(1, 65536);
    import_safetensors_bytes(&mut linear64, &bytes).unwrap();
    let weight64 = linear64.weight.value().to_vec();
    let bias64 = linear64.bias.as_ref().unwrap().value().to_vec();

    for h in 0..=u16::MAX {
        let (got, got64) = (weight[usize::from(h)], weight64[usize::from(h)]);
        let (sign, exponent, mantissa) = (h >> 15, (h >> 10) & 0x1F, u32::from(h & 0x3FF));
        if exponent == 0x1F && mantissa != 0 {
            // NaN: sign and payload kept, quiet bit set.
            let want = (u32::from(sign) << 31) | 0x7FC0_0000 | (mantissa << 13);
            assert_eq!(got.to_bits(), want, "F16 {h:#06X}");
            assert!(got64.is_nan(), "F16 {h:#06X} as f64");
            continue;
        }
        let want = if exponent == 0x1F {
            if sign == 1 {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        } else {
            f16_by_definition(h)
        };
        // Bits, so that −0 is told from +0.
        assert_eq!(got.to_bits(), (want as f32).to_bits(), "F16 {h:#06X}");
        assert_eq!(got64.to_bits(), want.to_bits(), "F16 {h:#06X} as f64");
        assert_eq!(f64::from(want as f32), want, "F16 {h:#06X} is an f32 value");
    }
    for b in 0..=u16::MAX {
        let (got, got64) = (bias[usize::from(b)], bias64[usize::from(b)]);
        // bfloat16 is the top half of an f32.
        let want = f32::from_bits(u32::from(b) << 16);
        assert_eq!(got.to_bits(), want.to_bits(), "BF16 {b:#06X}");
        if want.is_nan() {
            assert!(got64.is_nan(), "BF16 {b:#06X} as f64");
        } else {
            assert_eq!(
                got64.to_bits(),
                f64::from(want).to_bits(),
                "BF16 {b:#06X} as f64"
            );
        }
    }
}

#[test]
fn malformed_files_are_reported() {
    let dir = TempDir::new("malformed");
    let path = dir.join("bad.safetensors");
    let good = reference_file(&[
        ("weight", &f32s(&[2, 3], &[1.0; 6])),
        ("bias", &f32s(&[2], &[2.0; 2])),
    ]);

    let err = failing_import(&path, &good[..5]);
    assert!(
        matches!(
            err.kind(),
            SafetensorsErrorKind::Truncated {
                file_len: 5,
                expected_len: 8
            }
        ),
        "{err}"
    );
    let err = failing_import(&path, &good[..20]);
    assert!(
        matches!(
            err.kind(),
            SafetensorsErrorKind::Truncated { file_len: 20, .. }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("but the file ends at byte 20"),
        "{err}"
    );
    // Cut inside the tensor data: the header's offsets do not cover the file.
    let err = failing_import(&path, &good[..good.len() - 3]);
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::Format { .. }),
        "{err}"
    );
    // Garbage JSON.
    let mut bad = good.clone();
    bad[8] = b'!';
    let err = failing_import(&path, &bad);
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::Format { message } if message.contains("JSON")),
        "{err}"
    );
    // Missing file.
    let mut linear = Linear::<f32>::new(3, 2);
    let absent = dir.join("absent.safetensors");
    let err = import_safetensors(&mut linear, &absent).unwrap_err();
    names_file(&err, &absent);
    assert!(matches!(err.kind(), SafetensorsErrorKind::Io { .. }));
}

#[test]
fn failed_export_leaves_the_old_file_intact() {
    let dir = TempDir::new("atomic");
    let path = dir.join("old.safetensors");
    export_safetensors(&Linear::<f32>::new(3, 2), &path).unwrap();
    let old = fs::read(&path).unwrap();

    let missing = dir.join("no-such-dir").join("x.safetensors");
    let err = export_safetensors(&Linear::<f32>::new(3, 2), &missing).unwrap_err();
    names_file(&err, &missing);
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );

    let blocked = dir.join("blocked.safetensors");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("keep"), b"x").unwrap();
    let err = export_safetensors(&Linear::<f32>::new(3, 2), &blocked).unwrap_err();
    names_file(&err, &blocked);
    assert_eq!(dir.listing(), ["blocked.safetensors", "old.safetensors"]);
    assert_eq!(fs::read(&path).unwrap(), old);
}

/// A JSON header naming one tensor twice is refused with the name (a JSON parser, the
/// `safetensors` crate's included, would silently keep the second).
#[test]
fn a_header_naming_a_tensor_twice_is_refused() {
    let dir = TempDir::new("duplicate");
    let path = dir.join("dup.safetensors");
    let weight = r#"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#;
    let bias = r#"{"dtype":"F32","shape":[2],"data_offsets":[8,16]}"#;
    let mut header =
        format!(r#"{{"weight":{weight},"bias":{bias},"weight":{weight}}}"#).into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(&header);
    bytes.extend([0u8; 16]);
    let err = failing_import(&path, &bytes);
    assert!(
        matches!(err.kind(), SafetensorsErrorKind::DuplicateTensor { name } if name == "weight"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(r#"names tensor "weight" twice in its JSON header"#),
        "{err}"
    );
}

#[test]
fn an_error_hands_over_its_kind() {
    let err = import_safetensors_bytes(&mut Linear::<f32>::new(3, 2), &[0; 5])
        .unwrap_err()
        .with_path("/x/m.safetensors");
    assert_eq!(err.path(), Some(Path::new("/x/m.safetensors")));
    assert!(
        matches!(
            err.into_kind(),
            SafetensorsErrorKind::Truncated {
                file_len: 5,
                expected_len: 8
            }
        ),
        "five bytes hold no header length"
    );
}
