#!/usr/bin/env bash
# The GPU checks of one device session, run on the lent GPU machine from the project root after
# `source .device/unpack.sh` (see ../shared/tools/device-pack.sh): GPU tests, the GPU benchmark with
# its PyTorch/JAX anchors, Nsight Compute on the fused SDE kernels, and their SASS. Everything is
# written under $OUT (at most 8 files come back): tests.txt, bench.txt, gpu.md, unet.md, ncu.txt,
# sass.txt, fastmath.txt.
#   ITOKIT_CHECK_STEPS=pack,tests,bench,unet,ncu,sass,fastmath   pick steps (default: all)
#   ITOKIT_GPU_BENCH_SECTIONS=copy,rng,sde,fbm,ot  benchmark sections (default: all)
# One 15-minute device session fits: tests ~3 min, bench ~5 (each section at most
# ITOKIT_BENCH_SECTION_TIMEOUT s, default 100), unet ~5 (ITOKIT_CHECK_STEPS=unet alone: ~7, its GPU tests
# and two `itokit sample --device cuda --batch 64` runs included), ncu ~2, sass < 1.
set -uo pipefail
OUT=${OUT:-/tmp/itokit-device-out}
mkdir -p "$OUT"
steps=${ITOKIT_CHECK_STEPS:-pack,tests,bench,unet,ncu,sass,fastmath}
has() { [[ ",$steps," == *",$1,"* ]]; }
export ITOKIT_GPU_BENCH_SECTIONS=${ITOKIT_GPU_BENCH_SECTIONS:-copy,rng,sde,fbm,ot}
t0=$(date +%s)
stamp() { echo "== $1 at +$(( $(date +%s) - t0 ))s"; }

{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; nproc; } > "$OUT/tests.txt" 2>&1
if has pack; then
  # The production path on a GPU host (docs/design/packaging.md): the x64 binary as npm pack ships it,
  # unpacked into a fresh node_modules (the machine has no registry, so the dependencies are linked
  # from the checkout), loaded with no compiler or CUDA toolkit on PATH, must run on the GPU and give
  # the CPU's bits. (~20 s)
  stamp pack >> "$OUT/tests.txt"
  (
    set -e
    [ -f prebuilds/linux-x64/itokit.glibc.node ] || node tools/prebuild.js --from build/Release/itokit.node
    app=$(mktemp -d)
    ITOKIT_PACK_ARCHS=x64 npm pack --silent --pack-destination "$app" > /dev/null
    mkdir -p "$app/node_modules/itokit"
    tar -xzf "$app"/itokit-*.tgz -C "$app/node_modules/itokit" --strip-components=1
    for dep in $(node -p "Object.keys(require('./package.json').dependencies).join(' ')"); do ln -s "$PWD/node_modules/$dep" "$app/node_modules/$dep"; done
    cd "$app" && PATH=$(dirname "$(command -v node)"):/usr/bin:/bin node -e "
const itokit = require('itokit');
const b = itokit.backends();
if (!b.cuda.compiled) throw new Error('packed binary: CUDA not compiled in');
if (!b.cuda.available) throw new Error('packed binary: CUDA unavailable on a GPU host: ' + b.cuda.reason);
const cpu = itokit.rng.normal(1 << 20, { seed: 3, device: 'cpu' });
const gpu = itokit.rng.normal(1 << 20, { seed: 3, device: 'cuda' });
if (!Buffer.from(cpu.buffer).equals(Buffer.from(gpu.buffer))) throw new Error('packed binary: CUDA normals differ from the CPU ones');
console.log('pack: the packed x64 binary runs on ' + b.cuda.devices[0].name + ' (compute capability ' + b.cuda.devices[0].computeCapability + ') with the CPU bits');
"
  ) >> "$OUT/tests.txt" 2>&1 || echo "pack: FAILED" >> "$OUT/tests.txt"
fi
if has bench; then
  stamp bench > "$OUT/bench.txt"
  # One run per section, each with its own time limit, so a slow section cannot cost the others'
  # rows; itokit bench writes into its --out folder only, and the tables come back joined as gpu.md.
  : > "$OUT/gpu.md"
  for section in ${ITOKIT_GPU_BENCH_SECTIONS//,/ }; do
    stamp "bench $section" >> "$OUT/bench.txt"
    ITOKIT_GPU_BENCH_SECTIONS=$section timeout ${ITOKIT_BENCH_SECTION_TIMEOUT:-100} \
      node dist/lib/cli/index.js bench gpu --out "/tmp/itokit-device-bench/$section" >> "$OUT/bench.txt" 2>&1
    { echo "<!-- section $section -->"; cat "/tmp/itokit-device-bench/$section/gpu.md" 2>/dev/null || echo "(section $section: no table, see bench.txt)"; } >> "$OUT/gpu.md"
  done
fi
if has unet; then
  # The UNet on the GPU (docs/unet.md): without the tests step, its GPU tests first (MMA vs dp4a vs CPU
  # bits, graph replay vs plain launches, tf32/bf16 tolerances; ~2 min), then the table: W4A8/W8A8 on
  # MMA and dp4a, FP32 at fpPrecision fp32/tf32/bf16, graphs on/off, beside the PyTorch port on the
  # same GPU at fp32/TF32/fp16/bf16 autocast, digits16 (one DDIM step of 64) and the CIFAR shape, B = 64.
  if ! has tests; then
    stamp unet-tests >> "$OUT/tests.txt"
    ITOKIT_GPU_TESTS=1 timeout ${ITOKIT_UNET_TEST_TIMEOUT:-240} npx jest test/gpu/unet.test.ts --selectProjects gpu --ci 2>&1 | grep -vE "^\s+at |ts-jest\[config\]|isolatedModules|^\s*$" | tail -120 >> "$OUT/tests.txt"
  fi
  stamp unet >> "$OUT/bench.txt"
  timeout ${ITOKIT_UNET_BENCH_TIMEOUT:-360} node dist/lib/cli/index.js bench unet-gpu --out /tmp/itokit-device-bench >> "$OUT/bench.txt" 2>&1
  cp /tmp/itokit-device-bench/unet-gpu.md "$OUT/unet.md" 2>/dev/null
  # The main job on the GPU (#13: W4A8 faster than FP32 per step; 50 steps of 64 images <= 100 ms of
  # sampling): quantization and calibration run on the CPU first (~30 s), each step is one CUDA graph.
  stamp sample >> "$OUT/bench.txt"
  timeout ${ITOKIT_SAMPLE_TIMEOUT:-150} node dist/lib/cli/index.js sample --device cuda --batch 64 --steps 50 --out /tmp/itokit-device-bench/samples.png >> "$OUT/bench.txt" 2>&1
  timeout 60 node dist/lib/cli/index.js sample --device cuda --batch 64 --steps 50 --out /tmp/itokit-device-bench/samples.png >> "$OUT/bench.txt" 2>&1  # cached model: the timed run
fi
if has ncu; then
  stamp ncu > "$OUT/ncu.txt"
  cat > /tmp/ncu-sde.js <<'JS'
const { sde } = require(process.cwd());
const run = (m, x0, method) => { const r = sde.simulateSync(m, { paths: 1e7, x0, t1: 1, steps: 252, method, seed: 1, output: 'device' }); r.final.dispose(); r.data.dispose(); };
run(sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'euler');
run(sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft');
JS
  timeout ${ITOKIT_NCU_TIMEOUT:-120} ncu --clock-control none --kernel-name regex:fused_kernel --launch-count 2 \
    --section SpeedOfLight --section ComputeWorkloadAnalysis --section Occupancy --section LaunchStats \
    --section InstructionStats --section WarpStateStats node /tmp/ncu-sde.js >> "$OUT/ncu.txt" 2>&1
  # The UNet's kernels (#13): one W4A8 and one FP32 forward of the CIFAR-shaped model at B = 64, graphs
  # off so each kernel is its own launch: time, throughput and occupancy per kernel, the bound each is
  # closest to (SpeedOfLight), for the conv, GroupNorm and attention kernels.
  stamp ncu-unet >> "$OUT/ncu.txt"
  cat > /tmp/ncu-unet.js <<'JS'
const fs = require('fs'), os = require('os'), path = require('path');
const { unet } = require(process.cwd());
const { CIFAR_CONFIG, writeRandomUnet } = require(path.join(process.cwd(), 'dist/benchmarks/unet-gpu.bench.js'));
(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncu-unet-'));
  writeRandomUnet(dir, CIFAR_CONFIG, 7);
  const fp = unet.loadSync(dir), B = 64, n = B * 3 * 32 * 32;
  const x = { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), shape: [B, 3, 32, 32] };
  const xs = Float32Array.from({ length: 4 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.91));
  const q = await unet.quantize(fp, { weightBits: 4, calibration: { data: { xs, timesteps: [500], samplesPerStep: 4, height: 32, width: 32 }, initSamples: 4, batch: 4 } });
  for (const m of [q, fp]) m.predictSync(x, 500, { device: 'cuda' });
})();
JS
  ITOKIT_UNET_GRAPH=0 timeout ${ITOKIT_NCU_UNET_TIMEOUT:-120} ncu --clock-control none \
    --kernel-name regex:'qmma_kernel|qconv_kernel|conv_fp_kernel|gn_kernel|attn_kernel|quantize_kernel' --launch-count 40 \
    --section SpeedOfLight --section Occupancy --section LaunchStats node /tmp/ncu-unet.js >> "$OUT/ncu.txt" 2>&1
fi
if has sass; then
  stamp sass > "$OUT/sass.txt"
  # The GBM Euler float32 fixed-shape kernel: its loop body is the per-path-step instruction count.
  fn=$(cuobjdump -symbols build/Release/itokit.node 2>/dev/null | grep -o '_ZN3itk4cuda[^ ]*fused_kernelIfNS_3sde10FixedModelILi1ELi0ELj1E[^ ]*' | head -1)
  echo "function: $fn" >> "$OUT/sass.txt"
  cuobjdump -sass -fun "$fn" build/Release/itokit.node >> "$OUT/sass.txt" 2>&1 || cuobjdump -sass build/Release/itokit.node | head -3000 >> "$OUT/sass.txt"
fi
if has fastmath; then
  # The price of identical bits (docs/sde.md): the library's fused kernel body built with its own flags
  # and again with fast intrinsics (tools/sde_fast_math_bench.cu), same cases, same run. (~1 min)
  stamp fastmath > "$OUT/fastmath.txt"
  (
    set -e
    nvcc -std=c++17 -O3 --fmad=false -prec-div=true -prec-sqrt=true -arch=sm_90 tools/sde_fast_math_bench.cu -o /tmp/sde-exact
    nvcc -std=c++17 -O3 --use_fast_math -DITK_FAST_MATH -arch=sm_90 tools/sde_fast_math_bench.cu -o /tmp/sde-fast
    /tmp/sde-exact && /tmp/sde-fast
  ) >> "$OUT/fastmath.txt" 2>&1 || echo "fastmath: FAILED" >> "$OUT/fastmath.txt"
fi
if has tests; then
  stamp tests >> "$OUT/tests.txt"
  ITOKIT_GPU_TESTS=1 timeout ${ITOKIT_TEST_TIMEOUT:-300} npx jest --selectProjects gpu --ci 2>&1 | grep -vE "^\s+at |ts-jest\[config\]|isolatedModules|^\s*$" | tail -150 >> "$OUT/tests.txt"
fi
stamp done >> "$OUT/tests.txt"
