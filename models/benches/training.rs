//! One training step (forward, loss, backward, optimizer update) of each classic set-up, on 1
//! and 2 threads: the per-step cost behind the seconds-per-epoch figures
//! (epoch time ≈ step time × 60,000 / batch on full Fashion-MNIST).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{Param, Var};
use strata_layers::Module;
use strata_layers::loss::half_sse;
use strata_models::LeNetStyle;
use strata_models::recipes::{
    DLT_CNN_LR, NN_EXPERIMENTS, dlt_cnn_trainer, dlt_nn_trainer, lenet5_trainer, relu_mlp_trainer,
};
use strata_optim::Optimizer;
use strata_tensor::{Indices, Tensor};

/// One step of `model` with `optimizer` on a fixed batch; `sse` selects the DeepLearnToolbox
/// loss (one-hot targets) instead of cross-entropy.
fn step<M: Module, O: Optimizer>(
    model: &mut M,
    optimizer: &mut O,
    x: &Tensor,
    labels: &[usize],
    sse: bool,
) {
    let out = model.forward(&Var::constant(x.clone()));
    let loss = if sse {
        half_sse(
            &out,
            &Var::constant(Tensor::one_hot(&Indices::from_slice(labels), 10)),
        )
    } else {
        out.cross_entropy(labels, &Default::default())
    };
    let grads = loss.backward();
    drop((loss, out));
    let mut params: Vec<&mut Param> = model.params_mut().into_iter().map(|(_, p)| p).collect();
    optimizer.step(&mut params, &grads);
}

/// Times `iters` steps on a pool of `threads` threads (the pool is entered once, outside the
/// timed loop).
fn timed<M: Module + Send, O: Optimizer + Send>(
    threads: usize,
    iters: u64,
    model: &mut M,
    optimizer: &mut O,
    x: &Tensor,
    labels: &[usize],
    sse: bool,
) -> std::time::Duration {
    strata_tensor::threads::with_threads(threads, || {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            step(model, optimizer, x, labels, sse);
        }
        start.elapsed()
    })
}

fn batch(shape: &[usize]) -> (Tensor, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(1);
    let x = Tensor::rand_normal(shape, 0.0, 1.0, &mut rng);
    let labels = (0..shape[0]).map(|i| (i * 7) % 10).collect();
    (x, labels)
}

fn training_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    group.sample_size(20);
    for threads in [1usize, 2] {
        let id = |name: &str| BenchmarkId::new(format!("strata-{threads}t"), name);
        {
            let (x, y) = batch(&[100, 784]);
            group.throughput(Throughput::Elements(100));
            let mut t = relu_mlp_trainer(0.1, 0, 1, 100).unwrap();
            group.bench_function(id("mlp_relu_ce_b100"), |b| {
                b.iter_custom(|n| timed(threads, n, &mut t.model, &mut t.optimizer, &x, &y, false))
            });
            let mut t = dlt_nn_trainer(&NN_EXPERIMENTS[0], 0, 1, 100).unwrap();
            group.bench_function(id("dlt_nn_tanh_sse_b100"), |b| {
                b.iter_custom(|n| timed(threads, n, &mut t.model, &mut t.optimizer, &x, &y, true))
            });

            let (x, y) = batch(&[50, 1, 28, 28]);
            group.throughput(Throughput::Elements(50));
            let mut t = dlt_cnn_trainer(DLT_CNN_LR, 0, 1, 50).unwrap();
            group.bench_function(id("dlt_cnn_b50"), |b| {
                b.iter_custom(|n| timed(threads, n, &mut t.model, &mut t.optimizer, &x, &y, true))
            });

            let (x, y) = batch(&[64, 1, 28, 28]);
            group.throughput(Throughput::Elements(64));
            let mut t = lenet5_trainer(LeNetStyle::Modern, 0, 1, 64).unwrap();
            group.bench_function(id("lenet5_adam_b64"), |b| {
                b.iter_custom(|n| timed(threads, n, &mut t.model, &mut t.optimizer, &x, &y, false))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, training_steps);
criterion_main!(benches);
