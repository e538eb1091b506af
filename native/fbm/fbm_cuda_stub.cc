// Stand-in for native/fbm/cuda/fbm_markov.cu in CPU-only builds.
#include "../core/cuda_api.h"
#include "fbm_cuda.h"

namespace itk {
namespace cuda {

void fbm_markov_sample(const fbm::MarkovRequest&, const fbm::MarkovSetup&) { require_available(); }

}  // namespace cuda
}  // namespace itk
