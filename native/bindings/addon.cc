// Node-API entry point: registers every area's functions on one exports object.
#include <napi.h>

#include "areas.h"
#include "job_runner.h"
#include "nn_area.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  itk::napi::init_jobs(env);
  itk::napi::init_core(env, exports);
  itk::napi::init_rng(env, exports);
  itk::napi::init_device(env, exports);
  itk::napi::init_sde(env, exports);
  itk::napi::init_ot(env, exports);
  itk::napi::init_fbm(env, exports);
  itk::napi::init_unet(env, exports);
  itk::napi::init_nn(env, exports);
  itk::napi::init_train(env, exports);
  itk::napi::init_stats(env, exports);
  itk::napi::init_sampler_device(env, exports);
  itk::napi::init_testing(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(itokit, Init)
