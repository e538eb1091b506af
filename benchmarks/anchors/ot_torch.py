"""The log-domain Sinkhorn a PyTorch user writes: float64, two torch.logsumexp passes per
iteration, on a problem exported by benchmarks/ot.bench.ts.

    python3 ot_torch.py --lib torch --base /tmp/p0 --n 500 --m 500 --reg 0.1 --tau 1e-9 --threads 1

    v = log b − LSE_i(u_i − C_ij/reg);  u = log a − LSE_j(v_j − C_ij/reg)

Rows are exact after the u-update, so the L1 marginal error is the column residual; like POT it
is checked every 10 iterations (one extra logsumexp pass), and the loop stops at L1 ≤ tau, the
same measure itokit stops on. −C/reg is formed once, outside the timing of the loop but inside
the reported time (as POT does). Prints one JSON line: {lib, version, device, threads, iters, err,
cost, seconds_min, seconds_median, cpu_seconds_min, repeats} or {..., skipped}.
"""
import time

from _common import load, main, median, ot_problem, parser, set_blas_threads


def run(args):
    set_blas_threads(args.threads)
    import numpy as np
    torch, version, dev, threads = load("torch", args.device, args.threads)
    C, a, b = ot_problem(np, args.base, args.n, args.m)
    Ct = torch.from_numpy(C).to(dev)
    la = torch.from_numpy(np.log(a)).to(dev)
    lb = torch.from_numpy(np.log(b)).to(dev)
    bt = torch.from_numpy(b).to(dev)

    def solve():
        M = Ct / (-args.reg)
        u = torch.zeros(args.n, dtype=torch.float64, device=dev)
        v = torch.zeros(args.m, dtype=torch.float64, device=dev)
        it, err = 0, float("inf")
        while it < args.max_iter:
            v = lb - torch.logsumexp(M + u[:, None], 0)
            u = la - torch.logsumexp(M + v[None, :], 1)
            it += 1
            if it % 10 == 0:
                col = torch.exp(torch.logsumexp(M + u[:, None], 0) + v)
                err = float(torch.abs(col - bt).sum())
                if err <= args.tau:
                    break
        return u, v, it, err, M

    walls, cpus = [], []
    for _ in range(max(1, args.repeats)):
        t, c = time.perf_counter(), time.process_time()
        u, v, it, err, M = solve()
        if dev is not None and dev.type == "cuda":
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    walls.sort()
    P = torch.exp(M + u[:, None] + v[None, :])
    cost = float((P * Ct).sum())
    return dict(lib="torch", version=version, device=args.device, threads=threads, iters=it, err=err, cost=cost,
                seconds_min=walls[0], seconds_median=median(walls), cpu_seconds_min=min(cpus), repeats=len(walls))


if __name__ == "__main__":
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--m", type=int, required=True)
    p.add_argument("--reg", type=float, required=True)
    p.add_argument("--tau", type=float, default=1e-9)
    p.add_argument("--max-iter", dest="max_iter", type=int, default=100000)
    args = p.parse_args()
    main(lambda: run(args), dict(lib="torch", device=args.device))
