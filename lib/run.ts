/**
 * Runs native work asynchronously with AbortSignal and progress support.
 * @internal
 * @packageDocumentation
 */
import { AbortError, fromNative } from './errors';
import { optionKeys } from './validate';

/** Options every long-running call accepts. */
export interface RunOptions {
  /** Cancels the call; the Promise rejects with {@link AbortError} whose `cause` is the signal's reason. */
  signal?: AbortSignal;
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

/** Creates the control block native code polls; null when there is nothing to control. */
export function controlBlock(): Float64Array {
  return new Float64Array(4);
}

/** Throws AbortError when the signal already fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError('The operation was aborted', { cause: signal.reason });
}

/**
 * Starts `start(control)` (a native async call) and wires the signal and progress to it. The
 * returned Promise rejects with coded errors.
 */
export async function runNative<T>(opts: RunOptions, start: (control: Float64Array) => Promise<T> | undefined): Promise<T> {
  const { signal, onProgress } = opts;
  throwIfAborted(signal);
  const control = controlBlock();
  const onAbort = (): void => {
    control[ABORT] = 1;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
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
