// CPU-only builds: stands in for native/ot/cuda/ot_dense.cu (tools/sources.js compiles *cuda_stub.cc only
// when CUDA is off), so the solver can ask for CUDA ops and get a coded DeviceUnavailable error.
#include "../core/cuda_api.h"
#include "../core/error.h"
#include "dense_ops.h"

namespace itk {
namespace ot {

std::unique_ptr<DenseOps> make_cuda_ops(const DenseProblem&) {
  throw Error(Code::DeviceUnavailable, cuda::kBuiltWithoutCuda);
}

bool cuda_batch_fits(std::size_t, std::size_t) { return false; }
void cuda_sinkhorn_batch(const BatchIn&, BatchOut*) { throw Error(Code::DeviceUnavailable, cuda::kBuiltWithoutCuda); }

}  // namespace ot
}  // namespace itk
