#!/usr/bin/env python3
"""Reference vectors for itokit's nn area (test/nn.test.ts), made with PyTorch (Debian torch 1.13).

For every activation: an nn.Sequential(Linear, act, Linear, act, Linear[, out act]) in float64 with
parameters drawn by numpy, a batch x, the output y, and the autograd gradients of sum(c * y)
w.r.t. x and every parameter. Plus Adam / AdamW (+ clip_grad_norm_) trajectories on fixed
gradients. Written to test/fixtures/nn/reference.json.

    /usr/bin/python3 tools/nn_reference.py
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
ACTS = {
    "identity": torch.nn.Identity,
    "tanh": torch.nn.Tanh,
    "silu": torch.nn.SiLU,
    "softplus": torch.nn.Softplus,
    "relu": torch.nn.ReLU,
}
rs = np.random.RandomState(20241129)
sizes = [3, 7, 5, 2]
cases = []
for name, cls in ACTS.items():
    mods = []
    for l in range(len(sizes) - 1):
        mods.append(torch.nn.Linear(sizes[l], sizes[l + 1]))
        mods.append(cls() if l + 2 < len(sizes) else torch.nn.Identity())
    net = torch.nn.Sequential(*mods)
    params = []
    with torch.no_grad():
        for l in range(len(sizes) - 1):
            lin = net[2 * l]
            w = rs.uniform(-1.5, 1.5, size=(sizes[l + 1], sizes[l]))
            b = rs.uniform(-0.5, 0.5, size=(sizes[l + 1],))
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
            params += list(w.ravel()) + list(b.ravel())
    x = torch.from_numpy(rs.normal(size=(6, sizes[0])) * 2).requires_grad_(True)
    c = torch.from_numpy(rs.normal(size=(6, sizes[-1])))
    y = net(x)
    (c * y).sum().backward()
    grads = []
    for l in range(len(sizes) - 1):
        lin = net[2 * l]
        grads += list(lin.weight.grad.numpy().ravel()) + list(lin.bias.grad.numpy().ravel())
    cases.append({
        "activation": name, "sizes": sizes, "params": params,
        "x": list(x.detach().numpy().ravel()), "c": list(c.numpy().ravel()),
        "y": list(y.detach().numpy().ravel()), "dx": list(x.grad.numpy().ravel()), "grad": grads,
    })

# Optimizers: 5 steps on fixed gradient sequences.
opt_cases = []
for kind, wd, clip in [("adam", 0.0, None), ("adam", 0.1, None), ("adamw", 0.01, None), ("adamw", 0.01, 0.5)]:
    p0 = rs.normal(size=7)
    gs = rs.normal(size=(5, 7))
    p = torch.tensor(p0, requires_grad=True)
    opt = (torch.optim.Adam if kind == "adam" else torch.optim.AdamW)([p], lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    traj = []
    for g in gs:
        opt.zero_grad()
        p.grad = torch.tensor(g.copy())
        if clip is not None:
            torch.nn.utils.clip_grad_norm_([p], clip)
        opt.step()
        traj.append(list(p.detach().numpy()))
    opt_cases.append({"kind": kind, "weightDecay": wd, "maxGradNorm": clip, "lr": 0.05, "p0": list(p0), "grads": gs.tolist(), "trajectory": traj})

out = {"torch": torch.__version__, "mlp": cases, "adam": opt_cases}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "nn", "reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
