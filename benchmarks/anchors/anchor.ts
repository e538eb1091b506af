/**
 * Runs the "anchor" scripts of this folder (what a user would otherwise run: numpy, torch or JAX
 * loops) from a benchmark, so their figures sit beside itokit's rows in the same run, and holds
 * the one Python launcher every benchmark uses (harness.ts `python()` goes through it too).
 *
 * Interpreters are tried in order: `python3` on PATH, then `/usr/bin/python3`. The next one is
 * tried only when the previous lacks a module the script imports, so a PATH Python with CUDA
 * torch and JAX (GPU machines) wins, and Debian's Python with numpy, torch and POT still serves
 * where the PATH one is bare. `ITOKIT_PYTHON=/path/to/python` replaces the lookup (that
 * interpreter only). Every interpreter that produced a result is recorded in
 * {@link anchorConfig}.used, and the runner prints which one ran. The child's environment is process.env without the OpenBLAS core
 * overrides (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE), with PYTHONUNBUFFERED=1.
 * @packageDocumentation
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../../lib/native';

/**
 * Run-wide anchor settings: `enabled` false (`itokit bench --no-anchors`) skips every Python
 * baseline; `used` collects the interpreters that ran (reported with the results); `onRun` hears
 * each run (the runner's progress lines).
 */
export const anchorConfig: { enabled: boolean; used: Set<string>; onRun?: (what: string, exe: string | undefined, ok: boolean) => void } = {
  enabled: true,
  used: new Set(),
};

/** Environment variables removed from the child's environment (they pin OpenBLAS kernels). */
const SCRUBBED_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'];

/**
 * One anchor measurement: the last stdout line of an anchor script, parsed.
 * Field names are the scripts' JSON keys. Times are wall seconds of one run after a warm-up
 * (CUDA runs end with a device synchronisation); rates are computed from `seconds_min`.
 */
export interface AnchorResult {
  /** 'numpy', 'torch' or 'jax'. */
  lib: string;
  /** The library's version string. */
  version?: string;
  /** 'cpu' or 'cuda'. */
  device: string;
  /** sde_loops only: 'gbm' or 'heston'. */
  model?: string;
  /** sde_loops only: number of paths. */
  paths?: number;
  /** sde_loops only: number of steps. */
  steps?: number;
  /** normals only: number of float32 normals per run. */
  n?: number;
  /** CPU threads used (numpy: always 1; torch CPU: torch.get_num_threads()); null on CUDA and for JAX. */
  threads?: number | null;
  /** Timed runs after the warm-up. */
  repeats?: number;
  /** Fastest timed run, seconds. */
  seconds_min?: number;
  /** Median timed run, seconds. */
  seconds_median?: number;
  /** sde_loops, fbm_markov: paths × steps / seconds_min. */
  path_steps_per_s?: number;
  /** normals: n / seconds_min (on CUDA the result stays on the device). */
  normals_per_s?: number;
  /** normals on CUDA: fastest run of the draw followed by the copy to a host array, seconds. */
  seconds_min_to_host?: number;
  /** normals on CUDA: median of the same, seconds. */
  seconds_median_to_host?: number;
  /** normals on CUDA: n / seconds_min_to_host. */
  normals_per_s_to_host?: number;
  /** normals, CPU: the same draw into one preallocated array (`out=`). */
  normals_per_s_out?: number;
  /** normals, CPU: seconds of the fastest `out=` run. */
  seconds_min_out?: number;
  /** fbm_markov only: number of OU factors. */
  K?: number;
  /** fbm_markov: sample variance of B̂(T) (sanity check). */
  var_final?: number;
  /** sde_loops: mean of the final S over the paths (sanity check). */
  mean_final?: number;
  /** sde_loops: closed-form E[S_T] = S0·exp(mu·t1), to compare with mean_final. */
  expected_mean?: number;
  /** normals: sample mean (sanity check). */
  mean?: number;
  /** normals: sample variance (sanity check). */
  var?: number;
  /** The generator behind the normals, e.g. "PCG64, ziggurat normals (numpy default_rng)". */
  rng?: string;
  /** ot_pot: 'sinkhorn' (POT's default) or 'sinkhorn_log'. */
  method?: string;
  /** ot_pot / ot_torch: Sinkhorn iterations of the timed runs. */
  iters?: number;
  /** ot_pot / ot_torch: L1 marginal error of the returned plan. */
  err?: number;
  /** ot_pot / ot_torch: transport cost ⟨C, P⟩. */
  cost?: number;
  /** ot_pot / ot_torch / unet_torch: process CPU time of the fastest run, seconds (all threads). */
  cpu_seconds_min?: number;
  /** ot_pot: the L2 stopping threshold that reached the L1 tolerance. */
  stop_thr?: number;
  /** unet_torch only: batch size of each forward. */
  batch?: number;
  /** unet_torch only: seconds_min × 1000 / batch. */
  ms_per_image?: number;
  /** unet_torch only: mean |ε̂| of the last forward (sanity check). */
  mean_abs_out?: number;
  /** Present when the anchor did not run: why. */
  skipped?: string;
  /** The interpreter that ran the script (added by {@link runAnchor}). */
  python?: string;
}

/**
 * Python interpreters to try, in order: `python3` found on PATH, then `/usr/bin/python3`
 * (deduplicated; only files that exist and are executable). `ITOKIT_PYTHON`, when set, is the
 * only candidate.
 */
export function pythonCandidates(): string[] {
  const forced = process.env.ITOKIT_PYTHON;
  if (forced) return isExecutable(forced) ? [forced] : [];
  const names = process.platform === 'win32' ? ['python3.exe', 'python.exe'] : ['python3'];
  const found: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const hit = names.map((n) => path.join(dir, n)).find(isExecutable);
    if (hit) {
      found.push(hit);
      break;
    }
  }
  if (isExecutable('/usr/bin/python3')) found.push('/usr/bin/python3');
  return [...new Set(found)];
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** process.env without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, with PYTHONUNBUFFERED=1. */
export function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  for (const k of SCRUBBED_ENV) delete env[k];
  return env;
}

/** What {@link runPython} returns: the parsed last stdout line, or why there is none. */
export type PythonOutcome =
  | { ok: true; json: Record<string, unknown>; exe: string }
  | { ok: false; reason: string; exe?: string };

const MISSING_MODULE = /ModuleNotFoundError|No module named|^no module/;

/**
 * Runs `python3 <args>` (see {@link pythonCandidates} for the lookup, {@link pythonEnv} for the
 * environment) and parses the last line of stdout as JSON. Falls through to the next interpreter
 * when one fails for a missing module (a traceback naming it, or a JSON `skipped` starting with
 * "no module"). Never throws.
 * @param args - arguments after the interpreter, e.g. ['-c', script, ...] or [file, '--flag', v]
 * @param timeoutMs - wall-clock limit per interpreter
 */
export function runPython(args: string[], timeoutMs = 600_000): PythonOutcome {
  const exes = pythonCandidates();
  const lib = args.indexOf('--lib');
  const what = (args[0] === '-c' ? 'inline baseline' : path.basename(args[0] ?? 'python')) + (lib >= 0 && args[lib + 1] ? ` (${args[lib + 1]})` : '');
  if (exes.length === 0) {
    const forced = process.env.ITOKIT_PYTHON;
    anchorConfig.onRun?.(what, undefined, false);
    return { ok: false, reason: forced ? `ITOKIT_PYTHON=${forced} is not an executable file` : 'no python3 on PATH and no /usr/bin/python3' };
  }
  let first: PythonOutcome | undefined;
  let chosen: PythonOutcome | undefined;
  for (const exe of exes) {
    const r = runOnce(exe, args, timeoutMs);
    first ??= r;
    const why = r.ok ? (typeof r.json.skipped === 'string' ? r.json.skipped : '') : r.reason;
    if (!MISSING_MODULE.test(why)) {
      chosen = r;
      break;
    }
  }
  const r = chosen ?? (first as PythonOutcome);
  if (r.ok && r.exe) anchorConfig.used.add(r.exe);
  anchorConfig.onRun?.(what, r.exe, r.ok && typeof r.json.skipped !== 'string');
  return r;
}

function runOnce(exe: string, args: string[], timeoutMs: number): PythonOutcome {
  let stdout: string;
  try {
    stdout = execFileSync(exe, args, {
      encoding: 'utf8', timeout: timeoutMs, env: pythonEnv(), maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { code?: string; signal?: string; status?: number | null; stdout?: string; stderr?: string; message?: string };
    if (err.code === 'ETIMEDOUT' || err.signal === 'SIGTERM') {
      return { ok: false, exe, reason: `${path.basename(exe)} timed out after ${(timeoutMs / 1e3).toFixed(0)} s` };
    }
    const parsed = lastJson(String(err.stdout ?? ''));
    if (parsed) return { ok: true, exe, json: parsed };
    const lines = String(err.stderr || '').trim().split('\n');
    const last = lines[lines.length - 1] || (err.status != null ? `exit status ${err.status}` : String(err.signal ?? err.code ?? err.message ?? 'failed'));
    return { ok: false, exe, reason: `${exe}: ${last}` };
  }
  const parsed = lastJson(stdout);
  if (!parsed) return { ok: false, exe, reason: `${exe}: no JSON on the last line of stdout` };
  return { ok: true, exe, json: parsed };
}

function lastJson(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.trim().split('\n');
  try {
    const v = JSON.parse(lines[lines.length - 1]) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs benchmarks/anchors/<script>.py with `--key value` for every entry of `args` and returns
 * its result. Prints `  (anchor skipped: <reason>)` and returns undefined when Python, the
 * library or the device is missing, the run fails or times out, or the script reports `skipped`.
 * @example
 * ```ts
 * const t = runAnchor('sde_loops', { lib: 'torch', device: 'cuda', model: 'gbm', paths: 1e7, steps: 252, repeats: 3 });
 * if (t) rows.push({ case: `torch ${t.version} CUDA GBM`, value: t.path_steps_per_s!, unit: 'path-steps/s' });
 * ```
 * @param script - 'sde_loops' (GBM / Heston / OU / CIR loops), 'normals' (float32 standard normals),
 *   'fbm_markov' (the MA-fBM exact-step loop), 'ot_pot' (POT's Sinkhorn solvers) or 'ot_torch' (a torch
 *   log-domain Sinkhorn loop)
 * @param args - command-line options without the dashes, e.g. { lib: 'numpy', paths: 1e6 }
 * @param timeoutMs - wall-clock limit (default 10 minutes)
 */
export function runAnchor(script: 'sde_loops' | 'normals' | 'fbm_markov' | 'ot_pot' | 'ot_torch' | 'unet_torch', args: Record<string, string | number>, timeoutMs = 600_000): AnchorResult | undefined {
  if (!anchorConfig.enabled) {
    console.log(`  (anchor skipped: ${script} ${args.lib ?? ''}: anchors disabled by --no-anchors)`);
    return undefined;
  }
  const file = path.join(packageRoot, 'benchmarks', 'anchors', `${script}.py`);
  if (!fs.existsSync(file)) {
    console.log(`  (anchor skipped: ${file} not found)`);
    return undefined;
  }
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const r = runPython([file, ...argv], timeoutMs);
  if (!r.ok) {
    console.log(`  (anchor skipped: ${r.reason})`);
    return undefined;
  }
  const res = { ...(r.json as unknown as AnchorResult), python: r.exe };
  if (res.skipped !== undefined) {
    console.log(`  (anchor skipped: ${res.lib ?? script} ${res.device ?? ''}: ${res.skipped})`);
    return undefined;
  }
  return res;
}

/**
 * Ratio text for a throughput pair, ours/theirs, e.g. `ratioText(2.31e8, 1e8, 'torch')` →
 * "2.31x vs torch". Returns "n/a vs <label>" when either value is missing or not positive.
 * @param ours - itokit's throughput (higher is better)
 * @param theirs - the anchor's throughput in the same unit
 * @param label - what the anchor is, as it should read after "vs"
 */
export function ratioText(ours: number, theirs: number, label: string): string {
  if (!(ours > 0) || !(theirs > 0) || !Number.isFinite(ours) || !Number.isFinite(theirs)) return `n/a vs ${label}`;
  return `${(ours / theirs).toFixed(2)}x vs ${label}`;
}
