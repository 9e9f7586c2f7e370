//! Trainer behaviour: resuming reproduces an uninterrupted run exactly, a non-finite loss
//! stops training and keeps the last good checkpoint, bad settings and foreign checkpoints are
//! refused, a checkpoint of an earlier optimizer-state format resumes.

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
            .with_hidden(Activation::Tanh)
            .with_dropout(0.1),
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
            .with_hidden(Activation::Tanh)
            .with_dropout(0.1),
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

/// A checkpoint written before the optimizer state had a `format` field (its optimizer state
/// is a kind and a map of hyper-parameters), in hex: `tiny_trainer(1)` after its one epoch.
const UNVERSIONED_CHECKPOINT: &str = concat!(
    "535452415441434b01000000f0030000000000006737e89a0874696e792d6d6c70040f6c61796572732e302e",
    "7765696768740203020006c88c12bfe59e55be4be8d5bea83480bb5cb1e4be58346fbe0d6c61796572732e30",
    "2e6269617301030003009d51be5e6ddb3dd0518f3d0f6c61796572732e312e77656967687402020300060ea6",
    "083f8647f43d56ed1b3ed0ec003f19f3c63ed615febe0d6c61796572732e312e6269617301020002aeed6a3e",
    "02b3453e00046164616d020607616d7367726164000000000000f03f056265746131cdccccccccccec3f0562",
    "657461322b8716d9cef7ef3f036570733a8c30e28e79453e026c729a9999999999a93f0c7765696768745f64",
    "65636179000000000000000004010203076578705f61766702030200060000000000000000ceddfb38bf62a6",
    "bb628a5f399ced17390a6578705f6176675f737102030200060000000000000000af78a0310e4dbf35d88ef4",
    "3131bcaa300e6d61785f6578705f6176675f737102030200060000000000000000af78a0310e4dbf35d88ef4",
    "3131bcaa30010203076578705f617667010300030000000067e2143ca80ba5bb0a6578705f6176675f737101",
    "03000300000000f68ec236da51d0350e6d61785f6578705f6176675f73710103000300000000f68ec236da51",
    "d035010203076578705f6176670202030006000000009da79bbbf60894b9000000009ca79b3bf60894390a65",
    "78705f6176675f73710202030006000000007836d8350f7b9731000000007636d8350d7b97310e6d61785f65",
    "78705f6176675f73710202030006000000007836d8350f7b9731000000007636d8350d7b9731010203076578",
    "705f6176670102000278aff8bc78aff83c0a6578705f6176675f73710102000268505a3868505a380e6d6178",
    "5f6578705f6176675f73710102000268505a3868505a380100010b0101000000305603e73f01000000000000",
    "e43f0000371a376ac24c343f39997796cc38f9409a9999999999a93f0000fb27017b2265706f636873223a31",
    "2c2262617463685f73697a65223a31362c2273656564223a31312c2264726f705f6c617374223a66616c7365",
    "2c22666c617474656e5f696e70757473223a66616c73652c22636c69705f677261645f6e6f726d223a6e756c",
    "6c2c226561726c795f73746f7070696e675f70617469656e6365223a6e756c6c2c22636865636b706f696e74",
    "5f646972223a6e756c6c2c22636865636b706f696e745f6576657279223a312c226c6f675f646972223a6e75",
    "6c6c2c2274656e736f72626f6172645f646972223a6e756c6c2c22686973746f6772616d5f6576657279223a",
    "312c22737465705f7363616c6172735f6576657279223a312c226576616c5f62617463685f73697a65223a31",
    "3030302c22766572626f7365223a66616c73657d",
);

/// An MLP 2-3-2 trained by AMSGrad Adam on 32 noisy XOR points in batches of 16.
fn tiny_trainer(epochs: usize) -> Trainer<Mlp, Adam> {
    strata_layers::manual_seed(3);
    let model = Mlp::new(&MlpConfig::new(&[2, 3, 2]));
    let mut config = TrainerConfig::new(epochs, 16);
    config.seed = 11;
    config.verbose = false;
    let adam = AdamConfig::new(0.05).with_amsgrad(true).build().unwrap();
    Trainer::new(model, adam, Objective::CrossEntropy, config, "tiny-mlp").unwrap()
}

#[test]
fn a_checkpoint_written_before_the_optimizer_state_format_resumes() {
    use strata_layers::Module;
    use strata_optim::Optimizer;

    let hex = UNVERSIONED_CHECKPOINT;
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let dir = tmp_dir("unversioned");
    let path = dir.join("old.ckpt");
    std::fs::write(&path, bytes).unwrap();

    let mut resumed = tiny_trainer(2);
    resumed.resume(&path).unwrap();
    assert_eq!(resumed.epochs_done(), 1);
    assert_eq!(resumed.optimizer.step_count(), 2, "2 batches of 16");
    assert_eq!(
        resumed.optimizer.config(),
        &AdamConfig::new(0.05).with_amsgrad(true)
    );

    // The same run today: the same weights and optimizer state (to rounding: the checkpoint
    // may come from a machine with other threads).
    let data = Arc::new(synthetic::noisy_xor(32, 0.1, 1));
    let mut today = tiny_trainer(1);
    today.fit(data.clone(), None).unwrap();
    let close = |x: &[f64], y: &[f64]| {
        x.len() == y.len() && x.iter().zip(y).all(|(a, b)| (a - b).abs() <= 1e-5)
    };
    let params = |t: &Trainer<Mlp, Adam>| -> Vec<Vec<f64>> {
        t.model
            .params()
            .iter()
            .map(|(_, p)| p.value().to_vec().iter().map(|&x| f64::from(x)).collect())
            .collect()
    };
    for (x, y) in params(&resumed).iter().zip(&params(&today)) {
        assert!(close(x, y), "{x:?} vs {y:?}");
    }
    let state = |t: &Trainer<Mlp, Adam>| {
        let named = t.model.params();
        let refs: Vec<_> = named.iter().map(|(_, p)| *p).collect();
        t.optimizer.state(&refs)
    };
    let (old, new) = (state(&resumed), state(&today));
    assert_eq!((old.step, old.config), (new.step, new.config));
    for (o, n) in old.params.iter().zip(&new.params) {
        let (o, n) = (o.as_ref().unwrap(), n.as_ref().unwrap());
        assert_eq!(o.step, n.step);
        for (name, buffer) in &o.buffers {
            assert_eq!(buffer.shape, n.buffers[name].shape, "{name}");
            let values = n.buffers[name].values.to_f64_vec();
            assert!(close(&buffer.values.to_f64_vec(), &values), "{name}");
        }
    }

    // And training goes on from there.
    resumed.fit(data, None).unwrap();
    assert_eq!(resumed.epochs_done(), 2);
    assert_eq!(resumed.optimizer.step_count(), 4);
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
