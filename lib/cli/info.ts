/**
 * `itokit info`: version, backends, threads and CPU features.
 * @packageDocumentation
 */
import * as os from 'os';
import { backends } from '../backends';
import { version } from '../version';

/** Human-readable summary of the installation. */
export function infoText(): string {
  const b = backends();
  const lines = [
    `itokit ${version} (Node ${process.version}, ${process.platform}-${process.arch})`,
    `CPU: ${os.cpus()[0]?.model ?? 'unknown'}; pool ${b.cpu.threads} thread(s); features: ${b.cpu.features.join(' ') || 'baseline'}`,
  ];
  if (b.cuda.available) {
    lines.push(`CUDA: available (runtime ${b.cuda.runtimeVersion}, driver ${b.cuda.driverVersion})`);
    for (const d of b.cuda.devices) {
      lines.push(`  [${d.index}] ${d.name}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, compute ${d.computeCapability}, ${d.multiprocessors} SMs`);
    }
  } else {
    lines.push(`CUDA: unavailable (${b.cuda.compiled ? 'compiled in' : 'not compiled in'}): ${b.cuda.reason ?? 'unknown reason'}`);
  }
  return lines.join('\n');
}
