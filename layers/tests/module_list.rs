//! `ModuleList`: positional names, parameter counts, modes and seeds passed on, a model that
//! loops over one trains, and its checkpoints round-trip.

use rand::SeedableRng;
use rand::rngs::StdRng;
use strata_autograd::Var;
use strata_layers::checkpoint::ModuleState;
use strata_layers::loss::mse_loss;
use strata_layers::{
    Activation, BatchNorm1d, Dropout, Linear, Module, ModuleList, Reduction, manual_seed,
    module_parts,
};
use strata_tensor::Tensor;

/// Linear layers applied in turn with a tanh between them, and a skip connection around
/// every hidden one: the forward a `ModuleList` leaves to its owner.
struct Deep {
    layers: ModuleList<f64>,
}

impl Module<f64> for Deep {
    fn forward(&mut self, x: &Var<f64>) -> Var<f64> {
        let n = self.layers.len();
        let mut h = x.clone();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let y = layer.forward(&h);
            h = if i + 1 == n {
                y
            } else if i == 0 {
                y.tanh()
            } else {
                h.add(&y.tanh())
            };
        }
        h
    }
    module_parts!(f64; children: [layers]);
}

fn deep() -> Deep {
    let mut layers = ModuleList::new();
    layers.push(Linear::new(3, 8));
    layers.push(Linear::new(8, 8));
    layers.push(Linear::new(8, 1));
    Deep { layers }
}

fn names<M: Module<f64> + ?Sized>(m: &M) -> Vec<String> {
    m.params().into_iter().map(|(n, _)| n).collect()
}

#[test]
fn names_lengths_and_counts() {
    let mut list = ModuleList::<f64>::new()
        .add(Linear::new(4, 3))
        .add(Activation::Relu)
        .add(BatchNorm1d::new(3));
    list.push_boxed(Box::new(Linear::new(3, 2)));
    assert_eq!(list.len(), 4);
    assert!(!list.is_empty());
    assert!(ModuleList::<f64>::new().is_empty());
    assert_eq!(
        names(&list),
        [
            "0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"
        ]
    );
    let buffers: Vec<String> = list.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        ["2.running_mean", "2.running_var", "2.num_batches_tracked"]
    );
    let mut_names: Vec<String> = list.params_mut().into_iter().map(|(n, _)| n).collect();
    assert_eq!(mut_names, names(&list));
    assert_eq!(list.num_params(), 4 * 3 + 3 + 3 + 3 + 3 * 2 + 2);
    let children: Vec<String> = list.children().into_iter().map(|(n, _)| n).collect();
    assert_eq!(children, ["0", "1", "2", "3"]);

    // Indexing and iteration see the modules in order.
    assert_eq!(list[0].num_params(), 15);
    assert_eq!(list.get(3).map(|m| m.num_params()), Some(8));
    assert!(list.get(4).is_none());
    assert!(list.get_mut(4).is_none());
    let counts: Vec<usize> = list.iter().map(|m| m.num_params()).collect();
    assert_eq!(counts, [15, 0, 6, 8]);
    let y = list[3].forward(&Var::constant(Tensor::zeros(&[5, 3])));
    assert_eq!(y.shape(), [5, 2]);

    // Nested in a module: the field name comes first.
    let net = deep();
    assert_eq!(
        names(&net),
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias",
        ]
    );
    assert_eq!(net.num_params(), (3 * 8 + 8) + (8 * 8 + 8) + (8 + 1));
}

#[test]
fn modes_and_seeds_reach_every_module() {
    let mut list = ModuleList::<f64>::new()
        .add(Dropout::new(0.5))
        .add(BatchNorm1d::new(2));
    assert!(list.is_training());
    list.eval();
    assert!(!list.is_training());
    assert!(list.iter().all(|m| !m.is_training()));
    // In evaluation, dropout is the identity.
    let x = Var::constant(Tensor::ones(&[4, 2]));
    assert_eq!(list[0].forward(&x).value().to_vec(), vec![1.0; 8]);
    list.train();
    assert!(list.iter().all(|m| m.is_training()));

    // Reseeding restarts the dropout's stream: the same masks twice.
    let x = Var::constant(Tensor::ones(&[64, 2]));
    list.reseed(7);
    let a = list[0].forward(&x).value().to_vec();
    list.reseed(7);
    let b = list[0].forward(&x).value().to_vec();
    assert_eq!(a, b);
    assert!(a.contains(&0.0) && a.contains(&2.0));
}

#[test]
#[should_panic(expected = "ModuleList: has no forward of its own (input [2, 3]); iterate over it")]
fn forward_of_the_list_itself_panics() {
    let mut list = ModuleList::<f64>::new().add(Linear::new(3, 3));
    list.forward(&Var::constant(Tensor::zeros(&[2, 3])));
}

#[test]
#[should_panic(expected = "ModuleList: layer 2 of 2 does not exist (indices are 0..2)")]
fn index_out_of_range_panics() {
    let list = ModuleList::<f64>::new()
        .add(Linear::new(3, 3))
        .add(Linear::new(3, 3));
    let _ = list[2].num_params();
}

#[test]
fn a_model_looping_over_a_list_trains() {
    manual_seed(11);
    let mut net = deep();
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::<f64>::rand_uniform(&[32, 3], -1.0, 1.0, &mut rng);
    // Target: a smooth function of the inputs.
    let target: Vec<f64> = x
        .to_vec()
        .chunks(3)
        .map(|r| (r[0] - 0.5 * r[1]).sin() + 0.3 * r[2])
        .collect();
    let (x, target) = (
        Var::constant(x),
        Var::constant(Tensor::from_vec(target, &[32, 1])),
    );
    let mut losses = Vec::new();
    for _ in 0..200 {
        let loss = mse_loss(&net.forward(&x), &target, Reduction::Mean);
        losses.push(loss.item());
        let grads = loss.backward();
        for (name, p) in net.params_mut() {
            let g = grads
                .get_id(p.id())
                .unwrap_or_else(|| panic!("{name} has a gradient"))
                .clone();
            let stepped = p.value().sub(&g.mul_scalar(0.1));
            p.set(stepped);
        }
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < 0.2 * first, "loss fell from {first} to only {last}");
    // Every layer of the list was updated (each has a gradient path).
    assert!(losses.windows(2).filter(|w| w[1] > w[0]).count() < 10);
}

#[test]
fn checkpoint_round_trip() {
    let dir = std::env::temp_dir().join(format!("strata-module-list-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("deep.ckpt");
    let net = deep();
    strata_layers::checkpoint::save_module(&net, &path).unwrap();
    let mut fresh = deep();
    assert_ne!(
        fresh.params()[0].1.value().to_vec(),
        net.params()[0].1.value().to_vec()
    );
    strata_layers::checkpoint::load_module(&mut fresh, &path).unwrap();
    assert_eq!(ModuleState::capture(&fresh), ModuleState::capture(&net));
    let x = Var::constant(Tensor::from_vec(vec![0.1, -0.2, 0.3], &[1, 3]));
    let mut net = net;
    assert_eq!(
        fresh.forward(&x).value().to_vec(),
        net.forward(&x).value().to_vec()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
