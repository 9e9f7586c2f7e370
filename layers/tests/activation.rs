//! Activations, fixed (`Activation`) and learned (`PRelu`, `Maxout`): hand-computed outputs,
//! PyTorch parity, names and f64 gradient checks.

mod common;

use common::{assert_close, assert_near, gradcheck_module, spread, t64};
use strata_autograd::Var;
use strata_layers::{Activation, Maxout, Module, PRelu};
use strata_tensor::Tensor;

// ---------------------------------------------------------------------------------------------
// Fixed activations

#[test]
fn activation_values() {
    let xs = [-2.0, -0.5, 0.0, 1.0, 3.0];
    let x = t64(&xs, &[5]);
    let check = |a: Activation, f: &dyn Fn(f64) -> f64| {
        let expected = t64(&xs.map(f), &[5]);
        let mut layer = a;
        assert_close(&Module::<f64>::predict(&mut layer, &x), &expected, 1e-12);
    };
    check(Activation::Identity, &|x| x);
    check(Activation::Sigmoid, &|x| 1.0 / (1.0 + (-x).exp()));
    check(Activation::Tanh, &f64::tanh);
    check(Activation::LecunTanh, &|x| 1.7159 * (2.0 * x / 3.0).tanh());
    check(Activation::Relu, &|x| x.max(0.0));
    check(Activation::LeakyRelu(0.1), &|x| {
        if x > 0.0 { x } else { 0.1 * x }
    });
    check(Activation::Elu(1.5), &|x| {
        if x > 0.0 { x } else { 1.5 * (x.exp() - 1.0) }
    });
    check(Activation::Softplus, &|x| (1.0 + x.exp()).ln());

    // Spot values.
    let mut lecun = Activation::LecunTanh;
    let y = Module::<f64>::predict(&mut lecun, &t64(&[1.5], &[1]));
    assert_near(y.item(), 1.7159 * 1f64.tanh(), 1e-12);
    let mut gelu = Activation::Gelu;
    let y = Module::<f64>::predict(&mut gelu, &t64(&[-1.0, 0.0, 1.0], &[3]));
    // x·Φ(x) with Φ(1) = 0.841344746068543
    assert_close(
        &y,
        &t64(&[-0.158655253931457, 0.0, 0.841344746068543], &[3]),
        1e-12,
    );
}

/// `GELU(approximate="tanh")` against PyTorch 2.15 (float64): values and `x.grad` after
/// `y.sum().backward()`.
#[test]
fn gelu_tanh_matches_pytorch() {
    let x = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5];
    let y = [
        -0.0036373920817729943,
        -0.15880800939172324,
        -0.15428599017485606,
        0.0,
        0.34571400982514394,
        0.8411919906082768,
        2.484915733910001,
    ];
    let dy = [
        -0.011584166630969648,
        -0.08296408384578252,
        0.13263009646535764,
        0.5,
        0.8673699035346424,
        1.0829640838457826,
        1.037951576212666,
    ];
    let v = Var::leaf(t64(&x, &[7]));
    let out = Activation::GeluTanh.apply(&v);
    assert_close(out.value(), &t64(&y, &[7]), 1e-12);
    let g = out.sum().backward();
    assert_close(g.wrt(&v).unwrap(), &t64(&dy, &[7]), 1e-12);
}

/// The activations PyTorch has beside GELU, against PyTorch 2.15 (float64): values and
/// `x.grad` after `y.sum().backward()` of `nn.SiLU`, `nn.Mish`, `nn.SELU`, `nn.LogSigmoid`,
/// `nn.ReLU6` and `nn.Hardtanh(-0.75, 1.5)`.
#[test]
fn more_activations_match_pytorch() {
    let x = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 7.0];
    type Case = (Activation, [f64; 8], [f64; 8]);
    let cases: [Case; 6] = [
        (
            Activation::Silu,
            [
                -0.14227761953270035,
                -0.2689414213699951,
                -0.1887703343990727,
                0.0,
                0.3112296656009273,
                0.7310585786300049,
                2.3103545499468914,
                6.993622641639196,
            ],
            [
                -0.08810410601516962,
                0.07232948812851325,
                0.2600388126973482,
                0.5,
                0.7399611873026519,
                0.9276705118714869,
                1.0994011113415267,
                1.0054604970664518,
            ],
        ),
        (
            Activation::Mish,
            [
                -0.1456474612756246,
                -0.30340146137410895,
                -0.22074377465173,
                0.0,
                0.3752452113048951,
                0.8650983882673103,
                2.471392304557881,
                6.999988379809741,
            ],
            [
                -0.09339311453232084,
                0.059216755877395014,
                0.28951067791351226,
                0.6,
                0.8864243753577272,
                1.0490362200997922,
                1.041129530131353,
                1.000021559160889,
            ],
        ),
        (
            Activation::Selu,
            [
                -1.6705687287671118,
                -1.1113307378125625,
                -0.6917581878028713,
                0.0,
                0.5253504936777402,
                1.0507009873554805,
                2.626752468388701,
                7.354906911488364,
            ],
            [
                0.08753061208026487,
                0.646768603034814,
                1.0663411530445053,
                1.7580993408473766,
                1.0507009873554805,
                1.0507009873554805,
                1.0507009873554805,
                1.0507009873554805,
            ],
        ),
        (
            Activation::LogSigmoid,
            [
                -3.048587351573742,
                -1.3132616875182228,
                -0.9740769841801067,
                -std::f64::consts::LN_2,
                -0.4740769841801067,
                -0.31326168751822286,
                -0.07888973429254963,
                -0.0009114664537742447,
            ],
            [
                0.9525741268224333,
                0.7310585786300049,
                0.6224593312018545,
                0.5,
                0.37754066879814546,
                0.2689414213699951,
                0.07585818002124356,
                0.0009110511944006454,
            ],
        ),
        (
            Activation::Hardtanh(0.0, 6.0),
            [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 2.5, 6.0],
            [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0],
        ),
        (
            Activation::Hardtanh(-0.75, 1.5),
            [-0.75, -0.75, -0.5, 0.0, 0.5, 1.0, 1.5, 1.5],
            [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0],
        ),
    ];
    for (activation, y, dy) in cases {
        let v = Var::leaf(t64(&x, &[8]));
        let out = activation.apply(&v);
        assert_close(out.value(), &t64(&y, &[8]), 1e-12);
        let g = out.sum().backward();
        assert_close(g.wrt(&v).unwrap(), &t64(&dy, &[8]), 1e-12);
    }
}

#[test]
fn softmax_activations() {
    // softmax([0, 0, ln 2]) = [¼, ¼, ½]; along axis 1 of [2, 3].
    let x = t64(&[0.0, 0.0, 2f64.ln(), 3f64.ln(), 0.0, 0.0], &[2, 3]);
    let mut sm = Activation::Softmax(1);
    assert_close(
        &Module::<f64>::predict(&mut sm, &x),
        &t64(&[0.25, 0.25, 0.5, 0.6, 0.2, 0.2], &[2, 3]),
        1e-12,
    );
    let mut lsm = Activation::LogSoftmax(1);
    let expected = t64(
        &[
            0.25f64.ln(),
            0.25f64.ln(),
            0.5f64.ln(),
            0.6f64.ln(),
            0.2f64.ln(),
            0.2f64.ln(),
        ],
        &[2, 3],
    );
    assert_close(&Module::<f64>::predict(&mut lsm, &x), &expected, 1e-12);
    // Along axis 0 the columns are normalised instead.
    let mut sm0 = Activation::Softmax(0);
    let y = Module::<f64>::predict(&mut sm0, &x);
    for j in 0..3 {
        assert_near(y.get(&[0, j]) + y.get(&[1, j]), 1.0, 1e-12);
    }
}

#[test]
fn activations_have_no_params() {
    let a = Activation::Relu;
    assert!(Module::<f32>::params(&a).is_empty());
    assert_eq!(Module::<f32>::num_params(&a), 0);
}

#[test]
fn activation_gradcheck() {
    let x = spread(&[3, 4], 3);
    for a in [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::LecunTanh,
        Activation::Relu,
        Activation::LeakyRelu(0.2),
        Activation::Elu(1.0),
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::Softplus,
        Activation::Silu,
        Activation::Mish,
        Activation::Selu,
        Activation::LogSigmoid,
        Activation::Hardtanh(-0.5, 0.5),
        Activation::Softmax(1),
        Activation::LogSoftmax(1),
        Activation::Softmax(0),
    ] {
        let mut layer = a;
        gradcheck_module(&format!("{a:?}"), &mut layer, &x, true, 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// PReLU and Maxout

#[test]
fn prelu_values() {
    // One shared slope, PyTorch's default 0.25.
    let mut p = PRelu::<f64>::new(1, 0.25);
    let names: Vec<String> = p.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight"]);
    assert_close(
        &p.predict(&t64(&[-2.0, 3.0, 0.0], &[3])),
        &t64(&[-0.5, 3.0, 0.0], &[3]),
        1e-12,
    );
    // One slope per channel (axis 1 of [N, C, L]).
    let mut p = PRelu::<f64>::new(2, 0.25);
    p.weight.set(t64(&[0.1, 0.5], &[2]));
    let x = t64(&[-1.0, 2.0, -4.0, 1.0], &[1, 2, 2]);
    assert_close(
        &p.predict(&x),
        &t64(&[-0.1, 2.0, -2.0, 1.0], &[1, 2, 2]),
        1e-12,
    );
}

#[test]
fn prelu_slope_gradient_by_hand() {
    // ∂Σy/∂a = Σ_{x<0} x per channel.
    let p = {
        let mut p = PRelu::<f64>::new(2, 0.25);
        p.weight.set(t64(&[0.1, 0.5], &[2]));
        p
    };
    let mut p = p;
    let x = t64(&[-1.0, 2.0, -3.0, -4.0, 1.0, -0.5], &[1, 2, 3]);
    let g = p.forward(&Var::constant(x)).sum().backward();
    assert_close(g.get(&p.weight).unwrap(), &t64(&[-4.0, -4.5], &[2]), 1e-12);
}

#[test]
fn prelu_gradcheck() {
    let mut p = PRelu::<f64>::new(1, 0.25);
    gradcheck_module("PRelu shared", &mut p, &spread(&[2, 5], 4), true, 1e-6);
    let mut p = PRelu::<f64>::new(3, 0.1);
    p.weight.set(t64(&[0.1, -0.3, 0.7], &[3]));
    gradcheck_module(
        "PRelu per channel",
        &mut p,
        &spread(&[2, 3, 2, 2], 5),
        true,
        1e-6,
    );
}

#[test]
#[should_panic(expected = "PRelu: input [1, 3, 2] needs 2 channels on axis 1 for 2 slopes")]
fn prelu_rejects_wrong_channels() {
    PRelu::<f64>::new(2, 0.25).predict(&Tensor::zeros(&[1, 3, 2]));
}

#[test]
fn maxout_values() {
    // One unit of three pieces: rows [1, 0], [0, 1], [−1, −1] with biases 0, 0, 4.
    let mut m = Maxout::<f64>::new(2, 1, 3);
    m.linear
        .weight
        .set(t64(&[1.0, 0.0, 0.0, 1.0, -1.0, -1.0], &[3, 2]));
    m.linear
        .bias
        .as_mut()
        .unwrap()
        .set(t64(&[0.0, 0.0, 4.0], &[3]));
    let names: Vec<String> = m.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["linear.weight", "linear.bias"]);
    // [1, 2] → max(1, 2, 1) = 2; [−3, −1] → max(−3, −1, 8) = 8.
    let x = t64(&[1.0, 2.0, -3.0, -1.0], &[2, 2]);
    assert_close(&m.predict(&x), &t64(&[2.0, 8.0], &[2, 1]), 1e-12);

    // Two units of two pieces; pieces of unit j are rows 2j and 2j + 1.
    let mut m = Maxout::<f64>::new(1, 2, 2);
    m.linear.weight.set(t64(&[1.0, -1.0, 2.0, 3.0], &[4, 1]));
    m.linear.bias.as_mut().unwrap().set(t64(&[0.0; 4], &[4]));
    // x = −2: unit 0 = max(−2, 2) = 2, unit 1 = max(−4, −6) = −4.
    assert_close(
        &m.predict(&t64(&[-2.0], &[1, 1])),
        &t64(&[2.0, -4.0], &[1, 2]),
        1e-12,
    );
}

#[test]
fn maxout_gradcheck() {
    let mut m = Maxout::<f64>::new(3, 2, 3);
    gradcheck_module("Maxout", &mut m, &spread(&[4, 3], 6), true, 1e-6);
}
