//! Autoencoders: noise, penalties (values, gradients, effect), stacking and fine-tuning, the
//! convolutional autoencoder, and the DeepLearnToolbox `test_example_SAE` accuracy bar on the
//! bundled MNIST sample.

use std::sync::Arc;

use strata_autograd::{Var, assert_gradcheck, no_grad};
use strata_datasets::{ArrayDataset, Dataset, Mnist};
use strata_layers::loss::{contractive_penalty, kl_sparsity_penalty};
use strata_layers::{Activation, Module};
use strata_models::autoencoder::{AutoEncoder, AutoEncoderConfig, Noise, ReconstructionLoss};
use strata_models::conv_autoencoder::{
    ConvAutoEncoder, ConvAutoEncoderConfig, mean_image_baseline,
};
use strata_models::data::scaled;
use strata_models::layerwise::Layerwise;
use strata_models::reconstruction::Reconstruction;
use strata_models::stacked_autoencoder::{DltSae, FineTune, StackedAutoEncoder};
use strata_models::{MlpInit, MlpOutput, Objective, Trainer, TrainerConfig};
use strata_optim::{AdamConfig, SgdConfig};
use strata_tensor::Tensor;

fn sample() -> (ArrayDataset, ArrayDataset) {
    scaled(&Mnist::bundled().expect("the bundled MNIST sample loads"))
}

/// A quiet trainer configuration.
fn quiet(epochs: usize, batch_size: usize) -> TrainerConfig {
    TrainerConfig::new(epochs, batch_size).with_verbose(false)
}

fn first(data: &ArrayDataset, n: usize) -> ArrayDataset {
    data.select(&(0..n).collect::<Vec<_>>())
}

fn inputs(data: &ArrayDataset) -> Tensor {
    let f = data.feature_len();
    Tensor::from_vec(data.inputs().to_vec(), &[data.len(), f])
}

fn lcg(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0 * scale
        })
        .collect()
}

#[test]
fn masking_noise_zeroes_the_stated_fraction() {
    for fraction in [0.1, 0.5, 0.75] {
        let mut ae = AutoEncoder::<f32>::new(
            AutoEncoderConfig::new(784, 10)
                .with_noise(Noise::Masking(fraction))
                .with_seed(3),
        );
        let x = Tensor::<f32>::ones(&[200, 784]);
        let y = ae.corrupt(&x);
        let zeros = y.to_vec().iter().filter(|&&v| v == 0.0).count() as f64 / y.numel() as f64;
        println!("masking {fraction}: zeroed {zeros:.4}");
        assert!(
            (zeros - fraction).abs() < 0.01,
            "masking {fraction}: zeroed {zeros}"
        );
        assert!(
            y.to_vec().iter().all(|&v| v == 0.0 || v == 1.0),
            "masking keeps the survivors unchanged"
        );
    }
}

#[test]
fn gaussian_noise_has_the_stated_spread() {
    let mut ae = AutoEncoder::<f32>::new(
        AutoEncoderConfig::new(100, 10)
            .with_noise(Noise::Gaussian(0.3))
            .with_seed(5),
    );
    let x = Tensor::<f32>::zeros(&[500, 100]);
    let y = ae.corrupt(&x).to_vec();
    let n = y.len() as f64;
    let mean = y.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (y.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(
        mean.abs() < 0.01 && (std - 0.3).abs() < 0.01,
        "mean {mean}, std {std}"
    );
}

#[test]
fn noise_only_in_training_mode() {
    let mut ae = AutoEncoder::<f64>::new(
        AutoEncoderConfig::new(6, 3)
            .with_noise(Noise::Masking(0.5))
            .with_loss(ReconstructionLoss::HalfSse),
    );
    let x = Var::constant(Tensor::from_vec(lcg(1, 24, 1.0), &[4, 6]));
    ae.eval();
    let a = ae.loss(&x).item();
    let b = ae.loss(&x).item();
    assert_eq!(a, b, "evaluation mode is deterministic");
    ae.train();
    let c = ae.loss(&x).item();
    assert_ne!(a, c, "training mode corrupts the input");
}

#[test]
fn contractive_penalty_matches_the_explicit_jacobian() {
    // ‖∂h/∂x‖²_F with J = diag(f′)·W, formed explicitly per example.
    let (n, d, hdim) = (3, 5, 4);
    let x = Tensor::<f64>::from_vec(lcg(2, n * d, 1.0), &[n, d]);
    let w = Tensor::<f64>::from_vec(lcg(3, hdim * d, 1.0), &[hdim, d]);
    let b = Tensor::<f64>::from_vec(lcg(4, hdim, 0.5), &[hdim]);
    for act in [Activation::Sigmoid, Activation::Tanh] {
        let h = act.apply(
            &Var::constant(x.clone())
                .linear(&Var::constant(w.clone()), Some(&Var::constant(b.clone()))),
        );
        let penalty = contractive_penalty(&h, &Var::constant(w.clone()), act).item();
        let hv = h.value().to_vec();
        let wv = w.to_vec();
        let mut explicit = 0.0;
        for e in 0..n {
            for j in 0..hdim {
                let hj = hv[e * hdim + j];
                let slope = if act == Activation::Sigmoid {
                    hj * (1.0 - hj)
                } else {
                    1.0 - hj * hj
                };
                for i in 0..d {
                    explicit += (slope * wv[j * d + i]).powi(2);
                }
            }
        }
        explicit /= n as f64;
        assert!(
            (penalty - explicit).abs() < 1e-12,
            "{act:?}: closed form {penalty} vs explicit {explicit}"
        );
    }
}

#[test]
fn contractive_penalty_gradcheck_f64() {
    let (n, d, hdim) = (3, 5, 4);
    let x = Tensor::<f64>::from_vec(lcg(5, n * d, 1.0), &[n, d]);
    let w = Tensor::<f64>::from_vec(lcg(6, hdim * d, 1.0), &[hdim, d]);
    let b = Tensor::<f64>::from_vec(lcg(7, hdim, 0.5), &[hdim]);
    for act in [Activation::Sigmoid, Activation::Tanh] {
        assert_gradcheck(
            &format!("contractive_penalty {act:?}"),
            |v| contractive_penalty(&act.apply(&v[0].linear(&v[1], Some(&v[2]))), &v[1], act),
            &[x.clone(), w.clone(), b.clone()],
            1e-6,
        );
    }
    // The whole loss of a contractive, sparse autoencoder with tied weights.
    let ae = AutoEncoder::<f64>::new(
        AutoEncoderConfig::new(d, hdim)
            .with_tied(true)
            .with_sparsity(0.1, 0.5)
            .with_contractive(0.3)
            .with_loss(ReconstructionLoss::CrossEntropy),
    );
    let target = Tensor::<f64>::from_vec(
        lcg(8, n * d, 0.5).iter().map(|v| v + 0.5).collect(),
        &[n, d],
    );
    let c = ae.decoder_bias.value().clone();
    assert_gradcheck(
        "tied contractive sparse autoencoder loss",
        |v| {
            let h = v[0].linear(&v[1], Some(&v[2])).sigmoid();
            let logits = h.linear(&v[1].t(), Some(&v[3]));
            let rec = logits
                .bce_with_logits(
                    &Var::constant(target.clone()),
                    strata_autograd::Reduction::Sum,
                )
                .mul_scalar(1.0 / n as f64);
            rec.add(&kl_sparsity_penalty(&h, 0.1).mul_scalar(0.5))
                .add(&contractive_penalty(&h, &v[1], Activation::Sigmoid).mul_scalar(0.3))
        },
        &[target.clone(), w.clone(), b.clone(), c],
        1e-6,
    );
}

#[test]
fn autoencoder_loss_parts_add_up_and_match_the_formulas() {
    let (n, d, hdim) = (4, 6, 3);
    let mut ae = AutoEncoder::<f64>::new(
        AutoEncoderConfig::new(d, hdim)
            .with_sparsity(0.2, 2.0)
            .with_contractive(0.5)
            .with_loss(ReconstructionLoss::HalfSse),
    );
    ae.eval();
    let x = Var::constant(Tensor::from_vec(
        lcg(9, n * d, 0.5).iter().map(|v| v + 0.5).collect(),
        &[n, d],
    ));
    let parts = ae.loss_parts(&x);
    let (rec, kl, cae) = (
        parts.reconstruction.item(),
        parts.sparsity.unwrap().item(),
        parts.contractive.unwrap().item(),
    );
    assert!((parts.total.item() - (rec + 2.0 * kl + 0.5 * cae)).abs() < 1e-12);
    // Half-SSE by hand.
    let y = ae.forward(&x).into_value().to_vec();
    let hand = y
        .iter()
        .zip(x.value().to_vec())
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / 2.0
        / n as f64;
    assert!((rec - hand).abs() < 1e-12, "half-SSE {rec} vs {hand}");
    // KL by hand.
    let rho_hat = ae.mean_activation(x.value()).to_vec();
    let kl_hand: f64 = rho_hat
        .iter()
        .map(|&q| 0.2 * (0.2 / q).ln() + 0.8 * (0.8 / (1.0 - q)).ln())
        .sum();
    assert!((kl - kl_hand).abs() < 1e-12, "KL {kl} vs {kl_hand}");
    assert_gradcheck(
        "kl_sparsity_penalty",
        |v| kl_sparsity_penalty(&v[0].sigmoid(), 0.2),
        &[Tensor::from_vec(lcg(10, 12, 2.0), &[4, 3])],
        1e-6,
    );
}

#[test]
fn tied_autoencoder_shares_the_encoder_weight() {
    let mut ae = AutoEncoder::<f32>::new(AutoEncoderConfig::new(784, 32).with_tied(true));
    let names: Vec<String> = ae.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["encoder.weight", "encoder.bias", "decoder.bias"]);
    let x = Tensor::<f32>::zeros(&[5, 1, 28, 28]);
    assert_eq!(ae.predict(&x).shape(), &[5, 784]);
    let untied = AutoEncoder::<f32>::new(AutoEncoderConfig::new(784, 32));
    assert_eq!(untied.num_params(), 784 * 32 + 32 + 784 * 32 + 784);
}

#[test]
fn sparsity_penalty_moves_mean_activation_toward_rho() {
    let (train, _) = sample();
    let data = Arc::new(first(&train, 2000));
    let x = inputs(&data);
    let rho = 0.05;
    let mean_activation = |sparse: bool| {
        strata_layers::manual_seed(1);
        let mut config = AutoEncoderConfig::new(784, 64).with_seed(1);
        if sparse {
            config = config.with_sparsity(rho, 3.0);
        }
        let mut ae = AutoEncoder::new(config);
        let start = ae.mean_activation(&x).mean() as f64;
        let opt = AdamConfig::new(3e-3).build().unwrap();
        let uc = quiet(4, 50).with_seed(1).with_flatten_inputs(true);
        Trainer::new(&mut ae, opt, Reconstruction, uc, "ae")
            .unwrap()
            .fit(data.clone(), None)
            .unwrap();
        (
            start,
            ae.mean_activation(&x).mean() as f64,
            ae.reconstruction_error(&x),
        )
    };
    let (start, plain, plain_err) = mean_activation(false);
    let (_, sparse, sparse_err) = mean_activation(true);
    println!(
        "mean hidden activation: initial {start:.4}, plain {plain:.4} (mse {plain_err:.4}), sparse ρ = {rho}: {sparse:.4} (mse {sparse_err:.4})"
    );
    assert!(
        (sparse - rho).abs() < 0.5 * (plain - rho).abs(),
        "sparse {sparse} is not much nearer ρ = {rho} than plain {plain}"
    );
    assert!(
        (sparse - rho).abs() < 0.03,
        "sparse mean activation {sparse} vs ρ = {rho}"
    );
}

#[test]
fn denoising_autoencoder_learns_to_reconstruct() {
    let (train, test) = sample();
    let data = Arc::new(first(&train, 2000));
    let x_test = inputs(&first(&test, 1000));
    let sae = DltSae::default();
    let ae = sae.autoencoder(784, 2);
    let before = ae.reconstruction_error(&x_test);
    let mut pretrainer = sae.pretrain_trainer(ae, 2, 3).unwrap();
    pretrainer.config_mut().verbose = false;
    let epochs = pretrainer.fit(data, None).unwrap().clone();
    let ae = pretrainer.model;
    let after = ae.reconstruction_error(&x_test);
    let baseline = mean_image_baseline(&inputs(&train), &x_test);
    println!(
        "denoising AE: mse {before:.4} → {after:.4} (mean image {baseline:.4}); losses {:?}",
        epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>()
    );
    assert!(epochs.last().unwrap().train_loss < epochs.as_slice()[0].train_loss);
    assert!(
        after < baseline,
        "mse {after} vs mean-image baseline {baseline}"
    );
}

#[test]
fn stacked_autoencoder_pretrains_layerwise_and_fine_tunes() {
    let (train, test) = sample();
    let data = Arc::new(first(&train, 3000));
    let test = first(&test, 2000);
    strata_layers::manual_seed(4);
    let template = AutoEncoderConfig::new(1, 1)
        .with_noise(Noise::Masking(0.3))
        .with_loss(ReconstructionLoss::CrossEntropy)
        .with_init(MlpInit::DltSigmoid)
        .with_seed(4);
    let mut stack = StackedAutoEncoder::new(&[784, 100, 50], &template);
    assert_eq!(stack.sizes(), [784, 100, 50]);
    let history = Trainer::new(
        &mut stack,
        SgdConfig::new(0.1).with_momentum(0.5).build().unwrap(),
        Layerwise::new(Reconstruction),
        quiet(3, 50).with_seed(4).with_flatten_inputs(true),
        "sae",
    )
    .unwrap()
    .fit(data.clone(), None)
    .unwrap()
    .clone();
    assert_eq!(history.len(), 6);
    for k in 0..2 {
        let losses: Vec<f64> = history
            .iter()
            .filter(|m| m.stage == Some(k))
            .map(|m| m.train_loss)
            .collect();
        println!("layer {k}: losses {losses:?}");
        assert_eq!(losses.len(), 3);
        assert!(
            losses[2] < losses[0],
            "layer {k} loss did not fall: {losses:?}"
        );
    }
    assert_eq!(stack.encode(&inputs(&first(&test, 3))).shape(), &[3, 50]);
    let codes = stack.encode(&inputs(&first(&test, 500)));
    println!(
        "top codes: mean {:.4}, std over examples {:.4}",
        codes.mean(),
        codes.var_axis(0, 0, false).sqrt().mean()
    );

    for fine_tune in [FineTune::TopOnly, FineTune::Whole] {
        let mlp = stack.to_mlp(10, MlpOutput::Linear, MlpInit::Pytorch, fine_tune);
        let frozen_before = mlp.layers[0].weight.value().clone();
        let top_before = mlp.layers[2].weight.value().clone();
        let mut tc = TrainerConfig::new(3, 50);
        tc.flatten_inputs = true;
        tc.verbose = false;
        let mut trainer = Trainer::new(
            mlp,
            SgdConfig::new(0.1).with_momentum(0.9).build().unwrap(),
            Objective::CrossEntropy,
            tc,
            "sae",
        )
        .unwrap();
        let h = trainer.fit(data.clone(), None).unwrap().clone();
        println!(
            "{fine_tune:?}: (train loss, train error) per epoch {:?}",
            h.iter()
                .map(|m| (m.train_loss, m.train_error))
                .collect::<Vec<_>>()
        );
        let error = trainer.evaluate(&test, 1000).error();
        let lower_moved =
            !trainer.model.layers[0]
                .weight
                .value()
                .allclose(&frozen_before, 0.0, 0.0);
        let top_moved = !trainer.model.layers[2]
            .weight
            .value()
            .allclose(&top_before, 0.0, 0.0);
        println!("{fine_tune:?}: test error {:.2}%", 100.0 * error);
        assert!(top_moved, "{fine_tune:?}: the classifier must train");
        assert_eq!(
            lower_moved,
            fine_tune == FineTune::Whole,
            "{fine_tune:?}: lower layers frozen only for TopOnly"
        );
        let bar = if fine_tune == FineTune::TopOnly {
            0.35
        } else {
            0.2
        };
        assert!(error < bar, "{fine_tune:?}: test error {error}");
    }
}

#[test]
fn conv_autoencoder_beats_the_mean_image_baseline() {
    let (train, test) = sample();
    let data = Arc::new(first(&train, 2000));
    let test = first(&test, 1000);
    let to_images = |d: &ArrayDataset| Tensor::from_vec(d.inputs().to_vec(), &[d.len(), 1, 28, 28]);
    let (x_train, x_test) = (to_images(&train), to_images(&test));
    strata_layers::manual_seed(6);
    let mut cae = ConvAutoEncoder::new(ConvAutoEncoderConfig::default());
    let opt = AdamConfig::new(3e-3).build().unwrap();
    let epochs = Trainer::new(
        &mut cae,
        opt,
        Reconstruction,
        quiet(3, 32).with_seed(6),
        "cae",
    )
    .unwrap()
    .fit(data, None)
    .unwrap()
    .clone();
    let error = cae.reconstruction_error(&x_test);
    let baseline = mean_image_baseline(&x_train, &x_test);
    println!(
        "conv AE: test mse {error:.4} vs mean image {baseline:.4}; losses {:?}",
        epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>()
    );
    assert_eq!(
        no_grad(|| cae
            .encode(&Var::constant(x_test.narrow(0, 0, 2)))
            .into_value())
        .shape(),
        &[2, 8, 7, 7]
    );
    assert!(
        error < 0.35 * baseline,
        "conv AE mse {error} vs mean-image baseline {baseline}"
    );
}

#[test]
fn dlt_sae_six_epochs_beats_21_percent() {
    // PyTorch (sae.py --momentum 0.5 --epochs 6): 16.7%.
    let (train, test) = sample();
    let train = Arc::new(train);
    let sae = DltSae::default();
    let mut pretrainer = sae.pretrain_trainer(sae.autoencoder(784, 0), 0, 6).unwrap();
    pretrainer.config_mut().verbose = false;
    pretrainer.fit(train.clone(), None).unwrap();
    let mut trainer = sae.finetune_trainer(&pretrainer.model, 10, 0, 6).unwrap();
    trainer.config_mut().verbose = false;
    trainer.fit(train, None).unwrap();
    let error = trainer.evaluate(&test, 1000).error();
    println!("dlt_sae 6+6 epochs: test error {:.2}%", 100.0 * error);
    assert!(error < 0.21, "test error {error}");
}
