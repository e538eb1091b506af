#!/usr/bin/env bash
# AddressSanitizer + UBSan run of the native-heavy test suites (CI runs it; see .ci/run):
#   bash tools/sanitize/run.sh            build build-asan/ (CPU only) if missing, then run the suites
#   bash tools/sanitize/run.sh --rebuild  rebuild first
# Node itself is not instrumented: libasan is preloaded, leak detection is off (V8 keeps memory
# until exit by design), and any ASan or UBSan report aborts the test process, failing its suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build-asan
if [ "${1:-}" = "--rebuild" ] || [ ! -f "$out/Release/itokit.node" ]; then
  npx cmake-js rebuild --out "$out" --CDITOKIT_CUDA=OFF --CDITOKIT_SANITIZE=ON -p "$(nproc)"
fi
libasan=$(g++ -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "libasan not found ($libasan)"; exit 1; }
# Native-heavy suites that finish in minutes under ASan on 2 cores (the long statistical checks of
# test:acceptance and the model-file fuzzer's child processes, which set address-space limits that
# ASan's shadow memory cannot live with, stay out; test/ot.test.ts takes several minutes under ASan
# on 2 cores and stays out too: the OT bindings' memory handling is exercised by runtime-safety).
suites=(
  test/rng.test.ts test/sde-lanes.test.ts test/kernel-shapes.test.ts test/fbm-sample.test.ts
  test/nn.test.ts test/unet-memory.test.ts test/safetensors.test.ts
  test/runtime-safety.test.ts test/bad-arguments.test.ts
)
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:detect_odr_violation=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ITOKIT_NATIVE_PATH="$PWD/$out/Release/itokit.node"
export ITOKIT_SANITIZED=1
# the instrumented scalar kernels (the per-ISA SIMD files are built without instrumentation, see
# CMakeLists.txt); tests that compare ISA paths in child processes still run the SIMD ones
export ITOKIT_CPU=scalar
npx jest --ci --testTimeout=600000 "${suites[@]}"
