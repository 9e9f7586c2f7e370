//! One training step (forward, cross-entropy, backward through time, Adam update) of the
//! `lstm_mnist` model — [`LstmClassifier`]: 28 steps × 28 features → LSTM 128 → Linear 10 —
//! at batch 64, on 1 and 2 threads (group `lstm`). Epoch time on full Fashion-MNIST ≈ step
//! time × 937.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Var};
use strata_layers::Module;
use strata_models::sequence::LstmClassifier;
use strata_optim::{Adam, AdamConfig, Optimizer};
use strata_tensor::Tensor;

fn step(model: &mut LstmClassifier, optimizer: &mut Adam, x: &Tensor, labels: &[usize]) {
    let out = model.forward(&Var::constant(x.clone()));
    let loss = out.cross_entropy(labels, &Default::default());
    let grads = loss.backward();
    drop((loss, out));
    let mut params: Vec<&mut Param> = model.params_mut().into_iter().map(|(_, p)| p).collect();
    optimizer.step(&mut params, &grads);
}

fn lstm(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm");
    group.sample_size(20);
    let mut rng = StdRng::seed_from_u64(1);
    let x = Tensor::rand_normal(&[64, 1, 28, 28], 0.0, 1.0, &mut rng);
    let labels: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
    group.throughput(Throughput::Elements(64));
    for threads in [1usize, 2] {
        strata_layers::manual_seed(0);
        let mut model = LstmClassifier::mnist();
        let mut optimizer = AdamConfig::new(1e-3).build().expect("valid Adam settings");
        group.bench_function(
            BenchmarkId::new(format!("strata-{threads}t"), "train_step_b64"),
            |b| {
                b.iter_custom(|iters| {
                    strata_tensor::threads::with_threads(threads, || {
                        let start = std::time::Instant::now();
                        for _ in 0..iters {
                            step(&mut model, &mut optimizer, &x, &labels);
                        }
                        start.elapsed()
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, lstm);
criterion_main!(benches);
