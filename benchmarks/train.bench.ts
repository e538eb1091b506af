/**
 * Training steps per second of the trainers, against the same step written in PyTorch and run
 * in the same benchmark run (Debian's python3-torch, when present).
 *
 * - fOU bridge (docs/design/trainers.md §2, §5): one iteration = Euler rollout of 200 steps for 32 paths
 *   of the 6-dimensional augmented system with the control MLP [8 → 128 → 128 → 1] (tanh), the
 *   adjoint pass over the whole trajectory, and Adam. Work: 3 · Σ in·out multiply-adds per
 *   path-step (forward, dW, dx) = 3 · 17,536 · 6,400 ≈ 337 M MACs per iteration.
 * - 2-D score matching (docs/design/trainers.md §3): one iteration = a batch of 256 points through [34 → 128 → 128 → 128 → 2]
 *   (SiLU, 16 Fourier frequencies), loss, backward and Adam: 3 · 37,376 · 256 ≈ 28.7 M MACs.
 * GFLOP/s = 2 · MACs / time. The bound on this CPU is its FMA/vector throughput; the bridge is a
 * sequence of small (8-row) matrix products, latency- rather than bandwidth-bound.
 */
import { getThreads, setThreads } from '../lib';
import { FractionalSDE, scoreMatchingSync, toy } from '../lib/trainers';
import { BenchOptions, BenchRow, python, report, time } from './harness';

const BRIDGE_MACS = 3 * (8 * 128 + 128 * 128 + 128) * 32 * 200;
const DSM_MACS = 3 * (34 * 128 + 128 * 128 * 2 + 128 * 2) * 256;

const TORCH = String.raw`
import json, sys, time, math
import torch
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
dt = torch.float64 if cfg["dtype"] == "float64" else torch.float32
out = {}
def best(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return min(ts) * 1e3
if cfg["case"] == "bridge":
    K, N, B, h = 5, 200, 32, 0.01
    g = torch.tensor([0.05, 0.223607, 1.0, 4.47214, 20.0], dtype=dt)
    w = torch.tensor([0.5, -0.1, 0.4, 0.1, 0.6], dtype=dt)
    net = torch.nn.Sequential(torch.nn.Linear(8, 128), torch.nn.Tanh(), torch.nn.Linear(128, 128), torch.nn.Tanh(), torch.nn.Linear(128, 1)).to(dt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    def step():
        dW = torch.randn(N, B, 1, dtype=dt) * math.sqrt(h)
        x = torch.zeros(B, 1, dtype=dt); y = torch.zeros(B, K, dtype=dt); kl = 0
        for n in range(N):
            t = torch.full((B, 1), n * h, dtype=dt)
            u = net(torch.cat([torch.sin(t), torch.cos(t), x, y], 1))
            kl = kl + 0.5 * (u * u).sum() * h
            xn = x + (-(y * (w * g)).sum(1, keepdim=True) + w.sum() * u) * h + w.sum() * dW[n]
            y = y + (-g * y + u) * h + dW[n]
            x = xn
        loss = (0.5 * (x / 0.1) ** 2).sum() / B + kl / B
        opt.zero_grad(); loss.backward(); opt.step()
    out["ms"] = best(step, cfg["runs"])
else:
    F = 16
    fr = 0.25 * 64 ** (torch.arange(F, dtype=dt) / (F - 1))
    net = torch.nn.Sequential(torch.nn.Linear(2 + 2 * F, 128), torch.nn.SiLU(), torch.nn.Linear(128, 128), torch.nn.SiLU(),
                              torch.nn.Linear(128, 128), torch.nn.SiLU(), torch.nn.Linear(128, 2)).to(dt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    data = torch.randn(20000, 2, dtype=dt) * 4
    def step():
        idx = torch.randint(0, 20000, (256,)); t = torch.rand(256, 1, dtype=dt) * (1 - 1e-3) + 1e-3
        lm = -0.25 * t * t * 19.9 - 0.05 * t; m = torch.exp(lm); s = torch.sqrt(-torch.expm1(2 * lm))
        e = torch.randn(256, 2, dtype=dt); xt = m * data[idx] + s * e
        a = 2 * math.pi * fr * t
        loss = ((net(torch.cat([xt, torch.sin(a), torch.cos(a)], 1)) - e) ** 2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    out["ms"] = best(step, cfg["runs"])
print(json.dumps(out))
`;

/** Runs the benchmark and writes train.json and train.md into the output folder (harness report). */
export async function run(o: BenchOptions): Promise<void> {
  const all = getThreads();
  const threads = [...new Set([1, all])];
  const rows: BenchRow[] = [];
  const runs = o.quick ? 3 : 10;
  for (const dtype of ['float32', 'float64'] as const) {
    for (const t of threads) {
      setThreads(t);
      const m = new FractionalSDE({ hurst: 0.7, hidden: [128, 128], dtype, batch: 32, seed: 1, observations: { times: [2], values: [0], sigma: 0.1 } });
      const r = time(() => m.stepSync(), { warmup: 2, runs });
      const torch = python(TORCH, [JSON.stringify({ case: 'bridge', dtype, threads: t, runs: o.quick ? 2 : 5 })]);
      const tms = torch ? Number(torch.ms) : NaN;
      rows.push({
        case: `fOU bridge iteration, ${dtype}, ${t} thread(s)`,
        value: 1e3 / r.minMs,
        unit: 'steps/s',
        ratio: torch ? `${(tms / r.minMs).toFixed(2)}x vs PyTorch (${(1e3 / tms).toFixed(2)} steps/s)` : 'PyTorch absent',
        note: `${((2 * BRIDGE_MACS) / (r.minMs / 1e3) / 1e9).toFixed(2)} GFLOP/s`,
      });
    }
  }
  const data = toy('gmm8', 20000, 1);
  for (const t of threads) {
    setThreads(t);
    // Time whole training loops of `iters` steps and divide (Adam included).
    const iters = o.quick ? 20 : 100;
    const r = time(() => scoreMatchingSync({ data, hidden: [128, 128, 128], iterations: iters, batch: 256, seed: 1 }), { warmup: 1, runs: 3 });
    const ms = r.minMs / iters;
    const torch = python(TORCH, [JSON.stringify({ case: 'dsm', dtype: 'float32', threads: t, runs: o.quick ? 20 : 100 })]);
    const tms = torch ? Number(torch.ms) : NaN;
    rows.push({
      case: `2-D score matching step (batch 256, float32), ${t} thread(s)`,
      value: 1e3 / ms,
      unit: 'steps/s',
      ratio: torch ? `${(tms / ms).toFixed(2)}x vs PyTorch (${(1e3 / tms).toFixed(0)} steps/s)` : 'PyTorch absent',
      note: `${((2 * DSM_MACS) / (ms / 1e3) / 1e9).toFixed(2)} GFLOP/s`,
    });
  }
  setThreads(all);
  report('train', 'Training steps per second (minimum over runs)', rows, [
    `Bridge: 32 paths × 200 Euler steps, control MLP 8→128→128→1 (tanh), ${(BRIDGE_MACS / 1e6).toFixed(0)} M multiply-adds per iteration`,
    '(forward, dW and dx), adjoint over the stored trajectory and Adam, all in one native call per iteration; PyTorch runs',
    'the same discretised graph with autograd. Score matching: batch 256 through 34→128→128→128→2 (SiLU), loss, backward, Adam.',
    'Paths are split into chunks of 8 (bridge) or 64 rows (score matching), so a batch of 32 uses at most 4 threads.',
    'Numbers from a shared 2-core machine vary with its load; ratios are from the same run.',
  ]);
}
