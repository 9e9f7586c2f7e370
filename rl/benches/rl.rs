//! Reinforcement-learning costs: one batch-1 forward + backward + Adam step of the 4-64-64-2
//! policy (`reference/rl.py --algo step` measures the same in PyTorch), one CartPole step, and
//! 1000 environment steps of DQN and of A2C training.

use criterion::{Criterion, criterion_group, criterion_main};
use strata_autograd::{Reduction, Var};
use strata_layers::{Activation, Module};
use strata_optim::{AdamConfig, Optimizer};
use strata_rl::envs::CartPole;
use strata_rl::policy::mlp;
use strata_rl::{A2c, A2cConfig, Agent, Dqn, DqnConfig, Env};
use strata_tensor::Tensor;

fn batch_one_step(c: &mut Criterion) {
    let mut net = mlp(4, &[64, 64], 2, Activation::Relu);
    let mut adam = AdamConfig::new(1e-3).build::<f32>().unwrap();
    let x = Var::constant(Tensor::from_vec(vec![0.1, -0.2, 0.3, 0.05], &[1, 4]));
    let y = Var::constant(Tensor::from_vec(vec![0.5, -0.5], &[1, 2]));
    c.bench_function("rl/mlp-4-64-64-2-batch1-step", |b| {
        b.iter(|| {
            let grads = net.forward(&x).mse_loss(&y, Reduction::Mean).backward();
            let mut params: Vec<_> = net.params_mut().into_iter().map(|(_, p)| p).collect();
            adam.step(&mut params, &grads);
        })
    });
}

fn environment_step(c: &mut Criterion) {
    let mut env = CartPole::new();
    env.reset(Some(0));
    let mut action = 0;
    c.bench_function("rl/cartpole-step", |b| {
        b.iter(|| {
            action ^= 1;
            if env.step(action).unwrap().done() {
                env.reset(None);
            }
        })
    });
}

fn training(c: &mut Criterion) {
    let mut group = c.benchmark_group("rl/train-1000-steps");
    group.sample_size(10);
    let mut dqn = Dqn::new(
        CartPole::new(),
        DqnConfig::default().with_learning_starts(0),
    )
    .unwrap();
    group.bench_function("dqn", |b| {
        b.iter(|| {
            dqn.train_until(dqn.env_steps() + 1000, &mut |_, _| {})
                .unwrap()
        })
    });
    let mut a2c = A2c::new(CartPole::new(), A2cConfig::default()).unwrap();
    group.bench_function("a2c", |b| {
        b.iter(|| {
            a2c.train_until(a2c.env_steps() + 1000, &mut |_, _| {})
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, batch_one_step, environment_step, training);
criterion_main!(benches);
