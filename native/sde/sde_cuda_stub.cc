// Stand-ins for native/sde/cuda/sde.cu in CPU-only builds: every entry reports CUDA as unavailable.
#include "../core/cuda_api.h"
#include "sde_cuda.h"

namespace itk {
namespace cuda {

void sde_fused_f32(const sde::FusedArgs<float>&) { require_available(); }
void sde_fused_f64(const sde::FusedArgs<double>&) { require_available(); }
void sde_brownian_f32(const sde::NoiseSpec<float>&, uint64_t, uint64_t, uint32_t, float*, float*) {
  require_available();
}
void sde_generic_f32(const sde::GenericArgs<float>&) { require_available(); }
void sampler_lincomb_f32(const LincombTerms&, float*) { require_available(); }
void sampler_row_stats_f32(const float*, uint64_t, uint64_t, double*) { require_available(); }
double sampler_rk45_norm_f32(const Rk45Terms&) {
  require_available();
  return 0;
}

}  // namespace cuda
}  // namespace itk
