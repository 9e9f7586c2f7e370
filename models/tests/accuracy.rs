//! The accuracy bars: each classic set-up, with a fixed seed, must reach its test error on
//! real data (the bundled MNIST sample: 10,000 training and 10,000 test images; and full
//! Fashion-MNIST, which CI installs). PyTorch references (same architecture, hyper-parameters
//! and data; mean of 3 seeds) are quoted beside each bar.

use std::sync::Arc;

use strata_datasets::Mnist;
use strata_models::LeNetStyle;
use strata_models::data::{globally_standardized, scaled, zscored};
use strata_models::recipes::{
    DLT_CNN_LR, NN_EXPERIMENTS, dlt_cnn_trainer, dlt_nn_trainer, lenet5_trainer, relu_mlp_trainer,
};

fn sample() -> Mnist {
    Mnist::bundled().expect("the bundled MNIST sample loads")
}

/// DeepLearnToolbox test_example_NN experiment `number` for `epochs` epochs: its test error.
fn dlt_nn(number: u8, epochs: usize) -> f64 {
    let (train, test) = zscored(&sample());
    let ex = &NN_EXPERIMENTS[usize::from(number) - 1];
    let mut trainer = dlt_nn_trainer(ex, 0, epochs, ex.batch).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(Arc::new(train), None).unwrap();
    trainer.evaluate(&test, 1000).error()
}

#[test]
fn dlt_nn_vanilla_one_epoch_beats_17_percent() {
    // PyTorch: 13.9% (seeds 13.7–14.3%).
    let error = dlt_nn(1, 1);
    assert!(error < 0.17, "test error {error}");
}

#[test]
fn dlt_nn_vanilla_six_epochs_beats_11_percent() {
    // PyTorch: 9.2%.
    let error = dlt_nn(1, 6);
    assert!(error < 0.11, "test error {error}");
}

#[test]
fn dlt_nn_sigmoid_six_epochs_beats_12_percent() {
    // PyTorch: 9.6%.
    let error = dlt_nn(4, 6);
    assert!(error < 0.12, "test error {error}");
}

#[test]
fn relu_mlp_one_epoch_beats_12_percent() {
    // PyTorch: 9.9% (784-100-10 ReLU, softmax CE, SGD 0.1, batch 100).
    let (train, test) = globally_standardized(&sample());
    let mut trainer = relu_mlp_trainer(0.1, 0, 1, 100).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(Arc::new(train), None).unwrap();
    let error = trainer.evaluate(&test, 1000).error();
    assert!(error < 0.12, "test error {error}");
}

#[test]
fn dlt_cnn_six_epochs_beats_14_percent() {
    // PyTorch: 11.4% (lr 1, batch 50).
    let (train, test) = scaled(&sample());
    let mut trainer = dlt_cnn_trainer(DLT_CNN_LR, 0, 6, 50).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(Arc::new(train), None).unwrap();
    let error = trainer.evaluate(&test, 1000).error();
    assert!(error < 0.14, "test error {error}");
}

#[test]
fn lenet5_five_epochs_beats_3_percent() {
    // PyTorch: 2.2% (seed 0; Adam 1e-3, batch 64).
    let (train, test) = globally_standardized(&sample());
    let mut trainer = lenet5_trainer(LeNetStyle::Modern, 0, 5, 64).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(Arc::new(train), None).unwrap();
    let error = trainer.evaluate(&test, 1000).error();
    assert!(error < 0.03, "test error {error}");
}

#[test]
fn lenet5_on_fashion_mnist_ten_epochs_beats_11_percent() {
    // PyTorch: 10.0% on the full 60,000/10,000 Fashion-MNIST.
    let data = match Mnist::fashion(None) {
        Ok(d) => d,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipping: Fashion-MNIST not found ({e}); install dataset-fashion-mnist");
            return;
        }
        Err(e) => panic!("CI installs Fashion-MNIST, but it was not found: {e}"),
    };
    let (train, test) = globally_standardized(&data);
    let mut trainer = lenet5_trainer(LeNetStyle::Modern, 0, 10, 64).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(Arc::new(train), None).unwrap();
    let error = trainer.evaluate(&test, 1000).error();
    eprintln!("LeNet-5, Fashion-MNIST, 10 epochs: test error {error}");
    assert!(error < 0.11, "test error {error}");
}
