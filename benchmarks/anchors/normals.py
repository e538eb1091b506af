"""n float32 standard normals the way a user draws them without itokit: torch.randn (CPU or CUDA),
numpy default_rng().standard_normal (PCG64), jax.random.normal (under jit).

    python3 normals.py --lib numpy|torch|jax --device cpu|cuda --n 67108864 --threads 1 --repeats 5

Each run allocates a fresh output, as itokit's rng.normal does. Warms up once (JAX: compiles),
then times `repeats` runs. On CUDA the main figure keeps the result on the device (synchronised
after each run); `seconds_min_to_host` / `normals_per_s_to_host` time the same draw followed by
the copy to a host array (`.cpu()` / `numpy.asarray`). On the CPU, `seconds_min_out` /
`normals_per_s_out` time the draw into one preallocated array (`out=`), beside itokit's
rng.normalInto. Prints one JSON object as the last line:
{lib, version, device, n, threads, seconds_min, seconds_median, normals_per_s, rng, repeats, ...}
or {..., skipped}.
"""
from _common import load, main, median, parser, timed


def run_cli():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1 << 26)
    a = p.parse_args()
    base = dict(lib=a.lib, device=a.device, n=a.n, threads=1 if a.lib == "numpy" else a.threads)

    def measure():
        mod, version, dev, threads = load(a.lib, a.device, a.threads)
        n = a.n
        host = None
        into = None  # the same draw into one preallocated array (out=)
        if a.lib == "numpy":
            np = mod
            rng = np.random.default_rng(a.seed)
            ts, x = timed(lambda: rng.standard_normal(n, dtype=np.float32), lambda r: None, a.repeats)
            buf = np.empty(n, dtype=np.float32)
            into, _ = timed(lambda: rng.standard_normal(n, dtype=np.float32, out=buf), lambda r: None, a.repeats)
            mean, var = float(x.mean(dtype=np.float64)), float(x.var(dtype=np.float64))
            gen = "PCG64, ziggurat normals (numpy default_rng)"
        elif a.lib == "torch":
            torch = mod
            torch.manual_seed(a.seed)
            if a.device == "cuda":
                sync = lambda r: torch.cuda.synchronize()  # noqa: E731
                ts, x = timed(lambda: torch.randn(n, device=dev, dtype=torch.float32), sync, a.repeats)
                host, _ = timed(lambda: torch.randn(n, device=dev, dtype=torch.float32).cpu(), lambda r: None, a.repeats)
                gen = "Philox4x32-10 (torch CUDA generator)"
            else:
                ts, x = timed(lambda: torch.randn(n, dtype=torch.float32), lambda r: None, a.repeats)
                buf = torch.empty(n, dtype=torch.float32)
                into, _ = timed(lambda: torch.randn(n, dtype=torch.float32, out=buf), lambda r: None, a.repeats)
                gen = "MT19937 (torch CPU generator)"
            xd = x.double()
            mean, var = float(xd.mean()), float(xd.var())
        else:
            jax = mod
            import jax.numpy as jnp
            import numpy as np
            mk = getattr(jax.random, "key", None) or jax.random.PRNGKey
            base_key = mk(a.seed)
            keys = [jax.device_put(jax.random.fold_in(base_key, i), dev) for i in range(2 * (a.repeats + 1))]
            f = jax.jit(lambda k: jax.random.normal(k, (n,), jnp.float32))
            it = iter(keys)
            ts, x = timed(lambda: f(next(it)), lambda r: r.block_until_ready(), a.repeats)
            if a.device == "cuda":
                host, _ = timed(lambda: np.asarray(f(next(it))), lambda r: None, a.repeats)
            xh = np.asarray(x, dtype=np.float64)
            mean, var = float(xh.mean()), float(xh.var())
            try:
                impl = str(jax.config.jax_default_prng_impl)
            except AttributeError:
                impl = "threefry2x32"
            gen = "%s (jax.random, default implementation)" % impl
        out = dict(base, version=version, threads=threads, repeats=a.repeats,
                   seconds_min=ts[0], seconds_median=median(ts), normals_per_s=n / ts[0],
                   mean=mean, var=var, rng=gen)
        if into is not None:
            out.update(seconds_min_out=into[0], normals_per_s_out=n / into[0])
        if host is not None:
            out.update(seconds_min_to_host=host[0], seconds_median_to_host=median(host),
                       normals_per_s_to_host=n / host[0])
        return out

    main(measure, base)


if __name__ == "__main__":
    run_cli()
