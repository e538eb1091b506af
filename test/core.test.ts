import { DeviceArray, backends, getThreads, setThreads, version } from '../lib';
import { AbortError, DeviceUnavailableError, InvalidArgumentError, ItokitError, fromNative } from '../lib/errors';
import { resolveDevice } from '../lib/backends';
import { expectCode } from './helpers';

describe('backends', () => {
  test('reports the CPU with threads and features, and CUDA with a reason when unavailable', () => {
    const b = backends();
    expect(b.cpu.threads).toBe(getThreads());
    expect(Array.isArray(b.cpu.features)).toBe(true);
    if (process.arch === 'x64') expect(b.cpu.features).toContain('sse4.2');
    if (!b.cuda.available) {
      expect(typeof b.cuda.reason).toBe('string');
      expect(b.cuda.reason!.length).toBeGreaterThan(10);
      expect(b.cuda.devices).toEqual([]);
    } else {
      expect(b.cuda.devices.length).toBeGreaterThan(0);
    }
  });

  test('version matches package.json', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(version).toBe(require('../package.json').version);
  });
});

describe('threads', () => {
  const before = getThreads();
  afterAll(() => setThreads(before));

  test('setThreads resizes the pool; bad counts are coded errors', () => {
    setThreads(3);
    expect(getThreads()).toBe(3);
    expect(backends().cpu.threads).toBe(3);
    setThreads(1);
    expect(getThreads()).toBe(1);
    expectCode(() => setThreads(0), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => setThreads(1.5), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => setThreads(NaN), 'ERR_ITOKIT_INVALID_ARG');
  });
});

describe('devices', () => {
  const cuda = backends().cuda.available;
  const prev = process.env.ITOKIT_DEVICE;
  afterEach(() => {
    if (prev === undefined) delete process.env.ITOKIT_DEVICE;
    else process.env.ITOKIT_DEVICE = prev;
  });

  test("'auto' resolves to cpu without CUDA, ITOKIT_DEVICE overrides auto only", () => {
    delete process.env.ITOKIT_DEVICE;
    if (!cuda) expect(resolveDevice('auto', 1e12)).toBe('cpu');
    expect(resolveDevice('auto', 10)).toBe('cpu');
    process.env.ITOKIT_DEVICE = 'cpu';
    expect(resolveDevice('auto', 1e12)).toBe('cpu');
    if (!cuda) {
      process.env.ITOKIT_DEVICE = 'cuda';
      expectCode(() => resolveDevice('auto'), 'ERR_ITOKIT_DEVICE_UNAVAILABLE');
      expect(resolveDevice('cpu')).toBe('cpu');
    }
    expectCode(() => resolveDevice('gpu'), 'ERR_ITOKIT_INVALID_ARG');
  });

  // with a device, test/gpu/device-output.test.ts covers DeviceArray
  (cuda ? test.skip : test)('DeviceArray without CUDA throws DEVICE_UNAVAILABLE naming the reason', () => {
    let err: unknown;
    try {
      DeviceArray.fromHost(new Float32Array(4));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as Error).message).toContain(backends().cuda.reason!);
  });
});

describe('errors', () => {
  test('native coded errors map to subclasses; other errors pass through', () => {
    const e = Object.assign(new Error('bad'), { code: 'ERR_ITOKIT_INVALID_ARG' });
    const m = fromNative(e);
    expect(m).toBeInstanceOf(InvalidArgumentError);
    expect(m).toBeInstanceOf(ItokitError);
    expect((m as ItokitError).code).toBe('ERR_ITOKIT_INVALID_ARG');
    expect(fromNative(Object.assign(new Error('x'), { code: 'ERR_ITOKIT_ABORTED' }))).toBeInstanceOf(AbortError);
    const plain = new TypeError('plain');
    expect(fromNative(plain)).toBe(plain);
    expect((fromNative('weird') as ItokitError).code).toBe('ERR_ITOKIT_INTERNAL');
  });

  test('AbortError is named like the platform one', () => {
    const a = new AbortError();
    expect(a.name).toBe('AbortError');
    expect(a.code).toBe('ERR_ITOKIT_ABORTED');
  });
});

describe('loader', () => {
  test('a binary that cannot load gives one coded error naming what was tried and the fix', () => {
    jest.isolateModules(() => {
      const old = process.env.ITOKIT_NATIVE_PATH;
      process.env.ITOKIT_NATIVE_PATH = '/nonexistent/itokit.node';
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { native } = require('../lib/native') as typeof import('../lib/native');
        let err: unknown;
        try {
          native();
        } catch (e) {
          err = e;
        }
        expect((err as ItokitError).code).toBe('ERR_ITOKIT_NATIVE_LOAD');
        expect((err as Error).message).toContain('/nonexistent/itokit.node');
        expect((err as Error).message).toContain('npm rebuild itokit');
      } finally {
        if (old === undefined) delete process.env.ITOKIT_NATIVE_PATH;
        else process.env.ITOKIT_NATIVE_PATH = old;
      }
    });
  });
});
