"""Writes layers/tests/fixtures/half_precision.safetensors, the F16/BF16 file of strata-layers'
safetensors import test: the state_dict of nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)) with
hand-picked values (subnormals, the extremes, signed zeros, infinities, NaNs with and without
a payload), "0.weight" and "1.bias" in float16, "0.bias" and "1.weight" in bfloat16, saved by
safetensors.torch.save_file. Prints, for the Rust test, each tensor's values converted by
PyTorch to float32 (`t.float()`), as f32 bit patterns.

    /root/torch-ref/bin/python reference/safetensors_half.py     # needs torch, safetensors
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[1] / "layers" / "tests" / "fixtures"


def bits(values, dtype):
    """A tensor of `dtype` from 16-bit patterns."""
    return torch.tensor([v - 0x10000 if v >= 0x8000 else v for v in values],
                        dtype=torch.int16).view(dtype)


def main():
    f16 = [
        0x0001,  # smallest subnormal, 2^-24
        0x03FF,  # largest subnormal, 1023 * 2^-24
        0x8200,  # -2^-15 (subnormal)
        0x0400,  # smallest normal, 2^-14
        0x7BFF,  # largest finite, 65504
        0x8000,  # -0
        0x7C00,  # +inf
        0xFC00,  # -inf
        0x7E00,  # NaN (PyTorch's)
        0xFD01,  # negative signalling NaN with a payload
        0x3555,  # 1/3 rounded
        0xC100,  # -2.5
    ]
    bf16_bias0 = [0x0001, 0x807F, 0x7F7F]  # 2^-133, -(127 * 2^-133), largest finite
    bf16_w1 = [0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x3EAB]  # -0, ±inf, NaNs, 1/3 rounded
    f16_b1 = [0x3C00, 0x0000]  # 1, +0
    tensors = {
        "0.weight": bits(f16, torch.float16).reshape(3, 4),
        "0.bias": bits(bf16_bias0, torch.bfloat16),
        "1.weight": bits(bf16_w1, torch.bfloat16).reshape(2, 3),
        "1.bias": bits(f16_b1, torch.float16),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "half_precision.safetensors"
    save_file(tensors, str(path))
    print(f"{path}: {path.stat().st_size} bytes")
    for name, t in tensors.items():
        f32 = t.float().flatten().view(torch.int32).tolist()
        print(f'("{name}", &[' + ", ".join(f"0x{b & 0xFFFFFFFF:08X}" for b in f32) + "]),")


if __name__ == "__main__":
    main()
