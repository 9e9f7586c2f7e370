//! Weight initialisation: the statistics of every `Init` rule on large tensors (bounds, mean,
//! variance against the formula), PyTorch's layer defaults, orthogonality, fans, gains, and
//! reproducibility through `manual_seed`.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_layers::init::{fans, with_init_rng};
use strata_layers::{
    Conv1d, Conv2d, ConvTranspose2d, FanMode, Init, Linear, Maxout, Module, Nonlinearity,
    manual_seed,
};
use strata_tensor::Tensor;

/// (min, max, mean, variance) of a tensor.
fn stats(t: &Tensor<f64>) -> (f64, f64, f64, f64) {
    let v = t.to_vec();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (t.min(), t.max(), mean, var)
}

/// Checks a U(±bound) sample of `n` values: within the bounds, reaching close to them (within
/// `max(2%, 10/n)` of the bound), mean ≈ 0 (within 4 standard errors) and variance ≈ bound²/3
/// (relative tolerance `rel`).
fn check_uniform(what: &str, t: &Tensor<f64>, bound: f64, rel: f64) {
    let (lo, hi, mean, var) = stats(t);
    let n = t.numel() as f64;
    assert!(
        lo >= -bound && hi <= bound,
        "{what}: [{lo}, {hi}] exceeds ±{bound}"
    );
    let reach = 1.0 - (10.0 / n).max(0.02);
    assert!(
        lo < -reach * bound && hi > reach * bound,
        "{what}: [{lo}, {hi}] does not fill ±{bound}"
    );
    let expected = bound * bound / 3.0;
    assert!(
        mean.abs() < 4.0 * expected.sqrt() / n.sqrt(),
        "{what}: mean {mean}"
    );
    assert!(
        (var / expected - 1.0).abs() < rel,
        "{what}: variance {var}, expected {expected}"
    );
}

/// Checks an N(0, std²) sample: mean ≈ 0 and standard deviation ≈ `std` (relative tolerance).
fn check_normal(what: &str, t: &Tensor<f64>, std: f64, rel: f64) {
    let (lo, hi, mean, var) = stats(t);
    assert!(
        mean.abs() < 4.0 * std / (t.numel() as f64).sqrt(),
        "{what}: mean {mean}"
    );
    assert!(
        (var.sqrt() / std - 1.0).abs() < rel,
        "{what}: std {}, expected {std}",
        var.sqrt()
    );
    // A normal sample spreads beyond ±2σ (a uniform of the same variance stops at ±1.73σ).
    assert!(
        lo < -2.5 * std && hi > 2.5 * std,
        "{what}: [{lo}, {hi}] looks too narrow for a normal"
    );
}

#[test]
fn linear_default_is_pytorch_uniform() {
    manual_seed(1);
    let l = Linear::<f64>::new(1000, 400);
    let bound = 1.0 / 1000f64.sqrt();
    check_uniform("Linear weight", l.weight.value(), bound, 0.01);
    check_uniform("Linear bias", l.bias.as_ref().unwrap().value(), bound, 0.25);
}

#[test]
fn conv_defaults_are_pytorch_uniform() {
    manual_seed(2);
    // fan_in = in·kh·kw = 64·9.
    let c = Conv2d::<f64>::new(64, 96, (3, 3));
    let bound = 1.0 / 576f64.sqrt();
    check_uniform("Conv2d weight", c.weight.value(), bound, 0.02);
    check_uniform("Conv2d bias", c.bias.as_ref().unwrap().value(), bound, 0.5);
    // Grouped: fan_in = (in/groups)·kh·kw = 16·9.
    let c = Conv2d::<f64>::new(64, 96, (3, 3)).with_groups(4);
    check_uniform(
        "Conv2d grouped weight",
        c.weight.value(),
        1.0 / 144f64.sqrt(),
        0.03,
    );
    let c = Conv1d::<f64>::new(32, 200, 5);
    check_uniform("Conv1d weight", c.weight.value(), 1.0 / 160f64.sqrt(), 0.03);
    // ConvTranspose2d: weight [in, out, kh, kw], fan_in from dimension 1 (PyTorch's rule).
    let c = ConvTranspose2d::<f64>::new(50, 80, (3, 3));
    check_uniform(
        "ConvTranspose2d weight",
        c.weight.value(),
        1.0 / 720f64.sqrt(),
        0.03,
    );
}

#[test]
fn xavier() {
    let mut rng = StdRng::seed_from_u64(3);
    let shape = [300, 500];
    // a = gain·√(6/(fan_in + fan_out))
    let t = Init::XavierUniform { gain: 1.0 }.tensor::<f64>(&shape, &mut rng);
    check_uniform("XavierUniform", &t, (6.0f64 / 800.0).sqrt(), 0.01);
    let t = Init::XavierUniform {
        gain: Nonlinearity::Tanh.gain(),
    }
    .tensor::<f64>(&shape, &mut rng);
    check_uniform(
        "XavierUniform tanh gain",
        &t,
        5.0 / 3.0 * (6.0f64 / 800.0).sqrt(),
        0.01,
    );
    // σ = gain·√(2/(fan_in + fan_out))
    let t = Init::XavierNormal { gain: 1.0 }.tensor::<f64>(&shape, &mut rng);
    check_normal("XavierNormal", &t, (2.0f64 / 800.0).sqrt(), 0.01);
    // Conv shape: fan_in = 16·25, fan_out = 32·25.
    let t = Init::XavierUniform { gain: 1.0 }.tensor::<f64>(&[32, 16, 5, 5], &mut rng);
    check_uniform("XavierUniform conv", &t, (6.0f64 / 1200.0).sqrt(), 0.03);
}

#[test]
fn kaiming() {
    let mut rng = StdRng::seed_from_u64(4);
    let shape = [400, 250];
    // b = gain·√(3/fan)
    let relu = Nonlinearity::Relu;
    let t = Init::KaimingUniform {
        mode: FanMode::FanIn,
        nonlinearity: relu,
    }
    .tensor::<f64>(&shape, &mut rng);
    check_uniform(
        "KaimingUniform fan_in",
        &t,
        2f64.sqrt() * (3.0f64 / 250.0).sqrt(),
        0.01,
    );
    let t = Init::KaimingUniform {
        mode: FanMode::FanOut,
        nonlinearity: relu,
    }
    .tensor::<f64>(&shape, &mut rng);
    check_uniform(
        "KaimingUniform fan_out",
        &t,
        2f64.sqrt() * (3.0f64 / 400.0).sqrt(),
        0.01,
    );
    // σ = gain/√fan
    let t = Init::KaimingNormal {
        mode: FanMode::FanIn,
        nonlinearity: relu,
    }
    .tensor::<f64>(&shape, &mut rng);
    check_normal("KaimingNormal fan_in", &t, (2.0f64 / 250.0).sqrt(), 0.01);
    let leaky = Nonlinearity::LeakyRelu(0.2);
    let t = Init::KaimingNormal {
        mode: FanMode::FanOut,
        nonlinearity: leaky,
    }
    .tensor::<f64>(&[64, 32, 3, 3], &mut rng);
    check_normal(
        "KaimingNormal conv fan_out",
        &t,
        (2.0f64 / 1.04).sqrt() / (576f64).sqrt(),
        0.02,
    );
    // PyTorch's default is Kaiming-uniform with a = √5: U(±1/√fan_in).
    let t = Init::PytorchDefault.tensor::<f64>(&shape, &mut rng);
    let k = Init::KaimingUniform {
        mode: FanMode::FanIn,
        nonlinearity: Nonlinearity::LeakyRelu(5f64.sqrt()),
    };
    check_uniform("PytorchDefault", &t, 1.0 / 250f64.sqrt(), 0.01);
    check_uniform(
        "Kaiming a = √5",
        &k.tensor::<f64>(&shape, &mut rng),
        1.0 / 250f64.sqrt(),
        0.01,
    );
}

#[test]
fn lecun_and_rbm() {
    let mut rng = StdRng::seed_from_u64(5);
    let shape = [500, 200];
    check_uniform(
        "LecunUniform",
        &Init::LecunUniform.tensor::<f64>(&shape, &mut rng),
        (3.0f64 / 200.0).sqrt(),
        0.01,
    );
    check_normal(
        "LecunNormal",
        &Init::LecunNormal.tensor::<f64>(&shape, &mut rng),
        (1.0f64 / 200.0).sqrt(),
        0.01,
    );
    check_normal(
        "RbmNormal",
        &Init::RbmNormal.tensor::<f64>(&[784, 500], &mut rng),
        0.01,
        0.01,
    );
}

#[test]
fn basic_rules() {
    let mut rng = StdRng::seed_from_u64(6);
    assert_eq!(
        Init::Zeros.tensor::<f64>(&[2, 3], &mut rng),
        Tensor::zeros(&[2, 3])
    );
    assert_eq!(
        Init::Constant(0.25).tensor::<f64>(&[4], &mut rng),
        Tensor::full(&[4], 0.25)
    );
    let t = Init::Uniform {
        low: 2.0,
        high: 5.0,
    }
    .tensor::<f64>(&[100_000], &mut rng);
    let (lo, hi, mean, var) = stats(&t);
    assert!(lo >= 2.0 && hi <= 5.0 && lo < 2.01 && hi > 4.99);
    assert!(
        (mean - 3.5).abs() < 0.02 && (var - 0.75).abs() < 0.02,
        "mean {mean}, variance {var}"
    );
    let t = Init::Normal {
        mean: -1.0,
        std: 3.0,
    }
    .tensor::<f64>(&[100_000], &mut rng);
    let (_, _, mean, var) = stats(&t);
    assert!(
        (mean + 1.0).abs() < 0.05 && (var.sqrt() - 3.0).abs() < 0.05,
        "mean {mean}, std {}",
        var.sqrt()
    );
}

/// `AᵀA` for a 2-D tensor.
fn gram(a: &Tensor<f64>) -> Tensor<f64> {
    a.t().matmul(a)
}

#[test]
fn orthogonal() {
    let mut rng = StdRng::seed_from_u64(7);
    // Tall [50, 30]: orthonormal columns, QᵀQ = I.
    let q = Init::Orthogonal { gain: 1.0 }.tensor::<f64>(&[50, 30], &mut rng);
    assert!(gram(&q).allclose(&Tensor::eye(30), 0.0, 1e-10), "QᵀQ ≠ I");
    // Wide [30, 50]: orthonormal rows, QQᵀ = I.
    let q = Init::Orthogonal { gain: 1.0 }.tensor::<f64>(&[30, 50], &mut rng);
    assert!(
        gram(&q.t().contiguous()).allclose(&Tensor::eye(30), 0.0, 1e-10),
        "QQᵀ ≠ I"
    );
    // Square with gain 2: QᵀQ = 4I, and QQᵀ = 4I too.
    let q = Init::Orthogonal { gain: 2.0 }.tensor::<f64>(&[20, 20], &mut rng);
    assert!(gram(&q).allclose(&Tensor::eye(20).mul_scalar(4.0), 0.0, 1e-10));
    assert!(
        q.matmul(&q.t())
            .allclose(&Tensor::eye(20).mul_scalar(4.0), 0.0, 1e-10)
    );
    // A conv weight is flattened to [out, in·kh·kw] = [8, 8].
    let q = Init::Orthogonal { gain: 1.0 }.tensor::<f64>(&[8, 2, 2, 2], &mut rng);
    assert_eq!(q.shape(), &[8, 2, 2, 2]);
    assert!(gram(&q.reshape(&[8, 8])).allclose(&Tensor::eye(8), 0.0, 1e-10));
    // f32 too.
    let q = Init::Orthogonal { gain: 1.0 }.tensor::<f32>(&[16, 8], &mut rng);
    assert!(q.t().matmul(&q).allclose(&Tensor::eye(8), 0.0, 1e-5));
}

#[test]
#[should_panic(expected = "init: orthogonal needs at least 2 dimensions, got [5]")]
fn orthogonal_rejects_vectors() {
    Init::Orthogonal { gain: 1.0 }.fill::<f32>(&[5]);
}

#[test]
fn fans_and_gains() {
    assert_eq!(fans(&[7]), (7, 7));
    assert_eq!(fans(&[10, 4]), (4, 10));
    assert_eq!(fans(&[16, 6, 5, 5]), (150, 400));
    assert_eq!(fans(&[8, 2, 3]), (6, 24));
    assert_eq!(Nonlinearity::Linear.gain(), 1.0);
    assert_eq!(Nonlinearity::Sigmoid.gain(), 1.0);
    assert_eq!(Nonlinearity::Tanh.gain(), 5.0 / 3.0);
    assert_eq!(Nonlinearity::Relu.gain(), 2f64.sqrt());
    assert!((Nonlinearity::LeakyRelu(0.01).gain() - (2.0 / 1.0001f64).sqrt()).abs() < 1e-15);
    assert_eq!(Nonlinearity::Selu.gain(), 0.75);
}

#[test]
#[should_panic(expected = "init: a scalar has no fan-in or fan-out")]
fn fans_reject_scalars() {
    fans(&[]);
}

#[test]
fn manual_seed_reproduces_layers() {
    let build = || {
        let l = Linear::<f32>::new(20, 10);
        let c = Conv2d::<f32>::new(3, 4, (3, 3));
        let m = Maxout::<f32>::new(5, 2, 3);
        let values = |m: &dyn Module<f32>| {
            m.params()
                .into_iter()
                .map(|(_, p)| p.value().clone())
                .collect::<Vec<_>>()
        };
        (values(&l), values(&c), values(&m))
    };
    manual_seed(123);
    let a = build();
    manual_seed(123);
    let b = build();
    assert_eq!(a, b);
    manual_seed(124);
    let c = build();
    assert_ne!(a.0, c.0);
    // Without reseeding, the stream moves on.
    let d = build();
    assert_ne!(c.0, d.0);
    // Init::fill draws from the same stream as the layers.
    manual_seed(5);
    let x = Init::Normal {
        mean: 0.0,
        std: 1.0,
    }
    .fill::<f64>(&[6]);
    manual_seed(5);
    let y = with_init_rng(|rng| {
        Init::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .tensor::<f64>(&[6], rng)
    });
    assert_eq!(x, y);
}
