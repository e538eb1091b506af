/**
 * Entropic optimal transport: log-domain Sinkhorn and Sinkhorn-Newton-Sparse (Tang et al., ICLR
 * 2024) on CPU and CUDA, batched problems, cost builders, reference problems and a Sinkhorn W2
 * helper for point clouds. Conventions: docs/design/ot.md (P = exp((f ⊕ g − C)/reg), POT's
 * entropy, symmetric gauge).
 *
 * @example
 * ```ts
 * import { ot } from 'itokit';
 * const p = ot.referenceProblem('R3', { n: 400, m: 300 });
 * const r = ot.sinkhornSync(p.a, p.b, p.C, { reg: 1e-2 });
 * r.status; // 'converged', with r.marginalError ≤ 1e-9
 * ```
 * @packageDocumentation
 */
export * as cost from './cost';
export type { GridOptions, Points } from './cost';
export { referenceProblem } from './reference';
export type { ReferenceName, ReferenceParams, ReferenceProblem } from './reference';
export { sinkhorn, sinkhornBatch, sinkhornBatchSync, sinkhornSync } from './solve';
export type { Marginal, SinkhornBatchOptions, SinkhornBatchResult } from './solve';
export type { HistoryEntry, OtMethod, OtStage, OtStatus, PlanArray, PointCost, SinkhornOptions, SinkhornResult, SnsOptions, Tensor } from './types';
export { w2, w2Sync } from './w2';
export type { W2Options, W2Result } from './w2';
