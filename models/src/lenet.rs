//! LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998).

use strata_autograd::Var;
use strata_layers::{
    Activation, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Module, Sequential, module_parts,
};
use strata_tensor::Element;

/// Which LeNet-5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeNetStyle {
    /// The 1998 network's shape with its squashing function: LeCun's scaled tanh
    /// `1.7159·tanh(2x/3)` and average-pooling subsampling. Simplified as is usual today:
    /// C3 is fully connected to S2 (not the original partial table), subsampling has no trainable
    /// coefficient, and the output is a linear layer for softmax cross-entropy rather than
    /// Euclidean RBF units.
    Classic,
    /// The modern variant: ReLU and 2×2 max pooling.
    Modern,
}

/// Configuration of a [`LeNet5`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeNetConfig {
    /// Activation and pooling style.
    pub style: LeNetStyle,
    /// Input side: 28 (MNIST; C1 pads by 2 to see 32×32) or 32 (the original, no padding).
    pub input_size: usize,
    /// Number of classes (10).
    pub classes: usize,
}

impl Default for LeNetConfig {
    /// Modern style, 28×28 inputs, 10 classes.
    fn default() -> Self {
        LeNetConfig {
            style: LeNetStyle::Modern,
            input_size: 28,
            classes: 10,
        }
    }
}

/// LeNet-5 on `[N, 1, S, S]` images (`S` = 28 or 32), giving `[N, classes]` logits:
///
/// `C1` conv 6@5×5 (padding 2 for 28×28) → act → `S2` pool 2×2 → `C3` conv 16@5×5 → act →
/// `S4` pool 2×2 → flatten 16·5·5 = 400 → `C5` 120 → act → `F6` 84 → act → output.
///
/// (`C5` is a 5×5 convolution over a 5×5 map, i.e. a fully connected 400 → 120 layer, written as
/// one.) Parameters are named `features.{0,3}.*` and `classifier.{0,2,4}.*` (PyTorch-style
/// `Sequential` indices). 61,706 parameters.
pub struct LeNet5<T: Element = f32> {
    /// C1–S4 and the flatten.
    pub features: Sequential<T>,
    /// C5, F6 and the output layer.
    pub classifier: Sequential<T>,
}

impl<T: Element> LeNet5<T> {
    /// Builds LeNet-5 (PyTorch's default initialisation).
    ///
    /// # Panics
    /// If `input_size` is not 28 or 32, or `classes` is 0.
    pub fn new(config: LeNetConfig) -> Self {
        assert!(
            config.input_size == 28 || config.input_size == 32,
            "LeNet5: input size must be 28 or 32, got {}",
            config.input_size
        );
        assert!(config.classes > 0, "LeNet5: needs at least one class");
        let pad = if config.input_size == 28 { 2 } else { 0 };
        let act = match config.style {
            LeNetStyle::Classic => Activation::LecunTanh,
            LeNetStyle::Modern => Activation::Relu,
        };
        let pool = |features: Sequential<T>| match config.style {
            LeNetStyle::Classic => features.add(AvgPool2d::new((2, 2))),
            LeNetStyle::Modern => features.add(MaxPool2d::new((2, 2))),
        };
        let features = Sequential::new()
            .add(Conv2d::new(1, 6, (5, 5)).with_padding((pad, pad)))
            .add(act);
        let features = pool(features).add(Conv2d::new(6, 16, (5, 5))).add(act);
        let features = pool(features).add(Flatten);
        let classifier = Sequential::new()
            .add(Linear::new(400, 120))
            .add(act)
            .add(Linear::new(120, 84))
            .add(act)
            .add(Linear::new(84, config.classes));
        LeNet5 {
            features,
            classifier,
        }
    }
}

impl<T: Element> Module<T> for LeNet5<T> {
    /// # Panics
    /// If the input is not `[N, 1, S, S]` with the configured `S`.
    fn forward(&mut self, x: &Var<T>) -> Var<T> {
        let h = self.features.forward(x);
        self.classifier.forward(&h)
    }
    module_parts!(T; children: [features, classifier]);
}
