// train area bindings (filled in below as the trainers land).
#include "napi_util.h"
#include "nn_area.h"

namespace itk {
namespace napi {

void init_train(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace napi
}  // namespace itk
