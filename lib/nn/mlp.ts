/**
 * Multilayer perceptrons with a native batched forward pass and a hand-written backward pass
 * (docs/design/trainers.md). Parameters live in one contiguous buffer, layer by layer as
 * (W [out, in], b [out]), with PyTorch-style names.
 * @packageDocumentation
 */
import * as fs from 'fs';
import { DeviceOption, deviceCode, resolveDevice } from '../backends';
import { DtypeError, InvalidArgumentError, ModelFormatError, ShapeError } from '../errors';
import * as rng from '../rng';
import { RUN_KEYS, RunOptions, ownedInput, runNative, runNativeSync } from '../run';
import {
  Dtype, FloatArray, Seed, allocate, checkBacking, checkDtype, checkFloatArray, checkInt, checkOneOf, checkOptions, checkPath, checkSize, describe, optionKeys,
} from '../validate';
import { parseSafetensors, serializeSafetensors, StTensorInput } from '../unet/safetensors';
import { nnAddon } from './addon';

/** Activation after a Linear layer. tanh' = 1 − y², SiLU' = σ(x)(1 + x(1 − σ(x))), softplus' = σ(x). */
export type Activation = 'identity' | 'tanh' | 'silu' | 'softplus' | 'relu';
/** Codes shared with native/kernels/nn_act.h. */
export const ACTIVATIONS: readonly Activation[] = ['identity', 'tanh', 'silu', 'softplus', 'relu'];

/** Options of {@link MLP}. */
export interface MLPOptions<D extends Dtype = Dtype> {
  /** Widths [in, hidden..., out]: sizes.length − 1 Linear layers (at least one). */
  sizes: readonly number[];
  /** Activation after every hidden Linear (default 'tanh'), or one per hidden layer. */
  activation?: Activation | readonly Activation[];
  /** Activation after the last Linear (default 'identity'). */
  outputActivation?: Activation;
  /** Element type of parameters and activations (default 'float32'). */
  dtype?: D;
  /** Seed of the PyTorch-style uniform init (default 0). */
  seed?: Seed;
  /** Set the last layer's weight and bias to 0, so the network starts as the zero function. */
  zeroLastLayer?: boolean;
}

const MLP_KEYS = optionKeys<MLPOptions>()(['sizes', 'activation', 'outputActivation', 'dtype', 'seed', 'zeroLastLayer']);

/** One named parameter tensor: a view into {@link MLP.params} (or {@link MLP.grad}). */
export interface ParameterView {
  /** PyTorch name, `layers.{2l}.weight` / `layers.{2l}.bias` (index in an nn.Sequential of Linear, activation, ...). */
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** What {@link MLP.forward} keeps for the backward pass. */
export interface Tape<D extends FloatArray = FloatArray> {
  /** The input (kept, not copied). */
  readonly x: D;
  readonly rows: number;
  /** Pre- and post-activations of every layer (layout depends on the device). */
  readonly data: D;
  /** Where the forward pass ran; the backward pass runs there too. */
  readonly device: 'cpu' | 'cuda';
}

/** Where a forward pass runs (default 'auto': CUDA when present and rows·params ≥ 1e7). */
export interface ForwardOptions {
  /** 'cpu', 'cuda' or 'auto' (default). */
  device?: DeviceOption;
}
const FORWARD_KEYS = optionKeys<ForwardOptions>()(['device']);

/** Options of {@link MLP.backward}. */
export interface BackwardOptions {
  /** Also return dx = ∂(dy·y)/∂x (default true). */
  inputGrad?: boolean;
}
const BACKWARD_KEYS = optionKeys<BackwardOptions>()(['inputGrad']);

/** The array type of an MLP of dtype `D`: Float64Array for `float64`, else Float32Array. */
export type ArrayOf<D extends Dtype> = D extends 'float64' ? Float64Array : Float32Array;

/**
 * A fully connected network y = L_n(act(…act(L_1(x)))). Forward and backward run natively on
 * whole batches over the thread pool; results do not depend on the thread count.
 *
 * @example
 * ```ts
 * const net = new nn.MLP({ sizes: [2, 64, 64, 1], activation: 'silu', dtype: 'float64', seed: 1 });
 * const { y, tape } = net.forward(new Float64Array([0.5, -1]));
 * net.zeroGrad();
 * const dx = net.backward(tape, new Float64Array([1])); // ∂y/∂x, and ∂y/∂θ accumulated in net.grad
 * ```
 */
export class MLP<D extends Dtype = Dtype> {
  /** Widths [in, ..., out]. */
  readonly sizes: readonly number[];
  /** Activation after each Linear (length sizes.length − 1). */
  readonly activations: readonly Activation[];
  readonly dtype: D;
  /** All parameters, layer by layer (W_l row-major [out, in], then b_l). */
  readonly params: ArrayOf<D>;
  /** Gradient accumulator with the layout of {@link params}. */
  readonly grad: ArrayOf<D>;
  /** Layout descriptor passed to native code: [layers, sizes..., activation codes...]. @internal */
  readonly layout: Int32Array;
  /** Values per row kept by the forward pass. */
  readonly tapePerRow: number;

  constructor(o: MLPOptions<D>) {
    checkOptions('nn.MLP', o, MLP_KEYS);
    if (!Array.isArray(o.sizes) || o.sizes.length < 2 || o.sizes.length > 65) {
      throw new InvalidArgumentError(`sizes must be an array of 2 to 65 widths, got ${describe(o.sizes)}`);
    }
    this.sizes = o.sizes.map((s, i) => checkInt(`sizes[${i}]`, s, 1, 1 << 20));
    const nl = this.sizes.length - 1;
    const hidden = o.activation ?? 'tanh';
    const hiddenActs: Activation[] = typeof hidden === 'string' ? Array(nl - 1).fill(hidden) : [...hidden];
    if (hiddenActs.length !== nl - 1) throw new InvalidArgumentError(`activation needs ${nl - 1} entries, got ${hiddenActs.length}`);
    this.activations = [...hiddenActs, o.outputActivation ?? 'identity'].map((a, i) => checkOneOf(`activation[${i}]`, a, ACTIVATIONS));
    this.dtype = checkDtype(o.dtype) as D;
    this.layout = new Int32Array([nl, ...this.sizes, ...this.activations.map((a) => ACTIVATIONS.indexOf(a))]);
    let n = 0;
    let tape = 0;
    for (let l = 0; l < nl; l++) {
      n += this.sizes[l] * this.sizes[l + 1] + this.sizes[l + 1];
      tape += 2 * this.sizes[l + 1];
    }
    if (n > 2 ** 31 - 1) throw new InvalidArgumentError(`too many parameters (${n})`);
    this.tapePerRow = tape;
    this.params = allocate(this.dtype, n) as ArrayOf<D>;
    this.grad = allocate(this.dtype, n) as ArrayOf<D>;
    this.init(o.seed ?? 0, o.zeroLastLayer ?? false);
  }

  /** Number of parameters. */
  get numParams(): number {
    return this.params.length;
  }
  /** Input width. */
  get inputSize(): number {
    return this.sizes[0];
  }
  /** Output width. */
  get outputSize(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** Names, shapes and offsets of the parameter tensors, in buffer order. */
  parameterViews(): ParameterView[] {
    const out: ParameterView[] = [];
    let off = 0;
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const [i, o] = [this.sizes[l], this.sizes[l + 1]];
      out.push({ name: `layers.${2 * l}.weight`, shape: [o, i], offset: off, size: o * i });
      off += o * i;
      out.push({ name: `layers.${2 * l}.bias`, shape: [o], offset: off, size: o });
      off += o;
    }
    return out;
  }

  /**
   * PyTorch's default Linear init: W and b uniform in ±1/√in (kaiming_uniform with a = √5 gives
   * that bound for W). Draws come from the project RNG, stream USER, path = layer index.
   */
  init(seed: Seed, zeroLastLayer = false): void {
    const views = this.parameterViews();
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const w = views[2 * l];
      const b = views[2 * l + 1];
      const last = l + 2 === this.sizes.length;
      if (last && zeroLastLayer) {
        this.params.fill(0, w.offset, b.offset + b.size);
        continue;
      }
      const bound = 1 / Math.sqrt(this.sizes[l]);
      const u = rng.uniform(w.size + b.size, { seed, stream: rng.streams.USER, path: l, dtype: 'float64' });
      for (let k = 0; k < u.length; k++) this.params[w.offset + k] = (2 * u[k] - 1) * bound;
    }
    this.grad.fill(0);
  }

  /** Sets {@link grad} to zero. */
  zeroGrad(): void {
    this.grad.fill(0);
  }

  /** Checks a batch and its options; returns the row count after sizing the tape. */
  private rowsOf(where: string, x: FloatArray, o: object, allowed: readonly string[]): number {
    checkOptions(where, o, allowed);
    checkFloatArray('x', x, this.dtype);
    if (x.length % this.inputSize !== 0) throw new ShapeError(`x length ${x.length} is not a multiple of the input width ${this.inputSize}`);
    const rows = x.length / this.inputSize;
    checkSize('the tape (rows·tapePerRow)', rows * this.tapePerRow);
    return rows;
  }

  /**
   * Forward pass of a batch x [rows, in] (row-major). Returns y [rows, out] and the tape the
   * backward pass needs. The input is kept by reference in the tape: do not modify it before
   * calling {@link backward}.
   */
  forward(x: ArrayOf<D>, o: ForwardOptions = {}): { y: ArrayOf<D>; tape: Tape<ArrayOf<D>> } {
    const rows = this.rowsOf('nn.MLP.forward', x, o, FORWARD_KEYS);
    const device = resolveDevice(o.device, rows * this.numParams);
    const tape = allocate(this.dtype, rows * this.tapePerRow) as ArrayOf<D>;
    const y = allocate(this.dtype, rows * this.outputSize) as ArrayOf<D>;
    runNativeSync(() => nnAddon().nnForward({ layout: this.layout, params: this.params, x, rows, tape, y, device: deviceCode(device), control: null, async: false }));
    return { y, tape: { x, rows, data: tape, device } };
  }

  /** {@link forward} off the event loop. */
  async forwardAsync(x: ArrayOf<D>, run: RunOptions & ForwardOptions = {}): Promise<{ y: ArrayOf<D>; tape: Tape<ArrayOf<D>> }> {
    const rows = this.rowsOf('nn.MLP.forwardAsync', x, run, [...FORWARD_KEYS, ...RUN_KEYS]);
    const device = resolveDevice(run.device, rows * this.numParams);
    const tape = allocate(this.dtype, rows * this.tapePerRow) as ArrayOf<D>;
    const y = allocate(this.dtype, rows * this.outputSize) as ArrayOf<D>;
    const xin = ownedInput(x);  // also what the tape keeps, so a later backward sees the same x
    await runNative(run, (c) => nnAddon().nnForward({ layout: this.layout, params: this.params, x: xin, rows, tape, y, device: deviceCode(device), control: c, async: true }));
    return { y, tape: { x: xin, rows, data: tape, device } };
  }

  private checkBackward(where: string, tape: Tape, dy: FloatArray, o: object, allowed: readonly string[]): void {
    checkOptions(where, o, allowed);
    if (tape === null || typeof tape !== 'object' || tape.data?.length !== tape.rows * this.tapePerRow || (tape.device !== 'cpu' && tape.device !== 'cuda')) {
      throw new InvalidArgumentError('tape must come from this network\'s forward()');
    }
    checkFloatArray('dy', dy, this.dtype);
    if (dy.length !== tape.rows * this.outputSize) throw new ShapeError(`dy must have length ${tape.rows * this.outputSize}, has ${dy.length}`);
  }

  /**
   * Backward pass: accumulates ∂(dy·y)/∂θ into {@link grad} (dW += dyᵀx, db += Σ dy per layer) and
   * returns dx = ∂(dy·y)/∂x [rows, in], the vector–Jacobian product (skipped when inputGrad is false).
   */
  backward(tape: Tape<ArrayOf<D>>, dy: ArrayOf<D>, o: BackwardOptions = {}): ArrayOf<D> | undefined {
    this.checkBackward('nn.MLP.backward', tape, dy, o, BACKWARD_KEYS);
    const dx = o.inputGrad === false ? null : (allocate(this.dtype, tape.rows * this.inputSize) as ArrayOf<D>);
    runNativeSync(() => nnAddon().nnBackward({
      layout: this.layout, params: this.params, x: tape.x, rows: tape.rows, tape: tape.data, dy, dx, grad: this.grad, device: deviceCode(tape.device), control: null, async: false,
    }));
    return dx ?? undefined;
  }

  /** {@link backward} off the event loop. */
  async backwardAsync(tape: Tape<ArrayOf<D>>, dy: ArrayOf<D>, o: BackwardOptions & RunOptions = {}): Promise<ArrayOf<D> | undefined> {
    this.checkBackward('nn.MLP.backwardAsync', tape, dy, o, [...BACKWARD_KEYS, ...RUN_KEYS]);
    const dx = o.inputGrad === false ? null : (allocate(this.dtype, tape.rows * this.inputSize) as ArrayOf<D>);
    const dyin = ownedInput(dy);
    await runNative(o, (c) => nnAddon().nnBackward({
      layout: this.layout, params: this.params, x: tape.x, rows: tape.rows, tape: tape.data, dy: dyin, dx, grad: this.grad, device: deviceCode(tape.device), control: c, async: true,
    }));
    return dx ?? undefined;
  }

  /** Convenience: y = net(x) without keeping a tape. */
  predict(x: ArrayOf<D>, o: ForwardOptions = {}): ArrayOf<D> {
    checkOptions('nn.MLP.predict', o, FORWARD_KEYS);
    return this.forward(x, o).y;
  }

  /** Serialises the parameters as safetensors with PyTorch names; the architecture goes into the metadata. */
  toSafetensors(): Uint8Array {
    const tensors: Record<string, StTensorInput> = {};
    const st = this.dtype === 'float64' ? 'F64' : 'F32';
    for (const v of this.parameterViews()) {
      tensors[v.name] = { dtype: st, shape: v.shape, data: this.params.slice(v.offset, v.offset + v.size) };
    }
    return serializeSafetensors(tensors, { format: 'itokit.mlp', sizes: JSON.stringify(this.sizes), activations: JSON.stringify(this.activations) });
  }

  /** Writes {@link toSafetensors} to a file. */
  saveSync(path: string): void {
    fs.writeFileSync(checkPath('path', path), this.toSafetensors());
  }

  /** Writes {@link toSafetensors} to a file asynchronously. */
  async save(path: string): Promise<void> {
    await fs.promises.writeFile(checkPath('path', path), this.toSafetensors());
  }

  /**
   * Rebuilds a network from safetensors bytes. The architecture comes from the itokit metadata,
   * or from `o.sizes`/`o.activation` for a file written by PyTorch (state_dict of an
   * nn.Sequential named `layers`). The dtype follows the file unless `o.dtype` is given.
   */
  static fromSafetensors(bytes: Uint8Array, o: Partial<MLPOptions> = {}, file = '<buffer>'): MLP {
    checkOptions('nn.MLP.fromSafetensors', o, MLP_KEYS);
    if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') throw new DtypeError(`bytes must be a Uint8Array, got ${describe(bytes)}`);
    checkBacking('bytes', bytes);
    const f = parseSafetensors(bytes, file);
    let sizes = o.sizes;
    let acts: Activation[] | undefined;
    try {
      if (!sizes && f.metadata?.sizes) sizes = JSON.parse(f.metadata.sizes) as number[];
      if (f.metadata?.activations && o.activation === undefined && o.outputActivation === undefined) {
        acts = JSON.parse(f.metadata.activations) as Activation[];
      }
    } catch {
      throw new ModelFormatError(`${file}: unreadable itokit.mlp metadata`);
    }
    if (!sizes) throw new ModelFormatError(`${file}: no architecture in the metadata; pass sizes`);
    const first = f.tensors.get('layers.0.weight');
    if (!first) throw new ModelFormatError(`${file}: tensor layers.0.weight is missing`);
    const fileDtype: Dtype = first.dtype === 'F64' ? 'float64' : 'float32';
    const net = new MLP({
      sizes,
      activation: acts ? acts.slice(0, -1) : o.activation,
      outputActivation: acts ? acts[acts.length - 1] : o.outputActivation,
      dtype: o.dtype ?? fileDtype,
    });
    for (const v of net.parameterViews()) {
      const t = f.tensors.get(v.name);
      if (!t) throw new ModelFormatError(`${file}: tensor ${v.name} is missing`);
      if (t.shape.length !== v.shape.length || t.shape.some((s, i) => s !== v.shape[i])) {
        throw new ModelFormatError(`${file}: tensor ${v.name} has shape [${t.shape}], expected [${v.shape}]`);
      }
      if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new ModelFormatError(`${file}: tensor ${v.name} has dtype ${t.dtype}; F32 or F64 expected`);
      const copy = t.data.slice();
      const src = t.dtype === 'F64' ? new Float64Array(copy.buffer, 0, v.size) : new Float32Array(copy.buffer, 0, v.size);
      net.params.set(src, v.offset);
    }
    if (f.tensors.size !== 2 * (net.sizes.length - 1)) throw new ModelFormatError(`${file}: unexpected extra tensors`);
    return net;
  }

  /** Reads a file written by {@link saveSync} (or a PyTorch state_dict saved as safetensors). */
  static loadSync(path: string, o: Partial<MLPOptions> = {}): MLP {
    checkOptions('nn.MLP.loadSync', o, MLP_KEYS);
    return MLP.fromSafetensors(new Uint8Array(fs.readFileSync(checkPath('path', path))), o, path);
  }

  /** {@link loadSync} asynchronously. */
  static async load(path: string, o: Partial<MLPOptions> = {}): Promise<MLP> {
    checkOptions('nn.MLP.load', o, MLP_KEYS);
    return MLP.fromSafetensors(new Uint8Array(await fs.promises.readFile(checkPath('path', path))), o, path);
  }
}
