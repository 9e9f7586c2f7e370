//! The one training loop drives every learner: each step kind is called once per batch and its
//! metrics are recorded; a layer-wise DBN pretraining killed mid-run resumes bit for bit; an
//! RBM that diverges stops with the supervised loop's non-finite error; logs are written.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use strata_datasets::{ArrayDataset, Batch, Dataset, Mnist};
use strata_layers::Module;
use strata_models::autoencoder::{AutoEncoder, AutoEncoderConfig};
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::dbn::{Dbn, dlt_dbn};
use strata_models::layerwise::Layerwise;
use strata_models::rbm::{Rbm, RbmConfig};
use strata_models::reconstruction::Reconstruction;
use strata_models::stacked_autoencoder::StackedAutoEncoder;
use strata_models::wake_sleep::WakeSleep;
use strata_models::{
    Mlp, MlpConfig, Objective, Position, Step, StepOutput, TrainError, Trainer, TrainerConfig,
};
use strata_optim::{AdamConfig, Optimizer, SgdConfig};

/// The first 1000 training and 200 test images of the bundled MNIST sample, in [0, 1].
fn mnist() -> &'static (ArrayDataset, ArrayDataset) {
    static DATA: OnceLock<(ArrayDataset, ArrayDataset)> = OnceLock::new();
    DATA.get_or_init(|| {
        let (train, test) = scaled(&Mnist::bundled().expect("bundled MNIST sample"));
        let first = |d: &ArrayDataset, n: usize| d.select(&(0..n).collect::<Vec<_>>());
        (first(&train, 1000), first(&test, 200))
    })
}

fn unlabeled(d: &ArrayDataset) -> ArrayDataset {
    ArrayDataset::unlabeled(d.inputs().to_vec(), vec![d.feature_len()])
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-loop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A step that counts the loop's calls and can fail ("be killed") at a given training call.
#[derive(Default)]
struct Counting<S> {
    inner: S,
    train_calls: usize,
    eval_calls: usize,
    kill_at: Option<usize>,
}

impl<S> Counting<S> {
    fn new(inner: S) -> Self {
        Counting {
            inner,
            train_calls: 0,
            eval_calls: 0,
            kill_at: None,
        }
    }
}

impl<M: Module, S: Step<M>> Step<M> for Counting<S> {
    fn train_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        if self.kill_at == Some(self.train_calls) {
            panic!("killed at training call {}", self.train_calls);
        }
        self.train_calls += 1;
        self.inner.train_step(model, batch)
    }
    fn eval_step(&mut self, model: &mut M, batch: &Batch) -> StepOutput {
        self.eval_calls += 1;
        self.inner.eval_step(model, batch)
    }
    fn prepare(&mut self, model: &mut M) {
        self.inner.prepare(model)
    }
    fn stages(&self, model: &M) -> usize {
        self.inner.stages(model)
    }
    fn stage_name(&self, model: &M, stage: usize) -> String {
        self.inner.stage_name(model, stage)
    }
    fn enter_stage(&mut self, model: &mut M, stage: usize) {
        self.inner.enter_stage(model, stage)
    }
    fn stage_data(&self, model: &M, data: &dyn Dataset) -> Option<ArrayDataset> {
        self.inner.stage_data(model, data)
    }
    fn init_stage(&mut self, model: &mut M, train: &dyn Dataset) {
        self.inner.init_stage(model, train)
    }
}

/// Two epochs of batches of 100 (10 per epoch), quiet.
fn two_epochs() -> TrainerConfig {
    TrainerConfig::new(2, 100)
        .with_verbose(false)
        .with_seed(5)
        .with_flatten_inputs(true)
}

/// The metric names of the last epoch.
fn metric_names(history: &strata_models::plot::History) -> Vec<String> {
    history.last().unwrap().metrics.keys().cloned().collect()
}

#[test]
fn the_loop_calls_a_supervised_step_and_records_its_error_rates() {
    let (train, test) = mnist();
    strata_layers::manual_seed(1);
    let mlp = Mlp::new(&MlpConfig::new(&[784, 32, 10]));
    let opt = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap();
    let step = Counting::new(Objective::CrossEntropy);
    let mut trainer = Trainer::new(mlp, opt, step, two_epochs(), "mlp").unwrap();
    let history = trainer
        .fit(Arc::new(train.clone()), Some(test))
        .unwrap()
        .clone();
    assert_eq!((trainer.step.train_calls, trainer.step.eval_calls), (20, 2));
    let last = history.last().unwrap();
    assert!(last.train_error.is_some_and(|e| e < 0.5), "{last:?}");
    assert!(last.val_error.is_some_and(|e| e < 0.5), "{last:?}");
    assert!(last.train_loss < history.as_slice()[0].train_loss);
    assert_eq!(last.stage, None);
}

#[test]
fn the_loop_calls_a_reconstruction_step_and_records_its_terms() {
    let (train, test) = mnist();
    strata_layers::manual_seed(2);
    let ae = AutoEncoder::new(
        AutoEncoderConfig::new(784, 32)
            .with_sparsity(0.1, 0.5)
            .with_contractive(0.01),
    );
    let opt = AdamConfig::new(3e-3).build().unwrap();
    let step = Counting::new(Reconstruction);
    let mut trainer = Trainer::new(ae, opt, step, two_epochs(), "ae").unwrap();
    let history = trainer
        .fit(Arc::new(train.clone()), Some(test))
        .unwrap()
        .clone();
    assert_eq!((trainer.step.train_calls, trainer.step.eval_calls), (20, 2));
    assert_eq!(
        metric_names(&history),
        [
            "contractive",
            "reconstruction",
            "sparsity",
            "val_contractive",
            "val_reconstruction",
            "val_sparsity"
        ]
    );
    let last = history.last().unwrap();
    assert_eq!((last.train_error, last.val_error), (None, None));
    assert!(last.train_loss < history.as_slice()[0].train_loss);
    assert!(last.val_loss.is_some());
}

#[test]
fn the_loop_calls_a_contrastive_divergence_step_and_records_free_energy() {
    let (train, test) = mnist();
    let rbm = Rbm::new(RbmConfig::new(784, 32).with_seed(3));
    let opt = SgdConfig::new(0.1).with_momentum(0.5).build().unwrap();
    let step = Counting::new(ContrastiveDivergence::new().with_visible_bias_from_data(true));
    let mut trainer = Trainer::new(rbm, opt, step, two_epochs(), "rbm").unwrap();
    let (train, test) = (unlabeled(train), unlabeled(test));
    let history = trainer.fit(Arc::new(train), Some(&test)).unwrap().clone();
    assert_eq!((trainer.step.train_calls, trainer.step.eval_calls), (20, 2));
    assert_eq!(
        metric_names(&history),
        [
            "free_energy",
            "val_free_energy",
            "val_pseudo_log_likelihood"
        ]
    );
    let [first, last] = history.as_slice() else {
        panic!("two epochs")
    };
    assert!(last.train_loss < first.train_loss, "{first:?} → {last:?}");
    assert!(last.metrics["val_pseudo_log_likelihood"] < 0.0);
}

#[test]
fn the_loop_runs_a_layerwise_schedule_one_stage_per_layer() {
    let (train, test) = mnist();
    // A DBN: two RBMs, two epochs each, each stage on the codes of the one below.
    let dbn = dlt_dbn(&[784, 64, 16], 4);
    let opt = SgdConfig::new(0.1).with_momentum(0.5).build().unwrap();
    let step = Layerwise::new(Counting::new(ContrastiveDivergence::new()));
    let mut trainer = Trainer::new(dbn, opt, step, two_epochs(), "dbn").unwrap();
    let history = trainer
        .fit(Arc::new(train.clone()), Some(test))
        .unwrap()
        .clone();
    let counted = &trainer.step.inner;
    assert_eq!((counted.train_calls, counted.eval_calls), (40, 4));
    let stages: Vec<Option<usize>> = history.iter().map(|m| m.stage).collect();
    assert_eq!(stages, [Some(0), Some(0), Some(1), Some(1)]);
    assert_eq!(
        history.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(trainer.position(), Position { stage: 1, epoch: 2 });
    assert!(
        history
            .iter()
            .all(|m| m.metrics.contains_key("val_free_energy"))
    );
    // The optimizer started afresh for the second layer: one step per batch of that layer.
    assert_eq!(trainer.optimizer.step_count(), 20);

    // A stacked autoencoder through the same schedule.
    strata_layers::manual_seed(5);
    let stack = StackedAutoEncoder::new(&[784, 48, 24], &AutoEncoderConfig::new(1, 1));
    let step = Layerwise::new(Counting::new(Reconstruction));
    let opt = AdamConfig::new(3e-3).build().unwrap();
    let mut trainer = Trainer::new(stack, opt, step, two_epochs(), "sae").unwrap();
    let history = trainer.fit(Arc::new(train.clone()), None).unwrap().clone();
    assert_eq!(trainer.step.inner.train_calls, 40);
    for layer in 0..2 {
        let losses: Vec<f64> = history
            .iter()
            .filter(|m| m.stage == Some(layer))
            .map(|m| m.train_loss)
            .collect();
        assert!(losses[1] < losses[0], "layer {layer}: {losses:?}");
    }
}

#[test]
fn the_loop_calls_a_wake_sleep_step() {
    let (train, test) = mnist();
    let dbn = dlt_dbn(&[784, 32, 16], 6);
    let opt = SgdConfig::new(0.01).build().unwrap();
    let mut trainer =
        Trainer::new(dbn, opt, Counting::new(WakeSleep), two_epochs(), "dbn").unwrap();
    // Building the trainer untied the weights: the parameter list is final.
    assert_eq!(trainer.model.params().len(), 2 * 3 + 4);
    let history = trainer
        .fit(Arc::new(train.clone()), Some(test))
        .unwrap()
        .clone();
    assert_eq!((trainer.step.train_calls, trainer.step.eval_calls), (20, 2));
    assert!(
        history
            .iter()
            .all(|m| m.train_loss.is_finite() && m.val_loss.is_some())
    );
}

/// A 784-64-32-16 DBN pretrained layer by layer (3 epochs per layer, Hinton's visible biases,
/// SGD with momentum), checkpointing every epoch into `dir`, killed at training call
/// `kill_at` if given.
fn dbn_pretrainer(
    dir: &std::path::Path,
    kill_at: Option<usize>,
) -> Trainer<Dbn, strata_optim::Sgd, Layerwise<Counting<ContrastiveDivergence>>> {
    let dbn = Dbn::new(&[784, 64, 32, 16], |l, v, h| {
        RbmConfig::new(v, h)
            .with_weight_decay(1e-4)
            .with_seed(strata_layers::child_seed(7, l as u64))
    });
    let mut step = Layerwise::new(Counting::new(
        ContrastiveDivergence::new().with_visible_bias_from_data(true),
    ));
    step.inner.kill_at = kill_at;
    let config = TrainerConfig::new(3, 100)
        .with_verbose(false)
        .with_seed(7)
        .with_checkpoints(dir, 1);
    let opt = SgdConfig::new(0.05).with_momentum(0.5).build().unwrap();
    Trainer::new(dbn, opt, step, config, "dbn").unwrap()
}

fn all_weights(m: &impl Module) -> Vec<(String, Vec<u32>)> {
    m.params()
        .into_iter()
        .map(|(name, p)| {
            (
                name,
                p.value().to_vec().iter().map(|x| x.to_bits()).collect(),
            )
        })
        .collect()
}

#[test]
fn a_dbn_pretraining_killed_mid_run_resumes_bit_identical() {
    let data = Arc::new(unlabeled(&mnist().0));
    let straight_dir = tmp_dir("dbn-straight");
    let mut straight = dbn_pretrainer(&straight_dir, None);
    let straight_history = straight.fit(data.clone(), None).unwrap().clone();
    assert_eq!(straight_history.len(), 9);

    // Killed in the third epoch of the second layer (index 1), at its sixth batch: the last
    // checkpoint holds layer 1 after its second epoch.
    let dir = tmp_dir("dbn-killed");
    let kill_at = 3 * 10 + 2 * 10 + 5;
    let mut killed = dbn_pretrainer(&dir, Some(kill_at));
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        killed.fit(data.clone(), None).map(|_| ())
    }));
    assert!(outcome.is_err(), "the run was killed");
    drop(killed);

    let mut resumed = dbn_pretrainer(&dir, None);
    resumed.resume(&dir.join("last.ckpt")).unwrap();
    assert_eq!(resumed.position(), Position { stage: 1, epoch: 2 });
    assert_eq!(resumed.epochs_done(), 5);
    resumed.fit(data, None).unwrap();
    assert_eq!(
        all_weights(&resumed.model),
        all_weights(&straight.model),
        "the resumed pretraining ends with the same weights bit for bit"
    );
    let losses = |h: &strata_models::plot::History| -> Vec<(Option<usize>, u64)> {
        h.iter()
            .map(|m| (m.stage, m.train_loss.to_bits()))
            .collect()
    };
    assert_eq!(losses(resumed.history()), losses(&straight_history));
    // Only the epochs after the checkpoint were trained again.
    assert_eq!(resumed.step.inner.train_calls, 9 * 10 - 5 * 10);
    for d in [dir, straight_dir] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// The error of a run whose learning rate of 1e38 overflows the weights to ±∞ within a few
/// steps.
fn diverged<M: Module, O: Optimizer, S: Step<M>>(model: M, mut opt: O, step: S) -> TrainError {
    opt.set_learning_rate(1e38);
    let data = Arc::new(mnist().0.clone());
    let config = TrainerConfig::new(1, 100)
        .with_verbose(false)
        .with_flatten_inputs(true);
    Trainer::new(model, opt, step, config, "diverging")
        .unwrap()
        .fit(data, None)
        .map(|_| ())
        .unwrap_err()
}

#[test]
fn a_diverging_rbm_stops_with_the_same_error_as_a_diverging_classifier() {
    let sgd = || SgdConfig::new(0.1).build::<f32>().unwrap();
    let rbm = diverged(
        Rbm::new(RbmConfig::new(784, 32)),
        sgd(),
        ContrastiveDivergence::new(),
    );
    let mlp = diverged(
        Mlp::new(&MlpConfig::new(&[784, 32, 10])),
        sgd(),
        Objective::CrossEntropy,
    );
    for err in [&rbm, &mlp] {
        match err {
            TrainError::NonFinite {
                epoch, batch, loss, ..
            } => {
                assert_eq!(*epoch, 1);
                assert!((2..=10).contains(batch), "{err}");
                assert!(!loss.is_finite());
            }
            other => panic!("expected a non-finite loss, got {other}"),
        }
        assert!(err.to_string().contains("at epoch 1, batch"), "{err}");
    }
}

#[test]
fn the_loop_writes_history_and_learning_curves_for_every_learner() {
    let dir = tmp_dir("logs");
    let (train, test) = mnist();
    let rbm = Rbm::new(RbmConfig::new(784, 16));
    let opt = SgdConfig::new(0.1).build().unwrap();
    let config = two_epochs().with_log_dir(&dir);
    let mut trainer = Trainer::new(rbm, opt, ContrastiveDivergence::new(), config, "rbm").unwrap();
    let (train, test) = (unlabeled(train), unlabeled(test));
    trainer.fit(Arc::new(train), Some(&test)).unwrap();
    let csv = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("stage,free_energy,val_free_energy,val_pseudo_log_likelihood"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3);
    let png = std::fs::read(dir.join("learning_curves.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn early_stopping_ends_a_stage_and_survives_a_resume() {
    let dir = tmp_dir("early");
    let (train, test) = mnist();
    let run = |epochs: usize| {
        strata_layers::manual_seed(9);
        let mlp = Mlp::new(&MlpConfig::new(&[784, 16, 10]));
        // A learning rate of 0 never improves: patience 2 stops after epoch 3.
        let opt = SgdConfig::new(0.0).build().unwrap();
        let config = TrainerConfig::new(epochs, 100)
            .with_verbose(false)
            .with_flatten_inputs(true)
            .with_early_stopping(2)
            .with_checkpoints(&dir, 1);
        Trainer::new(mlp, opt, Objective::CrossEntropy, config, "mlp").unwrap()
    };
    let mut trainer = run(10);
    assert_eq!(
        trainer
            .fit(Arc::new(train.clone()), Some(test))
            .unwrap()
            .len(),
        3
    );
    let mut resumed = run(10);
    resumed.resume(&dir.join("last.ckpt")).unwrap();
    assert_eq!(
        resumed
            .fit(Arc::new(train.clone()), Some(test))
            .unwrap()
            .len(),
        3,
        "a resumed run that had stopped early trains no further"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A batch larger than the training set with `drop_last` would train on nothing: refused with
/// a message naming both sizes, before any epoch runs.
#[test]
fn an_epoch_without_a_batch_is_refused() {
    let (train, _) = mnist();
    let model = Mlp::new(&MlpConfig::new(&[784, 10]));
    let optimizer = SgdConfig::new(0.1).build().unwrap();
    let config = TrainerConfig::new(1, 5000)
        .with_drop_last(true)
        .with_verbose(false)
        .with_flatten_inputs(true);
    let mut t = Trainer::new(model, optimizer, Objective::CrossEntropy, config, "mlp").unwrap();
    let err = t.fit(Arc::new(train.clone()), None).unwrap_err();
    assert!(matches!(err, TrainError::Config(_)), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("1000") && message.contains("5000"),
        "{message}"
    );
    assert_eq!(t.epochs_done(), 0);
}
