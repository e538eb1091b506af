// Per-element kernels of the UNet forward (native/kernels/unet_elem.h, native/unet/unet_ops.cc):
// exp_f32, the libm-free exponential SiLU and the softmax use on the CPU and the GPU, against the
// correctly rounded e^x (double exp rounded to float32), and the fused GroupNorm(+SiLU) +
// activation quantizer (group_norm_quant_nhwc) against group_norm followed by quantize_nhwc: the
// same u8 codes, bit for bit, on shapes with and without full 16 × 16 transpose blocks.
import * as unetTesting from '../lib/testing/unet';

describe('UNet per-element kernels', () => {
  test('exp_f32 is the correctly rounded e^x, with inf/0/NaN at the ends', () => {
    const xs: number[] = [0, -0, 1, -1, 0.5, 88.72283, 88.72284, 89, 100, 140, 141, 1e30, -87.3, -103.2, -103.98, -104, -150, -1e30,
      Infinity, -Infinity, NaN, 1e-30, -1e-30, 2 ** -149];
    // a sweep over the range SiLU and the softmax see, and a log-uniform spread of magnitudes
    for (let i = 0; i < 20000; i++) xs.push(-30 + (60 * i) / 20000 + 1e-5 * Math.sin(i));
    for (let i = 0; i < 4000; i++) xs.push((i % 2 ? -1 : 1) * Math.exp(-20 + (25 * i) / 4000));
    const x = Float32Array.from(xs);
    const y = unetTesting.quantizerTest('exp', x);
    let bad = 0;
    for (let i = 0; i < x.length; i++) {
      const want = Math.fround(Math.exp(x[i]));
      if (!(Object.is(y[i], want) || (Number.isNaN(want) && Number.isNaN(y[i])))) {
        if (bad++ < 5) console.log(`exp_f32(${x[i]}) = ${y[i]}, want ${want}`);
      }
    }
    expect(bad).toBe(0);
  });

  test.each([
    [32, 8, 64, true], [32, 8, 64, false], [96, 32, 256, true], [24, 8, 100, true], [64, 32, 17, false], [128, 32, 64, true], [8, 1, 1, true],
  ])('fused GroupNorm+quantize: C=%i G=%i P=%i SiLU=%s equals group_norm then quantize_nhwc', (C, G, P, silu) => {
    const x = Float32Array.from({ length: C * P }, (_, i) => 3 * Math.sin(i * 0.731) + 0.5 * Math.cos(i * 0.05) + (i % 7) * 0.1);
    const r = unetTesting.quantizerTest('gnquant', x, C, G, silu ? 1 : 0);
    const n = C * P;
    expect(r.length).toBe(2 * n);
    const fused = r.subarray(0, n), plain = r.subarray(n);
    expect(Array.from(fused)).toEqual(Array.from(plain));
    // the codes are NHWC and span the range (the test can see a wrong layout or a stuck quantizer)
    const distinct = new Set(Array.from(plain)).size;
    expect(distinct).toBeGreaterThan(Math.min(20, n / 4));
    if (C > 1 && P > 1) expect(Array.from(fused.subarray(0, C))).not.toEqual(Array.from(fused.subarray(C, 2 * C)));
  });

  // The fused SiLU codes come from a float hint, certified away from rounding boundaries, and the
  // exact exp_f32 path elsewhere (elem_span_body.h silu_code_hint): dense ramps of a million
  // values (linear and cubic, so the tails reach |a| ≈ 6) must give the exact path's codes.
  test.each([['linear', (t: number) => t], ['cubic', (t: number) => t * t * t]])('fused SiLU codes on a dense %s ramp equal the exact path', (_name, f) => {
    const C = 8, P = 1 << 17;
    const x = Float32Array.from({ length: C * P }, (_, i) => f(-1 + (2 * (i % P)) / P) + 1e-3 * Math.floor(i / P));
    const r = unetTesting.quantizerTest('gnquant', x, C, 1, 1);
    const n = C * P;
    let bad = 0;
    for (let i = 0; i < n; i++) if (r[i] !== r[n + i]) bad++;
    expect(bad).toBe(0);
    expect(new Set(Array.from(r.subarray(0, n))).size).toBeGreaterThan(60);  // a wide stretch of codes is crossed
  });
});
