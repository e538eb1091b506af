/** @packageDocumentation */
import { packageRoot } from './native';

/** The installed package version. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const version: string = (require(`${packageRoot}/package.json`) as { version: string }).version;
