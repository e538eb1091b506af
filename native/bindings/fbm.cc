// fbm area bindings (placeholder until the area lands).
#include "areas.h"
#include "napi_util.h"

namespace itk {
namespace napi {

void init_fbm(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace napi
}  // namespace itk
