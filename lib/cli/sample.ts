/**
 * `itokit sample` (placeholder until the quantized UNet lands; see docs/unet.md).
 * @packageDocumentation
 */
import type { Command } from 'commander';

/** Registers the `sample` command on the CLI program. */
export function registerSample(program: Command): void {
  void program;
}
