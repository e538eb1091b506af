"""The UNet forward a user runs instead of itokit: the project's PyTorch port of diffusers'
UNet2DModel (tools/unet_torch.py) at float32 on the CPU, on the same weights, shape, batch and
timestep as benchmarks/unet.bench.ts, with torch's default (oneDNN / MKL) kernels; or on CUDA
(benchmarks/unet-gpu.bench.ts) at --precision fp32 (TF32 off), tf32 (TF32 matmuls and cuDNN convs),
fp16 or bf16 (torch.autocast), timed from the upload of x to the download of the output.

    python3 unet_torch.py --lib torch --folder <model dir> --batch 16 --threads 1 --repeats 5 \
        [--write 1] [--timestep 500] [--device cuda --precision fp32|tf32|fp16|bf16]

--write 1 first writes random weights (PyTorch's default init, torch.manual_seed(seed)) into the
folder's diffusion_pytorch_model.safetensors (the CIFAR-shaped benchmark model); otherwise the
folder's weights are loaded. The input is x[i] = sin(0.37 i) over the flattened [B, C, S, S]
tensor, as the benchmark's itokit rows use. One warm-up forward, then `repeats` timed forwards
under torch.no_grad(). Prints one JSON object as the last line:
{lib, version, device, threads, batch, repeats, seconds_min, seconds_median, ms_per_image
 (from seconds_min), cpu_seconds_min (process CPU time of the fastest run), mean_abs_out} or
{..., skipped}.
"""
import json
import os
import sys
import time

from _common import SkipError, load, main, median, parser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(a):
    if a.lib != "torch":
        raise SkipError("the UNet anchor runs torch")
    if a.device == "cuda":
        return run_cuda(a)
    torch, version, _, threads = load("torch", "cpu", a.threads)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from unet_torch import UNet2DModel, read_safetensors, write_safetensors

    cfg = json.load(open(os.path.join(a.folder, "config.json")))
    weights = os.path.join(a.folder, "diffusion_pytorch_model.safetensors")
    torch.manual_seed(a.seed)
    m = UNet2DModel(cfg)
    if a.write:
        write_safetensors(weights, {k: v.detach().numpy() for k, v in m.state_dict().items()})
    else:
        m.load_state_dict({k: torch.tensor(v) for k, v in read_safetensors(weights).items()})
    m.eval()
    S = cfg["sample_size"]
    C = cfg["in_channels"]
    n = a.batch * C * S * S
    x = torch.sin(torch.arange(n, dtype=torch.float64) * 0.37).to(torch.float32).reshape(a.batch, C, S, S)
    t = torch.tensor(a.timestep)
    ts, cpu = [], []
    with torch.no_grad():
        out = m(x, t)
        for _ in range(max(1, a.repeats)):
            c0, s = time.process_time(), time.perf_counter()
            out = m(x, t)
            ts.append(time.perf_counter() - s)
            cpu.append(time.process_time() - c0)
    best = min(range(len(ts)), key=lambda i: ts[i])
    return dict(lib="torch", version=version, device="cpu", threads=torch.get_num_threads(), batch=a.batch,
                repeats=len(ts), seconds_min=ts[best], seconds_median=median(sorted(ts)),
                ms_per_image=ts[best] * 1000 / a.batch, cpu_seconds_min=cpu[best],
                mean_abs_out=float(out.abs().mean()))


def run_cuda(a):
    torch, version, dev, _ = load("torch", "cuda", None)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from unet_torch import UNet2DModel, read_safetensors

    cfg = json.load(open(os.path.join(a.folder, "config.json")))
    m = UNet2DModel(cfg)
    m.load_state_dict({k: torch.tensor(v) for k, v in read_safetensors(os.path.join(a.folder, "diffusion_pytorch_model.safetensors")).items()})
    m = m.eval().to(dev)
    tf32 = a.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(a.precision)
    S, C = cfg["sample_size"], cfg["in_channels"]
    n = a.batch * C * S * S
    x = torch.sin(torch.arange(n, dtype=torch.float64) * 0.37).to(torch.float32).reshape(a.batch, C, S, S)
    t = torch.tensor(a.timestep, device=dev)

    def step():
        with torch.no_grad(), torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
            out = m(x.to(dev), t)
        return out.float().cpu()

    for _ in range(3):
        out = step()
    ts = []
    for _ in range(max(1, a.repeats)):
        torch.cuda.synchronize()
        s = time.perf_counter()
        out = step()  # .cpu() waits for the device
        ts.append(time.perf_counter() - s)
    return dict(lib="torch", version=version, device="cuda", precision=a.precision, batch=a.batch, repeats=len(ts),
                seconds_min=min(ts), seconds_median=median(sorted(ts)), ms_per_image=min(ts) * 1000 / a.batch,
                mean_abs_out=float(out.abs().mean()), gpu=torch.cuda.get_device_name(0))


if __name__ == "__main__":
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--folder", required=True, help="diffusers UNet2DModel folder (config.json + safetensors)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--timestep", type=int, default=500)
    p.add_argument("--write", type=int, default=0, help="1: write random PyTorch-initialised weights first")
    p.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "fp16", "bf16"], help="CUDA only")
    args = p.parse_args()
    main(lambda: run(args), dict(lib=args.lib, device=args.device))
