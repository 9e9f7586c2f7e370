//! The networks and action distributions the algorithms share: [`mlp`], [`Categorical`]
//! (sampling, log-probabilities and entropy of a softmax policy), [`argmax_rows`] (greedy
//! actions) and [`copy_params`] (DQN's target network).

use rand::Rng;
use strata_autograd::Var;
use strata_layers::{Activation, Linear, Module, Sequential};
use strata_tensor::{Indices, Tensor};

/// A multilayer perceptron `input → hidden[0] → … → output` with `activation` after every
/// hidden layer and none after the last; PyTorch's default initialisation.
///
/// # Panics
/// If a size is 0.
pub fn mlp(input: usize, hidden: &[usize], output: usize, activation: Activation) -> Sequential {
    let mut net = Sequential::new();
    let mut width = input;
    for &h in hidden {
        net = net.add(Linear::new(width, h)).add(activation);
        width = h;
    }
    net.add(Linear::new(width, output))
}

/// A softmax policy over the last axis of logits `[N, A]`: `π(a|s) = softmax(logits)ₐ`.
pub struct Categorical {
    log_probs: Var,
}

impl Categorical {
    /// The distribution of logits `[N, A]` (differentiable through them).
    ///
    /// # Panics
    /// If the logits are not 2-D.
    pub fn from_logits(logits: &Var) -> Self {
        assert_eq!(
            logits.ndim(),
            2,
            "Categorical: logits must be [N, actions], got {:?}",
            logits.shape()
        );
        Categorical {
            log_probs: logits.log_softmax(1),
        }
    }

    /// `log π(·|s)` for every action, `[N, A]`.
    pub fn log_probs(&self) -> &Var {
        &self.log_probs
    }

    /// One action per row, drawn by inverse transform sampling of `π(·|s)`.
    pub fn sample(&self, rng: &mut impl Rng) -> Vec<usize> {
        let shape = self.log_probs.shape();
        let (rows, actions) = (shape[0], shape[1]);
        let lp = self.log_probs.value().to_vec();
        (0..rows)
            .map(|r| {
                let u: f32 = rng.random();
                let mut cumulative = 0.0;
                for a in 0..actions {
                    cumulative += lp[r * actions + a].exp();
                    if u < cumulative {
                        return a;
                    }
                }
                actions - 1 // u fell in the rounding gap above Σπ ≈ 1
            })
            .collect()
    }

    /// `log π(aᵢ|sᵢ)`, `[N]`.
    ///
    /// # Panics
    /// If there is not one action per row or an action is out of range.
    pub fn log_prob(&self, actions: &[usize]) -> Var {
        let n = self.log_probs.shape()[0];
        assert_eq!(
            actions.len(),
            n,
            "Categorical::log_prob: {} actions for {n} rows",
            actions.len()
        );
        self.log_probs
            .gather(1, &Indices::new(actions.to_vec(), &[n, 1]))
            .reshape(&[n])
    }

    /// The entropy `H = −Σₐ π(a|s) log π(a|s)` of each row, `[N]`.
    pub fn entropy(&self) -> Var {
        self.log_probs
            .exp()
            .mul(&self.log_probs)
            .sum_axis(1, false)
            .neg()
    }
}

/// The index of the largest value (the first on ties; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold(0, |best, (a, &v)| if v > values[best] { a } else { best })
}

/// The index of the largest value of each row of `[N, A]` values (the first on ties).
pub fn argmax_rows(values: &Tensor) -> Vec<usize> {
    values
        .to_vec()
        .chunks(values.shape()[1])
        .map(argmax)
        .collect()
}

/// Copies every parameter and buffer of `source` into `target` (the same architecture):
/// DQN's target-network update. The copy shares storage until either side is updated in place.
///
/// # Panics
/// If the two modules' parameter names or shapes differ.
pub fn copy_params(target: &mut dyn Module, source: &dyn Module) {
    let src = source.params();
    let mut dst = target.params_mut();
    assert_eq!(
        dst.len(),
        src.len(),
        "copy_params: {} target parameters, {} source parameters",
        dst.len(),
        src.len()
    );
    for ((dn, d), (sn, s)) in dst.iter_mut().zip(src) {
        assert_eq!(*dn, sn, "copy_params: parameter {dn} meets {sn}");
        d.set(s.value().clone());
    }
}

/// The outputs of `net` for one observation (a batch of one, no graph): logits or Q-values.
pub fn outputs(net: &mut dyn Module, observation: &[f32]) -> Vec<f32> {
    let x = Var::constant(Tensor::from_vec(
        observation.to_vec(),
        &[1, observation.len()],
    ));
    strata_autograd::no_grad(|| net.forward(&x))
        .into_value()
        .to_vec()
}

/// The action whose output (logit or Q-value) is largest for one observation.
pub fn greedy_action(net: &mut dyn Module, observation: &[f32]) -> usize {
    argmax(&outputs(net, observation))
}

/// Observations `[N × dim]` (row-major) as a tensor `[N, dim]`.
pub fn observation_batch(observations: &[f32], dim: usize) -> Tensor {
    Tensor::from_vec(observations.to_vec(), &[observations.len() / dim, dim])
}
