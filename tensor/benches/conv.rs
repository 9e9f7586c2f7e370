//! Throughput of the convolution and pooling kernels on the layers of Strata's CNNs.
//!
//! Group `conv2d`: ids `<kernel>/<layer>` with kernel `fwd`, `bwd_input` or `bwd_weight` and
//! layer one of
//! - `lenet_c1_b64`: x `[64, 1, 28, 28]`, padding 2, w `[6, 1, 5, 5]` (LeNet-5 C1);
//! - `lenet_c3_b64`: x `[64, 6, 14, 14]`, w `[16, 6, 5, 5]` (LeNet-5 C3);
//! - `dlt_c1_b50`: x `[50, 1, 28, 28]`, w `[6, 1, 5, 5]` (DeepLearnToolbox CNN, layer 1);
//! - `dlt_c2_b50`: x `[50, 6, 12, 12]`, w `[12, 6, 5, 5]` (DeepLearnToolbox CNN, layer 2);
//! - `ae_enc1_b64`, `ae_enc2_b64`: x `[64, 1, 28, 28]` → w `[16, 1, 3, 3]` and x
//!   `[64, 16, 14, 14]` → w `[32, 16, 3, 3]`, stride 2, padding 1 (an MNIST convolutional
//!   autoencoder's encoder; its decoder's transposed convolutions are these kernels swapped).
//! - `dcgan_d1_b64`, `dcgan_d2_b64`: x `[64, 1, 28, 28]` → w `[64, 1, 4, 4]` and x
//!   `[64, 64, 14, 14]` → w `[128, 64, 4, 4]`, stride 2, padding 1 (the DCGAN discriminator;
//!   the generator's transposed convolutions are these kernels swapped).
//!
//! Throughput is `Elements(2·N·O·OH·OW·(C/groups)·kh·kw)`, the floating-point operations of
//! the convolution (for Winograd too, which multiplies less), so criterion's elements per
//! second read as FLOP/s of the direct product. The group runs the default algorithm choice
//! (Winograd for `dcgan_d2_b64`, the direct kernels on AVX2/AVX-512 for the other layers);
//! group `conv2d_direct` runs the DCGAN layers on the direct kernels, group `conv2d_im2col`
//! every layer through im2col + GEMM, for comparison.
//!
//! Group `pool`: `max_fwd`, `max_bwd`, `avg_fwd`, `avg_bwd` for 2×2 stride-2 pooling of the C1
//! outputs (`lenet_b64`: `[64, 6, 28, 28]`; `dlt_b50`: `[50, 6, 24, 24]`), throughput in input
//! elements.
//!
//! Kernels run on the global thread pool (`STRATA_NUM_THREADS`, default every core). Run e.g.
//! `cargo bench -p strata-tensor --bench conv`, or `-- conv2d/fwd` to filter.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_tensor::Tensor;
use strata_tensor::conv::{
    Conv2dParams, ConvAlgorithm, conv2d, conv2d_backward_input, conv2d_backward_weight,
    with_conv_algorithm,
};
use strata_tensor::pool::{avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward};

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
}

fn uniform(shape: &[usize], seed: u64) -> Tensor<f32> {
    Tensor::rand_uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

/// `(id, x shape, w shape, padding, stride)`.
type Layer = (&'static str, [usize; 4], [usize; 4], usize, usize);

const LAYERS: [Layer; 8] = [
    ("lenet_c1_b64", [64, 1, 28, 28], [6, 1, 5, 5], 2, 1),
    ("lenet_c3_b64", [64, 6, 14, 14], [16, 6, 5, 5], 0, 1),
    ("dlt_c1_b50", [50, 1, 28, 28], [6, 1, 5, 5], 0, 1),
    ("dlt_c2_b50", [50, 6, 12, 12], [12, 6, 5, 5], 0, 1),
    ("ae_enc1_b64", [64, 1, 28, 28], [16, 1, 3, 3], 1, 2),
    ("ae_enc2_b64", [64, 16, 14, 14], [32, 16, 3, 3], 1, 2),
    ("dcgan_d1_b64", [64, 1, 28, 28], [64, 1, 4, 4], 1, 2),
    ("dcgan_d2_b64", [64, 64, 14, 14], [128, 64, 4, 4], 1, 2),
];

fn conv(c: &mut Criterion) {
    layers(c, "conv2d", ConvAlgorithm::Auto, &LAYERS);
    layers(c, "conv2d_direct", ConvAlgorithm::Direct, &LAYERS[6..]);
    layers(c, "conv2d_im2col", ConvAlgorithm::Gemm, &LAYERS);
}

/// The three kernels of each of `layers` in group `name`, computed by `algorithm`.
fn layers(c: &mut Criterion, name: &str, algorithm: ConvAlgorithm, layers: &[Layer]) {
    let mut group = c.benchmark_group(name);
    for (i, &(layer, xs, ws, pad, stride)) in layers.iter().enumerate() {
        let params = Conv2dParams::default()
            .with_padding((pad, pad))
            .with_stride((stride, stride));
        let x = uniform(&xs, 10 + i as u64);
        let w = uniform(&ws, 20 + i as u64);
        let b = uniform(&[ws[0]], 30 + i as u64);
        let y = conv2d(&x, &w, Some(&b), &params);
        let dy = uniform(y.shape(), 40 + i as u64);
        let flops = 2 * y.numel() * ws[1] * ws[2] * ws[3];
        group.throughput(Throughput::Elements(flops as u64));
        // The algorithm is read by the thread calling the kernel: criterion's.
        group.bench_function(BenchmarkId::new("fwd", layer), |bench| {
            with_conv_algorithm(algorithm, || {
                bench.iter(|| conv2d(black_box(&x), black_box(&w), Some(black_box(&b)), &params))
            })
        });
        group.bench_function(BenchmarkId::new("bwd_input", layer), |bench| {
            with_conv_algorithm(algorithm, || {
                bench.iter(|| conv2d_backward_input(black_box(&dy), black_box(&w), &xs, &params))
            })
        });
        group.bench_function(BenchmarkId::new("bwd_weight", layer), |bench| {
            with_conv_algorithm(algorithm, || {
                bench.iter(|| conv2d_backward_weight(black_box(&dy), black_box(&x), &ws, &params))
            })
        });
    }
    group.finish();
}

fn pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool");
    for (name, shape) in [("lenet_b64", [64, 6, 28, 28]), ("dlt_b50", [50, 6, 24, 24])] {
        let x = uniform(&shape, 1);
        let (y, idx) = max_pool2d(&x, (2, 2), (2, 2), (0, 0), (1, 1));
        let dy = uniform(y.shape(), 2);
        group.throughput(Throughput::Elements(x.numel() as u64));
        group.bench_function(BenchmarkId::new("max_fwd", name), |bench| {
            bench.iter(|| max_pool2d(black_box(&x), (2, 2), (2, 2), (0, 0), (1, 1)))
        });
        group.bench_function(BenchmarkId::new("max_bwd", name), |bench| {
            bench.iter(|| max_pool2d_backward(black_box(&dy), black_box(&idx), &shape))
        });
        group.bench_function(BenchmarkId::new("avg_fwd", name), |bench| {
            bench.iter(|| avg_pool2d(black_box(&x), (2, 2), (2, 2), (0, 0)))
        });
        group.bench_function(BenchmarkId::new("avg_bwd", name), |bench| {
            bench.iter(|| avg_pool2d_backward(black_box(&dy), &shape, (2, 2), (2, 2), (0, 0)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = conv, pool
}
criterion_main!(benches);
