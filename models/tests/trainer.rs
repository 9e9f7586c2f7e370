//! Trainer behaviour: resuming reproduces an uninterrupted run exactly, a non-finite loss
//! stops training and keeps the last good checkpoint, bad settings and foreign checkpoints are
//! refused.

use std::sync::Arc;

use strata_datasets::synthetic;
use strata_layers::Activation;
use strata_layers::checkpoint::read_checkpoint;
use strata_models::{Mlp, MlpConfig, Objective, TrainError, Trainer, TrainerConfig, TrainingState};
use strata_optim::{Adam, AdamConfig, LrSchedule, Sgd, SgdConfig};

fn tmp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-trainer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn adam_trainer(epochs: usize, dir: Option<std::path::PathBuf>) -> Trainer<Mlp, Adam> {
    strata_layers::manual_seed(3);
    let model = Mlp::new(
        &MlpConfig::new(&[2, 32, 32, 2])
            .hidden(Activation::Tanh)
            .dropout(0.1),
    );
    let mut config = TrainerConfig::new(epochs, 16);
    config.seed = 11;
    config.verbose = false;
    config.checkpoint_dir = dir;
    Trainer::new(
        model,
        AdamConfig::new(0.05).build().unwrap(),
        Objective::CrossEntropy,
        config,
        "xor-mlp",
    )
    .unwrap()
}

fn weights(t: &Trainer<Mlp, Adam>) -> Vec<Vec<f32>> {
    use strata_layers::Module;
    t.model
        .params()
        .iter()
        .map(|(_, p)| p.value().to_vec())
        .collect()
}

#[test]
fn training_learns_and_resuming_repeats_an_uninterrupted_run_exactly() {
    let data = Arc::new(synthetic::noisy_xor(400, 0.1, 1));
    let mut straight = adam_trainer(6, None);
    let history = straight.fit(data.clone(), Some(&*data)).unwrap().clone();
    let first = history.iter().next().unwrap().train_loss;
    let last = history.last().unwrap().train_loss;
    assert!(last < 0.7 * first, "the loss falls: {first} → {last}");

    // Three epochs, stop, then a new trainer resumes from the checkpoint to six.
    let dir = tmp_dir("resume");
    let mut part = adam_trainer(3, Some(dir.clone()));
    part.fit(data.clone(), Some(&*data)).unwrap();
    let mut resumed = adam_trainer(6, Some(dir.clone()));
    resumed.resume(&dir.join("last.ckpt")).unwrap();
    assert_eq!(resumed.epochs_done(), 3);
    resumed.fit(data.clone(), Some(&*data)).unwrap();
    assert_eq!(
        weights(&resumed),
        weights(&straight),
        "same model, optimizer state, epoch and random streams"
    );
    assert_eq!(resumed.history().len(), 6);
    assert!(dir.join("best.ckpt").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    let data = Arc::new(synthetic::noisy_xor(400, 0.1, 1));
    let dir = tmp_dir("nan");
    strata_layers::manual_seed(0);
    let model = Mlp::new(&MlpConfig::new(&[2, 16, 2]));
    let mut config = TrainerConfig::new(5, 16);
    config.verbose = false;
    config.checkpoint_dir = Some(dir.clone());
    let sgd: Sgd = SgdConfig::new(0.1).build().unwrap();
    let mut trainer = Trainer::new(model, sgd, Objective::CrossEntropy, config, "mlp").unwrap();
    // One good epoch, then a learning rate that blows the weights up.
    trainer.config_mut().epochs = 1;
    trainer.fit(data.clone(), None).unwrap();
    trainer.config_mut().epochs = 5;
    use strata_optim::Optimizer;
    trainer.optimizer.set_learning_rate(1e30);
    let err = trainer.fit(data, None).unwrap_err();
    match &err {
        TrainError::NonFinite { epoch, batch, .. } => {
            assert_eq!(*epoch, 2);
            assert!(*batch >= 1);
        }
        other => panic!("expected NonFinite, got {other}"),
    }
    assert!(err.to_string().contains("at epoch 2, batch"), "{err}");
    let kept: TrainingState = read_checkpoint(dir.join("last.ckpt")).unwrap();
    assert_eq!(
        kept.epoch, 1,
        "the checkpoint of the last completed epoch is untouched"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_settings_and_foreign_checkpoints_are_refused() {
    let model = Mlp::new(&MlpConfig::new(&[2, 4, 2]));
    let sgd: Sgd = SgdConfig::new(0.1).build().unwrap();
    let err = Trainer::new(
        model,
        sgd,
        Objective::CrossEntropy,
        TrainerConfig::new(0, 8),
        "mlp",
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("epochs must be at least 1"),
        "{err}"
    );

    let dir = tmp_dir("foreign");
    let data = Arc::new(synthetic::noisy_xor(100, 0.1, 1));
    let mut a = adam_trainer(1, Some(dir.clone()));
    a.fit(data, None).unwrap();
    strata_layers::manual_seed(3);
    let other = Mlp::new(&MlpConfig::new(&[2, 16, 2]));
    let mut b = Trainer::new(
        other,
        AdamConfig::new(0.01).build().unwrap(),
        Objective::CrossEntropy,
        TrainerConfig::new(2, 16),
        "another-model",
    )
    .unwrap();
    let before = b.model.layers[0].weight.value().to_vec();
    let err = b.resume(&dir.join("last.ckpt")).unwrap_err();
    assert!(matches!(err, TrainError::WrongModel { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("holds a xor-mlp model, not a another-model"),
        "{err}"
    );
    assert_eq!(
        b.model.layers[0].weight.value().to_vec(),
        before,
        "the model is unchanged"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_refused_optimizer_state_leaves_the_model_unchanged() {
    let dir = tmp_dir("optimizer-kind");
    let data = Arc::new(synthetic::noisy_xor(100, 0.1, 1));
    let mut adam = adam_trainer(1, Some(dir.clone()));
    adam.fit(data, None).unwrap();
    // Same model kind and shapes, but an SGD optimizer: the Adam state must be refused.
    strata_layers::manual_seed(3);
    let model = Mlp::new(
        &MlpConfig::new(&[2, 32, 32, 2])
            .hidden(Activation::Tanh)
            .dropout(0.1),
    );
    let sgd: Sgd = SgdConfig::new(0.1).build().unwrap();
    let mut trainer = Trainer::new(
        model,
        sgd,
        Objective::CrossEntropy,
        TrainerConfig::new(2, 16),
        "xor-mlp",
    )
    .unwrap();
    let before = trainer.model.layers[0].weight.value().to_vec();
    let err = trainer.resume(&dir.join("last.ckpt")).unwrap_err();
    assert!(matches!(err, TrainError::Optimizer(_)), "{err}");
    assert_eq!(
        trainer.model.layers[0].weight.value().to_vec(),
        before,
        "weights restored"
    );
    assert_eq!(trainer.epochs_done(), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every builder sets its own setting, and only it.
#[test]
fn the_config_builders_set_their_settings() {
    let c = TrainerConfig::new(4, 32)
        .with_seed(9)
        .with_flatten_inputs(true)
        .with_drop_last(true)
        .with_clip_grad_norm(1.5)
        .with_early_stopping(3)
        .with_checkpoints("ckpt", 2)
        .with_log_dir("logs")
        .with_tensorboard("runs/a")
        .with_histogram_every(5)
        .with_step_scalars_every(10)
        .with_eval_batch_size(256)
        .with_verbose(false);
    assert_eq!((c.epochs, c.batch_size, c.seed), (4, 32, 9));
    assert!(c.flatten_inputs && c.drop_last && !c.verbose);
    assert_eq!(c.clip_grad_norm, Some(1.5));
    assert_eq!(c.early_stopping_patience, Some(3));
    assert_eq!(
        (c.checkpoint_dir.as_deref(), c.checkpoint_every),
        (Some(std::path::Path::new("ckpt")), 2)
    );
    assert_eq!(c.log_dir.as_deref(), Some(std::path::Path::new("logs")));
    assert_eq!(
        c.tensorboard_dir.as_deref(),
        Some(std::path::Path::new("runs/a"))
    );
    assert_eq!(
        (c.histogram_every, c.step_scalars_every, c.eval_batch_size),
        (5, 10, 256)
    );
}

/// A schedule sets the learning rate of each epoch; `into_parts` hands back the trained model
/// and the optimizer as the last epoch left them.
#[test]
fn a_schedule_sets_each_epochs_learning_rate() {
    struct Halving;
    impl LrSchedule for Halving {
        fn lr(&self, t: u64) -> f64 {
            0.1 / f64::from(1u32 << t)
        }
    }
    let data = Arc::new(synthetic::noisy_xor(64, 0.1, 1));
    strata_layers::manual_seed(0);
    let model = Mlp::new(&MlpConfig::new(&[2, 8, 2]));
    let sgd: Sgd = SgdConfig::new(1.0).build().unwrap();
    let config = TrainerConfig::new(3, 16).with_verbose(false);
    let mut trainer = Trainer::new(model, sgd, Objective::CrossEntropy, config, "mlp")
        .unwrap()
        .with_schedule(Halving);
    trainer.fit(data, None).unwrap();
    let lrs: Vec<f64> = trainer.history().iter().map(|e| e.learning_rate).collect();
    assert_eq!(lrs, vec![0.1, 0.05, 0.025]);
    use strata_layers::Module;
    let trained: Vec<Vec<f32>> = trainer
        .model
        .params()
        .iter()
        .map(|(_, p)| p.value().to_vec())
        .collect();
    let (model, optimizer, _) = trainer.into_parts();
    use strata_optim::Optimizer;
    assert_eq!(optimizer.learning_rate(), 0.025);
    let returned: Vec<Vec<f32>> = model
        .params()
        .iter()
        .map(|(_, p)| p.value().to_vec())
        .collect();
    assert_eq!(returned, trained);
}
