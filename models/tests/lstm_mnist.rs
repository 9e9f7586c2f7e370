//! The `lstm_mnist` set-up (row-by-row LSTM 128, Adam 1e-3, batch 64) on the bundled MNIST
//! sample must reach its accuracy bar.

use std::sync::Arc;

use strata_datasets::Mnist;
use strata_layers::Module;
use strata_models::data::globally_standardized;
use strata_models::sequence::{LstmClassifier, lstm_mnist_trainer};

#[test]
fn lstm_classifier_has_the_reference_parameters() {
    let model = LstmClassifier::<f32>::mnist();
    let names: Vec<String> = model.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "lstm.weight_ih_l0",
            "lstm.weight_hh_l0",
            "lstm.bias_ih_l0",
            "lstm.bias_hh_l0",
            "fc.weight",
            "fc.bias"
        ]
    );
    // PyTorch: nn.LSTM(28, 128) + nn.Linear(128, 10).
    assert_eq!(model.num_params(), 4 * 128 * (28 + 128 + 2) + 128 * 10 + 10);
}

#[test]
fn lstm_mnist_three_epochs_beats_9_percent() {
    // PyTorch, same model and set-up: 6.6%.
    let data = Mnist::bundled().expect("the bundled MNIST sample loads");
    let (train, test) = globally_standardized(&data);
    let mut trainer = lstm_mnist_trainer(0, 3, 64).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(Arc::new(train), None).unwrap();
    let error = trainer.evaluate(&test, 1000).error();
    eprintln!(
        "lstm_mnist: test error {:.2}% after 3 epochs",
        100.0 * error
    );
    assert!(error < 0.09, "test error {error}");
}
