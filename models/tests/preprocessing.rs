//! The preprocessing is saved with the model: a program that has only the checkpoint and the
//! raw test images (pixels in [0, 1]) reproduces the accuracy the training run measured.

use std::sync::Arc;

use strata_datasets::Mnist;
use strata_models::data::{PreprocessingKind, globally_standardized, prepare, scaled, zscored};
use strata_models::recipes::relu_mlp_trainer;
use strata_models::{Mlp, MlpConfig, Objective, Preprocessing, evaluate, load_model};

fn bundled() -> Mnist {
    Mnist::bundled().expect("the bundled MNIST sample loads")
}

#[test]
fn prepare_gives_the_customary_preprocessings() {
    let data = bundled();
    let cases = [
        (PreprocessingKind::Scaled, scaled(&data)),
        (
            PreprocessingKind::Standardized,
            globally_standardized(&data),
        ),
        (PreprocessingKind::ZScored, zscored(&data)),
    ];
    for (kind, (train, test)) in cases {
        let (p_train, p_test, preprocessing) = prepare(&data, kind);
        assert_eq!(
            p_train.inputs(),
            train.inputs(),
            "{kind:?}: training inputs"
        );
        assert_eq!(p_test.inputs(), test.inputs(), "{kind:?}: test inputs");
        // Applying the returned preprocessing to raw pixels gives the prepared inputs.
        let raw = data.test.to_array_dataset();
        assert_eq!(
            preprocessing.applied(raw).inputs(),
            test.inputs(),
            "{kind:?}"
        );
    }
    let (_, _, standardized) = prepare(&data, PreprocessingKind::Standardized);
    let Preprocessing::Standardized { mean, std } = standardized else {
        panic!("expected Standardized, got {standardized:?}");
    };
    // MNIST's customary constants are 0.1307 and 0.3081 (the full 60k set); the sample is close.
    assert!(
        (mean - 0.1307).abs() < 0.01 && (std - 0.3081).abs() < 0.01,
        "{mean} {std}"
    );
    assert!(standardized.to_string().contains("(x − "), "{standardized}");
}

#[test]
fn a_checkpoint_brings_its_preprocessing_and_reproduces_the_accuracy() {
    let data = bundled();
    let dir = std::env::temp_dir().join(format!("strata-preprocessing-{}", std::process::id()));
    let (train, test, preprocessing) = prepare(&data, PreprocessingKind::Standardized);
    let mut trainer = relu_mlp_trainer(0.1, 5, 3, 64)
        .unwrap()
        .with_preprocessing(preprocessing.clone());
    trainer.config_mut().verbose = false;
    trainer.config_mut().checkpoint_dir = Some(dir.clone());
    trainer.fit(Arc::new(train), None).unwrap();
    let trained = trainer.evaluate(&test, 1000).error();
    assert!(
        trained < 0.2,
        "three epochs of the MLP: test error {trained}"
    );

    // "Another program": a fresh model, the checkpoint, the raw test images.
    let mut model = Mlp::new(&MlpConfig::new(&[784, 100, 10]));
    let loaded = load_model(&dir.join("last.ckpt"), &mut model).unwrap();
    assert_eq!(loaded.as_ref(), Some(&preprocessing));
    let raw = data.test.to_array_dataset();
    let prepared = loaded.unwrap().applied(raw.clone());
    let error = evaluate(&mut model, &prepared, 1000, Objective::CrossEntropy, true).error();
    assert_eq!(error, trained, "the loaded model with its preprocessing");
    // Without it, the same weights do worse: the preprocessing matters.
    let unprepared = evaluate(&mut model, &raw, 1000, Objective::CrossEntropy, true).error();
    assert!(
        unprepared > error,
        "raw pixels {unprepared} vs prepared {error}"
    );

    // A resumed trainer gets the preprocessing back from the checkpoint.
    let mut resumed = relu_mlp_trainer(0.1, 5, 4, 64).unwrap();
    resumed.resume(&dir.join("last.ckpt")).unwrap();
    assert_eq!(resumed.preprocessing(), Some(&preprocessing));
    std::fs::remove_dir_all(&dir).ok();
}

/// A training checkpoint as format version 1 wrote it: no kind label, no architecture in the
/// module state, no preprocessing.
#[test]
fn a_format_version_1_training_checkpoint_still_resumes() {
    use serde::Serialize;
    use strata_layers::Module;
    use strata_layers::checkpoint::{MAGIC, NamedTensor, read_checkpoint};
    use strata_models::{Position, TrainingState, history::History};
    use strata_optim::OptimizerState;

    #[derive(Serialize)]
    struct ModuleStateVersion1 {
        params: Vec<NamedTensor>,
        buffers: Vec<NamedTensor>,
    }
    #[derive(Serialize)]
    struct TrainingStateVersion1 {
        model_kind: String,
        model: ModuleStateVersion1,
        optimizer: OptimizerState,
        epoch: usize,
        position: Position,
        seed: u64,
        history: History,
        config_json: String,
    }

    let data = bundled();
    let dir = std::env::temp_dir().join(format!("strata-preprocessing-v1-{}", std::process::id()));
    let (train, _, preprocessing) = prepare(&data, PreprocessingKind::Standardized);
    let mut trainer = relu_mlp_trainer(0.1, 5, 1, 500)
        .unwrap()
        .with_preprocessing(preprocessing);
    trainer.config_mut().verbose = false;
    trainer.config_mut().checkpoint_dir = Some(dir.clone());
    trainer.fit(Arc::new(train), None).unwrap();
    let current: TrainingState = read_checkpoint(dir.join("last.ckpt")).unwrap();
    assert!(current.preprocessing.is_some());

    let old = TrainingStateVersion1 {
        model_kind: current.model_kind.clone(),
        model: ModuleStateVersion1 {
            params: current.model.params.clone(),
            buffers: current.model.buffers.clone(),
        },
        optimizer: current.optimizer.clone(),
        epoch: current.epoch,
        position: current.position,
        seed: current.seed,
        history: current.history.clone(),
        config_json: current.config_json.clone(),
    };
    let payload = bincode::serde::encode_to_vec(&old, bincode::config::standard()).unwrap();
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    let old_path = dir.join("version1.ckpt");
    std::fs::write(&old_path, bytes).unwrap();

    let mut resumed = relu_mlp_trainer(0.1, 5, 2, 500).unwrap();
    resumed.resume(&old_path).unwrap();
    assert_eq!(resumed.epochs_done(), 1);
    assert_eq!(resumed.preprocessing(), None);
    let mut model = Mlp::new(&MlpConfig::new(&[784, 100, 10]));
    assert_eq!(load_model(&old_path, &mut model).unwrap(), None);
    assert_eq!(
        model.params()[0].1.value().to_vec(),
        current.model.params[0].to_tensor::<f32>().unwrap().to_vec()
    );
    std::fs::remove_dir_all(&dir).ok();
}
