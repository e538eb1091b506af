/**
 * Small neural networks with native forward and backward passes: {@link MLP}, {@link Adam}
 * (docs/design/trainers.md). Used by the trainers in `itokit.train`.
 * @packageDocumentation
 */
export { MLP, ACTIVATIONS } from './mlp';
export type { Activation, ArrayOf, BackwardOptions, ForwardOptions, MLPOptions, ParameterView, Tape } from './mlp';
export { Adam, gradNorm } from './adam';
export type { AdamOptions } from './adam';
