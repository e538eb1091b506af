"""POT's entropic OT solvers on a problem exported by benchmarks/ot.bench.ts: the default
`ot.sinkhorn` (Sinkhorn-Knopp kernel scaling, K = exp(−M/reg), two BLAS matrix–vector products
per iteration) or `method='sinkhorn_log'` (two numpy logsumexp passes per iteration).

    python3 ot_pot.py --lib numpy --method sinkhorn|sinkhorn_log --base /tmp/p0 --n 500 --m 500 \
        --reg 0.1 --tau 1e-9 --threads 1 --repeats 3 --search 4

Tolerance matched in L1: itokit stops at ‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁ ≤ tau. POT stops when the L2 norm
of its column residual is below stopThr (rows are exact after its last u-update), checked every
10 iterations. stopThr = tau/√m guarantees L1 ≤ tau but is tighter than needed, so the script
then doubles stopThr up to `search` times while the returned plan still has L1 error ≤ tau, and
times the largest passing stopThr (the search runs are not timed). BLAS threads are pinned with
OPENBLAS_NUM_THREADS/OMP_NUM_THREADS before numpy is imported.

Prints one JSON line: {lib, version, method, threads, stop_thr, iters, err, cost, seconds_min,
seconds_median, cpu_seconds_min, repeats} or {..., skipped}.
"""
import math
import time

from _common import SkipError, l1_marginal_error, main, median, ot_problem, parser, set_blas_threads


def run(args):
    set_blas_threads(args.threads)
    import numpy as np
    try:
        import ot
    except ImportError as e:
        raise SkipError("no module ot (POT): %s" % e)
    C, a, b = ot_problem(np, args.base, args.n, args.m)

    def solve(thr):
        t, c = time.perf_counter(), time.process_time()
        G, log = ot.sinkhorn(a, b, C, args.reg, method=args.method, numItermax=args.max_iter, stopThr=thr,
                             log=True, warn=False)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        return G, log, dt, dc

    thr = args.tau / math.sqrt(args.m)
    G, log, dt, dc = solve(thr)
    err = l1_marginal_error(np, G, a, b)
    if not err <= args.tau:
        raise SkipError("POT %s did not reach L1 %.1e within %d iterations (err %.2e)" % (args.method, args.tau, args.max_iter, err))
    for _ in range(args.search):
        G2, log2, dt2, dc2 = solve(2 * thr)
        e2 = l1_marginal_error(np, G2, a, b)
        if not e2 <= args.tau:
            break
        thr, G, log, dt, dc, err = 2 * thr, G2, log2, dt2, dc2, e2
    walls, cpus = [dt], [dc]
    for _ in range(max(0, args.repeats - 1)):
        G, log, dt, dc = solve(thr)
        walls.append(dt)
        cpus.append(dc)
    walls.sort()
    return dict(lib="pot", version=ot.__version__, numpy=np.__version__, method=args.method, device="cpu",
                threads=args.threads, stop_thr=thr, iters=int(log["niter"]), err=err, cost=float((C * G).sum()),
                seconds_min=walls[0], seconds_median=median(walls), cpu_seconds_min=min(cpus), repeats=len(walls))


if __name__ == "__main__":
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--method", default="sinkhorn", choices=["sinkhorn", "sinkhorn_log"])
    p.add_argument("--base", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--m", type=int, required=True)
    p.add_argument("--reg", type=float, required=True)
    p.add_argument("--tau", type=float, default=1e-9)
    p.add_argument("--max-iter", dest="max_iter", type=int, default=100000)
    p.add_argument("--search", type=int, default=4, help="stopThr doublings tried (untimed)")
    args = p.parse_args()
    main(lambda: run(args), dict(lib="pot", method=args.method, device="cpu"))
