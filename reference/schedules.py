"""Learning rates of PyTorch's OneCycleLR, LambdaLR, CosineAnnealingWarmRestarts and CyclicLR,
the reference of strata-optim's schedule tests (optim/tests/schedule_pytorch.rs).

Each case is one line: the scheduler's name, its arguments as key=value (PyTorch's names;
`base_lr` is the optimizer's rate when the scheduler is made, `lambda` names one of the
functions in LAMBDAS, `steps` how many steps are run, `every` which of them are printed), then
`|` and the rate at t = 0, every, 2·every, … < steps, read from the optimizer's param group after
t calls of `scheduler.step()`. Momentum cycling is off (cycle_momentum=False): strata-optim's
schedules set the rate only.

    /root/torch-ref/bin/python reference/schedules.py
"""
import math

import torch

# The LambdaLR factors, by name; optim/tests/schedule_pytorch.rs has the same functions.
LAMBDAS = {
    "exp": lambda t: 0.95 ** t,
    "warmup_inv_sqrt": lambda t: (t + 1) / 5 if t < 5 else math.sqrt(5 / (t + 1)),
    "halve_every_3": lambda t: 0.5 ** (t // 3),
}

CASES = [
    ("OneCycleLR", dict(max_lr=0.1, total_steps=20, steps=21)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=17, pct_start=0.25, anneal_strategy="linear", steps=18)),
    ("OneCycleLR", dict(max_lr=0.05, total_steps=30, three_phase=True, div_factor=10.0,
                        final_div_factor=100.0, steps=31)),
    ("OneCycleLR", dict(max_lr=0.2, total_steps=23, pct_start=0.4, three_phase=True,
                        anneal_strategy="linear", steps=24)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=10, pct_start=0.0, steps=11)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=1000, steps=1001, every=37)),
    ("LambdaLR", dict(base_lr=0.1, **{"lambda": "exp"}, steps=20)),
    ("LambdaLR", dict(base_lr=0.3, **{"lambda": "warmup_inv_sqrt"}, steps=20)),
    ("LambdaLR", dict(base_lr=0.05, **{"lambda": "halve_every_3"}, steps=12)),
    ("CosineAnnealingWarmRestarts", dict(base_lr=0.1, T_0=5, steps=23)),
    ("CosineAnnealingWarmRestarts", dict(base_lr=0.1, T_0=3, T_mult=2, eta_min=0.001, steps=30)),
    ("CosineAnnealingWarmRestarts", dict(base_lr=0.5, T_0=1, T_mult=3, eta_min=0.01, steps=20)),
    ("CosineAnnealingWarmRestarts", dict(base_lr=0.2, T_0=4, eta_min=0.02, steps=13)),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.006, step_size_up=4, steps=25)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5,
                      mode="triangular2", steps=40)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.97,
                      steps=30)),
    ("CyclicLR", dict(base_lr=0.02, max_lr=0.08, step_size_up=4, step_size_down=0, steps=13)),
    ("CyclicLR", dict(base_lr=0.1, max_lr=0.01, step_size_up=2, step_size_down=3, steps=11)),
    ("CyclicLR", dict(base_lr=0.001, max_lr=0.1, steps=8001, every=250)),
]


def rates(name, args):
    args = dict(args)
    steps = args.pop("steps")
    every = args.pop("every", 1)
    base_lr = args.pop("base_lr", 0.123)
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    if name == "OneCycleLR":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, cycle_momentum=False, **args)
    elif name == "LambdaLR":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, LAMBDAS[args.pop("lambda")])
    elif name == "CosineAnnealingWarmRestarts":
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, **args)
    elif name == "CyclicLR":
        sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=base_lr, cycle_momentum=False,
                                                  **args)
    else:
        raise ValueError(name)
    out = []
    for t in range(steps):
        if t > 0:
            opt.step()
            sched.step()
        if t % every == 0:
            out.append(opt.param_groups[0]["lr"])
    return out


def main():
    for name, args in CASES:
        words = [name] + [f"{k}={v}" for k, v in args.items()]
        print(" ".join(words), "|", " ".join(repr(float(v)) for v in rates(name, args)))


if __name__ == "__main__":
    main()
