/**
 * CUDA MLP forward/backward against the CPU path (same sums in the same order; only the
 * activations' libm-vs-CUDA last bits differ). Skips visibly without a CUDA device.
 */
import { ACTIVATIONS, MLP } from '../../lib/nn';
import { describeGpu as d } from './harness';

d('MLP on CUDA vs CPU', () => {
  test.each(ACTIVATIONS.map((a) => [a]))('%s, float64 and float32, 1000 rows', (act) => {
    for (const dtype of ['float64', 'float32'] as const) {
      const net = new MLP({ sizes: [5, 64, 32, 3], activation: act, dtype, seed: 7 });
      const x = dtype === 'float64' ? new Float64Array(5000) : new Float32Array(5000);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(0.37 * i) * 2;
      const dy = dtype === 'float64' ? new Float64Array(3000) : new Float32Array(3000);
      for (let i = 0; i < dy.length; i++) dy[i] = Math.cos(0.11 * i);
      const tol = dtype === 'float64' ? 1e-12 : 2e-5;
      const cpu = net.forward(x as never, { device: 'cpu' });
      const gpu = net.forward(x as never, { device: 'cuda' });
      const rel = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
        let n = 0;
        let m = 0;
        for (let i = 0; i < a.length; i++) {
          n = Math.max(n, Math.abs(a[i] - b[i]));
          m = Math.max(m, Math.abs(b[i]));
        }
        return n / m;
      };
      expect(rel(gpu.y, cpu.y)).toBeLessThan(tol);
      net.zeroGrad();
      const dxc = net.backward(cpu.tape, dy as never)!;
      const gc = Float64Array.from(net.grad);
      net.zeroGrad();
      const dxg = net.backward(gpu.tape, dy as never)!;
      expect(rel(dxg, dxc)).toBeLessThan(tol);
      expect(rel(net.grad, gc)).toBeLessThan(tol * 10);
    }
  });
});
