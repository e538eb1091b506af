/**
 * Runs native work asynchronously with AbortSignal and progress support.
 * @internal
 * @packageDocumentation
 */
import { AbortError, fromNative } from './errors';
import { native } from './native';
import { optionKeys } from './validate';

/**
 * The part of the standard `AbortSignal` itokit uses. It is structural so that the published
 * typings need neither the DOM library nor \@types/node: an `AbortController().signal` from Node,
 * a browser or any polyfill fits it.
 */
export interface AbortSignalLike {
  /** True once the signal fired. */
  readonly aborted: boolean;
  /** Why it fired (becomes the `cause` of the {@link AbortError}). */
  readonly reason?: unknown;
  /** Registers the abort listener. */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  /** Removes it when the call ends. */
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Options every long-running call accepts. */
export interface RunOptions {
  /** Cancels the call; the Promise rejects with {@link AbortError} whose `cause` is the signal's reason. */
  signal?: AbortSignalLike;
  /** Called with (done, total) while the call runs, at most every `progressIntervalMs`. */
  onProgress?: (p: { done: number; total: number }) => void;
  /** Minimum milliseconds between progress callbacks (default 100). */
  progressIntervalMs?: number;
}

/** Keys of {@link RunOptions}, accepted by every call that takes them. */
export const RUN_KEYS = optionKeys<RunOptions>()(['signal', 'onProgress', 'progressIntervalMs']);

/** Slots of the shared control block (native/core/control.h). */
const ABORT = 0;
const DONE = 1;
const TOTAL = 2;
const THREADS = 3;

/**
 * Creates the control block native code polls. `threads` (slot 3) is the call's own thread budget:
 * a call's `threads` option limits that call and never resizes the process-wide pool.
 */
export function controlBlock(threads?: number): Float64Array {
  const c = new Float64Array(4);
  if (threads !== undefined) c[THREADS] = threads;
  return c;
}

/** A control block carrying only a thread budget, for a *Sync call; null without one. */
export function threadControl(threads: number | undefined): Float64Array | null {
  return threads === undefined ? null : controlBlock(threads);
}

/**
 * The ownership rule of async calls: the arrays a caller passes in are copied when the call
 * starts, so transferring (detaching) or changing them while the Promise is pending cannot reach
 * the native work, which runs on another thread (before this, a detach during `ot.sinkhorn` freed
 * memory the solver was reading). Copies are made once, in the TypeScript layer, for inputs only;
 * outputs are allocated by itokit and handed over when the call resolves.
 */
export function ownedInput<T extends ArrayBufferView | null | undefined>(a: T): T {
  if (a === null || a === undefined) return a;
  const v = a as unknown as { slice(): T };
  return v.slice();
}

/** Throws AbortError when the signal already fired. */
export function throwIfAborted(signal?: AbortSignalLike): void {
  if (signal?.aborted) throw new AbortError('The operation was aborted', { cause: signal.reason });
}

/**
 * Starts `start(control)` (a native async call) and wires the signal and progress to it. The
 * returned Promise rejects with coded errors.
 */
export async function runNative<T>(opts: RunOptions, start: (control: Float64Array) => Promise<T> | undefined, threads?: number): Promise<T> {
  const { signal, onProgress } = opts;
  throwIfAborted(signal);
  const control = controlBlock(threads);
  const onAbort = (): void => {
    control[ABORT] = 1;
    // A call still queued for a job thread is dropped now and rejects at once; a running one
    // sees the flag at its next check.
    native().jobCancel({ control });
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setInterval> | undefined;
  if (onProgress) {
    const every = Math.max(1, opts.progressIntervalMs ?? 100);
    let last = -1;
    timer = setInterval(() => {
      const done = control[DONE];
      if (done !== last && control[TOTAL] > 0) {
        last = done;
        onProgress({ done, total: control[TOTAL] });
      }
    }, every);
  }
  try {
    return (await start(control)) as T;
  } catch (err) {
    const e = fromNative(err);
    if (e instanceof AbortError && signal) throw new AbortError(e.message, { cause: signal.reason });
    throw e;
  } finally {
    if (timer) clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs a synchronous native call and maps its errors. */
export function runNativeSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNative(err);
  }
}
