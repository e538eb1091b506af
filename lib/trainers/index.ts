/**
 * Trainers: thin TypeScript loops over native kernels (docs/design/trainers.md). The forward pass, the
 * backward pass and the optimizer step run natively on whole batches and whole trajectories.
 * @packageDocumentation
 */
export { FractionalSDE, fractionalSDE, fractionalSDESync } from './fractional-sde';
export type {
  FractionalSDEOptions, FractionalSDEResult, FsdeGradient, FsdeSamples, IterationInfo, LossOptions, Observations, SampleOptions, TrainLoopOptions,
} from './fractional-sde';
export { FlowModel, ScoreModel, TimeModel, flowMatching, flowMatchingSync, marginal, scoreMatching, scoreMatchingSync, w2Sync } from './diffusion';
export type {
  FlowMatchingOptions, FlowSampleOptions, ForwardProcess, GenerativeTrainOptions, GenerativeTrainResult, ScoreMatchingOptions, ScoreModelOptions,
  ScoreSampleOptions, TimeModelOptions, W2SyncOptions,
} from './diffusion';
export { toy } from './datasets';
export type { ToyName } from './datasets';
