//! One full training step (forward, cross-entropy, backward, SGD update) of a 784-100-10 ReLU
//! MLP at batch 1, 16 and 100, on one thread — the overhead benchmark (PyTorch eager on the
//! reference machine: 931, 1,203 and 1,533 µs).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::{CrossEntropyOptions, Param, Var};
use strata_tensor::Tensor;

struct Mlp {
    w1: Param,
    b1: Param,
    w2: Param,
    b2: Param,
}

impl Mlp {
    fn new(rng: &mut StdRng) -> Self {
        let bound1 = 1.0 / 784f32.sqrt();
        let bound2 = 1.0 / 100f32.sqrt();
        Mlp {
            w1: Param::new(Tensor::rand_uniform(&[100, 784], -bound1, bound1, rng)),
            b1: Param::new(Tensor::rand_uniform(&[100], -bound1, bound1, rng)),
            w2: Param::new(Tensor::rand_uniform(&[10, 100], -bound2, bound2, rng)),
            b2: Param::new(Tensor::rand_uniform(&[10], -bound2, bound2, rng)),
        }
    }

    fn step(&mut self, x: &Tensor, targets: &[usize], lr: f32) -> f32 {
        let x = Var::constant(x.clone());
        let h = x.linear(&self.w1.var(), Some(&self.b1.var())).relu();
        let loss = h
            .linear(&self.w2.var(), Some(&self.b2.var()))
            .cross_entropy(targets, &CrossEntropyOptions::default());
        let value = loss.item();
        let grads = loss.backward();
        drop(loss);
        for p in [&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2] {
            let g = grads
                .get(p)
                .expect("every parameter has a gradient")
                .clone();
            p.value_mut().axpy_(-lr, &g);
        }
        value
    }
}

fn mlp_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_step");
    for batch in [1usize, 16, 100] {
        let mut rng = StdRng::seed_from_u64(0);
        let mut model = Mlp::new(&mut rng);
        let x = Tensor::rand_uniform(&[batch, 784], 0.0, 1.0, &mut rng);
        let targets: Vec<usize> = (0..batch).map(|i| i % 10).collect();
        group.bench_with_input(BenchmarkId::new("strata-1t", batch), &batch, |b, _| {
            strata_tensor::threads::with_threads(1, || b.iter(|| model.step(&x, &targets, 0.01)))
        });
    }
    group.finish();
}

criterion_group!(benches, mlp_step);
criterion_main!(benches);
