//! One Transformer encoder layer (d_model 128, 4 heads, feed-forward 512, post-norm, ReLU,
//! dropout 0) on a batch of 32 sequences of 64 tokens: forward and backward (gradients of
//! the input and every parameter), on 1 and 2 threads. Also the attention block alone
//! (`softmax(Q·Kᵀ/√d_k + M_causal)·V` with projections).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use strata_autograd::Var;
use strata_layers::attention::{AttentionMask, MultiHeadAttention};
use strata_layers::transformer::{TransformerConfig, TransformerEncoderLayer};
use strata_layers::{Module, manual_seed};
use strata_tensor::Tensor;

const BATCH: usize = 32;
const SEQ: usize = 64;
const D_MODEL: usize = 128;
const HEADS: usize = 4;

fn input() -> Tensor {
    let n = BATCH * SEQ * D_MODEL;
    Tensor::from_vec(
        (0..n).map(|i| ((i as f32) * 0.618).sin()).collect(),
        &[BATCH, SEQ, D_MODEL],
    )
}

fn transformer(c: &mut Criterion) {
    let mut group = c.benchmark_group("transformer");
    group.sample_size(20);
    group.throughput(Throughput::Elements((BATCH * SEQ) as u64));
    let x = input();
    let seed = Tensor::from_vec(
        (0..BATCH * SEQ * D_MODEL)
            .map(|i| 1.0 + 0.5 * ((i as f32) * 0.37).cos())
            .collect(),
        &[BATCH, SEQ, D_MODEL],
    );
    for threads in [1usize, 2] {
        manual_seed(0);
        let mut layer = TransformerEncoderLayer::<f32>::new(
            TransformerConfig::new(D_MODEL, HEADS)
                .with_dim_feedforward(4 * D_MODEL)
                .with_dropout(0.0),
        );
        group.bench_function(
            BenchmarkId::new(format!("strata-{threads}t"), "encoder_layer_fwd_bwd"),
            |b| {
                b.iter_custom(|iters| {
                    strata_tensor::threads::with_threads(threads, || {
                        let start = std::time::Instant::now();
                        for _ in 0..iters {
                            let xv = Var::leaf(x.clone());
                            let y = layer.forward(&xv);
                            let grads = y.backward_with(seed.clone());
                            std::hint::black_box(grads);
                        }
                        start.elapsed()
                    })
                })
            },
        );
        let mut mha = MultiHeadAttention::<f32>::new(D_MODEL, HEADS);
        group.bench_function(
            BenchmarkId::new(format!("strata-{threads}t"), "causal_attention_fwd_bwd"),
            |b| {
                b.iter_custom(|iters| {
                    strata_tensor::threads::with_threads(threads, || {
                        let start = std::time::Instant::now();
                        for _ in 0..iters {
                            let xv = Var::leaf(x.clone());
                            let (y, _) = mha.self_attend(&xv, &AttentionMask::causal());
                            let grads = y.backward_with(seed.clone());
                            std::hint::black_box(grads);
                        }
                        start.elapsed()
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, transformer);
criterion_main!(benches);
