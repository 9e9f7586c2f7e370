"""PyTorch's cross-entropy (float64) on the cases of strata-autograd's parity test,
autograd/tests/cross_entropy_pytorch.rs: class-index targets on [N, C] and [N, C, d1, ..., dk]
logits with class weights, label smoothing and ignore_index, and probability targets.

Inputs are exact binary fractions computed the same way on both sides:
  logits[k]  = ((7k + 13s) mod 19) / 4 - 2.25        (k the row-major index, s the case number)
  probs[k]   = ((5k + 3s) mod 11 + 1) / 8             (probability targets, not normalised)
  weight[c]  = ((3c + s) mod 5 + 1) / 4
The loss is backpropagated as is for the mean and sum, and as sum((i + 1) * loss[i]) for
reduction "none" (so each element's scale is checked). Prints one line of the Rust table per
case: name, shape, targets, reduction, label smoothing, weighted, ignore_index, then PyTorch's
loss values, d loss / d logits and (probability targets) d loss / d probs.

    /root/torch-ref/bin/python reference/cross_entropy.py
"""
import math

import torch
import torch.nn.functional as F

# name, shape, class targets (None: probability targets), reduction, smoothing, weighted, ignore
CASES = [
    ("2-D mean", [4, 3], [2, 0, 1, 2], "mean", 0.0, False, None),
    ("2-D sum, weights, smoothing", [4, 3], [2, 0, 1, 1], "sum", 0.2, True, None),
    ("[N, C, L] mean, ignore_index a class", [2, 3, 5], [1, 0, 2, 1, 1, 0, 2, 2, 1, 0], "mean",
     0.0, False, 1),
    ("[N, C, H, W] none, weights, smoothing, ignore_index 255", [2, 4, 2, 3],
     [3, 255, 0, 1, 2, 255, 0, 0, 3, 255, 1, 2], "none", 0.1, True, 255),
    ("2-D mean, weights, smoothing, ignore_index", [5, 4], [3, 0, 3, 2, 1], "mean", 0.15, True,
     3),
    ("all ignored mean", [3, 4], [1, 1, 1], "mean", 0.1, True, 1),
    ("soft 2-D mean, weights", [4, 3], None, "mean", 0.0, True, None),
    ("soft [N, C, H, W] mean, weights, smoothing", [2, 3, 2, 2], None, "mean", 0.25, True, None),
    ("soft [N, C, L] none, smoothing", [3, 4, 2], None, "none", 0.1, False, None),
]


def rust(values):
    out = []
    for v in values:
        if math.isnan(v):
            out.append("f64::NAN")
        else:
            out.append(repr(float(v)))
    return "&[" + ", ".join(out) + "]"


def main():
    for s, (name, shape, targets, reduction, eps, weighted, ignore) in enumerate(CASES):
        numel = math.prod(shape)
        c = shape[1]
        x = torch.tensor([((7 * k + 13 * s) % 19) / 4 - 2.25 for k in range(numel)],
                         dtype=torch.float64).reshape(shape).requires_grad_()
        w = (torch.tensor([((3 * j + s) % 5 + 1) / 4 for j in range(c)], dtype=torch.float64)
             if weighted else None)
        kwargs = dict(weight=w, reduction=reduction, label_smoothing=eps)
        if targets is None:
            p = torch.tensor([((5 * k + 3 * s) % 11 + 1) / 8 for k in range(numel)],
                             dtype=torch.float64).reshape(shape).requires_grad_()
            loss = F.cross_entropy(x, p, **kwargs)
            inputs = (x, p)
        else:
            t = torch.tensor(targets).reshape([shape[0]] + shape[2:])
            if ignore is not None:
                kwargs["ignore_index"] = ignore
            loss = F.cross_entropy(x, t, **kwargs)
            inputs = (x,)
        if reduction == "none":
            coef = torch.arange(1, loss.numel() + 1, dtype=torch.float64).reshape(loss.shape)
            grads = torch.autograd.grad((loss * coef).sum(), inputs)
        else:
            grads = torch.autograd.grad(loss, inputs)
        grad_p = grads[1].flatten().tolist() if len(grads) > 1 else []
        target = "Soft" if targets is None else f"Classes(&{targets})"
        red = {"mean": "Mean", "sum": "Sum", "none": "None"}[reduction]
        ign = "None" if ignore is None else f"Some({ignore})"
        print(f'    ("{name}", &{shape}, {target}, Reduction::{red}, {eps}, {str(weighted).lower()}, '
              f'{ign}, {rust(loss.detach().flatten().tolist())}, '
              f'{rust(grads[0].flatten().tolist())}, {rust(grad_p)}),')


if __name__ == "__main__":
    main()
