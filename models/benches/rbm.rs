//! Contrastive divergence on 1 and 2 threads: CD-1 updates of Bernoulli RBMs 784-100 and
//! 784-500, batch 100, SGD learning rate 0.1 (group `rbm_cd1`; one epoch of 60,000 images is
//! 600 of these updates), as the scikit-learn `BernoulliRBM` and PyTorch reference loops run.
//! Each timed run is one epoch of the `Trainer` loop with the `ContrastiveDivergence` step.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_datasets::ArrayDataset;
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::rbm::{Rbm, RbmConfig, RbmInit};
use strata_models::{Trainer, TrainerConfig};
use strata_optim::SgdConfig;
use strata_tensor::Tensor;

/// Updates per timed run: 20 batches of 100 (1/30 of a Fashion-MNIST epoch).
const BATCHES: usize = 20;

fn cd1(c: &mut Criterion) {
    let mut group = c.benchmark_group("rbm_cd1");
    group.sample_size(10);
    // Digit-like inputs in [0, 1]: mostly zeros, some bright pixels.
    let mut rng = StdRng::seed_from_u64(1);
    let u = Tensor::rand_uniform(&[BATCHES * 100, 784], 0.0, 1.0, &mut rng);
    let x = Arc::new(ArrayDataset::from_rows(
        &u.sub_scalar(0.6).mul_scalar(2.5).clamp(0.0, 1.0),
    ));
    let config = TrainerConfig::new(1, 100).with_verbose(false);
    group.throughput(Throughput::Elements((BATCHES * 100) as u64));
    for threads in [1usize, 2] {
        for hidden in [100usize, 500] {
            let mut rbm = Rbm::new(RbmConfig::dlt(784, hidden).with_init(RbmInit::Hinton));
            let mut opt = SgdConfig::new(0.1).build::<f32>().expect("valid SGD");
            let id = BenchmarkId::new(
                format!("strata-{threads}t"),
                format!("784-{hidden}_b100_x{BATCHES}"),
            );
            group.bench_function(id, |b| {
                b.iter_custom(|n| {
                    strata_tensor::threads::with_threads(threads, || {
                        let start = std::time::Instant::now();
                        for _ in 0..n {
                            let step = ContrastiveDivergence::new();
                            Trainer::new(&mut rbm, &mut opt, step, config.clone(), "rbm")
                                .expect("valid settings")
                                .fit(x.clone(), None)
                                .expect("finite CD-1 updates");
                        }
                        start.elapsed()
                    })
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, cd1);
criterion_main!(benches);
