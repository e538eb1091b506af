"""The SDE loops a user writes instead of calling itokit: GBM Euler, Heston log-Euler with full
truncation, OU with the exact step, CIR full-truncation Euler (OU and CIR: numpy and torch only),
float32, fresh standard normals every step, final state only (no saved grid).

    python3 sde_loops.py --lib numpy|torch|jax --device cpu|cuda --model gbm|heston|ou|cir \
        --paths 1000000 --steps 252 --threads 1 --repeats 3

Warms up once (JAX: that run compiles), then times `repeats` runs; on CUDA every run ends with a
device synchronisation. Prints one JSON object as the last line:
{lib, version, device, model, paths, steps, threads, seconds_min, seconds_median,
 path_steps_per_s (from seconds_min), mean_final, expected_mean, rng, repeats} or {..., skipped}.
"""
import math

from _common import SkipError, load, main, median, parser, timed

# GBM dX = mu X dt + sigma X dW, X0 = 1, t in [0, 1].
GBM = dict(mu=0.05, sigma=0.2, x0=1.0, t1=1.0)
# Heston dS = mu S dt + sqrt(v) S dW1, dv = kappa (theta - v) dt + xi sqrt(v) dW2, d<W1,W2> = rho dt.
HESTON = dict(mu=0.05, kappa=2.0, theta=0.04, xi=0.5, rho=-0.7, s0=100.0, v0=0.04, t1=1.0)
# OU dX = theta (mu - X) dt + sigma dW, exact step X' = mu + (X - mu) e^{-theta h} + b z.
OU = dict(theta=2.0, mu=0.5, sigma=0.3, x0=0.0, t1=1.0)
# CIR dv = kappa (theta - v) dt + xi sqrt(v) dW, full-truncation Euler.
CIR = dict(kappa=2.0, theta=0.04, xi=0.5, v0=0.04, t1=1.0)


def expected_mean(model):
    """E[X_T] in closed form (the sanity value printed beside mean_final)."""
    if model == "gbm":
        return GBM["x0"] * math.exp(GBM["mu"] * GBM["t1"])
    if model == "heston":
        return HESTON["s0"] * math.exp(HESTON["mu"] * HESTON["t1"])
    if model == "ou":
        return OU["mu"] + (OU["x0"] - OU["mu"]) * math.exp(-OU["theta"] * OU["t1"])
    return CIR["theta"] + (CIR["v0"] - CIR["theta"]) * math.exp(-CIR["kappa"] * CIR["t1"])


def ou_coefs(N):
    """(a, c, b): X' = a X + c + b z with a = e^{-theta h}, c = mu (1 - a), b = sigma sqrt((1 - a^2)/(2 theta))."""
    h = OU["t1"] / N
    a = math.exp(-OU["theta"] * h)
    b = OU["sigma"] * math.sqrt(-math.expm1(-2 * OU["theta"] * h) / (2 * OU["theta"]))
    return a, OU["mu"] * (1 - a), b


# ---- numpy: in-place ops on preallocated float32 buffers, PCG64 normals written into them ------

def numpy_gbm(np, P, N, seed):
    f32 = np.float32
    h = GBM["t1"] / N
    a = f32(1.0 + GBM["mu"] * h)          # x + mu x h + sigma x sqrt(h) z = x (a + b z)
    b = f32(GBM["sigma"] * math.sqrt(h))
    rng = np.random.default_rng(seed)

    def run():
        x = np.full(P, GBM["x0"], dtype=f32)
        z = np.empty(P, dtype=f32)
        for _ in range(N):
            rng.standard_normal(out=z, dtype=f32)
            z *= b
            z += a
            x *= z
        return x
    return run


def numpy_heston(np, P, N, seed):
    f32 = np.float32
    p = HESTON
    h = p["t1"] / N
    sqh = f32(math.sqrt(h))
    csqh = f32(math.sqrt(1.0 - p["rho"] ** 2) * math.sqrt(h))
    rho, xi = f32(p["rho"]), f32(p["xi"])
    muh, mhh = f32(p["mu"] * h), f32(-0.5 * h)
    kth, mkh = f32(p["kappa"] * p["theta"] * h), f32(-p["kappa"] * h)
    zero = f32(0.0)
    rng = np.random.default_rng(seed)

    def run():
        S = np.full(P, p["s0"], dtype=f32)
        v = np.full(P, p["v0"], dtype=f32)
        vp, sv, z1, z2, t = (np.empty(P, dtype=f32) for _ in range(5))
        for _ in range(N):
            rng.standard_normal(out=z1, dtype=f32)
            rng.standard_normal(out=z2, dtype=f32)
            np.maximum(v, zero, out=vp)          # full truncation: v+ in drift and diffusion
            np.sqrt(vp, out=sv)
            z1 *= sqh                            # dW1
            np.multiply(z1, rho, out=t)
            z2 *= csqh
            z2 += t                              # dW2 = rho dW1 + sqrt(1-rho^2) sqrt(h) z2
            np.multiply(vp, mhh, out=t)
            t += muh                             # (mu - v+/2) h
            z1 *= sv
            t += z1                              # + sqrt(v+) dW1
            np.exp(t, out=t)
            S *= t
            sv *= xi
            sv *= z2                             # xi sqrt(v+) dW2
            v += sv
            np.multiply(vp, mkh, out=t)
            t += kth                             # kappa (theta - v+) h
            v += t
        return S
    return run


def numpy_ou(np, P, N, seed):
    f32 = np.float32
    a, c, b = (f32(v) for v in ou_coefs(N))
    rng = np.random.default_rng(seed)

    def run():
        x = np.full(P, OU["x0"], dtype=f32)
        z = np.empty(P, dtype=f32)
        for _ in range(N):
            rng.standard_normal(out=z, dtype=f32)
            z *= b
            z += c
            x *= a
            x += z                               # x = a x + c + b z
        return x
    return run


def numpy_cir(np, P, N, seed):
    f32 = np.float32
    p = CIR
    h = p["t1"] / N
    xs, kth, mkh = f32(p["xi"] * math.sqrt(h)), f32(p["kappa"] * p["theta"] * h), f32(-p["kappa"] * h)
    zero = f32(0.0)
    rng = np.random.default_rng(seed)

    def run():
        v = np.full(P, p["v0"], dtype=f32)
        vp, z, t = (np.empty(P, dtype=f32) for _ in range(3))
        for _ in range(N):
            rng.standard_normal(out=z, dtype=f32)
            np.maximum(v, zero, out=vp)          # v+
            np.multiply(vp, mkh, out=t)
            t += kth                             # kappa (theta - v+) h
            np.sqrt(vp, out=vp)
            z *= xs
            z *= vp                              # xi sqrt(v+) sqrt(h) z
            v += t
            v += z
        return v
    return run


# ---- torch: the same loops with in-place tensor ops; works on CPU and CUDA -------------------

def torch_gbm(torch, dev, P, N, seed):
    h = GBM["t1"] / N
    a, b = 1.0 + GBM["mu"] * h, GBM["sigma"] * math.sqrt(h)
    torch.manual_seed(seed)

    def run():
        x = torch.full((P,), GBM["x0"], dtype=torch.float32, device=dev)
        z = torch.empty(P, dtype=torch.float32, device=dev)
        for _ in range(N):
            torch.randn(P, out=z)
            x.mul_(z.mul_(b).add_(a))
        return x
    return run


def torch_heston(torch, dev, P, N, seed):
    p = HESTON
    h = p["t1"] / N
    sqh = math.sqrt(h)
    csqh = math.sqrt(1.0 - p["rho"] ** 2) * math.sqrt(h)
    torch.manual_seed(seed)

    def run():
        S = torch.full((P,), p["s0"], dtype=torch.float32, device=dev)
        v = torch.full((P,), p["v0"], dtype=torch.float32, device=dev)
        vp, sv, z1, z2, t = (torch.empty(P, dtype=torch.float32, device=dev) for _ in range(5))
        for _ in range(N):
            torch.randn(P, out=z1)
            torch.randn(P, out=z2)
            torch.clamp(v, min=0.0, out=vp)
            torch.sqrt(vp, out=sv)
            z1.mul_(sqh)                                      # dW1
            z2.mul_(csqh).add_(z1, alpha=p["rho"])            # dW2
            torch.mul(vp, -0.5 * h, out=t)
            t.add_(p["mu"] * h).addcmul_(sv, z1)              # (mu - v+/2) h + sqrt(v+) dW1
            S.mul_(t.exp_())
            v.add_(vp, alpha=-p["kappa"] * h).add_(p["kappa"] * p["theta"] * h).addcmul_(sv, z2, value=p["xi"])
        return S
    return run


def torch_ou(torch, dev, P, N, seed):
    a, c, b = ou_coefs(N)
    torch.manual_seed(seed)

    def run():
        x = torch.full((P,), OU["x0"], dtype=torch.float32, device=dev)
        z = torch.empty(P, dtype=torch.float32, device=dev)
        for _ in range(N):
            torch.randn(P, out=z)
            x.mul_(a).add_(z.mul_(b).add_(c))
        return x
    return run


def torch_cir(torch, dev, P, N, seed):
    p = CIR
    h = p["t1"] / N
    torch.manual_seed(seed)

    def run():
        v = torch.full((P,), p["v0"], dtype=torch.float32, device=dev)
        vp, z = (torch.empty(P, dtype=torch.float32, device=dev) for _ in range(2))
        for _ in range(N):
            torch.randn(P, out=z)
            torch.clamp(v, min=0.0, out=vp)
            v.add_(vp, alpha=-p["kappa"] * h).add_(p["kappa"] * p["theta"] * h)
            v.addcmul_(vp.sqrt_(), z, value=p["xi"] * math.sqrt(h))
        return v
    return run


# ---- JAX: lax.scan over the steps under jit, one key per step from random.split -------------

def jax_model(jax, model, P, N):
    import jax.numpy as jnp

    def gbm(key):
        h = GBM["t1"] / N
        a, b = 1.0 + GBM["mu"] * h, GBM["sigma"] * math.sqrt(h)

        def step(x, k):
            z = jax.random.normal(k, (P,), jnp.float32)
            return x * (a + b * z), None
        x, _ = jax.lax.scan(step, jnp.full((P,), GBM["x0"], jnp.float32), jax.random.split(key, N))
        return x

    def heston(key):
        p = HESTON
        h = p["t1"] / N
        sqh, c = math.sqrt(h), math.sqrt(1.0 - p["rho"] ** 2)

        def step(state, k):
            S, v = state
            k1, k2 = jax.random.split(k)
            z1 = jax.random.normal(k1, (P,), jnp.float32)
            z2 = jax.random.normal(k2, (P,), jnp.float32)
            vp = jnp.maximum(v, 0.0)
            sv = jnp.sqrt(vp)
            dw1 = sqh * z1
            dw2 = p["rho"] * dw1 + c * sqh * z2
            S = S * jnp.exp((p["mu"] - 0.5 * vp) * h + sv * dw1)
            v = v + p["kappa"] * (p["theta"] - vp) * h + p["xi"] * sv * dw2
            return (S, v), None
        init = (jnp.full((P,), p["s0"], jnp.float32), jnp.full((P,), p["v0"], jnp.float32))
        (S, _), _ = jax.lax.scan(step, init, jax.random.split(key, N))
        return S

    return jax.jit(gbm if model == "gbm" else heston)


def jax_keys(jax, dev, seed, count):
    """`count` keys on `dev`, made before timing (new-style typed keys where available)."""
    mk = getattr(jax.random, "key", None) or jax.random.PRNGKey
    base = mk(seed)
    return [jax.device_put(jax.random.fold_in(base, i), dev) for i in range(count)]


def run_cli():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="gbm", choices=["gbm", "heston", "ou", "cir"])
    p.add_argument("--paths", type=int, default=1_000_000)
    p.add_argument("--steps", type=int, default=252)
    a = p.parse_args()
    base = dict(lib=a.lib, device=a.device, model=a.model, paths=a.paths, steps=a.steps,
                threads=1 if a.lib == "numpy" else a.threads)

    def measure():
        mod, version, dev, threads = load(a.lib, a.device, a.threads)
        P, N = a.paths, a.steps
        if a.lib == "numpy":
            np = mod
            fn = dict(gbm=numpy_gbm, heston=numpy_heston, ou=numpy_ou, cir=numpy_cir)[a.model](np, P, N, a.seed)
            ts, x = timed(fn, lambda r: None, a.repeats)
            mean = float(x.mean(dtype=np.float64))
            rng = "PCG64, ziggurat normals (numpy default_rng)"
        elif a.lib == "torch":
            torch = mod
            fn = dict(gbm=torch_gbm, heston=torch_heston, ou=torch_ou, cir=torch_cir)[a.model](torch, dev, P, N, a.seed)
            sync = (lambda r: torch.cuda.synchronize()) if a.device == "cuda" else (lambda r: None)
            ts, x = timed(fn, sync, a.repeats)
            mean = float(x.double().mean())
            rng = "Philox4x32-10 (torch CUDA generator)" if a.device == "cuda" else "MT19937 (torch CPU generator)"
        else:
            if a.model not in ("gbm", "heston"):
                raise SkipError("no JAX loop for %s" % a.model)
            jax = mod
            import numpy as np
            f = jax_model(jax, a.model, P, N)
            keys = jax_keys(jax, dev, a.seed, a.repeats + 1)
            it = iter(keys)
            ts, x = timed(lambda: f(next(it)), lambda r: r.block_until_ready(), a.repeats)
            mean = float(np.asarray(x, dtype=np.float64).mean())
            try:
                impl = str(jax.config.jax_default_prng_impl)
            except AttributeError:
                impl = "threefry2x32"
            rng = "%s (jax.random, default implementation)" % impl
        out = dict(base, version=version, threads=threads, repeats=a.repeats,
                   seconds_min=ts[0], seconds_median=median(ts),
                   path_steps_per_s=P * N / ts[0], mean_final=mean,
                   expected_mean=expected_mean(a.model), rng=rng)
        return out

    main(measure, base)


if __name__ == "__main__":
    run_cli()
