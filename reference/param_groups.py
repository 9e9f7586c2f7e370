"""Trajectories of PyTorch optimizers with two parameter groups, the reference of
strata-optim's parameter-group tests (optim/tests/param_groups.rs).

The two parameters and their gradients are those of optim/tests/common: a = [0.5, -1.2, 2.0]
(shape [3]) and b = [[0.1, -0.4], [1.5, -2.5]], float64; at step t = 1, 2, … the gradient of
element k (counting across a then b) whose current value is θ is
0.8·(θ − 0.3·k) + 0.5·sin(1.7·t + 0.9·k). Each case is one line: its name, `|`, and the 7
values of a then b after each of 8 steps, step after step. The cases:

  sgd            SGD(lr=0.1, momentum=0.9, weight_decay=0.01); b in a group with lr=0.01,
                 weight_decay=0
  sgd_nesterov   SGD(lr=0.05, momentum=0.9, nesterov=True); a in a group with
                 weight_decay=0.02 (the default has none)
  adam           Adam(lr=0.01, weight_decay=0.1) (an L2 penalty); b in a group with
                 lr=0.001, weight_decay=0
  adam_l2_group  Adam(lr=0.02); b in a group with weight_decay=0.05 (an L2 penalty, the
                 default has none)
  adamw          AdamW(lr=0.01, weight_decay=0.05); a in a group with lr=0.003,
                 weight_decay=0
  sgd_steplr     SGD(lr=0.1, momentum=0.5); b in a group with lr=0.02; StepLR(step_size=2,
                 gamma=0.5) stepped after every optimizer step
  adam_lambdalr  Adam(lr=0.01); a in a group with lr=0.05; LambdaLR(lambda t: 1 / (1 + t))
                 stepped after every optimizer step

    /root/torch-ref/bin/python reference/param_groups.py
"""
import math

import torch

INIT_A = [0.5, -1.2, 2.0]
INIT_B = [0.1, -0.4, 1.5, -2.5]
STEPS = 8


def grad_of(t, k, theta):
    return 0.8 * (theta - 0.3 * k) + 0.5 * math.sin(1.7 * t + 0.9 * k)


def run(make):
    a = torch.tensor(INIT_A, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(INIT_B, dtype=torch.float64).reshape(2, 2).requires_grad_(True)
    opt, sched = make(a, b)
    out = []
    for t in range(1, STEPS + 1):
        values = a.detach().flatten().tolist() + b.detach().flatten().tolist()
        grads = [grad_of(t, k, x) for k, x in enumerate(values)]
        a.grad = torch.tensor(grads[:3], dtype=torch.float64)
        b.grad = torch.tensor(grads[3:], dtype=torch.float64).reshape(2, 2)
        opt.step()
        if sched is not None:
            sched.step()
        out.extend(a.detach().flatten().tolist() + b.detach().flatten().tolist())
    return out


CASES = {
    "sgd": lambda a, b: (torch.optim.SGD(
        [{"params": [a]}, {"params": [b], "lr": 0.01, "weight_decay": 0.0}],
        lr=0.1, momentum=0.9, weight_decay=0.01), None),
    "sgd_nesterov": lambda a, b: (torch.optim.SGD(
        [{"params": [a], "weight_decay": 0.02}, {"params": [b]}],
        lr=0.05, momentum=0.9, nesterov=True), None),
    "adam": lambda a, b: (torch.optim.Adam(
        [{"params": [a]}, {"params": [b], "lr": 0.001, "weight_decay": 0.0}],
        lr=0.01, weight_decay=0.1), None),
    "adam_l2_group": lambda a, b: (torch.optim.Adam(
        [{"params": [a]}, {"params": [b], "weight_decay": 0.05}], lr=0.02), None),
    "adamw": lambda a, b: (torch.optim.AdamW(
        [{"params": [a], "lr": 0.003, "weight_decay": 0.0}, {"params": [b]}],
        lr=0.01, weight_decay=0.05), None),
    "sgd_steplr": lambda a, b: with_scheduler(
        torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1, momentum=0.5),
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)),
    "adam_lambdalr": lambda a, b: with_scheduler(
        torch.optim.Adam([{"params": [a], "lr": 0.05}, {"params": [b]}], lr=0.01),
        lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + t))),
}


def with_scheduler(opt, make):
    return opt, make(opt)


def main():
    for name, make in CASES.items():
        print(name, "|", " ".join(repr(v) for v in run(make)))


if __name__ == "__main__":
    main()
