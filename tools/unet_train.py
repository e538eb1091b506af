"""Trains itokit's built-in diffusion model and writes the UNet reference vectors.

  UNET_TRAIN_SECONDS=2700 /usr/bin/python3 tools/unet_train.py train   # -> models/digits16/
  /usr/bin/python3 tools/unet_train.py fixtures   # reference vectors -> test/fixtures/unet/

Training runs for a wall-clock budget (UNET_TRAIN_SECONDS, default 390; the shipped model had
2700 s on one shared core, batch UNET_TRAIN_BATCH=48, UNET_TRAIN_THREADS=1), so the result
depends on the machine's speed; the fixtures are always regenerated from the saved weights.

Model: a UNet2DModel (diffusers config, docs/design/unet.md §4) with fixture A's options
(boc [32,64], Down+AttnDown / AttnUp+Up, 8 groups, single-head attention, downsample padding 0,
flip false, shift 1, eps 1e-6), one grey channel, layers_per_block 1, trained as a DDPM
(linear betas 1e-4..0.02, T=1000, epsilon loss) on sklearn's 8x8 digits upscaled bilinearly to
16x16 in [-1, 1]; the EMA weights are saved.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from unet_torch import UNet2DModel, read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
MODEL_DIR = os.path.join(ROOT, "models", "digits16")
FIX_DIR = os.path.join(ROOT, "test", "fixtures", "unet")

CONFIG = {
    "_class_name": "UNet2DModel", "_diffusers_version": "0.30.0", "act_fn": "silu", "add_attention": True,
    "attention_head_dim": None, "block_out_channels": [32, 64], "center_input_sample": False,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "downsample_padding": 0, "flip_sin_to_cos": False,
    "freq_shift": 1, "in_channels": 1, "layers_per_block": 1, "mid_block_scale_factor": 1, "norm_eps": 1e-06,
    "norm_num_groups": 8, "out_channels": 1, "resnet_time_scale_shift": "default", "sample_size": 16,
    "time_embedding_type": "positional", "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
}
SCHEDULER = {
    "_class_name": "DDPMScheduler", "beta_end": 0.02, "beta_schedule": "linear", "beta_start": 0.0001,
    "clip_sample": True, "num_train_timesteps": 1000, "prediction_type": "epsilon", "variance_type": "fixed_large",
}


def digits16():
    from sklearn.datasets import load_digits
    x = torch.tensor(load_digits().images, dtype=torch.float32)[:, None] / 16.0
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
    return x.clamp(0, 1) * 2 - 1


def train(budget_s):
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("UNET_TRAIN_THREADS", "1")))
    data = digits16()
    model = UNet2DModel(CONFIG)
    ema = UNet2DModel(CONFIG)
    ema.load_state_dict(model.state_dict())
    betas = torch.linspace(1e-4, 0.02, 1000)
    abar = torch.cumprod(1 - betas, 0)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    t0, it = time.time(), 0
    while time.time() - t0 < budget_s:
        idx = torch.randint(0, data.shape[0], (int(os.environ.get("UNET_TRAIN_BATCH", "48")),))
        x0 = data[idx]
        # small random translations: more shapes than 1797 images give
        dx, dy = np.random.randint(-1, 2, 2)
        x0 = torch.roll(x0, shifts=(int(dy), int(dx)), dims=(2, 3))
        t = torch.randint(0, 1000, (x0.shape[0],))
        eps = torch.randn_like(x0)
        a = abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        loss = F.mse_loss(model(xt, t), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay = min(0.999, (1 + it) / (10 + it))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        if it % 100 == 0:
            print(f"it {it} t {time.time() - t0:.0f}s loss {loss.item():.4f}", flush=True)
        it += 1
    os.makedirs(MODEL_DIR, exist_ok=True)
    sd = {k: v.detach().numpy() for k, v in ema.state_dict().items()}
    write_safetensors(os.path.join(MODEL_DIR, "diffusion_pytorch_model.safetensors"), sd, {"format": "pt"})
    with open(os.path.join(MODEL_DIR, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2, sort_keys=True)
    with open(os.path.join(MODEL_DIR, "scheduler_config.json"), "w") as f:
        json.dump(SCHEDULER, f, indent=2, sort_keys=True)
    print(f"trained {it} iterations in {time.time() - t0:.0f}s")


def load_builtin():
    m = UNet2DModel(CONFIG)
    sd = read_safetensors(os.path.join(MODEL_DIR, "diffusion_pytorch_model.safetensors"))
    m.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    return m.eval()


def refs(model, x, t, prefix, out):
    taps = {}
    with torch.no_grad():
        y = model(x, t, taps)
    out[prefix + "x"] = x.numpy()
    out[prefix + "t"] = t.reshape(-1).numpy().astype(np.int64)
    out[prefix + "eps"] = y.numpy()
    for k in ("time_proj", "emb", "temporal", "mid_block"):
        out[prefix + "tap." + k] = taps[k].numpy()


def deprecated_names(sd):
    ren = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}
    out = {}
    for k, v in sd.items():
        for a, b in ren.items():
            k = k.replace(a, b)
        out[k] = v
    return out


def fixtures():
    torch.manual_seed(0)
    os.makedirs(FIX_DIR, exist_ok=True)
    out = {}
    # built-in model (F32 weights in models/): a batch with per-sample t, and a scalar t
    m = load_builtin()
    g = torch.Generator().manual_seed(1)
    refs(m, torch.randn(3, 1, 16, 16, generator=g), torch.tensor([0, 500, 999]), "builtin.a.", out)
    refs(m, torch.randn(2, 1, 16, 16, generator=g), torch.tensor(10), "builtin.b.", out)
    # schedule (diffusers: float32 linspace betas, float32 cumprod) and a 10-step DDIM run
    # (eta 0, leading spacing, x0 clipped to [-1, 1], alpha_prev = 1 after the last step)
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float32), 0)
    out["schedule.alphas_cumprod"] = abar.numpy()
    xT = torch.randn(4, 1, 16, 16, generator=g)
    x = xT.clone()
    with torch.no_grad():
        for t in [k * 100 for k in range(9, -1, -1)]:
            e = m(x, torch.tensor(t))
            a = abar[t]
            ap = abar[t - 100] if t - 100 >= 0 else torch.tensor(1.0)
            x0 = ((x - (1 - a).sqrt() * e) / a.sqrt()).clamp(-1, 1)
            x = ap.sqrt() * x0 + (1 - ap).sqrt() * e
    out["ddim.xT"] = xT.numpy()
    out["ddim.x"] = x.numpy()
    write_safetensors(os.path.join(FIX_DIR, "builtin_ref.safetensors"), out)

    # fixture B (docs/design/unet.md §10, channels shrunk to keep the repository small): random weights with
    # GroupNorm gamma/beta perturbed by 0.1*N(0,1), weights stored as BF16 and F16 with the
    # deprecated attention names; references from the upcast weights.
    cfg_b = {
        "block_out_channels": [8, 16, 16], "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
        "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"], "layers_per_block": 1,
        "attention_head_dim": 8, "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0,
        "mid_block_scale_factor": 1.414, "center_input_sample": True, "in_channels": 1, "out_channels": 2,
        "norm_num_groups": 4, "norm_eps": 1e-5, "sample_size": 16,
    }
    torch.manual_seed(0)
    mb = UNet2DModel(cfg_b)
    with torch.no_grad():
        for name, p in mb.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    for dt in ("BF16", "F16"):
        sd = {k: v.detach().numpy() for k, v in mb.state_dict().items()}
        d = os.path.join(FIX_DIR, "fixture_b_" + dt.lower())
        os.makedirs(d, exist_ok=True)
        write_safetensors(os.path.join(d, "diffusion_pytorch_model.safetensors"), deprecated_names(sd), dtype=dt)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(dict(cfg_b, _class_name="UNet2DModel"), f, indent=2, sort_keys=True)
        up = read_safetensors(os.path.join(d, "diffusion_pytorch_model.safetensors"))
        inv = {v: k for k, v in {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}.items()}
        sd2 = {}
        for k, v in up.items():
            for a, b in inv.items():
                k = k.replace(a, b)
            sd2[k] = torch.tensor(v.astype(np.float32))
        mb2 = UNet2DModel(cfg_b)
        mb2.load_state_dict(sd2)
        mb2.eval()
        o = {}
        g = torch.Generator().manual_seed(2)
        refs(mb2, torch.rand(2, 1, 16, 8, generator=g), torch.tensor(500), "", o)
        write_safetensors(os.path.join(d, "ref.safetensors"), o)
    print("fixtures written")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("train", "all"):
        train(float(os.environ.get("UNET_TRAIN_SECONDS", "390")))
    if what in ("fixtures", "all"):
        fixtures()
