//! RBMs and DBNs: exact gradients on a tiny RBM, training behaviour on the bundled MNIST
//! sample, the DeepLearnToolbox DBN accuracy bar, wake-sleep, sampling and pictures.

use std::sync::{Arc, OnceLock};

use strata_datasets::{ArrayDataset, Dataset, Mnist};
use strata_layers::Module;
use strata_models::contrastive_divergence::ContrastiveDivergence;
use strata_models::data::scaled;
use strata_models::dbn::{Dbn, dlt_dbn, dlt_finetune_trainer, dlt_random_mlp, dlt_rbm_optimizer};
use strata_models::layerwise::Layerwise;
use strata_models::rbm::{Divergence, PositiveStatistics, Rbm, RbmConfig, VisibleUnits};
use strata_models::visualize::{write_filters_png, write_samples_png};
use strata_models::wake_sleep::WakeSleep;
use strata_models::{MlpOutput, Trainer, TrainerConfig};
use strata_optim::SgdConfig;
use strata_tensor::Tensor;

fn mnist() -> &'static (ArrayDataset, ArrayDataset) {
    static DATA: OnceLock<(ArrayDataset, ArrayDataset)> = OnceLock::new();
    DATA.get_or_init(|| scaled(&Mnist::bundled().expect("bundled MNIST sample")))
}

fn as_matrix(d: &ArrayDataset) -> Tensor {
    let f = d.feature_len();
    Tensor::from_vec(d.inputs().to_vec(), &[d.len(), f])
}

fn bits(x: usize, n: usize) -> Vec<f64> {
    (0..n).map(|i| ((x >> i) & 1) as f64).collect()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A tiny RBM with weights large enough that the model term matters.
fn tiny_rbm(divergence: Divergence) -> Rbm {
    let (v, h) = (6, 4);
    let mut rbm = Rbm::new(
        RbmConfig {
            positive: PositiveStatistics::Probabilities,
            sample_visible: true,
            ..RbmConfig::new(v, h)
        }
        .with_divergence(divergence)
        .with_seed(7),
    );
    let w: Vec<f32> = (0..v * h)
        .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3)
        .collect();
    rbm.weight.set(Tensor::from_vec(w, &[h, v]));
    rbm.visible_bias
        .set(Tensor::from_vec(vec![0.5, -0.3, 0.2, -0.8, 0.1, 0.4], &[v]));
    rbm.hidden_bias
        .set(Tensor::from_vec(vec![-0.2, 0.3, -0.5, 0.6], &[h]));
    rbm
}

fn tiny_data() -> Vec<Vec<f64>> {
    [
        0b000111usize,
        0b111000,
        0b101010,
        0b010101,
        0b110011,
        0b001100,
        0b111111,
        0b100001,
    ]
    .iter()
    .map(|&x| bits(x, 6))
    .collect()
}

/// Exact `−∂ log-likelihood / ∂(W, b, c)` (flattened) and the exact positive statistics, by
/// enumerating all 2⁶·2⁴ joint states.
fn exact_gradient(rbm: &Rbm, data: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let (nv, nh) = (6, 4);
    let w: Vec<f64> = rbm
        .weight
        .value()
        .to_vec()
        .iter()
        .map(|&x| x as f64)
        .collect();
    let b: Vec<f64> = rbm
        .visible_bias
        .value()
        .to_vec()
        .iter()
        .map(|&x| x as f64)
        .collect();
    let c: Vec<f64> = rbm
        .hidden_bias
        .value()
        .to_vec()
        .iter()
        .map(|&x| x as f64)
        .collect();
    let stats = |v: &[f64], h: &[f64], weight: f64, acc: &mut [f64]| {
        for j in 0..nh {
            for i in 0..nv {
                acc[j * nv + i] += weight * h[j] * v[i];
            }
        }
        for i in 0..nv {
            acc[nh * nv + i] += weight * v[i];
        }
        for j in 0..nh {
            acc[nh * nv + nv + j] += weight * h[j];
        }
    };
    let len = nh * nv + nv + nh;
    // Model expectations by explicit enumeration of every (v, h).
    let mut model = vec![0.0; len];
    let mut z = 0.0;
    for vx in 0..1 << nv {
        let v = bits(vx, nv);
        for hx in 0..1 << nh {
            let h = bits(hx, nh);
            let mut neg_e = (0..nv).map(|i| b[i] * v[i]).sum::<f64>()
                + (0..nh).map(|j| c[j] * h[j]).sum::<f64>();
            for j in 0..nh {
                for i in 0..nv {
                    neg_e += h[j] * w[j * nv + i] * v[i];
                }
            }
            let p = neg_e.exp();
            z += p;
            stats(&v, &h, p, &mut model);
        }
    }
    model.iter_mut().for_each(|x| *x /= z);
    // Data term: E_data[p(h | v)].
    let mut positive = vec![0.0; len];
    for v in data {
        let ph: Vec<f64> = (0..nh)
            .map(|j| sigmoid(c[j] + (0..nv).map(|i| w[j * nv + i] * v[i]).sum::<f64>()))
            .collect();
        stats(v, &ph, 1.0 / data.len() as f64, &mut positive);
    }
    let grad = positive.iter().zip(&model).map(|(p, m)| -(p - m)).collect();
    (grad, positive)
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn flat_grads(rbm: &Rbm, grads: &strata_autograd::Grads) -> Vec<f64> {
    [&rbm.weight, &rbm.visible_bias, &rbm.hidden_bias]
        .iter()
        .flat_map(|p| {
            grads
                .get(p)
                .expect("a gradient for every parameter")
                .to_vec()
        })
        .map(|x| x as f64)
        .collect()
}

fn replicated(data: &[Vec<f64>], copies: usize) -> Tensor {
    let rows: Vec<f32> = (0..copies)
        .flat_map(|_| data.iter().flatten().map(|&x| x as f32))
        .collect();
    Tensor::from_vec(rows, &[copies * data.len(), 6])
}

#[test]
fn positive_phase_matches_exact_data_term() {
    let rbm = tiny_rbm(Divergence::Cd(1));
    let data = tiny_data();
    let (_, positive) = exact_gradient(&rbm, &data);
    let s = rbm.positive_phase(&replicated(&data, 1));
    let got: Vec<f64> = [s.weight, s.visible, s.hidden]
        .iter()
        .flat_map(|t| t.to_vec())
        .map(|x| x as f64)
        .collect();
    for (g, e) in got.iter().zip(&positive) {
        assert!((g - e).abs() < 1e-5, "positive statistics {g} vs exact {e}");
    }
}

#[test]
fn long_cd_chains_follow_the_exact_gradient() {
    let data = tiny_data();
    for divergence in [Divergence::Cd(1000), Divergence::Persistent(1000)] {
        let mut rbm = tiny_rbm(divergence);
        let (exact, _) = exact_gradient(&rbm, &data);
        let (grads, _) = rbm.cd_grads(&replicated(&data, 250));
        let cd = flat_grads(&rbm, &grads);
        let cos = cosine(&cd, &exact);
        eprintln!("{divergence:?}: cosine with the exact gradient {cos:.4}");
        assert!(
            cos > 0.9,
            "{divergence:?}: cosine similarity with the exact gradient {cos:.4}"
        );
        // The positive term is exact, so the bias gradient of CD-k differs from the exact one
        // only by the chains' sampling error.
        let err: f64 = cd
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = exact.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(
            err < 0.3 * norm,
            "{divergence:?}: |cd − exact| = {err:.4}, |exact| = {norm:.4}"
        );
    }
}

#[test]
fn cd1_descends_the_exact_gradient_on_average() {
    // CD-1 is biased, but on this tiny model it still points the right way.
    let data = tiny_data();
    let mut rbm = tiny_rbm(Divergence::Cd(1));
    let (exact, _) = exact_gradient(&rbm, &data);
    let (grads, _) = rbm.cd_grads(&replicated(&data, 250));
    assert!(cosine(&flat_grads(&rbm, &grads), &exact) > 0.0);
}

/// A quiet trainer configuration: `epochs` epochs of batches of 100.
fn quiet(epochs: usize) -> TrainerConfig {
    TrainerConfig::new(epochs, 100).with_verbose(false)
}

#[test]
fn rbm_reconstruction_error_falls_and_free_energy_prefers_data() {
    let (train, _) = mnist();
    let x = as_matrix(train);
    let data = ArrayDataset::from_rows(&x);
    let rbm = Rbm::new(RbmConfig::new(784, 100).with_seed(1));
    let opt = SgdConfig::new(0.1)
        .with_momentum(0.5)
        .build::<f32>()
        .unwrap();
    let step = ContrastiveDivergence::new().with_visible_bias_from_data(true);
    let mut trainer = Trainer::new(rbm, opt, step, quiet(5), "rbm").unwrap();
    // Validation on the training data: the mean-field reconstruction error after each epoch.
    let errors: Vec<f64> = trainer
        .fit(Arc::new(data.clone()), Some(&data))
        .unwrap()
        .iter()
        .map(|m| m.val_loss.unwrap())
        .collect();
    for w in errors.windows(2) {
        assert!(
            w[1] < w[0],
            "reconstruction error did not fall every epoch: {errors:?}"
        );
    }
    let rbm = trainer.model;
    strata_layers::manual_seed(99);
    let random =
        strata_layers::init::with_init_rng(|r| Tensor::rand_bernoulli(&[1000, 784], 0.5, r));
    let f_data = rbm.free_energy(&x.narrow(0, 0, 1000)).mean();
    let f_random = rbm.free_energy(&random).mean();
    assert!(
        f_data < f_random,
        "free energy of data {f_data} is not below that of random vectors {f_random}"
    );
}

#[test]
fn gaussian_and_persistent_rbms_train() {
    let (train, _) = mnist();
    let x = as_matrix(train).narrow(0, 0, 2000).contiguous();
    // Gaussian visible units on standardised pixels.
    let mean = x.mean();
    let std = x.sub_scalar(mean).square().mean().sqrt();
    let z = x.sub_scalar(mean).div_scalar(std);
    let mut g = Rbm::new(
        RbmConfig::new(784, 64)
            .with_visible_units(VisibleUnits::Gaussian)
            .with_seed(3),
    );
    g.init_visible_bias_from_data(&z);
    let before = g.reconstruction_error(&z);
    let mut opt = SgdConfig::new(0.001)
        .with_momentum(0.5)
        .build::<f32>()
        .unwrap();
    Trainer::new(
        &mut g,
        &mut opt,
        ContrastiveDivergence::new(),
        quiet(3),
        "rbm",
    )
    .unwrap()
    .fit(Arc::new(ArrayDataset::from_rows(&z)), None)
    .unwrap();
    let after = g.reconstruction_error(&z);
    assert!(after < before, "Gaussian RBM: {before} → {after}");
    // PCD-1 with a sparsity target and weight decay.
    let mut p = Rbm::new(
        RbmConfig::new(784, 64)
            .with_divergence(Divergence::Persistent(1))
            .with_weight_decay(1e-4)
            .with_sparsity(strata_models::rbm::SparsityTarget {
                target: 0.1,
                cost: 0.1,
                decay: 0.9,
            })
            .with_seed(4),
    );
    p.init_visible_bias_from_data(&x);
    let before = p.reconstruction_error(&x);
    let mut opt = SgdConfig::new(0.05).build::<f32>().unwrap();
    Trainer::new(
        &mut p,
        &mut opt,
        ContrastiveDivergence::new(),
        quiet(3),
        "rbm",
    )
    .unwrap()
    .fit(Arc::new(ArrayDataset::from_rows(&x)), None)
    .unwrap();
    let after = p.reconstruction_error(&x);
    assert!(after < before, "PCD RBM: {before} → {after}");
}

#[test]
fn rbm_is_a_module_with_named_params() {
    let mut rbm = Rbm::new(RbmConfig::new(5, 3));
    let names: Vec<(String, Vec<usize>)> = rbm
        .params()
        .into_iter()
        .map(|(n, p)| (n, p.shape().to_vec()))
        .collect();
    assert_eq!(
        names,
        [
            ("weight".to_string(), vec![3, 5]),
            ("visible_bias".to_string(), vec![5]),
            ("hidden_bias".to_string(), vec![3])
        ]
    );
    let v = strata_layers::init::with_init_rng(|r| Tensor::rand_uniform(&[4, 5], 0.0, 1.0, r));
    let y = rbm.predict(&v);
    assert!(y.allclose(&rbm.prob_h_given_v(&v), 1e-6, 1e-6));
    let (p, h) = rbm.sample_h(&v);
    assert_eq!((p.shape(), h.shape()), (&[4, 3][..], &[4, 3][..]));
    assert!(h.to_vec().iter().all(|&x| x == 0.0 || x == 1.0));
    let (m, s) = rbm.sample_v(&h);
    assert_eq!((m.shape(), s.shape()), (&[4, 5][..], &[4, 5][..]));
    assert_eq!(rbm.gibbs(&v, 3).shape(), &[4, 5]);
}

/// The DeepLearnToolbox DBN `sizes` pretrained layer by layer on `x` for `epochs` epochs per
/// layer with SGD (learning rate `lr`, momentum `momentum`).
fn pretrained_dlt_dbn(
    sizes: &[usize],
    seed: u64,
    x: &Tensor,
    epochs: usize,
    lr: f64,
    momentum: f64,
) -> Dbn {
    let step = Layerwise::new(ContrastiveDivergence::new());
    let opt = dlt_rbm_optimizer(lr, momentum).unwrap();
    let mut trainer = Trainer::new(
        dlt_dbn(sizes, seed),
        opt,
        step,
        quiet(epochs).with_seed(seed),
        "dbn",
    )
    .unwrap();
    trainer
        .fit(Arc::new(ArrayDataset::from_rows(x)), None)
        .unwrap();
    trainer.model
}

#[test]
fn dlt_dbn_beats_random_init() {
    let (train, test) = mnist();
    let x = as_matrix(train);
    let (epochs, seed) = (6, 0);
    let dbn = pretrained_dlt_dbn(&[784, 100, 100], seed, &x, epochs, 1.0, 0.0);
    let mut tuned =
        dlt_finetune_trainer(dbn.unfold(10, MlpOutput::Sigmoid, seed), seed, epochs, 100).unwrap();
    tuned.config_mut().verbose = false;
    tuned.fit(Arc::new(train.clone()), None).unwrap();
    let dbn_error = tuned.evaluate(test, 1000).error();
    let mut scratch = dlt_finetune_trainer(
        dlt_random_mlp(&[784, 100, 100, 10], seed),
        seed,
        epochs,
        100,
    )
    .unwrap();
    scratch.config_mut().verbose = false;
    scratch.fit(Arc::new(train.clone()), None).unwrap();
    let random_error = scratch.evaluate(test, 1000).error();
    eprintln!(
        "dlt_dbn: DBN test error {:.2}%, random init {:.2}%",
        100.0 * dbn_error,
        100.0 * random_error
    );
    assert!(dbn_error < 0.18, "DBN test error {dbn_error}");
    assert!(
        dbn_error < random_error,
        "DBN {dbn_error} is not better than random init {random_error}"
    );
}

#[test]
fn wake_sleep_runs_and_does_not_increase_reconstruction_error() {
    let (train, _) = mnist();
    let x = as_matrix(train).narrow(0, 0, 2000).contiguous();
    let mut dbn = pretrained_dlt_dbn(&[784, 100, 50], 5, &x, 3, 0.1, 0.5);
    let before = dbn.reconstruction_error(&x);
    let opt = SgdConfig::new(0.01).build::<f32>().unwrap();
    let data = ArrayDataset::from_rows(&x);
    let mut trainer = Trainer::new(&mut dbn, opt, WakeSleep, quiet(2), "dbn-wake-sleep").unwrap();
    let history = trainer
        .fit(Arc::new(data.clone()), Some(&data))
        .unwrap()
        .clone();
    drop(trainer);
    let after = dbn.reconstruction_error(&x);
    // The validation loss is the same figure, summed over the 784 units.
    let last = history.last().unwrap().val_loss.unwrap();
    assert!(
        (last - after * 784.0).abs() < 1e-3 * last,
        "validation loss {last} vs reconstruction error {after} × 784"
    );
    assert!(
        after <= before,
        "wake-sleep raised the reconstruction error: {before} → {after}"
    );
    assert!(dbn.directed.as_ref().is_some_and(|d| d.len() == 1));
    // The untied model still generates and unfolds.
    let samples = dbn.sample(16, 50);
    assert_eq!(samples.shape(), &[16, 784]);
    assert!(samples.to_vec().iter().all(|&p| (0.0..=1.0).contains(&p)));
    let mlp = dbn.unfold(10, MlpOutput::Sigmoid, 0);
    assert_eq!(mlp.layers.len(), 3);
    assert_eq!(dbn.params().len(), 2 * 3 + 4);
}

#[test]
fn pictures_are_written() {
    let dir = std::env::temp_dir().join(format!("strata-rbm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rbm = Rbm::new(RbmConfig::new(784, 10));
    write_filters_png(dir.join("filters.png"), rbm.weight.value(), (28, 28), 2).unwrap();
    write_samples_png(
        dir.join("samples.png"),
        &Tensor::full(&[5, 784], 0.5),
        (28, 28),
        1,
    )
    .unwrap();
    for f in ["filters.png", "samples.png"] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
    std::fs::remove_dir_all(&dir).ok();
}
