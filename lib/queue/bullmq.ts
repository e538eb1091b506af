// bullmq is an optional peer dependency: the core package never needs Redis. This is the one
// place that loads it, with a coded error saying how to get it.
import { ItokitError } from '../errors';

/** The parts of bullmq itokit/queue uses. @internal */
export type BullMQ = typeof import('bullmq');

let cached: BullMQ | undefined;

/** Loads bullmq or throws ERR_ITOKIT_INVALID_ARG naming the missing peer dependency. @internal */
export function bullmq(): BullMQ {
  if (cached) return cached;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('bullmq') as BullMQ;
    return cached;
  } catch (err) {
    throw new ItokitError('ERR_ITOKIT_INVALID_ARG', "itokit/queue needs the 'bullmq' package (an optional peer dependency): npm install bullmq", { cause: err });
  }
}
