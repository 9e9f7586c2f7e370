//! Checkpoint files: round trips, every kind of corrupt input, and atomic writes.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::version_1_file;
use serde::{Deserialize, Serialize};
use strata_layers::checkpoint::{
    CheckpointError, CheckpointErrorKind, FORMAT_VERSION, HEADER_LEN, MAGIC, ModuleState,
    NamedTensor, TensorKind, TensorValues, decode_checkpoint, encode_checkpoint, load_module,
    read_checkpoint, save_module, write_checkpoint,
};
use strata_layers::{
    Activation, Conv2d, Flatten, Linear, Module, Sequential, Tensor, Var, manual_seed,
};

/// A fresh, empty directory for one test, removed by `Drop`.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("strata-ckpt-test-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The names of the files in the directory, sorted.
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

/// conv(1→3, 3×3) → ReLU → flatten → linear(48→10) → tanh → linear(10→4), on `[N, 1, 6, 6]`.
fn cnn<T: strata_tensor::Element>() -> Sequential<T> {
    Sequential::new()
        .add(Conv2d::new(1, 3, (3, 3)))
        .add(Activation::Relu)
        .add(Flatten)
        .add(Linear::new(48, 10))
        .add(Activation::Tanh)
        .add(Linear::new(10, 4))
}

/// A small MLP: `0` linear(4→8), `1` ReLU, `2` linear(8→out) with or without bias.
fn mlp(out: usize, last_bias: bool) -> Sequential {
    let last = if last_bias {
        Linear::new(8, out)
    } else {
        Linear::new(8, out).without_bias()
    };
    Sequential::new()
        .add(Linear::new(4, 8))
        .add(Activation::Relu)
        .add(last)
}

fn input<T: strata_tensor::Element>() -> Tensor<T> {
    let values: Vec<T> = (0..2 * 36)
        .map(|i| T::from_f64(((i * 37 % 23) as f64 - 11.0) / 7.0).unwrap())
        .collect();
    Tensor::from_vec(values, &[2, 1, 6, 6])
}

/// Every parameter and buffer value, for checking a module was left unchanged.
fn snapshot<M: Module + ?Sized>(m: &M) -> Vec<(String, Vec<u32>)> {
    let bits = |t: &Tensor| t.to_vec().iter().map(|x| x.to_bits()).collect();
    let mut out: Vec<(String, Vec<u32>)> = m
        .params()
        .into_iter()
        .map(|(n, p)| (n, bits(p.value())))
        .collect();
    out.extend(
        m.buffers()
            .into_iter()
            .map(|(n, b)| (format!("buffer {n}"), bits(b))),
    );
    out
}

/// Asserts the error names `path` in both its accessor and its message, and returns the message.
fn names_file(err: &CheckpointError, path: &Path) -> String {
    let msg = err.to_string();
    assert_eq!(err.path(), Some(path), "{msg}");
    assert!(
        msg.starts_with(&format!("checkpoint {}: ", path.display())),
        "{msg}"
    );
    msg
}

#[test]
fn round_trip_gives_bitwise_identical_outputs() {
    let dir = TempDir::new("round-trip");
    let path = dir.join("cnn.ckpt");
    manual_seed(1);
    let mut net = cnn::<f32>();
    net.eval();
    let expected = net.predict(&input());
    save_module(&net, &path).unwrap();

    manual_seed(2);
    let mut fresh = cnn::<f32>();
    fresh.eval();
    assert_ne!(
        fresh.predict(&input()).to_vec(),
        expected.to_vec(),
        "fresh init must differ"
    );
    load_module(&mut fresh, &path).unwrap();
    let got = fresh.predict(&input());
    assert_eq!(got.shape(), &[2, 4]);
    let bits = |t: &Tensor| t.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got), bits(&expected));
    assert_eq!(snapshot(&fresh), snapshot(&net));
    assert_eq!(dir.listing(), ["cnn.ckpt"]);

    // The header is as documented.
    let bytes = fs::read(&path).unwrap();
    assert_eq!(bytes[..8], MAGIC);
    assert_eq!(
        u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
        FORMAT_VERSION
    );
    let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap());
    assert_eq!(len as usize, bytes.len() - HEADER_LEN);
}

#[test]
fn f64_modules_round_trip_bitwise() {
    let dir = TempDir::new("f64");
    let path = dir.join("cnn64.ckpt");
    let mut net = cnn::<f64>();
    let expected = net.predict(&input());
    save_module(&net, &path).unwrap();
    let mut fresh = cnn::<f64>();
    load_module(&mut fresh, &path).unwrap();
    let bits = |t: &Tensor<f64>| t.to_vec().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fresh.predict(&input())), bits(&expected));

    // Loading f64 weights into an f32 model is refused, unless converted on purpose.
    let mut net32 = cnn::<f32>();
    let before = snapshot(&net32);
    let err = load_module(&mut net32, &path).unwrap_err();
    let msg = names_file(&err, &path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::DtypeMismatch { kind: TensorKind::Parameter, name, saved: "f64", model: "f32" } if name == "0.weight"),
        "{msg}"
    );
    assert!(msg.contains("\"0.weight\""), "{msg}");
    assert_eq!(snapshot(&net32), before);
    let state: ModuleState = read_checkpoint(&path).unwrap();
    state.converted::<f32>().apply(&mut net32).unwrap();
    assert_eq!(
        net32.params()[0].1.value().to_vec()[0],
        net.params()[0].1.value().to_vec()[0] as f32
    );
}

/// A struct such as a training loop would store: a model, counters, a configuration.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TrainingState {
    model: ModuleState,
    epoch: u32,
    rng_seed: u64,
    config: String,
    losses: Vec<f64>,
}

#[test]
fn any_serde_payload_round_trips() {
    let dir = TempDir::new("payload");
    let path = dir.join("run.ckpt");
    let state = TrainingState {
        model: ModuleState::capture(&mlp(2, true)),
        epoch: 7,
        rng_seed: 0xDEAD_BEEF,
        config: "lr=0.01".into(),
        losses: vec![2.3, 1.1, 0.52],
    };
    write_checkpoint(&path, &state).unwrap();
    let back: TrainingState = read_checkpoint(&path).unwrap();
    assert_eq!(back, state);
    let bytes = encode_checkpoint(&state).unwrap();
    assert_eq!(bytes, fs::read(&path).unwrap());
    assert_eq!(decode_checkpoint::<TrainingState>(&bytes).unwrap(), state);
}

#[test]
fn buffers_are_saved_and_checked() {
    /// A module with a parameter and a running-statistics buffer.
    struct Norm {
        weight: strata_layers::Param,
        running_mean: Tensor,
    }
    impl Module for Norm {
        fn forward(&mut self, x: &Var) -> Var {
            x.clone()
        }
        fn params(&self) -> Vec<(String, &strata_layers::Param)> {
            vec![("weight".into(), &self.weight)]
        }
        fn params_mut(&mut self) -> Vec<(String, &mut strata_layers::Param)> {
            vec![("weight".into(), &mut self.weight)]
        }
        fn buffers(&self) -> Vec<(String, &Tensor)> {
            vec![("running_mean".into(), &self.running_mean)]
        }
        fn buffers_mut(&mut self) -> Vec<(String, &mut Tensor)> {
            vec![("running_mean".into(), &mut self.running_mean)]
        }
    }
    let norm = |w: f32, m: f32| Norm {
        weight: strata_layers::Param::new(Tensor::from_vec(vec![w; 3], &[3])),
        running_mean: Tensor::from_vec(vec![m; 3], &[3]),
    };
    let dir = TempDir::new("buffers");
    let path = dir.join("norm.ckpt");
    save_module(&norm(1.5, 0.25), &path).unwrap();
    let mut fresh = norm(0.0, 0.0);
    load_module(&mut fresh, &path).unwrap();
    assert_eq!(fresh.running_mean.to_vec(), [0.25; 3]);
    assert_eq!(fresh.weight.value().to_vec(), [1.5; 3]);

    // A state without the buffer: missing buffer, module unchanged.
    let mut state = ModuleState::capture(&norm(2.0, 2.0));
    state.buffers.clear();
    write_checkpoint(&path, &state).unwrap();
    let before = snapshot(&fresh);
    let err = load_module(&mut fresh, &path).unwrap_err();
    let msg = names_file(&err, &path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::MissingTensor { kind: TensorKind::Buffer, name } if name == "running_mean"),
        "{msg}"
    );
    assert!(
        msg.ends_with("buffer \"running_mean\" of the model is missing from the file"),
        "{msg}"
    );
    assert_eq!(snapshot(&fresh), before);

    // An extra buffer.
    let mut state = ModuleState::capture(&norm(2.0, 2.0));
    state.buffers.push(NamedTensor::from_tensor(
        "running_var",
        &Tensor::<f32>::ones(&[3]),
    ));
    write_checkpoint(&path, &state).unwrap();
    let err = load_module(&mut fresh, &path).unwrap_err();
    assert!(
        matches!(err.kind(), CheckpointErrorKind::UnexpectedTensor { kind: TensorKind::Buffer, name } if name == "running_var"),
        "{err}"
    );
    assert_eq!(snapshot(&fresh), before);
}

/// Writes a good checkpoint of `mlp(2, true)` and returns its bytes.
fn good_file(path: &Path) -> Vec<u8> {
    save_module(&mlp(2, true), path).unwrap();
    fs::read(path).unwrap()
}

/// Loads `path` into a fresh `mlp(2, true)`, asserts the load fails without changing the
/// model and the message names the file, and returns the error.
fn failing_load(path: &Path) -> CheckpointError {
    let mut model = mlp(2, true);
    let before = snapshot(&model);
    let err = load_module(&mut model, path).unwrap_err();
    names_file(&err, path);
    assert_eq!(
        snapshot(&model),
        before,
        "model changed by a failed load: {err}"
    );
    err
}

#[test]
fn truncated_files_are_reported() {
    let dir = TempDir::new("truncated");
    let path = dir.join("t.ckpt");
    let bytes = good_file(&path);
    let n = bytes.len();
    for cut in [0, 3, 8, 11, 12, 19, 23] {
        fs::write(&path, &bytes[..cut]).unwrap();
        let err = failing_load(&path);
        assert!(
            matches!(err.kind(), CheckpointErrorKind::Truncated { file_len, expected_len: 24 } if *file_len == cut as u64),
            "cut {cut}: {err}"
        );
        assert!(
            err.to_string().contains(&format!(
                "the file ends at byte {cut}, inside the 24-byte header"
            )),
            "{err}"
        );
    }
    for cut in [HEADER_LEN, HEADER_LEN + 1, n / 2, n - 1] {
        fs::write(&path, &bytes[..cut]).unwrap();
        let err = failing_load(&path);
        assert!(
            matches!(err.kind(), CheckpointErrorKind::Truncated { file_len, expected_len } if *file_len == cut as u64 && *expected_len == n as u64),
            "cut {cut}: {err}"
        );
        assert!(
            err.to_string()
                .contains(&format!("bytes 24..{n}, but the file ends at byte {cut}")),
            "{err}"
        );
    }
    // Too long: bytes after the payload.
    let mut padded = bytes.clone();
    padded.extend_from_slice(b"junk");
    fs::write(&path, &padded).unwrap();
    let err = failing_load(&path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::TrailingBytes { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("4 unexpected bytes"), "{err}");
}

#[test]
fn flipped_payload_byte_fails_the_checksum() {
    let dir = TempDir::new("checksum");
    let path = dir.join("c.ckpt");
    let bytes = good_file(&path);
    for at in [HEADER_LEN, HEADER_LEN + 5, bytes.len() / 2, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x10;
        fs::write(&path, &bad).unwrap();
        let err = failing_load(&path);
        assert!(
            matches!(err.kind(), CheckpointErrorKind::ChecksumMismatch { stored, computed } if stored != computed),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("corrupt payload: its CRC-32 is 0x"),
            "{err}"
        );
    }
    // A corrupted checksum field is the same error.
    let mut bad = bytes.clone();
    bad[21] ^= 1;
    fs::write(&path, &bad).unwrap();
    assert!(matches!(
        failing_load(&path).kind(),
        CheckpointErrorKind::ChecksumMismatch { .. }
    ));
}

#[test]
fn wrong_magic_and_version_are_reported() {
    let dir = TempDir::new("magic");
    let path = dir.join("m.ckpt");
    let bytes = good_file(&path);

    let mut bad = bytes.clone();
    bad[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    fs::write(&path, &bad).unwrap();
    let err = failing_load(&path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::BadMagic { found } if found == b"\x89PNG\r\n\x1a\n"),
        "{err}"
    );
    assert!(err.to_string().contains("not a Strata checkpoint"), "{err}");

    // A short file with a wrong start is a wrong magic, not a truncation.
    fs::write(&path, b"PK").unwrap();
    assert!(
        matches!(failing_load(&path).kind(), CheckpointErrorKind::BadMagic { found } if found == b"PK")
    );

    let mut bad = bytes.clone();
    bad[8..12].copy_from_slice(&3u32.to_le_bytes());
    fs::write(&path, &bad).unwrap();
    let err = failing_load(&path);
    assert!(
        matches!(
            err.kind(),
            CheckpointErrorKind::UnsupportedVersion {
                found: 3,
                supported: 2
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "unsupported format version 3 (bytes 8..12); this build reads versions 1 to 2"
        ),
        "{err}"
    );
}

#[test]
fn undecodable_payloads_are_reported() {
    let dir = TempDir::new("decode");
    let path = dir.join("d.ckpt");
    // A valid container (of format version 1, without a kind label) holding something other
    // than a ModuleState.
    fs::write(&path, version_1_file(&(1u8, 2u8))).unwrap();
    let err = failing_load(&path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Decode { type_name, .. } if type_name.ends_with("ModuleState")),
        "{err}"
    );
    // A payload with bytes left over after the value.
    fs::write(&path, version_1_file(&(7u8, 9u8))).unwrap();
    let err = read_checkpoint::<u8>(&path).unwrap_err();
    names_file(&err, &path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Decode { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("leaving 1 of the 2 payload bytes unread"),
        "{err}"
    );
    // A missing file.
    let err = failing_load(&dir.join("absent.ckpt"));
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
}

#[test]
fn architecture_mismatches_are_reported_and_leave_the_model_unchanged() {
    let dir = TempDir::new("mismatch");
    let path = dir.join("a.ckpt");

    // Missing parameter: the file's last layer has no bias.
    save_module(&mlp(2, false), &path).unwrap();
    let err = failing_load(&path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::MissingTensor { kind: TensorKind::Parameter, name } if name == "2.bias"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint {}: parameter \"2.bias\" of the model is missing from the file",
            path.display()
        )
    );

    // Extra parameter: the file has a bias the model lacks.
    save_module(&mlp(2, true), &path).unwrap();
    let mut model = mlp(2, false);
    let before = snapshot(&model);
    let err = load_module(&mut model, &path).unwrap_err();
    names_file(&err, &path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::UnexpectedTensor { kind: TensorKind::Parameter, name } if name == "2.bias"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("the file has parameter \"2.bias\", which the model does not have"),
        "{err}"
    );
    assert_eq!(snapshot(&model), before);

    // Shape mismatch: 3 outputs in the file, 2 in the model. Earlier layers match, and must
    // not have been written either.
    save_module(&mlp(3, true), &path).unwrap();
    let err = failing_load(&path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::ShapeMismatch { kind: TensorKind::Parameter, name, saved, model }
            if name == "2.weight" && saved == &[3, 8] && model == &[2, 8]),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint {}: parameter \"2.weight\" has shape [3, 8] in the file but [2, 8] in the model",
            path.display()
        )
    );
}

#[test]
fn a_named_tensor_converts_back_to_its_own_type_only() {
    let t = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).t();
    let named = NamedTensor::from_tensor("w", &t);
    let back: Tensor<f32> = named.to_tensor().unwrap();
    assert_eq!((back.shape(), back.to_vec()), (&[3, 2][..], t.to_vec()));
    assert!(named.to_tensor::<f64>().is_none(), "saved as f32");
    let mut short = named.clone();
    short.values = TensorValues::F32(vec![0.0; 5]);
    assert!(
        short.to_tensor::<f32>().is_none(),
        "5 values do not fill [3, 2]"
    );
}

#[test]
fn an_error_hands_over_its_kind() {
    let err = decode_checkpoint::<ModuleState>(&MAGIC)
        .unwrap_err()
        .with_path("/x/m.ckpt");
    assert_eq!(err.path(), Some(Path::new("/x/m.ckpt")));
    match err.into_kind() {
        CheckpointErrorKind::Truncated {
            file_len: 8,
            expected_len,
        } => assert_eq!(expected_len, HEADER_LEN as u64),
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn inconsistent_states_are_rejected_in_memory() {
    let mut model = mlp(2, true);
    let before = snapshot(&model);

    let mut state = ModuleState::capture(&model);
    state.params[1].values = TensorValues::F32(vec![0.0; 7]);
    let err = state.apply(&mut model).unwrap_err();
    assert_eq!(err.path(), None);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::ValueCount { name, values: 7, .. } if name == "0.bias"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "checkpoint: parameter \"0.bias\" has shape [8] (8 elements) but 7 values in the saved state"
    );

    let mut state = ModuleState::capture(&model);
    let dup = state.params[0].clone();
    state.params.push(dup);
    let err = state.apply(&mut model).unwrap_err();
    assert!(
        matches!(err.kind(), CheckpointErrorKind::DuplicateTensor { name, .. } if name == "0.weight"),
        "{err}"
    );
    assert_eq!(snapshot(&model), before);

    // A good state from another model applies, owned or borrowed.
    let other = mlp(2, true);
    ModuleState::capture(&other)
        .apply_owned(&mut model)
        .unwrap();
    assert_eq!(snapshot(&model), snapshot(&other));
}

#[test]
fn overwriting_leaves_no_temporary_files() {
    let dir = TempDir::new("overwrite");
    let path = dir.join("model.ckpt");
    let first = mlp(2, true);
    let second = mlp(2, true);
    save_module(&first, &path).unwrap();
    save_module(&second, &path).unwrap();
    write_checkpoint(dir.join("other.ckpt"), &42u64).unwrap();
    assert_eq!(dir.listing(), ["model.ckpt", "other.ckpt"]);
    let mut loaded = mlp(2, true);
    load_module(&mut loaded, &path).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&second));
}

/// A value whose serialisation fails, to make a write fail after it started.
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("this value refuses to be saved"))
    }
}

#[test]
fn failed_writes_leave_the_old_file_intact() {
    let dir = TempDir::new("failed-write");
    let path = dir.join("good.ckpt");
    let good = good_file(&path);

    // Into a directory that does not exist.
    let missing = dir.join("no-such-dir").join("x.ckpt");
    let err = save_module(&mlp(2, true), &missing).unwrap_err();
    names_file(&err, &missing);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{err}"
    );
    assert!(
        err.to_string().contains("cannot create the temporary file"),
        "{err}"
    );

    // A payload that fails to encode, over an existing good file.
    let err = write_checkpoint(&path, &Unserializable).unwrap_err();
    names_file(&err, &path);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Encode { message } if message.contains("refuses")),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), good);

    // The rename fails (the target is a non-empty directory): the temporary file is removed.
    let blocked = dir.join("blocked.ckpt");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("keep"), b"x").unwrap();
    let err = save_module(&mlp(2, true), &blocked).unwrap_err();
    names_file(&err, &blocked);
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Io { action, .. } if action.contains("cannot rename")),
        "{err}"
    );
    assert_eq!(dir.listing(), ["blocked.ckpt", "good.ckpt"]);
    assert_eq!(fs::read(blocked.join("keep")).unwrap(), b"x");

    // The good file still loads.
    let mut model = mlp(2, true);
    load_module(&mut model, &path).unwrap();
}

#[test]
fn errors_are_std_errors() {
    fn takes(_: &dyn std::error::Error) {}
    let err = decode_checkpoint::<u8>(b"").unwrap_err();
    takes(&err);
    assert_eq!(
        err.to_string(),
        "checkpoint: truncated: the file ends at byte 0, inside the 24-byte header"
    );
}
