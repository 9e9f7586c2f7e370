//! One optimizer step over the parameters of the 784-100-10 MLP (weights [100, 784] and
//! [10, 100], biases [100] and [10]: 79,510 f32 values), for SGD with momentum and Adam.
//! Throughput is in parameters per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strata_autograd::{Grads, Param};
use strata_optim::{AdamConfig, Optimizer, SgdConfig};
use strata_tensor::Tensor;

const SHAPES: [&[usize]; 4] = [&[100, 784], &[100], &[10, 100], &[10]];

/// Deterministic values in (−scale, scale), different per tensor.
fn filled(shape: &[usize], seed: usize, scale: f32) -> Tensor<f32> {
    let n: usize = shape.iter().product();
    let data = (0..n)
        .map(|i| scale * ((i * 7919 + seed * 104_729) as f32 * 0.618_034).sin())
        .collect();
    Tensor::from_vec(data, shape)
}

fn mlp() -> (Vec<Param<f32>>, Grads<f32>) {
    let params: Vec<Param<f32>> = SHAPES
        .iter()
        .enumerate()
        .map(|(k, s)| Param::new(filled(s, k, 0.05)))
        .collect();
    let mut grads = Grads::new();
    for (k, p) in params.iter().enumerate() {
        grads.insert(p.id(), filled(p.shape(), k + 10, 1e-3));
    }
    (params, grads)
}

fn bench_one(c: &mut Criterion, name: &str, mut opt: Box<dyn Optimizer<f32>>) {
    let (mut params, grads) = mlp();
    let n: usize = params.iter().map(Param::numel).sum();
    assert_eq!(n, 79_510);
    let mut group = c.benchmark_group("optim_step");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut refs: Vec<&mut Param<f32>> = params.iter_mut().collect();
            opt.step(&mut refs, black_box(&grads));
        })
    });
    group.finish();
}

fn optim_step(c: &mut Criterion) {
    bench_one(
        c,
        "sgd_momentum",
        Box::new(SgdConfig::new(0.01).with_momentum(0.9).build().unwrap()),
    );
    bench_one(c, "adam", Box::new(AdamConfig::new(1e-3).build().unwrap()));
}

criterion_group!(benches, optim_step);
criterion_main!(benches);
