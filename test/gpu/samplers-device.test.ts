/**
 * Diffusion samplers with `output: 'device'`: the state stays in DeviceArrays and every update
 * (linear combination with Philox noise, row statistics, the RK45 norm) runs on the GPU through the
 * single-source element code of native/kernels/sampler_ops.h, so the samples must equal the host
 * run bit for bit. The model here is the host model behind a device wrapper (download x, run,
 * upload the output): it checks the samplers' device updates, not a GPU model. Skips without CUDA.
 */
import { DeviceArray, diffusion, sde } from '../../lib';
import { describeGpu as d, firstDiff, sameBits } from './harness';

type HostFn = (x: Float32Array, t: Float64Array, out: Float32Array, info: { batch: number; dim: number; step: number }) => void;
const onGpu = (fn: HostFn) => (x: DeviceArray<'float32'>, t: Float64Array, out: DeviceArray<'float32'>, info: { batch: number; dim: number; step: number }): void => {
  const o = new Float32Array(out.length);
  fn(x.toHost(), t, o, info);
  out.upload(o);
};

const target = diffusion.gmm({ weights: [0.3, 0.7], means: [-2, -2, 2, 2], vars: 0.25 });
const base = { batch: 1031, dim: 2, seed: 17, sampleOffset: 5 } as const;

function same(label: string, device: DeviceArray<'float32'>, host: Float32Array): void {
  expect(device).toBeInstanceOf(DeviceArray);
  const h = device.toHost();
  if (!sameBits(h, host)) throw new Error(`${label}: first differing element ${firstDiff(h, host)}`);
  device.dispose();
}

d("diffusion samplers, output: 'device'", () => {
  const vp = sde.models.vp(), ve = sde.models.ve();
  const vpModel = { kind: 'score' as const, fn: diffusion.gmm({ weights: [0.3, 0.7], means: [-2, -2, 2, 2], vars: 0.25, process: vp }).score };
  const veModel = { kind: 'score' as const, fn: diffusion.gmm({ weights: [0.3, 0.7], means: [-2, -2, 2, 2], vars: 0.25, process: ve }).score };

  test('pc: every predictor, Langevin (per-sample and batch norms) and ALD correctors', () => {
    const cases = [
      { process: vp, model: vpModel, predictor: 'euler-maruyama', corrector: 'none' },
      { process: vp, model: vpModel, predictor: 'ancestral', corrector: 'langevin' },
      { process: ve, model: veModel, predictor: 'reverse-diffusion', corrector: 'langevin', snrNorm: 'batch' },
      { process: ve, model: veModel, predictor: 'none', corrector: 'ald' },
    ] as const;
    for (const c of cases) {
      const o = { ...base, ...c, steps: 40 };
      const host = diffusion.pcSync(o);
      const dev = diffusion.pcSync({ ...o, model: { kind: 'score', fn: onGpu(c.model.fn) }, output: 'device' });
      expect(dev.nfe).toBe(host.nfe);
      same(`pc ${c.predictor}/${c.corrector}`, dev.x, host.x);
    }
  });

  test('probability flow (RK45 with the device error norm), sample and encode', async () => {
    const o = { ...base, process: vp, model: vpModel, rtol: 1e-4, atol: 1e-4 };
    const host = diffusion.probabilityFlowSync(o);
    const dev = await diffusion.probabilityFlow({ ...o, model: { kind: 'score', fn: onGpu(vpModel.fn) }, output: 'device' });
    expect(dev.nfe).toBe(host.nfe); // the same accepted and rejected steps
    const start = DeviceArray.fromHost(host.x, [base.batch, base.dim]);
    same('flow sample', dev.x, host.x);
    const enc = diffusion.probabilityFlowSync({ ...o, direction: 'encode', x: host.x });
    const encDev = diffusion.probabilityFlowSync({ ...o, model: { kind: 'score', fn: onGpu(vpModel.fn) }, direction: 'encode', x: start, output: 'device' });
    same('flow encode', encDev.x, enc.x);
    expect(start.disposed).toBe(false); // the sampler copied its start state
    start.dispose();
  });

  test('DDIM (η = 0 and 1, clip_sample, Time-Shift) and DDPM', () => {
    const { alphasCumprod } = diffusion.schedules.linearBetas();
    const epsModel = target.epsModel(alphasCumprod);
    const runs = [
      { eta: 0 }, { eta: 1 }, { eta: 0.5, clipSample: true, clipSampleRange: 1.5 }, { eta: 1, timeShift: { window: 20, cutoff: 100 } },
    ];
    for (const r of runs) {
      const o = { ...base, epsModel, alphasCumprod, steps: 25, ...r };
      same(`ddim ${JSON.stringify(r)}`, diffusion.ddimSync({ ...o, epsModel: onGpu(epsModel), output: 'device' }).x, diffusion.ddimSync(o).x);
    }
    const short = alphasCumprod.subarray(0, 60);
    const o = { ...base, epsModel: target.epsModel(short), alphasCumprod: short };
    same('ddpm', diffusion.ddpmSync({ ...o, epsModel: onGpu(o.epsModel), output: 'device' }).x, diffusion.ddpmSync(o).x);
  });

  test('Karras Euler (with churn), Heun and Euler ancestral', () => {
    const sigmas = diffusion.schedules.karras(20, 0.002, 80);
    const den = (x: DeviceArray<'float32'>, s: Float64Array, out: DeviceArray<'float32'>): void => {
      const o = new Float32Array(out.length);
      target.denoiser(x.toHost(), s, o);
      out.upload(o);
    };
    const o = { ...base, sigmas };
    same('euler', diffusion.karras.eulerSync({ ...o, denoiser: den, sChurn: 5, output: 'device' }).x, diffusion.karras.eulerSync({ ...o, denoiser: target.denoiser, sChurn: 5 }).x);
    same('heun', diffusion.karras.heunSync({ ...o, denoiser: den, output: 'device' }).x, diffusion.karras.heunSync({ ...o, denoiser: target.denoiser }).x);
    same('ancestral', diffusion.karras.eulerAncestralSync({ ...o, denoiser: den, output: 'device' }).x, diffusion.karras.eulerAncestralSync({ ...o, denoiser: target.denoiser }).x);
  });

  test('a DeviceArray start state without output: device is a coded error', () => {
    const x = DeviceArray.zeros([base.batch, base.dim]);
    expect(() => diffusion.karras.eulerSync({ ...base, sigmas: diffusion.schedules.karras(5, 0.01, 10), denoiser: target.denoiser, x: x as unknown as Float32Array }))
      .toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    x.dispose();
  });
});
