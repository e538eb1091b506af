// One init function per public area; addon.cc calls them all.
#pragma once
#include <napi.h>

namespace itk {
namespace napi {

void init_core(Napi::Env env, Napi::Object exports);
void init_rng(Napi::Env env, Napi::Object exports);
void init_device(Napi::Env env, Napi::Object exports);
void init_sde(Napi::Env env, Napi::Object exports);
void init_ot(Napi::Env env, Napi::Object exports);
void init_fbm(Napi::Env env, Napi::Object exports);
void init_unet(Napi::Env env, Napi::Object exports);
void init_stats(Napi::Env env, Napi::Object exports);
void init_sampler_device(Napi::Env env, Napi::Object exports);
// The internal testing binding: addon.testing.* (testing.cc).
void init_testing(Napi::Env env, Napi::Object exports);
// addon.testing, created on first use: the object every area binds its test-only entry points on.
Napi::Object testing_exports(Napi::Env env, Napi::Object root);

}  // namespace napi
}  // namespace itk
