//! GAN and VAE: one alternating GAN step through the training loop against PyTorch, gradient
//! checks of the ELBO's parts, the VAE's ELBO improving every epoch on the bundled sample, and
//! a trained DCGAN's Fréchet distance far below an untrained one's.

use std::sync::Arc;

use strata_autograd::{Var, assert_gradcheck};
use strata_datasets::ArrayDataset;
use strata_layers::{Activation, Linear, Module, Sequential, child_seed};
use strata_models::data::{load_mnist, scaled, signed_unit};
use strata_models::gan::{GanStep, dcgan_discriminator, dcgan_generator};
use strata_models::sample_quality::SampleScorer;
use strata_models::vae::{gaussian_kl, mlp_decoder, mlp_encoder, negative_elbo, reparameterize};
use strata_models::{Gan, Trainer, TrainerConfig, Vae, VaeStep};
use strata_optim::AdamConfig;
use strata_tensor::Tensor;

/// PyTorch 2.15's results for `alternating_gan_steps_match_pytorch` (float32).
const D_LOSS: f64 = 1.2935714721679688;
const G_LOSS: f64 = 0.7255935668945312;
const CODES: [[f32; 4]; 3] = [
    [0.5832643, -1.0138074, -0.56588256, -0.42075777],
    [-0.12221635, 0.16106816, 0.057887897, -0.07995611],
    [-0.10900561, -0.46098503, -0.5332314, -0.38856497],
];
#[allow(clippy::excessive_precision)] // PyTorch's values as printed
const EXPECTED: [(&str, &[f32]); 6] = [
    (
        "generator.0.weight",
        &[
            0.76655656,
            -0.06433170,
            -0.16333571,
            0.67634553,
            0.06952462,
            -0.65042055,
        ],
    ),
    ("generator.0.bias", &[0.52000612, -0.41293821, -0.18184154]),
    (
        "discriminator.0.weight",
        &[
            0.31101209,
            -0.30953717,
            0.80370688,
            -0.10486235,
            -0.09876852,
            0.60030973,
            0.23597646,
            -0.63893771,
            0.04104833,
            -0.16962780,
            -0.33219618,
            0.51286066,
        ],
    ),
    (
        "discriminator.0.bias",
        &[-0.06227855, 0.29969835, 0.07792412, 0.00613122],
    ),
    (
        "discriminator.2.weight",
        &[0.66861677, 0.24366891, -0.26243144, 0.39587474],
    ),
    ("discriminator.2.bias", &[-0.08730780]),
];

/// The tiny GAN of the PyTorch check: G = tanh(Linear 2→3), D = Linear 4→1 ∘ LeakyReLU 0.2 ∘
/// Linear 3→4, weights `0.1·((7i + 3) mod 11 − 5)` in parameter order, biases likewise.
fn tiny_gan() -> Gan<Sequential, Sequential> {
    let g = Sequential::new()
        .add(Linear::new(2, 3))
        .add(Activation::Tanh);
    let d = Sequential::new()
        .add(Linear::new(3, 4))
        .add(Activation::LeakyRelu(0.2))
        .add(Linear::new(4, 1));
    let mut gan = Gan::new(g, d, 2);
    let mut k = 0usize;
    for (_, p) in gan.params_mut() {
        let values: Vec<f32> = (0..p.numel())
            .map(|_| {
                k += 1;
                0.1 * (((7 * k + 3) % 11) as f32 - 5.0)
            })
            .collect();
        let shape = p.shape().to_vec();
        p.set(Tensor::from_vec(values, &shape));
    }
    gan
}

/// Three alternating steps (one batch of two per epoch, three epochs) with one Adam over both
/// networks equal PyTorch 2.15's two Adams (lr 0.1, betas (0.5, 0.999)) run on the same codes:
/// `D` step on `BCE(D(x), 1) + BCE(D(G(z).detach()), 0)`, then `G` step on `BCE(D(G(z)), 1)`
/// through the updated `D`.
#[test]
fn alternating_gan_steps_match_pytorch() {
    let real = ArrayDataset::classification(
        vec![0.5, -0.25, 1.0, -0.75, 0.3, 0.1],
        vec![3],
        vec![0, 0],
        1,
    );
    let mut config = TrainerConfig::new(3, 2);
    config.seed = 3;
    config.verbose = false;
    let adam = AdamConfig::new(0.1).with_betas(0.5, 0.999).build().unwrap();
    let mut trainer = Trainer::new(tiny_gan(), adam, GanStep::new(), config, "tiny-gan").unwrap();
    // The codes of each epoch: the loop reseeds the model with
    // `child_seed(child_seed(seed, epoch), 1)`; PyTorch was given these.
    let codes: Vec<Vec<f32>> = (0..3)
        .map(|epoch| {
            let mut probe = tiny_gan();
            probe.reseed(child_seed(child_seed(3, epoch), 1));
            probe.noise(2).to_vec()
        })
        .collect();
    for (got, want) in codes.iter().zip(CODES) {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "the codes changed: {codes:?}");
        }
    }
    let history = trainer.fit(Arc::new(real), None).unwrap().clone();
    for (name, p) in trainer.model.params() {
        let want = EXPECTED
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name}"))
            .1;
        for (g, w) in p.value().to_vec().iter().zip(want) {
            assert!(
                (g - w).abs() < 1e-5,
                "{name}: {:?} vs PyTorch {want:?}",
                p.value().to_vec()
            );
        }
    }
    let last = history.iter().last().unwrap();
    assert!(
        (last.metrics["d_loss"] - D_LOSS).abs() < 1e-5,
        "d_loss {} vs {D_LOSS}",
        last.metrics["d_loss"]
    );
    assert!(
        (last.metrics["g_loss"] - G_LOSS).abs() < 1e-5,
        "g_loss {} vs {G_LOSS}",
        last.metrics["g_loss"]
    );
}

#[test]
fn elbo_parts_pass_gradient_checks() {
    let mu = Tensor::from_vec(vec![0.3, -0.7, 1.1, 0.2, -0.4, 0.9], &[2, 3]);
    let log_var = Tensor::from_vec(vec![-0.5, 0.2, 0.8, -1.2, 0.4, 0.0], &[2, 3]);
    let eps = Tensor::from_vec(vec![1.0, -0.5, 0.25, 0.7, -1.3, 0.1], &[2, 3]);
    let logits = Tensor::from_vec(vec![0.3, -2.0, 1.5, 0.1, 0.7, -0.2, 2.2, -1.1], &[2, 4]);
    let x = Tensor::from_vec(vec![0.0, 1.0, 0.6, 0.2, 1.0, 0.0, 0.9, 0.4], &[2, 4]);
    assert_gradcheck(
        "reparameterize",
        |v| reparameterize(&v[0], &v[1], &eps).sum(),
        &[mu.clone(), log_var.clone()],
        1e-6,
    );
    assert_gradcheck(
        "gaussian_kl",
        |v| gaussian_kl(&v[0], &v[1]),
        &[mu.clone(), log_var.clone()],
        1e-6,
    );
    assert_gradcheck(
        "negative_elbo",
        |v| negative_elbo(&v[0], &Var::constant(x.clone()), &v[1], &v[2]).0,
        &[logits, mu.clone(), log_var.clone()],
        1e-6,
    );
    // KL of N(μ, σ²) to N(0, 1) in closed form, per example: ½ Σ (μ² + σ² − 1 − log σ²).
    let kl = gaussian_kl(&Var::constant(mu.clone()), &Var::constant(log_var.clone())).item();
    let (m, l) = (mu.to_vec(), log_var.to_vec());
    let want: f64 = (0..6)
        .map(|i| 0.5 * (m[i] * m[i] + l[i].exp() - 1.0 - l[i]))
        .sum::<f64>()
        / 2.0;
    assert!((kl - want).abs() < 1e-12, "{kl} vs {want}");
}

/// The MLP VAE (784-400-20) on the bundled sample: the negative ELBO, averaged per epoch,
/// falls every epoch, and the reconstructions beat the mean image.
#[test]
fn vae_elbo_improves_every_epoch() {
    let (data, _) = load_mnist("mnist-sample").unwrap();
    let (train, _) = scaled(&data);
    strata_layers::manual_seed(1);
    let vae = Vae::new(mlp_encoder(400, 20), mlp_decoder(400, 20), 20);
    let mut config = TrainerConfig::new(5, 100);
    config.verbose = false;
    config.seed = 1;
    let adam = AdamConfig::new(1e-3).build().unwrap();
    let mut trainer = Trainer::new(vae, adam, VaeStep, config, "vae-mlp").unwrap();
    let history = trainer.fit(Arc::new(train), None).unwrap().clone();
    let losses: Vec<f64> = history.iter().map(|m| m.train_loss).collect();
    println!("negative ELBO per epoch (nats per image): {losses:?}");
    assert!(
        losses.windows(2).all(|w| w[1] < w[0]),
        "the ELBO must improve every epoch: {losses:?}"
    );
    // 784 pixels of Bernoulli cross-entropy: ≈ 206 nats per image for the mean image alone.
    assert!(losses[4] < 130.0, "after 5 epochs: {}", losses[4]);
    let kl = history.iter().last().unwrap().metrics["kl"];
    assert!(kl > 5.0, "the code must carry information (KL {kl})");
}

/// The DCGAN after a fixed budget (2 epochs on 3000 bundled images, batch 32: 186 alternating
/// steps) against the same network
/// untrained: the Fréchet distance of 1000 samples to the test images falls far.
#[test]
fn a_trained_dcgan_is_far_closer_to_the_data_than_an_untrained_one() {
    let (data, _) = load_mnist("mnist-sample").unwrap();
    let (train01, test01) = scaled(&data);
    let cache = std::env::temp_dir().join(format!("strata-scorer-{}.ckpt", std::process::id()));
    let real = Tensor::from_vec(test01.inputs()[..2000 * 784].to_vec(), &[2000, 1, 28, 28]);
    let mut scorer = SampleScorer::load_or_train(&cache, train01, &real, 2, 0).unwrap();
    let (train, _) = signed_unit(&data);
    let (small, _) = train.split_at(3000);
    strata_layers::manual_seed(2);
    let gan = Gan::new(dcgan_generator(100), dcgan_discriminator(), 100);
    let mut config = TrainerConfig::new(2, 32);
    config.verbose = false;
    config.seed = 2;
    let adam = AdamConfig::new(2e-4)
        .with_betas(0.5, 0.999)
        .build()
        .unwrap();
    let mut trainer = Trainer::new(gan, adam, GanStep::new(), config, "dcgan").unwrap();
    let to_unit = |x: Tensor| x.add_scalar(1.0).mul_scalar(0.5);
    let before = scorer.score(&to_unit(trainer.model.sample(1000)));
    trainer.fit(Arc::new(small), None).unwrap();
    let after = scorer.score(&to_unit(trainer.model.sample(1000)));
    println!("untrained: {before:?}\ntrained:   {after:?}");
    assert!(
        after.frechet_distance < 0.5 * before.frechet_distance,
        "Fréchet distance {} after training, {} before",
        after.frechet_distance,
        before.frechet_distance
    );
    // Real test images score near zero against their own statistics' sample.
    let self_score = scorer.score(&Tensor::from_vec(
        test01.inputs()[2000 * 784..4000 * 784].to_vec(),
        &[2000, 1, 28, 28],
    ));
    assert!(
        self_score.frechet_distance < 0.1 * after.frechet_distance.max(1.0),
        "{self_score:?}"
    );
    assert!(
        self_score.confidence > 0.9 && self_score.class_entropy > 2.2,
        "{self_score:?}"
    );
    std::fs::remove_file(cache).ok();
}
