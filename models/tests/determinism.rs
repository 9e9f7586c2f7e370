//! With fixed-order reductions on (`strata_tensor::determinism`), training gives bit-identical
//! weights on 1, 2 and 3 threads: LeNet-5 (convolutions, pooling, matrix products) and the
//! row-by-row LSTM (the fused recurrent layer, whose batch is split into chunks).
//!
//! The switch is process-wide, so this file is its own test binary and every test in it turns
//! the switch on.

use std::sync::Arc;

use strata_datasets::Mnist;
use strata_layers::Module;
use strata_models::LeNetStyle;
use strata_models::data::globally_standardized;
use strata_models::recipes::lenet5_trainer;
use strata_models::sequence::lstm_mnist_trainer;
use strata_tensor::determinism::set_fixed_order_reductions;
use strata_tensor::threads::with_threads;

/// Every parameter of a trained model as raw bits, in `Module::params` order.
fn bits<M: Module>(model: &M) -> Vec<u32> {
    model
        .params()
        .iter()
        .flat_map(|(_, p)| p.value().to_vec())
        .map(f32::to_bits)
        .collect()
}

/// The first `n` training examples of the bundled sample, standardised.
fn sample(n: usize) -> strata_datasets::ArrayDataset {
    let data = Mnist::bundled().expect("the bundled MNIST sample loads");
    let (train, _) = globally_standardized(&data);
    train.split_at(n).0
}

/// Asserts that `train()` — a training run returning its weights' bits — gives the
/// same bits on 2 and 3 threads as on 1.
fn assert_thread_count_invariant(model: &str, train: impl Fn() -> Vec<u32> + Sync) {
    set_fixed_order_reductions(true);
    let one = with_threads(1, &train);
    for threads in [2, 3] {
        let other = with_threads(threads, &train);
        let differ = one.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "{model}: {differ} of {} weights differ between 1 and {threads} threads",
            one.len()
        );
    }
}

#[test]
fn lenet5_trains_bit_identically_on_any_thread_count() {
    let train = Arc::new(sample(768));
    assert_thread_count_invariant("LeNet-5", || {
        let mut trainer = lenet5_trainer(LeNetStyle::Modern, 7, 1, 128).unwrap();
        trainer.config_mut().verbose = false;
        trainer.fit(train.clone(), None).unwrap();
        bits(&trainer.model)
    });
}

#[test]
fn lstm_trains_bit_identically_on_any_thread_count() {
    let train = Arc::new(sample(512));
    assert_thread_count_invariant("LSTM", || {
        let mut trainer = lstm_mnist_trainer(3, 1, 128).unwrap();
        trainer.config_mut().verbose = false;
        trainer.fit(train.clone(), None).unwrap();
        bits(&trainer.model)
    });
}
