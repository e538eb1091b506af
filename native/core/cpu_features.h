// Run-time CPU feature detection: prebuilt binaries are compiled for baseline x86-64 and pick
// AVX2/FMA/AVX-512/VNNI kernels at run time from these flags.
#pragma once
#include <string>
#include <vector>

namespace itk {

struct CpuFeatures {
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512dq = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avxvnni = false;
  bool neon = false;
};

const CpuFeatures& cpu_features();
std::vector<std::string> cpu_feature_names();
std::string cpu_arch();

}  // namespace itk
