/**
 * Typed errors. Every error itokit throws is an {@link ItokitError} with a stable `code`, so
 * callers can branch on `err.code` without parsing messages.
 * @packageDocumentation
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type ErrorCode =
  | 'ERR_ITOKIT_INVALID_ARG'
  | 'ERR_ITOKIT_SHAPE'
  | 'ERR_ITOKIT_DTYPE'
  | 'ERR_ITOKIT_MODEL_FORMAT'
  | 'ERR_ITOKIT_DEVICE_UNAVAILABLE'
  | 'ERR_ITOKIT_DEVICE'
  | 'ERR_ITOKIT_NUMERICAL'
  | 'ERR_ITOKIT_ABORTED'
  | 'ERR_ITOKIT_OUT_OF_MEMORY'
  | 'ERR_ITOKIT_NATIVE_LOAD'
  | 'ERR_ITOKIT_CALCULUS'
  | 'ERR_ITOKIT_STEP_TOO_SMALL'
  | 'ERR_ITOKIT_ASYNC_CALLBACK'
  | 'ERR_ITOKIT_INTERNAL'
  | 'ERR_ITOKIT_QUEUE';

/** Base class of every error itokit throws. */
export class ItokitError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An argument has the wrong type or a value out of range (`ERR_ITOKIT_INVALID_ARG`). */
export class InvalidArgumentError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_INVALID_ARG', message, options);
  }
}

/** Array sizes or shapes do not fit together (`ERR_ITOKIT_SHAPE`). */
export class ShapeError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_SHAPE', message, options);
  }
}

/** An array has the wrong element type, or a dtype name is unknown (`ERR_ITOKIT_DTYPE`). */
export class DtypeError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_DTYPE', message, options);
  }
}

/** A model or tensor file is malformed (`ERR_ITOKIT_MODEL_FORMAT`). */
export class ModelFormatError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_MODEL_FORMAT', message, options);
  }
}

/** The requested device (CUDA) is not available; the message says why (`ERR_ITOKIT_DEVICE_UNAVAILABLE`). */
export class DeviceUnavailableError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_DEVICE_UNAVAILABLE', message, options);
  }
}

/** A device call failed after the device was found (`ERR_ITOKIT_DEVICE`). */
export class DeviceError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_DEVICE', message, options);
  }
}

/** A computation produced or met non-finite values, or failed to converge (`ERR_ITOKIT_NUMERICAL`). */
export class NumericalError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_NUMERICAL', message, options);
  }
}

/** The caller's AbortSignal fired (`ERR_ITOKIT_ABORTED`); `cause` is the signal's reason. */
export class AbortError extends ItokitError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('ERR_ITOKIT_ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/** Memory could not be allocated (`ERR_ITOKIT_OUT_OF_MEMORY`). */
export class OutOfMemoryError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_OUT_OF_MEMORY', message, options);
  }
}

/** The native addon could not be loaded (`ERR_ITOKIT_NATIVE_LOAD`); the message lists what was tried. */
export class NativeLoadError extends ItokitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ITOKIT_NATIVE_LOAD', message, options);
  }
}

const byCode: Partial<Record<string, new (message: string, options?: { cause?: unknown }) => ItokitError>> = {
  ERR_ITOKIT_INVALID_ARG: InvalidArgumentError,
  ERR_ITOKIT_SHAPE: ShapeError,
  ERR_ITOKIT_DTYPE: DtypeError,
  ERR_ITOKIT_MODEL_FORMAT: ModelFormatError,
  ERR_ITOKIT_DEVICE_UNAVAILABLE: DeviceUnavailableError,
  ERR_ITOKIT_DEVICE: DeviceError,
  ERR_ITOKIT_NUMERICAL: NumericalError,
  ERR_ITOKIT_ABORTED: AbortError,
  ERR_ITOKIT_OUT_OF_MEMORY: OutOfMemoryError,
};

/**
 * Converts an error thrown by the native layer (a plain Error with a `code`) into the matching
 * {@link ItokitError} subclass. Errors that are already ItokitErrors pass through.
 * @internal
 */
export function fromNative(err: unknown): Error {
  if (err instanceof ItokitError) return err;
  // Native errors come from the main realm's Error, which is not `instanceof Error` inside a vm
  // context (Jest, REPL contexts): test the shape, not the prototype.
  if (typeof err === 'object' && err !== null && typeof (err as Error).message === 'string') {
    const { code, message } = err as { code?: unknown; message: string };
    if (typeof code === 'string') {
      const Ctor = byCode[code];
      if (Ctor) return new Ctor(message);
      if (code.startsWith('ERR_ITOKIT_')) return new ItokitError(code as ErrorCode, message);
    }
    return err as Error;
  }
  return new ItokitError('ERR_ITOKIT_INTERNAL', String(err));
}
