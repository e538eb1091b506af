"""The MA-fBM Markov sampler a user writes instead of calling itokit: K OU factors driven by one
Brownian motion, exact OU step (docs/design/fbm.md), type II (Y(0) = 0), B̂ = Σ ω_k Y_k stored on
the whole grid, float32, vectorised over paths, fresh normals every step.

    python3 fbm_markov.py --lib numpy|torch --paths 10000 --steps 1000 --K 5 --threads 1 --repeats 3

Warms up once, then times `repeats` runs. Prints one JSON object as the last line:
{lib, version, device, paths, steps, K, threads, seconds_min, seconds_median,
 path_steps_per_s (from seconds_min), var_final, rng, repeats} or {..., skipped}.
"""
import math

from _common import SkipError, load, main, median, parser, timed


def constants(np, K, n):
    """Exact-step constants for speeds γ_k = 20^((k - (K+1)/2)/2), Δ = 1/n, in float64."""
    g = 20.0 ** ((np.arange(1, K + 1) - (K + 1) / 2.0) / 2.0)
    dt = 1.0 / n
    e = np.exp(-g * dt)
    m = -np.expm1(-g * dt) / g / dt
    gs = g[:, None] + g[None, :]
    S = -np.expm1(-gs * dt) / gs - dt * np.outer(m, m)
    lw, U = np.linalg.eigh(S)
    Lc = U * np.sqrt(np.maximum(lw, 0))
    om = np.full(K, 1.0 / K)
    return dt, e, m, Lc, om


def numpy_markov(np, P, n, K, seed):
    f32 = np.float32
    dt, e, m, Lc, om = constants(np, K, n)
    e, m, LcT, om = e.astype(f32), m.astype(f32), Lc.T.astype(f32).copy(), om.astype(f32)
    sq = f32(math.sqrt(dt))
    rng = np.random.default_rng(seed)

    def run():
        Y = np.zeros((P, K), dtype=f32)
        B = np.empty((P, n + 1), dtype=f32)
        B[:, 0] = 0
        z = np.empty((P, K + 1), dtype=f32)
        t = np.empty((P, K), dtype=f32)
        for j in range(n):
            rng.standard_normal(out=z, dtype=f32)
            dW = z[:, :1]
            dW *= sq
            Y *= e                               # e^{−γΔ} Y
            np.multiply(dW, m, out=t)
            Y += t                               # + m ΔW
            np.matmul(z[:, 1:], LcT, out=t)
            Y += t                               # + L_c z
            np.matmul(Y, om, out=B[:, j + 1])    # B̂ = ω·Y
        return B
    return run


def torch_markov(torch, P, n, K, seed):
    import numpy as np
    dt, e, m, Lc, om = constants(np, K, n)
    f = torch.float32
    e, m, LcT, om = (torch.tensor(x, dtype=f) for x in (e, m, Lc.T.copy(), om))
    sq = math.sqrt(dt)
    torch.manual_seed(seed)

    def run():
        Y = torch.zeros(P, K, dtype=f)
        B = torch.empty(P, n + 1, dtype=f)
        B[:, 0] = 0
        z = torch.empty(P, K + 1, dtype=f)
        for j in range(n):
            torch.randn(P, K + 1, out=z)
            dW = z[:, :1].mul_(sq)
            Y.mul_(e).addcmul_(dW, m).addmm_(z[:, 1:], LcT)
            torch.mv(Y, om, out=B[:, j + 1])
        return B
    return run


def run_cli():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--paths", type=int, default=10_000)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--K", type=int, default=5)
    a = p.parse_args()
    base = dict(lib=a.lib, device=a.device, paths=a.paths, steps=a.steps, K=a.K,
                threads=1 if a.lib == "numpy" else a.threads)

    def measure():
        if a.lib == "jax":
            raise SkipError("no JAX loop for the fBM anchor")
        if a.device != "cpu":
            raise SkipError("the fBM anchor runs on the CPU only")
        mod, version, _dev, threads = load(a.lib, a.device, a.threads)
        fn = (numpy_markov if a.lib == "numpy" else torch_markov)(mod, a.paths, a.steps, a.K, a.seed)
        ts, B = timed(fn, lambda r: None, a.repeats)
        last = B[:, -1]
        var = float((last.double() if a.lib == "torch" else last.astype("float64")).var())
        rng = "PCG64, ziggurat normals (numpy default_rng)" if a.lib == "numpy" else "MT19937 (torch CPU generator)"
        return dict(base, version=version, threads=threads, repeats=a.repeats, seconds_min=ts[0],
                    seconds_median=median(ts), path_steps_per_s=a.paths * a.steps / ts[0],
                    var_final=var, rng=rng)

    main(measure, base)


if __name__ == "__main__":
    run_cli()
