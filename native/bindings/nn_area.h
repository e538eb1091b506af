// Init functions of the nn and train areas (registered from addon.cc).
#pragma once
#include <napi.h>

namespace itk {
namespace napi {

void init_nn(Napi::Env env, Napi::Object exports);
void init_train(Napi::Env env, Napi::Object exports);

}  // namespace napi
}  // namespace itk
