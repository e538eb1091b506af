"""Shared plumbing of the anchor scripts: argument parsing, timing, device checks, JSON output.

Every anchor prints exactly one JSON object as the last line of stdout. When a module or a device
is missing, or the run fails, that object carries "skipped": "<reason>" and the exit status is 0,
so callers (benchmarks/anchors/anchor.ts) can tell a skipped anchor from a crash of Python itself.
Works with numpy 1.x and 2.x, torch 1.13 and 2.x, any recent JAX.
"""
import argparse
import json
import os
import sys
import time


def parser(description):
    """An argparse parser with the options every anchor shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--lib", required=True, choices=["numpy", "torch", "jax"])
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (numpy is always 1)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up run")
    p.add_argument("--seed", type=int, default=1)
    return p


def emit(obj):
    """Prints the result object as the last line of stdout."""
    sys.stdout.flush()
    print(json.dumps(obj), flush=True)


def skip(base, reason):
    """Prints a skipped result and exits with status 0."""
    out = dict(base)
    out["skipped"] = reason
    emit(out)
    sys.exit(0)


def load(lib, device, threads):
    """Imports the library and checks the device.

    Returns (module, version, device handle or None, effective threads), or raises SkipError.
    """
    if lib == "numpy":
        if device != "cpu":
            raise SkipError("numpy runs on the CPU only")
        import numpy as np  # noqa: F401

        return np, np.__version__, None, 1
    if lib == "torch":
        if device == "cpu":
            # torch.set_num_threads alone leaves the OpenMP/MKL pools at the core count (a "1 thread"
            # run was measured using two cores); the environment must say it before the import.
            set_blas_threads(threads)
        try:
            import torch
        except ImportError as e:
            raise SkipError("no module torch (%s)" % e)
        if device == "cuda":
            if not torch.cuda.is_available():
                raise SkipError("torch %s sees no CUDA device" % torch.__version__)
            return torch, torch.__version__, torch.device("cuda"), None
        torch.set_num_threads(max(1, threads))
        return torch, torch.__version__, torch.device("cpu"), torch.get_num_threads()
    # JAX: do not let XLA grab 75% of the GPU up front (itokit may hold device memory too).
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        import jax
    except ImportError as e:
        raise SkipError("no module jax (%s)" % e)
    want = "gpu" if device == "cuda" else "cpu"
    try:
        devs = jax.devices(want)
    except RuntimeError as e:
        raise SkipError("jax %s has no %s device (%s)" % (jax.__version__, want, str(e).splitlines()[0]))
    if not devs:
        raise SkipError("jax %s has no %s device" % (jax.__version__, want))
    return jax, jax.__version__, devs[0], None


class SkipError(Exception):
    """A reason to print a skipped result instead of a measurement."""


def timed(fn, sync, repeats):
    """Runs fn once as warm-up, then `repeats` timed runs (each followed by sync(result)).

    Returns (sorted list of seconds, result of the last run).
    """
    r = fn()
    sync(r)
    ts = []
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        r = fn()
        sync(r)
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts, r


def median(ts):
    """Median of a sorted list."""
    n = len(ts)
    return ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])


def main(run, base):
    """Calls run() and prints its result; turns missing modules, devices and errors into skips."""
    try:
        emit(run())
    except SkipError as e:
        skip(base, str(e))
    except ImportError as e:
        skip(base, "no module (%s)" % e)
    except Exception as e:  # an anchor must never take the benchmark down with it
        skip(base, "error: %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))


def ot_problem(np, base, n, m):
    """The OT problem a benchmark exported (benchmarks/ot.bench.ts): raw little-endian float64
    files base.C (n×m), base.a (n), base.b (m), so anchors and itokit solve the same numbers."""
    C = np.fromfile(base + ".C", dtype="<f8").reshape(n, m)
    a = np.fromfile(base + ".a", dtype="<f8")
    b = np.fromfile(base + ".b", dtype="<f8")
    return C, a, b


def l1_marginal_error(np, G, a, b):
    """‖G1 − a‖₁ + ‖Gᵀ1 − b‖₁ of a plan (the stopping measure itokit uses)."""
    return float(np.abs(G.sum(1) - a).sum() + np.abs(G.sum(0) - b).sum())


def set_blas_threads(threads):
    """Pins OpenBLAS/OpenMP/MKL to `threads` threads; call before importing numpy."""
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(max(1, threads))
