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

#[test]
fn lenet5_trains_bit_identically_on_any_thread_count() {
    set_fixed_order_reductions(true);
    let train = Arc::new(sample(768));
    let run = |threads: usize| {
        with_threads(threads, || {
            let mut trainer = lenet5_trainer(LeNetStyle::Modern, 7, 1, 128).unwrap();
            trainer.config_mut().verbose = false;
            trainer.fit(train.clone(), None).unwrap();
            bits(&trainer.model)
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        let other = run(threads);
        let differ = one.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "LeNet-5: {differ} of {} weights differ between 1 and {threads} threads",
            one.len()
        );
    }
}

#[test]
fn lstm_trains_bit_identically_on_any_thread_count() {
    set_fixed_order_reductions(true);
    let train = Arc::new(sample(512));
    let run = |threads: usize| {
        with_threads(threads, || {
            let mut trainer = lstm_mnist_trainer(3, 1, 128).unwrap();
            trainer.config_mut().verbose = false;
            trainer.fit(train.clone(), None).unwrap();
            bits(&trainer.model)
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        let other = run(threads);
        let differ = one.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "LSTM: {differ} of {} weights differ between 1 and {threads} threads",
            one.len()
        );
    }
}
