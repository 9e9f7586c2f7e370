//! Forward + backward time of `Linear` and `Conv2d` layers at LeNet-5 sizes (f32).
//!
//! Each iteration runs the layer's forward pass and `backward()` of `y.sum()`, so it measures
//! the forward GEMM/convolution plus the weight, bias and (where the layer is not the first of
//! the network) input gradients:
//!
//! - `linear_fwd_bwd/b100_784x100`: `[100, 784] → 100` (an MNIST MLP's first layer; constant input);
//! - `linear_fwd_bwd/b64_400x120`: LeNet-5's F5, `[64, 400] → 120` (input gradient too);
//! - `linear_fwd_bwd/b64_120x84`: LeNet-5's F6, `[64, 120] → 84` (input gradient too);
//! - `conv2d_fwd_bwd/b64_c1_1x28x28_6@5x5_pad2`: LeNet-5's C1 (constant input);
//! - `conv2d_fwd_bwd/b64_c3_6x14x14_16@5x5`: LeNet-5's C3 (input gradient too).
//!
//! Run with `cargo bench -p strata-layers --bench layers` (criterion reports the median and
//! its confidence interval; `cargo xtask bench` collects them into a report).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::Var;
use strata_layers::{Conv2d, Linear, Module, manual_seed};
use strata_tensor::Tensor;

/// A `U(−1, 1)` input of `shape`: a differentiable leaf when `needs_grad` (a hidden layer's
/// input), else a constant (the network's input data).
fn input(shape: &[usize], needs_grad: bool) -> Var<f32> {
    let mut rng = StdRng::seed_from_u64(42);
    let x = Tensor::rand_uniform(shape, -1.0, 1.0, &mut rng);
    if needs_grad {
        Var::leaf(x)
    } else {
        Var::constant(x)
    }
}

/// Forward + `backward()` of `y.sum()`; the gradients are returned so none of the work is
/// optimised away.
fn step<M: Module<f32>>(layer: &mut M, x: &Var<f32>) -> strata_autograd::Grads<f32> {
    layer.forward(black_box(x)).sum().backward()
}

fn layers(c: &mut Criterion) {
    manual_seed(0);
    let mut group = c.benchmark_group("layers");

    for (id, batch, inp, out, needs_grad) in [
        ("b100_784x100", 100, 784, 100, false),
        ("b64_400x120", 64, 400, 120, true),
        ("b64_120x84", 64, 120, 84, true),
    ] {
        let mut layer = Linear::<f32>::new(inp, out);
        let x = input(&[batch, inp], needs_grad);
        group.bench_function(BenchmarkId::new("linear_fwd_bwd", id), |b| {
            b.iter(|| step(&mut layer, &x))
        });
    }

    let mut c1 = Conv2d::<f32>::new(1, 6, (5, 5)).with_padding((2, 2));
    let x1 = input(&[64, 1, 28, 28], false);
    group.bench_function(
        BenchmarkId::new("conv2d_fwd_bwd", "b64_c1_1x28x28_6@5x5_pad2"),
        |b| b.iter(|| step(&mut c1, &x1)),
    );

    let mut c3 = Conv2d::<f32>::new(6, 16, (5, 5));
    let x3 = input(&[64, 6, 14, 14], true);
    group.bench_function(
        BenchmarkId::new("conv2d_fwd_bwd", "b64_c3_6x14x14_16@5x5"),
        |b| b.iter(|| step(&mut c3, &x3)),
    );

    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = layers
}
criterion_main!(benches);
