#include "cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define ITK_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace itk {
namespace {

#if defined(ITK_X86)
void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int out[4];
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(out[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

unsigned long long xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(ITK_X86)
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned max_leaf = r[0];
  cpuid(1, 0, r);
  f.sse42 = (r[2] >> 20) & 1;
  const bool osxsave = (r[2] >> 27) & 1;
  const bool avx_hw = (r[2] >> 28) & 1;
  f.fma = (r[2] >> 12) & 1;
  f.f16c = (r[2] >> 29) & 1;
  // The OS must save the wide registers (XCR0) before AVX/AVX-512 code may run.
  const unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
  const bool ymm_os = (xcr0 & 0x6) == 0x6;
  const bool zmm_os = (xcr0 & 0xE6) == 0xE6;
  f.avx = avx_hw && ymm_os;
  f.fma = f.fma && f.avx;
  f.f16c = f.f16c && f.avx;
  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    f.avx2 = f.avx && ((r[1] >> 5) & 1);
    f.avx512f = zmm_os && ((r[1] >> 16) & 1);
    f.avx512dq = f.avx512f && ((r[1] >> 17) & 1);
    f.avx512bw = f.avx512f && ((r[1] >> 30) & 1);
    f.avx512vl = f.avx512f && ((r[1] >> 31) & 1);
    f.avx512vnni = f.avx512f && ((r[2] >> 11) & 1);
    cpuid(7, 1, r);
    f.avxvnni = f.avx2 && ((r[0] >> 4) & 1);
  }
#elif defined(__aarch64__)
  f.neon = true;
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::vector<std::string> cpu_feature_names() {
  const CpuFeatures& f = cpu_features();
  std::vector<std::string> names;
  if (f.sse42) names.push_back("sse4.2");
  if (f.avx) names.push_back("avx");
  if (f.avx2) names.push_back("avx2");
  if (f.fma) names.push_back("fma");
  if (f.f16c) names.push_back("f16c");
  if (f.avx512f) names.push_back("avx512f");
  if (f.avx512dq) names.push_back("avx512dq");
  if (f.avx512bw) names.push_back("avx512bw");
  if (f.avx512vl) names.push_back("avx512vl");
  if (f.avx512vnni) names.push_back("avx512vnni");
  if (f.avxvnni) names.push_back("avxvnni");
  if (f.neon) names.push_back("neon");
  return names;
}

std::string cpu_arch() {
#if defined(__x86_64__) || defined(_M_X64)
  return "x64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

}  // namespace itk
