//! Checkpoints refuse the wrong architecture (a LeNet-5 with tanh and average pooling loaded
//! into one with ReLU and max pooling) and the wrong kind of file (an optimizer state or a
//! training checkpoint read as a module state), and still read format-version-1 files.

mod common;

use std::fs;
use std::path::PathBuf;

use common::{lenet, version_1_file};
use serde::{Deserialize, Serialize};
use strata_autograd::{Grads, Param};
use strata_layers::checkpoint::{
    CheckpointError, CheckpointErrorKind, FORMAT_VERSION, LayerDescription, ModuleState,
    NamedTensor, checkpoint_kind, describe_architecture, load_module, read_checkpoint, save_module,
    write_checkpoint,
};
use strata_layers::{Activation, Conv2d, Dropout, Flatten, Linear, Module, Sequential};
use strata_optim::{AdamConfig, Optimizer, OptimizerState};
use strata_tensor::Tensor;

struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("strata-ckpt-arch-{test}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn values(m: &impl Module) -> Vec<Vec<f32>> {
    m.params()
        .into_iter()
        .map(|(_, p)| p.value().to_vec())
        .collect()
}

#[test]
fn a_classic_lenet_checkpoint_does_not_load_into_a_modern_one() {
    let dir = Scratch::new("lenet");
    let path = dir.join("classic.ckpt");
    save_module(&lenet(true), &path).unwrap();

    let mut modern = lenet(false);
    let before = values(&modern);
    let err = load_module(&mut modern, &path).unwrap_err();
    match err.kind() {
        CheckpointErrorKind::ArchitectureMismatch {
            saved: Some(saved),
            model: Some(model),
        } => {
            assert_eq!(
                (saved.path.as_str(), saved.kind.as_str()),
                ("features.1", "Activation(LecunTanh)")
            );
            assert_eq!(model.kind, "Activation(Relu)");
        }
        other => panic!("expected ArchitectureMismatch, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint {}: the saved state is of another architecture: layer \"features.1\" is \
             Activation(LecunTanh) in the file but Activation(Relu) in the model",
            path.display()
        )
    );
    assert_eq!(values(&modern), before, "the model is unchanged");

    // The same architecture loads, in memory and from the file.
    let classic = lenet(true);
    let mut other = lenet(true);
    load_module(&mut other, &path).unwrap();
    ModuleState::capture(&classic).apply(&mut other).unwrap();
    assert_eq!(values(&other), values(&classic));

    // Pooling differs too: with the same activations, the pooling layer is named.
    let mut state = ModuleState::capture(&lenet(true));
    let arch = state.architecture.as_mut().unwrap();
    for layer in arch.iter_mut() {
        layer.kind = layer.kind.replace("LecunTanh", "Relu");
    }
    let err = state.apply(&mut lenet(false)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "checkpoint: the saved state is of another architecture: layer \"features.2\" is \
             AvgPool2d {"
        ),
        "{msg}"
    );
    assert!(msg.contains("in the saved state but MaxPool2d {"), "{msg}");
}

#[test]
fn settings_without_parameters_and_extra_layers_are_compared() {
    let net = |p: f64, stride: usize| {
        Sequential::<f32>::new()
            .add(Conv2d::new(1, 2, (3, 3)).with_stride((stride, stride)))
            .add(Dropout::new(p))
    };
    let state = ModuleState::capture(&net(0.5, 1));
    let err = state.apply(&mut net(0.25, 1)).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "layer \"1\" is Dropout(p=0.5) in the saved state but Dropout(p=0.25) in the model"
        ),
        "{err}"
    );
    let err = state.apply(&mut net(0.5, 2)).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "layer \"0\" is Conv2d(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1) in \
             the saved state but Conv2d(stride=(2, 2), padding=(0, 0), dilation=(1, 1), \
             groups=1) in the model"
        ),
        "{err}"
    );
    // A parameterless layer more or less.
    let longer = net(0.5, 1).add(Activation::Relu);
    let err = state.apply(&mut { longer }).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "the model has layer \"2\" (Activation(Relu)), which the saved state does not have"
        ),
        "{err}"
    );
    let err = ModuleState::capture(&net(0.5, 1).add(Flatten))
        .apply(&mut net(0.5, 1))
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the saved state has layer \"2\" (Flatten), which the model does not have"),
        "{err}"
    );
    // Another top-level type with the same parameters.
    let err = ModuleState::capture(&Conv2d::<f32>::new(1, 2, (3, 3)))
        .apply(&mut Conv2d::<f32>::new(1, 2, (3, 3)).with_padding((1, 1)))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the top-level module is Conv2d(stride=(1, 1), padding=(0, 0)"),
        "{err}"
    );
    assert_eq!(
        describe_architecture(&net(0.5, 1)),
        [
            LayerDescription {
                path: String::new(),
                kind: "Sequential".into()
            },
            LayerDescription {
                path: "0".into(),
                kind: "Conv2d(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1)".into()
            },
            LayerDescription {
                path: "1".into(),
                kind: "Dropout(p=0.5)".into()
            },
        ]
    );
}

/// A module state as format version 1 wrote it: parameters and buffers only.
#[derive(Serialize)]
struct ModuleStateVersion1 {
    params: Vec<NamedTensor>,
    buffers: Vec<NamedTensor>,
}

/// A training checkpoint as a training loop stores it.
#[derive(Serialize, Deserialize)]
struct TrainingState {
    model: ModuleState,
    optimizer: OptimizerState,
    epoch: u32,
}

#[test]
fn format_version_1_files_still_load_without_the_architecture_check() {
    let dir = Scratch::new("v1");
    let path = dir.join("old.ckpt");
    let classic = lenet(true);
    let current = ModuleState::capture(&classic);
    let old = ModuleStateVersion1 {
        params: current.params.clone(),
        buffers: current.buffers.clone(),
    };
    fs::write(&path, version_1_file(&old)).unwrap();
    let read: ModuleState = read_checkpoint(&path).unwrap();
    assert_eq!(read.architecture, None);
    assert_eq!(read.params, current.params);
    // Nothing to compare the architecture with: names and shapes decide, as before.
    let mut modern = lenet(false);
    load_module(&mut modern, &path).unwrap();
    assert_eq!(values(&modern), values(&classic));

    // A module state inside a larger version-1 checkpoint, as a training loop wrote it.
    #[derive(Serialize)]
    struct TrainingStateVersion1 {
        model: ModuleStateVersion1,
        optimizer: OptimizerState,
        epoch: u32,
    }
    let p = Param::new(Tensor::<f32>::ones(&[3]));
    let optimizer = AdamConfig::new(1e-3).build::<f32>().unwrap().state(&[&p]);
    fs::write(
        &path,
        version_1_file(&TrainingStateVersion1 {
            model: old,
            optimizer: optimizer.clone(),
            epoch: 4,
        }),
    )
    .unwrap();
    let read: TrainingState = read_checkpoint(&path).unwrap();
    assert_eq!((read.epoch, read.optimizer), (4, optimizer));
    assert_eq!(read.model.params, current.params);
    assert_eq!(read.model.architecture, None);

    // New files are version 2 and carry the architecture.
    save_module(&classic, &path).unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
    assert_eq!(FORMAT_VERSION, 2);
    assert_eq!(&bytes[24..26], &11u16.to_le_bytes());
    assert_eq!(&bytes[26..37], b"ModuleState");
    let read: ModuleState = read_checkpoint(&path).unwrap();
    assert_eq!(read, current);
}

#[test]
fn json_without_the_architecture_field_reads() {
    let state = ModuleState::capture(&Linear::<f32>::new(2, 1));
    let mut json: serde_json::Value = serde_json::to_value(&state).unwrap();
    assert!(json["architecture"].is_array());
    json.as_object_mut().unwrap().remove("architecture");
    let back: ModuleState = serde_json::from_value(json).unwrap();
    assert_eq!(back.architecture, None);
    assert_eq!(back.params, state.params);
}

fn message(err: &CheckpointError) -> String {
    err.to_string()
}

#[test]
fn a_file_of_another_kind_says_what_it_is() {
    let dir = Scratch::new("kind");
    let net = lenet(false);

    // An optimizer's state read as a module state.
    let opt_path = dir.join("adam.ckpt");
    let mut p = Param::new(Tensor::<f32>::ones(&[3]));
    let mut grads = Grads::new();
    grads.insert(p.id(), Tensor::from_vec(vec![0.1, -0.2, 0.3], &[3]));
    let mut adam = AdamConfig::new(1e-3).build::<f32>().unwrap();
    adam.step(&mut [&mut p], &grads);
    write_checkpoint(&opt_path, &adam.state(&[&p])).unwrap();
    let err = load_module(&mut lenet(false), &opt_path).unwrap_err();
    assert!(
        matches!(err.kind(), CheckpointErrorKind::WrongKind { found, expected }
            if found == "OptimizerState" && expected == "ModuleState"),
        "{err}"
    );
    assert_eq!(
        message(&err),
        format!(
            "checkpoint {}: the file is a Strata optimizer state (`OptimizerState`), not a \
             module state (`ModuleState`)",
            opt_path.display()
        )
    );

    // A training checkpoint read as a module state, and a module state as an optimizer's.
    let run_path = dir.join("run.ckpt");
    write_checkpoint(
        &run_path,
        &TrainingState {
            model: ModuleState::capture(&net),
            optimizer: adam.state(&[&p]),
            epoch: 1,
        },
    )
    .unwrap();
    let err = load_module(&mut lenet(false), &run_path).unwrap_err();
    assert!(
        message(&err).ends_with(
            "the file is a Strata training state (`TrainingState`), not a module state \
             (`ModuleState`)"
        ),
        "{err}"
    );
    let model_path = dir.join("model.ckpt");
    save_module(&net, &model_path).unwrap();
    let err = read_checkpoint::<OptimizerState>(&model_path).unwrap_err();
    assert!(
        message(&err).ends_with(
            "the file is a Strata module state (`ModuleState`), not an optimizer state \
             (`OptimizerState`)"
        ),
        "{err}"
    );
    let err = read_checkpoint::<(u8, u8)>(&model_path).unwrap_err();
    assert!(
        message(&err)
            .ends_with("the file is a Strata module state (`ModuleState`), not a `(u8, u8)` value"),
        "{err}"
    );
    assert_eq!(checkpoint_kind::<(u8, String)>(), "(u8, String)");
    assert_eq!(checkpoint_kind::<Vec<f32>>(), "Vec");

    // A version-1 file records no kind: the decoding error says it may be another kind.
    fs::write(&opt_path, version_1_file(&adam.state(&[&p]))).unwrap();
    let err = load_module(&mut lenet(false), &opt_path).unwrap_err();
    assert!(
        matches!(err.kind(), CheckpointErrorKind::Decode { .. }),
        "{err}"
    );
    assert!(
        message(&err).ends_with(
            "(the file is of format version 1, which does not record what it holds: it may be \
             another kind of checkpoint, such as an optimizer state or a training checkpoint)"
        ),
        "{err}"
    );

    // A file that is no checkpoint at all.
    let png = dir.join("image.png");
    fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let err = load_module(&mut lenet(false), &png).unwrap_err();
    assert!(
        message(&err).contains("not a Strata checkpoint: bytes 0..8 are"),
        "{err}"
    );

    // The right kind still loads.
    let mut fresh = lenet(false);
    load_module(&mut fresh, &model_path).unwrap();
    assert_eq!(values(&fresh), values(&net));
}

/// Recurrent layers compare their settings that have no parameters of their own: an LSTM saved
/// with dropout between its layers does not load into one without, nor an `Rnn` with ReLU into
/// one with tanh.
#[test]
fn recurrent_settings_are_compared() {
    use strata_layers::recurrent::{Lstm, RecurrentConfig, Rnn, RnnNonlinearity};
    let config = RecurrentConfig::new(3, 4).with_num_layers(2);
    let saved = ModuleState::capture(&Lstm::<f32>::with_config(config.with_dropout(0.25)));
    let mut other = Lstm::<f32>::with_config(config);
    let err = saved.apply(&mut other).unwrap_err();
    assert!(
        matches!(err.kind(), CheckpointErrorKind::ArchitectureMismatch { .. }),
        "{err}"
    );
    assert!(message(&err).contains("dropout=0.25"), "{err}");
    let mut same = Lstm::<f32>::with_config(config.with_dropout(0.25));
    saved.apply(&mut same).unwrap();

    let relu = RecurrentConfig {
        nonlinearity: RnnNonlinearity::Relu,
        ..config
    };
    let saved = ModuleState::capture(&Rnn::<f32>::with_config(relu));
    let err = saved
        .apply(&mut Rnn::<f32>::with_config(config))
        .unwrap_err();
    assert!(message(&err).contains("nonlinearity=Relu"), "{err}");
}
