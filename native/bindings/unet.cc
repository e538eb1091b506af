// unet area bindings (placeholder until the area lands).
#include "areas.h"
#include "napi_util.h"

namespace itk {
namespace napi {

void init_unet(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace napi
}  // namespace itk
