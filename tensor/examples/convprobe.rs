use rand::SeedableRng;
use std::time::Instant;
use strata_tensor::Tensor;
use strata_tensor::conv::*;

fn time<R>(f: impl Fn() -> R) -> f64 {
    f();
    let t = Instant::now();
    for _ in 0..5 {
        std::hint::black_box(f());
    }
    t.elapsed().as_secs_f64() / 5.0 * 1e3
}

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let p = Conv2dParams {
        stride: (2, 2),
        padding: (1, 1),
        ..Default::default()
    };
    // (name, x shape, w shape): D conv1, D conv2, G convT1 (as conv: x=[64,64,14,14] -> [64,128,7,7] transposed), G convT2.
    let cases: [(&str, [usize; 4], [usize; 4]); 3] = [
        ("D1 1->64 28->14", [64, 1, 28, 28], [64, 1, 4, 4]),
        ("D2 64->128 14->7", [64, 64, 14, 14], [128, 64, 4, 4]),
        ("G2 (D1 shape) 64->1", [64, 1, 28, 28], [64, 1, 4, 4]),
    ];
    for (name, xs, ws) in cases {
        let x = Tensor::<f32>::rand_normal(&xs, 0.0, 1.0, &mut rng);
        let w = Tensor::<f32>::rand_normal(&ws, 0.0, 0.1, &mut rng);
        for alg in [
            ConvAlgorithm::Auto,
            ConvAlgorithm::Direct,
            ConvAlgorithm::Gemm,
        ] {
            with_conv_algorithm(alg, || {
                let y = conv2d(&x, &w, None, &p);
                let f = time(|| conv2d(&x, &w, None, &p));
                let bi = time(|| conv2d_backward_input(&y, &w, &xs, &p));
                let bw = time(|| conv2d_backward_weight(&y, &x, &ws, &p));
                println!(
                    "{name:24} {alg:?}: fwd {f:.2} ms, bwd_in {bi:.2} ms, bwd_w {bw:.2} ms  plan {:?}",
                    conv2d_plan::<f32>(&xs, &ws, &p)
                );
            });
        }
    }
}
