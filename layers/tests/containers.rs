//! `Sequential` and `module_parts!`: dotted names, parameter counts, buffers, train/eval and
//! reseed propagation, and gradients through a whole network.

mod common;

use common::{assert_close, gradcheck_module, spread, t64};
use strata_autograd::{Param, Var};
use strata_layers::{
    Activation, BatchNorm1d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, Sequential,
    Unflatten, child_seed, module_parts, prefixed,
};
use strata_tensor::Tensor;

fn names<M: Module<f64> + ?Sized>(m: &M) -> Vec<String> {
    m.params().into_iter().map(|(n, _)| n).collect()
}

fn mlp() -> Sequential<f64> {
    Sequential::new()
        .add(Linear::new(4, 3))
        .add(Activation::Relu)
        .add(Linear::new(3, 2))
}

#[test]
fn sequential_names_and_num_params() {
    let net = mlp();
    assert_eq!(net.len(), 3);
    assert!(!net.is_empty());
    assert_eq!(names(&net), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert_eq!(net.num_params(), 4 * 3 + 3 + 3 * 2 + 2);
    let shapes: Vec<Vec<usize>> = net
        .params()
        .into_iter()
        .map(|(_, p)| p.shape().to_vec())
        .collect();
    assert_eq!(shapes, [vec![3, 4], vec![3], vec![2, 3], vec![2]]);

    // Nested containers prefix twice; params_mut lists the same names in the same order.
    let mut outer = Sequential::<f64>::new()
        .add(mlp())
        .add(Activation::Tanh)
        .add(mlp());
    let expected = [
        "0.0.weight",
        "0.0.bias",
        "0.2.weight",
        "0.2.bias",
        "2.0.weight",
        "2.0.bias",
        "2.2.weight",
        "2.2.bias",
    ];
    assert_eq!(names(&outer), expected);
    let mut_names: Vec<String> = outer.params_mut().into_iter().map(|(n, _)| n).collect();
    assert_eq!(mut_names, expected);

    // LeNet-5's parameter count: 61 706.
    let lenet = Sequential::<f32>::new()
        .add(Conv2d::new(1, 6, (5, 5)).with_padding((2, 2)))
        .add(Activation::Tanh)
        .add(MaxPool2d::new((2, 2)))
        .add(Conv2d::new(6, 16, (5, 5)))
        .add(Activation::Tanh)
        .add(MaxPool2d::new((2, 2)))
        .add(Flatten)
        .add(Linear::new(400, 120))
        .add(Activation::Tanh)
        .add(Linear::new(120, 84))
        .add(Activation::Tanh)
        .add(Linear::new(84, 10));
    assert_eq!(lenet.num_params(), 61_706);
    assert_eq!(lenet.params()[4].0, "7.weight");
    assert_eq!(lenet.params()[6].0, "9.weight");
}

#[test]
fn sequential_forward_composes() {
    let mut net = mlp();
    let x = spread(&[2, 4], 1);
    let y = net.predict(&x);
    // By hand: W₂·relu(W₁x + b₁) + b₂.
    let p: Vec<Tensor<f64>> = net
        .params()
        .into_iter()
        .map(|(_, p)| p.value().clone())
        .collect();
    let h = x.matmul(&p[0].t()).add(&p[1]).relu();
    let expected = h.matmul(&p[2].t()).add(&p[3]);
    assert_close(&y, &expected, 1e-12);
    // The empty container is the identity.
    assert_eq!(Sequential::<f64>::new().predict(&x), x);
    assert!(Sequential::<f64>::new().is_empty());
}

#[test]
fn sequential_mode_buffers_and_seeds_propagate() {
    let mut net = Sequential::<f64>::new()
        .add(Linear::new(3, 3))
        .add(BatchNorm1d::new(3))
        .add(Dropout::new(0.5));
    let buffers: Vec<String> = net.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    );
    assert_eq!(net.buffers_mut().len(), 3);

    // Reseeding the container gives child i the seed child_seed(seed, i).
    let x = Tensor::<f64>::ones(&[50, 3]);
    net.reseed(9);
    let mut lone = Dropout::new(0.5);
    Module::<f64>::reseed(&mut lone, child_seed(9, 2));
    let net_mask = net.layer_mut(2).predict(&x);
    assert_eq!(net_mask, Module::<f64>::predict(&mut lone, &x));

    // eval reaches dropout (identity) and batch norm (running statistics, which stop moving).
    net.eval();
    let before = net.buffers()[0].1.clone();
    let a = net.predict(&x);
    let b = net.predict(&x);
    assert_eq!(a, b);
    assert_eq!(net.buffers()[0].1, &before);
    net.train();
    net.predict(&spread(&[4, 3], 2));
    assert_ne!(net.buffers()[0].1, &before);
}

#[test]
#[should_panic(expected = "Sequential: layer 3 of 3")]
fn sequential_layer_out_of_range() {
    mlp().layer_mut(3);
}

#[test]
fn sequential_gradcheck() {
    let mut net = Sequential::<f64>::new()
        .add(Linear::new(3, 4))
        .add(Activation::Tanh)
        .add(BatchNorm1d::new(4))
        .add(Linear::new(4, 2));
    gradcheck_module("Sequential", &mut net, &spread(&[5, 3], 3), true, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// module_parts! in a user struct

/// A user model: a plain parameter, an optional one, and three children.
struct Net {
    scale: Param<f64>,
    shift: Option<Param<f64>>,
    unused: Option<Param<f64>>,
    body: Sequential<f64>,
    norm: BatchNorm1d<f64>,
    drop: Dropout,
}

impl Module<f64> for Net {
    fn forward(&mut self, x: &Var<f64>) -> Var<f64> {
        let h = self.drop.forward(&self.norm.forward(&self.body.forward(x)));
        let h = h.mul(&self.scale.var());
        match &self.shift {
            Some(s) => h.add(&s.var()),
            None => h,
        }
    }
    module_parts!(f64; params: [scale]; optional: [shift, unused]; children: [body, norm, drop]);
}

fn net() -> Net {
    Net {
        scale: Param::new(t64(&[2.0], &[1])),
        shift: Some(Param::new(t64(&[0.5, -0.5], &[2]))),
        unused: None,
        body: Sequential::new()
            .add(Linear::new(3, 2))
            .add(Activation::Tanh),
        norm: BatchNorm1d::new(2),
        drop: Dropout::new(0.5),
    }
}

#[test]
fn module_parts_names_buffers_and_counts() {
    let mut n = net();
    assert_eq!(
        names(&n),
        [
            "scale",
            "shift",
            "body.0.weight",
            "body.0.bias",
            "norm.weight",
            "norm.bias"
        ]
    );
    let mut_names: Vec<String> = n.params_mut().into_iter().map(|(s, _)| s).collect();
    assert_eq!(mut_names, names(&n));
    assert_eq!(n.num_params(), 1 + 2 + 6 + 2 + 2 + 2);
    let buffers: Vec<String> = n.buffers().into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        buffers,
        [
            "norm.running_mean",
            "norm.running_var",
            "norm.num_batches_tracked"
        ]
    );
    assert_eq!(n.buffers_mut().len(), 3);
    // params_mut reaches the real parameters.
    for (name, p) in n.params_mut() {
        if name == "scale" {
            p.set(t64(&[3.0], &[1]));
        }
    }
    assert_eq!(n.scale.value().item(), 3.0);
}

#[test]
fn module_parts_propagates_mode_and_seeds() {
    let mut n = net();
    let x = spread(&[6, 3], 4);
    // Children are reseeded with child_seed(seed, index) in declaration order: drop is child 2.
    n.reseed(21);
    let body = n.body.predict(&x);
    let normed = n.norm.predict(&body);
    let mut lone = Dropout::new(0.5);
    Module::<f64>::reseed(&mut lone, child_seed(21, 2));
    let dropped = Module::<f64>::predict(&mut lone, &normed);
    n.reseed(21);
    let expected = dropped.mul_scalar(2.0).add(&t64(&[0.5, -0.5], &[2]));
    assert_close(&n.predict(&x), &expected, 1e-12);

    // eval reaches dropout and batch norm: two calls agree and no statistics move.
    n.eval();
    let before = n.norm.running_mean.clone();
    assert_eq!(n.predict(&x), n.predict(&x));
    assert_eq!(n.norm.running_mean, before);
    assert!(!n.norm.is_training());
}

#[test]
fn module_parts_gradcheck() {
    let mut n = net();
    n.drop = Dropout::new(0.0);
    gradcheck_module(
        "module_parts! user struct",
        &mut n,
        &spread(&[4, 3], 5),
        true,
        1e-6,
    );
}

#[test]
fn prefixed_and_child_seed() {
    let items = prefixed(
        "fc1",
        vec![("weight".to_string(), 1), ("bias".to_string(), 2)],
    );
    assert_eq!(
        items,
        [("fc1.weight".to_string(), 1), ("fc1.bias".to_string(), 2)]
    );
    assert_ne!(child_seed(1, 0), child_seed(1, 1));
    assert_ne!(child_seed(1, 0), child_seed(2, 0));
    assert_eq!(child_seed(5, 3), child_seed(5, 3));
}

// ---------------------------------------------------------------------------------------------
// The gradient check itself

/// `y = detach(x)·x`: the recorded gradient is `x`, the true one `2x`.
struct WrongGradient;

impl Module<f64> for WrongGradient {
    fn forward(&mut self, x: &Var<f64>) -> Var<f64> {
        x.detach().mul(x)
    }
    module_parts!(f64);
}

#[test]
#[should_panic(expected = "gradcheck wrong: input[0]")]
fn gradcheck_helper_catches_a_wrong_gradient() {
    gradcheck_module(
        "wrong",
        &mut WrongGradient,
        &t64(&[1.5, -2.0], &[2]),
        true,
        1e-6,
    );
}

#[test]
fn unflatten_inverts_flatten() {
    let x = Var::leaf(Tensor::from_vec(
        (0..24).map(|v| v as f32).collect(),
        &[2, 12],
    ));
    let y = Unflatten::new(&[3, 2, 2]).forward(&x);
    assert_eq!(y.shape(), [2, 3, 2, 2]);
    assert_eq!(Flatten.forward(&y).value().to_vec(), x.value().to_vec());
    let g = y.sum().backward();
    assert_eq!(g.wrt(&x).unwrap().shape(), [2, 12]);
}

#[test]
#[should_panic(
    expected = "Unflatten: input [2, 12] has 12 values per example, the shape [5, 2] holds 10"
)]
fn unflatten_refuses_a_shape_of_another_size() {
    Unflatten::new(&[5, 2]).forward(&Var::constant(Tensor::<f32>::zeros(&[2, 12])));
}
