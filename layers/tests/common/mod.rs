//! Helpers shared by the layer tests: tensor construction, closeness checks, and a
//! finite-difference gradient check that runs through a layer's own `forward` and `Param`s.

#![allow(dead_code)]

use strata_autograd::{Var, no_grad};
use strata_layers::{
    Activation, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Module, Sequential, module_parts,
};
use strata_tensor::Tensor;

/// An f64 tensor from values and a shape.
pub fn t64(data: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(data.to_vec(), shape)
}

/// An f32 tensor from values and a shape.
pub fn t32(data: &[f32], shape: &[usize]) -> Tensor<f32> {
    Tensor::from_vec(data.to_vec(), shape)
}

/// Asserts equal shapes and `|a − e| ≤ tol` everywhere, printing both on failure.
pub fn assert_close(actual: &Tensor<f64>, expected: &Tensor<f64>, tol: f64) {
    assert_eq!(
        actual.shape(),
        expected.shape(),
        "shape mismatch: {actual} vs {expected}"
    );
    for (i, (a, e)) in actual.to_vec().iter().zip(expected.to_vec()).enumerate() {
        assert!(
            (a - e).abs() <= tol,
            "element {i}: {a} ≠ {e} (tol {tol})\nactual {actual}\nexpected {expected}"
        );
    }
}

/// Asserts `|a − e| ≤ tol` for scalars.
pub fn assert_near(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{actual} ≠ {expected} (tol {tol})"
    );
}

/// f32 variant of [`assert_close`].
pub fn assert_close32(actual: &Tensor<f32>, expected: &[f32], tol: f32) {
    assert_eq!(actual.numel(), expected.len(), "size mismatch: {actual}");
    for (i, (a, e)) in actual.to_vec().iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol,
            "element {i}: {a} ≠ {e} (tol {tol})\nactual {actual}"
        );
    }
}

/// A deterministic tensor of `shape` with values spread over roughly `[-2, 2]`, all distinct
/// (so max-pooling and maxout have no ties and ReLU kinks are avoided).
pub fn spread(shape: &[usize], salt: usize) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let data = (0..n)
        .map(|i| {
            let k = (i * 37 + salt * 11 + 5) % 97;
            (k as f64 - 48.3) / 24.0 + i as f64 * 1e-3
        })
        .collect();
    Tensor::from_vec(data, shape)
}

/// The fixed weights `r` of the checked scalar `s = Σ r ⊙ f(x)`.
fn projection(shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    Tensor::from_vec(
        (0..n)
            .map(|i| 0.5 + ((i * 7919) % 1000) as f64 / 1000.0)
            .collect(),
        shape,
    )
}

/// Checks the gradients of a layer in f64 against central finite differences (step 1e-6):
/// `s = Σ r ⊙ m.forward(x)` for a fixed `r`; the analytic gradients of `s` with respect to `x`
/// (when `check_input`) and to every parameter of `m` (found in the `Grads` by the `Param`'s
/// id) are compared with `(s(θ + h) − s(θ − h))/2h`, perturbing one element at a time through
/// `params_mut`. The error measure is `|a − n| / max(1, |a|, |n|)`, as `assert_gradcheck`'s.
///
/// # Panics
/// When an error exceeds `tol`, naming the input or parameter and the element.
pub fn gradcheck_module<M: Module<f64>>(
    what: &str,
    m: &mut M,
    x: &Tensor<f64>,
    check_input: bool,
    tol: f64,
) {
    let h = 1e-6;
    let x = x.contiguous();
    let leaf = if check_input {
        Var::leaf(x.clone())
    } else {
        Var::constant(x.clone())
    };
    let y = m.forward(&leaf);
    let r = projection(y.shape());
    let grads = y.backward_with(r.clone());
    let s = |m: &mut M, x: &Tensor<f64>| {
        no_grad(|| m.forward(&Var::constant(x.clone())).value().mul(&r).sum())
    };
    let check = |name: &str, analytic: Vec<f64>, numeric: Vec<f64>| {
        assert_eq!(analytic.len(), numeric.len());
        for (j, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            let err = (a - n).abs() / 1f64.max(a.abs()).max(n.abs());
            assert!(
                err <= tol,
                "gradcheck {what}: {name}[{j}]: analytic {a}, numeric {n} (error {err:.3e} > {tol:.1e})"
            );
        }
    };

    if check_input {
        let analytic = grads
            .wrt(&leaf)
            .map(|g| g.to_vec())
            .unwrap_or_else(|| vec![0.0; x.numel()]);
        let base = x.to_vec();
        let numeric = (0..base.len())
            .map(|j| {
                let mut v = base.clone();
                v[j] += h;
                let sp = s(m, &Tensor::from_vec(v.clone(), x.shape()));
                v[j] -= 2.0 * h;
                let sm = s(m, &Tensor::from_vec(v, x.shape()));
                (sp - sm) / (2.0 * h)
            })
            .collect();
        check("input", analytic, numeric);
    }

    let count = m.params().len();
    for i in 0..count {
        let (name, analytic, base, shape) = {
            let params = m.params();
            let (name, p) = &params[i];
            let analytic = grads
                .get(p)
                .map(|g| g.to_vec())
                .unwrap_or_else(|| vec![0.0; p.numel()]);
            (
                name.clone(),
                analytic,
                p.value().to_vec(),
                p.shape().to_vec(),
            )
        };
        let set = |m: &mut M, v: Vec<f64>| m.params_mut()[i].1.set(Tensor::from_vec(v, &shape));
        let mut numeric = Vec::with_capacity(base.len());
        for j in 0..base.len() {
            let mut v = base.clone();
            v[j] += h;
            set(m, v.clone());
            let sp = s(m, &x);
            v[j] -= 2.0 * h;
            set(m, v);
            let sm = s(m, &x);
            numeric.push((sp - sm) / (2.0 * h));
        }
        set(m, base);
        check(&name, analytic, numeric);
    }
}

/// The names of a module's parameters, in order.
pub fn names<M: Module<f64>>(m: &M) -> Vec<String> {
    m.params().into_iter().map(|(n, _)| n).collect()
}

/// `value` in a checkpoint of format version 1: the 24-byte header and the bincode value, with
/// no kind label (as Strata wrote before the label existed).
pub fn version_1_file<P: serde::Serialize>(value: &P) -> Vec<u8> {
    let payload = bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap();
    let mut bytes = strata_layers::checkpoint::MAGIC.to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    bytes
}

/// LeNet-5 as `strata_models::LeNet5` builds it, in its two styles.
pub struct LeNet5 {
    /// C1 … S4 and the flattening.
    pub features: Sequential,
    /// C5, F6 and the output layer.
    pub classifier: Sequential,
}

impl Module for LeNet5 {
    fn forward(&mut self, x: &Var) -> Var {
        let h = self.features.forward(x);
        self.classifier.forward(&h)
    }
    module_parts!(f32; children: [features, classifier]);
}

/// LeNet-5, classic (LeCun tanh, average pooling) or modern (ReLU, max pooling).
pub fn lenet(classic: bool) -> LeNet5 {
    let act = if classic {
        Activation::LecunTanh
    } else {
        Activation::Relu
    };
    let pool = |s: Sequential| {
        if classic {
            s.add(AvgPool2d::new((2, 2)))
        } else {
            s.add(MaxPool2d::new((2, 2)))
        }
    };
    let features = Sequential::new()
        .add(Conv2d::new(1, 6, (5, 5)).with_padding((2, 2)))
        .add(act);
    let features = pool(features).add(Conv2d::new(6, 16, (5, 5))).add(act);
    let features = pool(features).add(Flatten);
    let classifier = Sequential::new()
        .add(Linear::new(400, 120))
        .add(act)
        .add(Linear::new(120, 84))
        .add(act)
        .add(Linear::new(84, 10));
    LeNet5 {
        features,
        classifier,
    }
}
