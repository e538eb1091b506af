"""Emulated error of fpPrecision 'tf32' and 'bf16' (docs/unet.md "fpPrecision"), on the CPU.

The CUDA tensor-core FP convolution (native/unet/cuda/unet_conv_mma.cu) rounds both operands of every
network convolution (resnet convs and shortcuts, resamplers, conv_in/conv_out, the attention
projections; not the time MLP nor time_emb_proj) to TF32 (cvt.rna: 10 mantissa bits, ties away) or
bfloat16 (nearest even, 7 bits) and accumulates in FP32. This script does the same rounding in the
PyTorch port (tools/unet_torch.py) and reports the relative L2 and max-abs distance of ε̂ from the
FP32 forward, per timestep, on a model folder (default: the built-in digits model). It is an
emulation: the GPU's summation order differs (FP32 accumulation either way), so the GPU's figure
differs from these in the last digit.

  /usr/bin/python3 tools/unet_precision_error.py [model_dir] [batch]
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
from unet_torch import UNet2DModel, read_safetensors  # noqa: E402


def tf32(x):
    b = x.contiguous().view(torch.int32)
    return ((b + 0x1000) & ~0x1FFF).view(torch.float32)  # magnitude + half ulp, truncate: ties away


def bf16(x):
    return x.bfloat16().float()


def rounded_forward(rnd):
    def conv(self, x):
        return self._conv_forward(rnd(x), rnd(self.weight), self.bias)

    def lin(self, x):
        return torch.nn.functional.linear(rnd(x), rnd(self.weight), self.bias)

    return conv, lin


def main():
    root = os.path.join(os.path.dirname(__file__), "..")
    mdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "digits16")
    B = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    net = UNet2DModel(cfg).eval()
    sd = {k: torch.from_numpy(v.astype(np.float32)) for k, v in read_safetensors(os.path.join(mdir, "diffusion_pytorch_model.safetensors")).items()}
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert not missing, f"weights missing from the file: {missing[:5]}"
    C, S = cfg.get("in_channels", 3), cfg.get("sample_size", 16)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(B, C, S, S, generator=g)
    torch.backends.mkldnn.enabled = True
    layers = [(n, m) for n, m in net.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))
              and not n.startswith("time_embedding") and not n.endswith("time_emb_proj")]
    print(f"model {os.path.basename(os.path.normpath(mdir))}, batch {B}, {len(layers)} rounded layers")
    for t in (999, 500, 250, 50):
        ts = torch.full((B,), t, dtype=torch.long)
        with torch.no_grad():
            ref = net(x, ts)
            row = [f"t={t:4d}"]
            for name, rnd in (("tf32", tf32), ("bf16", bf16)):
                conv, lin = rounded_forward(rnd)
                for _, m in layers:
                    m.forward = (conv if isinstance(m, nn.Conv2d) else lin).__get__(m)
                y = net(x, ts)
                for _, m in layers:
                    del m.forward
                rel = float(torch.linalg.vector_norm(y - ref) / torch.linalg.vector_norm(ref))
                row.append(f"{name}: rel L2 {rel:.2e}, max abs {float((y - ref).abs().max()):.2e}")
            print("  ".join(row))


if __name__ == "__main__":
    main()
