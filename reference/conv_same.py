"""PyTorch's padding='same' convolutions (float64) on the cases of strata-layers' parity test,
layers/tests/conv_same.rs: even effective kernels, where PyTorch puts the extra zero at the
bottom/right, and a dilated kernel.

Inputs are exact binary fractions computed the same way on both sides (k the row-major index):
  x[k]    = ((7k + 2) mod 13) / 4 - 1.5
  w[k]    = ((5k + 3) mod 11) / 8 - 0.625
  b[c]    = (c + 1) / 8
  r[k]    = ((3k + 1) mod 7) / 4 - 0.75        (the loss is sum(r * y))
Prints one Rust table line per case: name, input shape, weight shape, dilation, then PyTorch's
output y, d loss / d x, d loss / d w and d loss / d b.

    /root/torch-ref/bin/python reference/conv_same.py
"""
import math

import torch
import torch.nn.functional as F

# name, input shape, weight shape, dilation
CASES = [
    ("2-D kernel 2x4", [2, 2, 5, 6], [3, 2, 2, 4], [1, 1]),
    ("2-D kernel 3x2 dilation 2x3", [1, 2, 6, 7], [2, 2, 3, 2], [2, 3]),
    ("2-D kernel 3x3", [1, 1, 4, 5], [2, 1, 3, 3], [1, 1]),
    ("1-D kernel 4", [2, 2, 7], [3, 2, 4], [1]),
    ("1-D kernel 3 dilation 2", [1, 2, 6], [2, 2, 3], [2]),
]


def fill(shape, f):
    return torch.tensor([f(k) for k in range(math.prod(shape))],
                        dtype=torch.float64).reshape(shape)


def rust(t):
    return "&[" + ", ".join(repr(float(v)) for v in t.flatten().tolist()) + "]"


def main():
    for name, xs, ws, dilation in CASES:
        x = fill(xs, lambda k: ((7 * k + 2) % 13) / 4 - 1.5).requires_grad_()
        w = fill(ws, lambda k: ((5 * k + 3) % 11) / 8 - 0.625).requires_grad_()
        b = fill([ws[0]], lambda c: (c + 1) / 8).requires_grad_()
        conv = F.conv2d if len(xs) == 4 else F.conv1d
        y = conv(x, w, b, padding="same", dilation=dilation)
        assert list(y.shape[2:]) == xs[2:]
        r = fill(list(y.shape), lambda k: ((3 * k + 1) % 7) / 4 - 0.75)
        (y * r).sum().backward()
        print(f"    ({name!r}, &{xs}, &{ws}, &{dilation}, {rust(y)}, {rust(x.grad)}, "
              f"{rust(w.grad)}, {rust(b.grad)}),".replace("'", '"'))


if __name__ == "__main__":
    main()
