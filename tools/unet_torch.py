"""A minimal, faithful PyTorch port of diffusers' UNet2DModel (docs/design/unet.md §4).

diffusers is not installable offline, so the built-in model and the reference vectors come from
this port. Module and parameter names follow diffusers exactly (conv_in, time_embedding.linear_1,
down_blocks.i.resnets.j.norm1, ..., attentions.j.to_q / to_out.0, downsamplers.0.conv), so a state
dict saved from here loads into diffusers unchanged and `google/ddpm-cifar10-32` loads into this
port unchanged (after renaming the deprecated attention names).
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS = {
    "in_channels": 3, "out_channels": 3, "center_input_sample": False, "time_embedding_type": "positional",
    "time_embedding_dim": None, "flip_sin_to_cos": True, "freq_shift": 0,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
    "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    "mid_block_type": "UNetMidBlock2D", "add_attention": True, "block_out_channels": [224, 448, 672, 896],
    "layers_per_block": 2, "mid_block_scale_factor": 1, "downsample_padding": 1, "act_fn": "silu",
    "attention_head_dim": 8, "norm_num_groups": 32, "attn_norm_num_groups": None, "norm_eps": 1e-5,
    "resnet_time_scale_shift": "default",
}


def timestep_embedding(t, dim, flip, shift):
    """diffusers get_timestep_embedding: float32 exponent, float32 t*f, [sin, cos] (flip: [cos, sin])."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32)
    exponent = exponent / (half - shift)
    emb = torch.exp(exponent)
    emb = t[:, None].float() * emb[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, c0, e):
        super().__init__()
        self.linear_1 = nn.Linear(c0, e)
        self.linear_2 = nn.Linear(e, e)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, osf=1.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.osf = osf
        self.last_temporal = None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        tf = self.time_emb_proj(F.silu(emb))  # the temporal feature X_{t,i} (docs/design/unet.md §7.1)
        self.last_temporal = tf
        h = h + tf[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        s = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return (s + h) / self.osf


class Attention(nn.Module):
    def __init__(self, c, head_dim, groups, eps, rescale=1.0):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=eps)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c), nn.Dropout(0.0)])
        self.d = c if head_dim is None else head_dim
        self.rescale = rescale

    def forward(self, x):
        b, c, hh, ww = x.shape
        r = x
        h = self.group_norm(x).view(b, c, hh * ww).transpose(1, 2)  # tokens n = y*W + x
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        nh = c // self.d

        def heads(z):
            return z.view(b, hh * ww, nh, self.d).transpose(1, 2)

        q, k, v = heads(q), heads(k), heads(v)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d), dim=-1)
        o = (a @ v).transpose(1, 2).reshape(b, hh * ww, c)
        o = self.to_out[0](o)
        o = o.transpose(1, 2).reshape(b, c, hh, ww)
        return (o + r) / self.rescale


class Downsample(nn.Module):
    def __init__(self, c, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, attn, cin, cout, L, temb, cfg, add_down):
        super().__init__()
        g, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if j == 0 else cout, cout, temb, g, eps) for j in range(L)])
        hd = cfg["attention_head_dim"]
        self.attentions = nn.ModuleList([Attention(cout, hd, g, eps) for _ in range(L)]) if attn else None
        self.downsamplers = nn.ModuleList([Downsample(cout, cfg["downsample_padding"])]) if add_down else None

    def forward(self, h, emb, skips):
        for j, r in enumerate(self.resnets):
            h = r(h, emb)
            if self.attentions is not None:
                h = self.attentions[j](h)
            skips.append(h)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
            skips.append(h)
        return h


class UpBlock(nn.Module):
    def __init__(self, attn, cin, cout, prev, L, temb, cfg, add_up):
        super().__init__()
        g, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        rs = []
        for j in range(L + 1):
            skip = cin if j == L else cout
            rin = prev if j == 0 else cout
            rs.append(ResnetBlock2D(rin + skip, cout, temb, g, eps))
        self.resnets = nn.ModuleList(rs)
        hd = cfg["attention_head_dim"]
        self.attentions = nn.ModuleList([Attention(cout, hd, g, eps) for _ in range(L + 1)]) if attn else None
        self.upsamplers = nn.ModuleList([Upsample(cout)]) if add_up else None

    def forward(self, h, emb, skips):
        for j, r in enumerate(self.resnets):
            s = skips.pop()
            h = r(torch.cat([h, s], dim=1), emb)
            if self.attentions is not None:
                h = self.attentions[j](h)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h)
        return h


class MidBlock(nn.Module):
    def __init__(self, c, temb, cfg):
        super().__init__()
        g, eps, osf = cfg["norm_num_groups"], cfg["norm_eps"], cfg["mid_block_scale_factor"]
        ag = cfg["attn_norm_num_groups"] or g
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, temb, g, eps, osf), ResnetBlock2D(c, c, temb, g, eps, osf)])
        self.attentions = nn.ModuleList([Attention(c, cfg["attention_head_dim"], ag, eps, osf)]) if cfg["add_attention"] else None

    def forward(self, h, emb):
        h = self.resnets[0](h, emb)
        if self.attentions is not None:
            h = self.attentions[0](h)
        return self.resnets[1](h, emb)


class UNet2DModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        cfg = dict(DEFAULTS)
        cfg.update({k: v for k, v in config.items() if not k.startswith("_")})
        self.cfg = cfg
        boc, L, n = cfg["block_out_channels"], cfg["layers_per_block"], len(cfg["block_out_channels"])
        c0 = boc[0]
        e = cfg["time_embedding_dim"] or 4 * c0
        self.conv_in = nn.Conv2d(cfg["in_channels"], c0, 3, padding=1)
        self.time_embedding = TimestepEmbedding(c0, e)
        self.down_blocks = nn.ModuleList()
        out = c0
        for i, bt in enumerate(cfg["down_block_types"]):
            cin, out = out, boc[i]
            self.down_blocks.append(DownBlock(bt.replace("UNetRes", "") == "AttnDownBlock2D", cin, out, L, e, cfg, i < n - 1))
        self.mid_block = MidBlock(boc[-1], e, cfg)
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(boc))
        out = rev[0]
        for i, bt in enumerate(cfg["up_block_types"]):
            prev, out, cin = out, rev[i], rev[min(i + 1, n - 1)]
            self.up_blocks.append(UpBlock(bt.replace("UNetRes", "") == "AttnUpBlock2D", cin, out, prev, L, e, cfg, i < n - 1))
        self.conv_norm_out = nn.GroupNorm(cfg["norm_num_groups"], c0, eps=cfg["norm_eps"])
        self.conv_out = nn.Conv2d(c0, cfg["out_channels"], 3, padding=1)

    def resnets_tib_order(self):
        out = [r for b in self.down_blocks for r in b.resnets]
        out += list(self.mid_block.resnets)
        out += [r for b in self.up_blocks for r in b.resnets]
        return out

    def forward(self, x, t, taps=None):
        cfg = self.cfg
        if t.dim() == 0:
            t = t[None].expand(x.shape[0])
        if cfg["center_input_sample"]:
            x = 2 * x - 1.0
        e = timestep_embedding(t, cfg["block_out_channels"][0], cfg["flip_sin_to_cos"], cfg["freq_shift"])
        emb = self.time_embedding(e)
        h = self.conv_in(x)
        skips = [h]
        for i, b in enumerate(self.down_blocks):
            h = b(h, emb, skips)
            if taps is not None:
                taps[f"down_blocks.{i}"] = h
        h = self.mid_block(h, emb)
        if taps is not None:
            taps["mid_block"] = h
        for i, b in enumerate(self.up_blocks):
            h = b(h, emb, skips)
            if taps is not None:
                taps[f"up_blocks.{i}"] = h
        out = self.conv_out(F.silu(self.conv_norm_out(h)))
        if taps is not None:
            taps["time_proj"] = e
            taps["emb"] = emb
            taps["temporal"] = torch.cat([r.last_temporal for r in self.resnets_tib_order()], dim=1)
        return out


# ---- safetensors (the python package is not installed offline; the format is tiny) ----

_DT = {"F32": ("<f4", 4), "F16": ("<f2", 2), "I64": ("<i8", 8), "U8": ("u1", 1)}


def write_safetensors(path, tensors, metadata=None, dtype="F32"):
    """tensors: name -> numpy array (float arrays stored as `dtype`: F32, F16 or BF16)."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        if a.dtype.kind == "f":
            if dtype == "BF16":
                u = np.ascontiguousarray(a.astype("<f4")).view("<u4")
                # round to nearest even, as torch's .bfloat16()
                u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
                raw, dt = u.tobytes(), "BF16"
            else:
                raw, dt = np.ascontiguousarray(a.astype(_DT[dtype][0])).tobytes(), dtype
        elif a.dtype == np.int64:
            raw, dt = np.ascontiguousarray(a.astype("<i8")).tobytes(), "I64"
        else:
            raw, dt = np.ascontiguousarray(a.astype("u1")).tobytes(), "U8"
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        raw = data[base + b:base + e]
        if v["dtype"] == "BF16":
            a = (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4")
        else:
            a = np.frombuffer(raw, _DT[v["dtype"]][0])
        out[k] = a.reshape(v["shape"]).copy()
    return out
