//! Multi-layer perceptrons.

use strata_autograd::Var;
use strata_layers::{Activation, Dropout, Init, Linear, Module, Param};
use strata_tensor::{Element, Tensor};

/// The output layer's nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MlpOutput {
    /// Raw scores (logits), for softmax cross-entropy.
    Linear,
    /// `σ(z)`, as the DeepLearnToolbox's `nn.output = 'sigm'` (with a squared-error loss).
    Sigmoid,
    /// `softmax(z)` along the features.
    Softmax,
}

/// How weights and biases start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MlpInit {
    /// PyTorch's `nn.Linear` default: `W, b ~ U(±1/√fan_in)`.
    Pytorch,
    /// DeepLearnToolbox `nnsetup`: `W, b ~ U(±4·√(6/(fan_in + fan_out)))` — the bias column is
    /// part of `W` there and drawn alike (recommended for sigmoid units).
    DltSigmoid,
    /// `U(±√(6/(fan_in + fan_out)))` for weights and biases (Glorot's range, for tanh units).
    DltTanh,
}

/// Configuration of an [`Mlp`].
#[derive(Clone, Debug, PartialEq)]
pub struct MlpConfig {
    /// Layer widths from input to output, e.g. `[784, 100, 10]` (at least two).
    pub sizes: Vec<usize>,
    /// Activation after every hidden layer.
    pub hidden: Activation,
    /// Nonlinearity of the output layer.
    pub output: MlpOutput,
    /// Dropout probability after every hidden activation (0 for none).
    pub dropout: f64,
    /// Initialisation.
    pub init: MlpInit,
}

impl MlpConfig {
    /// `sizes` with ReLU hidden units, linear output, no dropout, PyTorch's init.
    pub fn new(sizes: &[usize]) -> Self {
        MlpConfig {
            sizes: sizes.to_vec(),
            hidden: Activation::Relu,
            output: MlpOutput::Linear,
            dropout: 0.0,
            init: MlpInit::Pytorch,
        }
    }

    /// Sets the hidden activation.
    pub fn with_hidden(mut self, activation: Activation) -> Self {
        self.hidden = activation;
        self
    }

    /// Sets the output nonlinearity.
    pub fn with_output(mut self, output: MlpOutput) -> Self {
        self.output = output;
        self
    }

    /// Sets the hidden dropout probability.
    pub fn with_dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }

    /// Sets the initialisation.
    pub fn with_init(mut self, init: MlpInit) -> Self {
        self.init = init;
        self
    }
}

/// A fully connected network: `hₗ = act(hₗ₋₁·Wₗᵀ + bₗ)` for the hidden layers (optionally
/// followed by dropout), `y = out(h·W_Lᵀ + b_L)`. Parameters are named `layers.{i}.weight` /
/// `layers.{i}.bias`.
pub struct Mlp<T: Element = f32> {
    /// The affine maps, input to output.
    pub layers: Vec<Linear<T>>,
    hidden: Activation,
    output: MlpOutput,
    dropout: Vec<Dropout>,
}

impl<T: Element> Mlp<T> {
    /// Builds the network from its configuration (weights from the initialisation stream, see
    /// `strata_layers::manual_seed`).
    ///
    /// # Panics
    /// With fewer than two sizes, a zero size, or dropout outside `[0, 1)`.
    pub fn new(config: &MlpConfig) -> Self {
        assert!(
            config.sizes.len() >= 2,
            "Mlp: needs at least an input and an output size, got {:?}",
            config.sizes
        );
        let layers = config
            .sizes
            .windows(2)
            .map(|w| {
                let linear = Linear::new(w[0], w[1]);
                let r = (6.0 / (w[0] + w[1]) as f64).sqrt();
                match config.init {
                    MlpInit::Pytorch => linear,
                    MlpInit::DltSigmoid => linear.with_init(
                        Init::Uniform {
                            low: -4.0 * r,
                            high: 4.0 * r,
                        },
                        Init::Uniform {
                            low: -4.0 * r,
                            high: 4.0 * r,
                        },
                    ),
                    MlpInit::DltTanh => linear.with_init(
                        Init::Uniform { low: -r, high: r },
                        Init::Uniform { low: -r, high: r },
                    ),
                }
            })
            .collect::<Vec<_>>();
        let dropout = if config.dropout > 0.0 {
            (1..layers.len())
                .map(|_| Dropout::new(config.dropout))
                .collect()
        } else {
            Vec::new()
        };
        Mlp {
            layers,
            hidden: config.hidden,
            output: config.output,
            dropout,
        }
    }

    /// The activation after each hidden layer.
    pub fn hidden_activation(&self) -> Activation {
        self.hidden
    }

    /// What follows the last affine map.
    pub fn output(&self) -> MlpOutput {
        self.output
    }

    /// Replaces the weights and bias of layer `i` (e.g. with a pretrained encoder's).
    ///
    /// # Panics
    /// If `i` is out of range or the shapes differ.
    pub fn set_layer(&mut self, i: usize, weight: Tensor<T>, bias: Tensor<T>) {
        let n = self.layers.len();
        let layer = self
            .layers
            .get_mut(i)
            .unwrap_or_else(|| panic!("Mlp::set_layer: layer {i} of {n}"));
        layer.weight.set(weight);
        layer
            .bias
            .as_mut()
            .expect("Mlp layers have a bias")
            .set(bias);
    }
}

impl<T: Element> Module<T> for Mlp<T> {
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            h = layer.forward(&h);
            if i < last {
                h = self.hidden.apply(&h);
                if let Some(d) = self.dropout.get_mut(i) {
                    h = Module::<T>::forward(d, &h);
                }
            }
        }
        match self.output {
            MlpOutput::Linear => h,
            MlpOutput::Sigmoid => h.sigmoid(),
            MlpOutput::Softmax => h.softmax(h.ndim() - 1),
        }
    }

    fn params(&self) -> Vec<(String, &Param<T>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| strata_layers::prefixed(&format!("layers.{i}"), l.params()))
            .collect()
    }

    fn params_mut(&mut self) -> Vec<(String, &mut Param<T>)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, l)| strata_layers::prefixed(&format!("layers.{i}"), l.params_mut()))
            .collect()
    }

    fn is_training(&self) -> bool {
        self.dropout.iter().any(|d| Module::<T>::is_training(d))
    }

    fn set_training(&mut self, training: bool) {
        self.dropout
            .iter_mut()
            .for_each(|d| Module::<T>::set_training(d, training));
    }

    fn reseed(&mut self, seed: u64) {
        for (i, d) in self.dropout.iter_mut().enumerate() {
            Module::<T>::reseed(d, strata_layers::child_seed(seed, i as u64));
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
