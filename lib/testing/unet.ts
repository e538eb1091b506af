// Test-only entry points of the unet area: single kernels and quantizer primitives checked against
// references in test/unet-quant.test.ts, test/unet-conv.test.ts and test/gpu/unet.test.ts. They are
// not part of the public API (lib/index.ts does not export lib/testing/).
import { runNativeSync } from '../run';
import type { UNetModel } from '../unet/model';
import { flatStep, type StepComb } from '../samplers/ops';
import { testingNative, type UnetGraph } from './addon';

/** Which integer kernel path this CPU uses, and the qdot entry used by tests. @internal */
export function qdot(kernel: 'scalar' | 'avx2' | 'avx512vnni', bits: 4 | 8, w: Uint8Array, a: Uint8Array, nblk: number, rows4 = false): Int32Array | null {
  return runNativeSync(() => testingNative().unetQdot({ kernel, bits, w, a, nblk, rows4 }));
}

/**
 * One FP32 convolution with a named micro-kernel path (tests against a naive fma reference); null
 * when this CPU lacks the path. @internal
 */
export function convFpTest(
  kernel: 'scalar' | 'avx2' | 'avx512', x: Float32Array, shape: [number, number, number, number], w: Float32Array, bias: Float32Array,
  add: Float32Array | null, g: { k: number; stride: number; pad: number; padBr: boolean },
): Float32Array | null {
  return runNativeSync(() => testingNative().unetConvFp({ kernel, x, shape: Int32Array.from(shape), w, bias, add, geometry: Int32Array.from([g.k, g.stride, g.pad, g.padBr ? 1 : 0]) }));
}

/**
 * One integer layer on an identical quantized input: the integer kernel's output (CPU, or the
 * CUDA kernel with `device: 'cuda'`) and the fake-quant FP32 output (docs/design/unet.md). @internal
 */
export function layerCheck(
  model: UNetModel, layer: string, x: Float32Array, shape: [number, number, number, number], delta: number, zero: number,
  o: { device?: 'cpu' | 'cuda' } = {},
): { integer: Float32Array; fakeQuant: Float32Array } {
  const [B, , H, W] = shape;
  return runNativeSync(() => testingNative().unetLayerCheck({ model: model.handle, layer, x, B, H, W, delta, zero, cuda: o.device === 'cuda' }));
}

/**
 * The quantizer primitives of docs/design/unet.md, for test vectors (see native QuantTest); 'exp'
 * gives exp_f32 of every value, 'gnquant' the fused GroupNorm(+SiLU)+quantizer codes followed by
 * those of group_norm then quantize_nhwc. @internal
 */
export function quantizerTest(op: 'lp' | 'lpcompare' | 'minmax' | 'code' | 'calib' | 'actsearch' | 'exp' | 'gnquant', data: Float32Array, a = 0, b = 0, c = 0): Float64Array {
  return runNativeSync(() => testingNative().unetQuantTest({ op, data, a, b, c }));
}

/** The model's forward graph (native/unet/unet_graph.h): the ops each backend runs. @internal */
export function graph(model: UNetModel): UnetGraph {
  return runNativeSync(() => testingNative().unetGraph({ model: model.handle }));
}

/**
 * The update of a fused UNet step (native/unet/unet_step.h) run on the host from the flat form
 * flatStep makes: x′ from x and eps ([P, D] each). @internal
 */
export function stepUpdate(x: Float32Array, eps: Float32Array, P: number, D: number, combs: StepComb[]): Float32Array {
  return runNativeSync(() => testingNative().unetStepUpdate({ x, eps, P, D, ...flatStep(combs, P) }));
}
