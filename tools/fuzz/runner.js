// Runs model-file cases in child processes (child.js) with a per-case timeout and an address-space
// limit, and classifies each case: the child's own report (coded / uncoded / loaded / nonfinite
// ...), or 'crash' when the child dies on it (a signal such as SIGABRT from an escaped C++
// exception, or any exit), or 'hang' when it has not answered in time (the child is killed).
// A child serves many cases in turn (starting Node and loading the addon costs far more than a
// small case) and is replaced after a crash or a hang. Shared by tools/fuzz/index.js and
// test/unet-hostile-files.test.ts.
'use strict';
const { spawn } = require('child_process');
const path = require('path');

/** Outcomes that fail the "hostile files are handled" bar. */
const FAILURES = new Set(['crash', 'hang', 'uncoded', 'nonfinite', 'oom', 'internal', 'harness']);

/** One child process, one case at a time. */
class Worker {
  /**
   * @param {{ timeoutMs: number, memMb: number, lib?: string, native?: string }} o
   */
  constructor(o) {
    this.o = o;
    this.proc = null;
    this.pending = null;
    this.stderr = '';
    this.seq = 0;
  }

  /** Starts the child and waits for its ready message. */
  start() {
    const child = path.join(__dirname, 'child.js');
    // ulimit -v bounds what one hostile case can take from a shared machine: an allocation past
    // it fails (std::bad_alloc in native code, a RangeError in JS) instead of swapping others out
    const kb = Math.floor(this.o.memMb * 1024);
    const env = { ...process.env };
    if (this.o.lib) env.ITOKIT_FUZZ_LIB = this.o.lib;
    if (this.o.native) env.ITOKIT_NATIVE_PATH = this.o.native;
    this.stderr = '';
    this.proc = spawn('/bin/sh', ['-c', `ulimit -v ${kb} 2>/dev/null; exec "$0" "$@"`, process.execPath, '--expose-gc', child], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env,
    });
    this.proc.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    return new Promise((resolve, reject) => {
      const p = this.proc;
      const onExit = (code, signal) => reject(new Error(`fuzz child exited before it was ready (${signal ?? code}): ${this.stderr}`));
      p.once('exit', onExit);
      p.once('message', (m) => {
        p.off('exit', onExit);
        if (!m || !m.ready) return reject(new Error('fuzz child sent no ready message'));
        p.on('message', (r) => this.onMessage(r));
        p.on('exit', (code, signal) => this.onExit(code, signal));
        resolve();
      });
    });
  }

  onMessage(r) {
    if (!this.pending || r.id !== this.pending.id) return;
    const { resolve, timer } = this.pending;
    clearTimeout(timer);
    this.pending = null;
    resolve(r);
  }

  onExit(code, signal) {
    this.proc = null;
    if (!this.pending) return;
    const { resolve, timer, id } = this.pending;
    clearTimeout(timer);
    this.pending = null;
    const tail = this.stderr.trim().split('\n').slice(-6).join('\n');
    resolve({ id, outcome: 'crash', signal, exitCode: code, message: tail.slice(-1500) });
  }

  /** Runs one case directory; resolves with the classification. */
  async run(dir) {
    if (!this.proc) await this.start();
    const id = ++this.seq;
    const t0 = Date.now();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending || this.pending.id !== id) return;
        this.pending = null;
        const p = this.proc;
        this.proc = null;
        if (p) {
          p.removeAllListeners('exit');
          p.kill('SIGKILL');
        }
        resolve({ id, outcome: 'hang', ms: Date.now() - t0, message: `no answer in ${this.o.timeoutMs} ms` });
      }, this.o.timeoutMs);
      this.pending = { id, resolve, timer };
      this.proc.send({ id, dir });
    });
  }

  close() {
    if (this.proc) {
      this.proc.removeAllListeners('exit');
      this.proc.kill('SIGKILL');
      this.proc = null;
    }
  }
}

/**
 * A pool of workers.
 * @param {{ workers?: number, timeoutMs?: number, memMb?: number, lib?: string, native?: string }} o
 *   lib: ITOKIT_FUZZ_LIB of the children ('dist' default, 'src' for the TypeScript sources);
 *   native: ITOKIT_NATIVE_PATH of the children (another build of the addon)
 */
class Runner {
  constructor(o = {}) {
    this.o = { workers: 1, timeoutMs: 10_000, memMb: 6144, ...o };
    this.idle = Array.from({ length: this.o.workers }, () => new Worker(this.o));
    this.waiting = [];
  }

  /** Runs one case on the next free worker. */
  async run(dir) {
    const w = this.idle.pop() ?? (await new Promise((r) => this.waiting.push(r)));
    try {
      return await w.run(dir);
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  close() {
    for (const w of this.idle) w.close();
  }
}

module.exports = { Runner, FAILURES };
