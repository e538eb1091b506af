/**
 * Public types of the entropic OT API (docs/design/ot.md §1.4).
 * @packageDocumentation
 */
import { DeviceOption } from '../backends';
import { RunOptions } from '../run';
import { Dtype, FloatArray } from '../validate';

/**
 * Which solver runs. 'sinkhorn': log-domain Sinkhorn (exp passes over C, or over point clouds);
 * 'sns': Sinkhorn-Newton-Sparse; 'kernel-scaling': Sinkhorn–Knopp on a stored float64 kernel
 * exp((f ⊕ g − C)/reg) with absorption of large scalings into f, g (CPU, n·m·8 extra bytes);
 * 'auto' (default): chosen from n, m, reg/(max C − min C), dtype and device (docs/design/ot.md).
 */
export type OtMethod = 'auto' | 'sns' | 'sinkhorn' | 'kernel-scaling';

/**
 * Two point clouds in place of a cost matrix: C_ij = ‖x_i − y_j‖², evaluated inside the solver's
 * passes and never stored (memory O((n + m)·d)). X: n×d, Y: m×d (tensors, or flat arrays with `d`),
 * one dtype. Solved by the online log-domain Sinkhorn.
 */
export interface PointCost<A extends FloatArray = FloatArray> {
  X: Tensor<A> | A;
  Y: Tensor<A> | A;
  /** The ground cost; only 'sqeuclidean'. */
  cost: 'sqeuclidean';
  /** Point dimension when X and Y are flat arrays. */
  d?: number;
}

/** Why a solve stopped: marginal error ≤ tol, the iteration budget, or no progress (float32 floor). */
export type OtStatus = 'converged' | 'maxIter' | 'stalled';

/** Stage of an error check in {@link SinkhornResult.history}. */
export type OtStage = 'sinkhorn' | 'warmup' | 'newton' | 'fallback' | 'epsScaling';

/** A row-major tensor. */
export interface Tensor<A extends FloatArray = FloatArray> {
  data: A;
  shape: number[];
}

/** Options of the Newton stage of SNS (docs/design/ot.md §3.7). */
export interface SnsOptions {
  /** Sinkhorn warm-up iterations N1 (default 20; the paper used 700 for an L1 grid cost). */
  warmupIters?: number;
  /** Initial fraction λ of plan entries kept in the sparsified Hessian (default 2/min(n,m)). */
  lambda0?: number;
  /**
   * Largest λ (default max(1/4, min(1, 64/min(n,m)))). Each kept entry costs about 24 bytes
   * (CSR + CSC), so the default cap costs at most 6 bytes per cost entry.
   */
  lambdaMax?: number;
  /**
   * A step with err_new > badRatio·err_old is "bad" (default 0.25): λ doubles, provided the
   * sparsified Hessian leaves out plan mass above round-off.
   */
  badRatio?: number;
  /**
   * A bad step that a denser Hessian cannot fix (λ at lambdaMax, or nothing left out) is followed by
   * fallbackIters Sinkhorn iterations when err_new > fallbackRatio·err_old (default 0.9).
   */
  fallbackRatio?: number;
  /** Newton steps before finishing with Sinkhorn (default 200). */
  maxNewton?: number;
  /** Conjugate-gradient iteration cap (default 10·(n+m)). */
  cgMaxIter?: number;
  /**
   * CG tolerance relative to ‖r‖₂ (default min(0.1, max(err, 1e-12, 0.3·q²)), q = err ratio of
   * the previous Newton step).
   */
  cgTol?: number;
  /** Cap of the CG shift σ = reg̃·min(‖r‖₂, shiftMax) (default 1e-3). */
  shiftMax?: number;
  /** Armijo constant (default 1e-4). */
  armijoC1?: number;
  /** Step halvings before a line search fails (default 30). */
  maxBacktracks?: number;
  /** Sinkhorn iterations run when a Newton step fails or stalls (default 20). */
  fallbackIters?: number;
}

/**
 * The plan's array type: the `dtype` option's when one is given (`D`), else the cost matrix's (`A`).
 * @example `ot.sinkhorn(a, b, C64, { reg, dtype: 'float32' })` gives a Float32Array plan.
 */
export type PlanArray<A extends FloatArray, D extends Dtype | undefined> = D extends 'float64' ? Float64Array : D extends 'float32' ? Float32Array : A;

/** Options of {@link sinkhorn} and {@link sinkhornSync}. */
export interface SinkhornOptions extends RunOptions {
  /** Entropic regularisation ε in units of C (POT convention), > 0. */
  reg: number;
  /** 'auto' (default), 'sns', 'sinkhorn' or 'kernel-scaling' (see {@link OtMethod}). */
  method?: OtMethod;
  /** Working dtype (default: C's dtype). float32 stores C and the plan in float32. */
  dtype?: Dtype;
  /** Where to run (default 'auto'). */
  device?: DeviceOption;
  /** Stop at ‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁ ≤ tol (default 1e-9 float64, 1e-5 float32). */
  tol?: number;
  /** Total Sinkhorn iterations allowed, warm-up and fallbacks included (default 10 000). */
  maxIter?: number;
  /** Check the error every k Sinkhorn iterations (default 1 on CPU, 10 on CUDA). */
  checkEvery?: number;
  /** ε-scaling before the final regularisation (default false, docs/design/ot.md §2.2). */
  epsScaling?: boolean;
  /** SNS options. */
  sns?: SnsOptions;
  /**
   * Over-relaxed row updates u ← u + ω(T(u) − u), ω ∈ [1, 1.9] estimated from the observed rate of
   * plain iterations (Thibault et al. 2017; docs/design/ot.md). Same fixed point, often several
   * times fewer iterations at small reg. Default: on for 'kernel-scaling' and for the log-domain
   * Sinkhorn that 'auto' picks; off for explicit 'sinkhorn' and for SNS's Sinkhorn stages.
   */
  overRelaxation?: boolean;
  /** Warm start, original units. */
  init?: { f?: Float64Array; g?: Float64Array };
  /** Return the plan (default true for a cost matrix, false for point clouds). */
  returnPlan?: boolean;
  /** Round the returned plan onto the feasible set (Altschuler et al.; default false). */
  roundPlan?: boolean;
}

/** One error check. */
export interface HistoryEntry {
  /** Sinkhorn + Newton iterations done so far. */
  iteration: number;
  stage: OtStage;
  /** L1 marginal error at that point. */
  error: number;
  /** Milliseconds since the solve started. */
  ms: number;
}

/**
 * The solution, in the convention of docs/design/ot.md §1.3: P_ij = exp((f_i + g_j − C_ij)/reg), potentials in
 * units of C with the symmetric gauge ⟨a,f⟩ = ⟨b,g⟩. POT's `sinkhorn_log` gives
 * f = reg·log_u, g = reg·log_v up to the gauge.
 */
export interface SinkhornResult<A extends FloatArray = FloatArray> {
  /** Source potential (n). */
  f: Float64Array;
  /** Target potential (m). */
  g: Float64Array;
  /** The plan, n×m row-major in the working dtype (absent with returnPlan: false). */
  plan?: A;
  /** Transport cost ⟨C,P⟩ (= POT's `sinkhorn2`). */
  cost: number;
  /** ⟨C,P⟩ + reg·Σ P log P (= POT's `solve(..., reg_type='entropy').value`). */
  regularizedCost: number;
  /** ⟨a,f⟩ + ⟨b,g⟩ − reg·ΣP + reg. */
  dualValue: number;
  /** ‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁ recomputed after the last step. */
  marginalError: number;
  converged: boolean;
  status: OtStatus;
  /** sinkhornIters + newtonIters. */
  iterations: number;
  sinkhornIters: number;
  newtonIters: number;
  cgIters: number;
  lineSearchEvals: number;
  /** Full reads of C. */
  densePasses: number;
  /** One entry per error check. */
  history: HistoryEntry[];
  /** λ at the end of the Newton stage (0 for Sinkhorn). */
  lambdaFinal: number;
  /** Native solve time in milliseconds. */
  timeMs: number;
  /** The method that ran ('auto' resolved). */
  method: Exclude<OtMethod, 'auto'>;
  /** Kernel scaling: how often the scalings were absorbed into f, g (0 for the other methods). */
  absorptions: number;
}
