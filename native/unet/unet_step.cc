// The sampler update after a UNet forward (unet_step.h): its checks, its lincomb terms and the
// host form.
#include "unet_step.h"

#include "../core/error.h"
#include "../sde/sde_ops.h"

namespace itk {
namespace unet {

void check_step_update(const StepUpdate& u, uint64_t P) {
  require(u.n >= 1 && u.n <= StepUpdate::kMaxCombs, Code::InvalidArg, "a step update has one or two combinations");
  uint64_t coefs = 0;
  for (int i = 0; i < u.n; ++i) {
    const StepUpdate::Comb& c = u.comb[i];
    require(c.K >= 0 && c.K <= StepUpdate::kMaxTerms, Code::InvalidArg, "a step combination has at most two terms");
    for (int k = 0; k < c.K; ++k)
      require(c.in[k] == StepUpdate::X || c.in[k] == StepUpdate::Eps || (c.in[k] == StepUpdate::Tmp && i > 0), Code::InvalidArg,
              "a step combination reads x, eps, or tmp after the combination that writes it");
    require(c.clip >= 0, Code::InvalidArg, "clip must be non-negative");
    coefs += static_cast<uint64_t>(c.K + 1) * P;
  }
  require(u.coef.size() == coefs, Code::Shape, "the step update needs (K + 1)·B coefficients per combination");
  require(u.stream <= 0xFFFF, Code::InvalidArg, "stream must be below 65536");
  require(u.sample_offset + P <= (uint64_t{1} << 48), Code::InvalidArg, "sample ids must stay below 2^48");
}

LincombTerms step_terms(const StepUpdate& u, int i, const float* const values[3], const double* coef, uint64_t P, uint64_t D) {
  LincombTerms t{};
  uint64_t off = 0;
  for (int j = 0; j < i; ++j) off += static_cast<uint64_t>(u.comb[j].K + 1) * P;
  const StepUpdate::Comb& c = u.comb[i];
  for (int k = 0; k < c.K; ++k) t.in[k] = values[c.in[k]];
  t.K = static_cast<uint32_t>(c.K);
  t.coef = coef + off;
  t.P = P;
  t.D = D;
  t.noise = c.noise;
  set_step_params(t, step_params(u, i));
  return t;
}

LincombStepParams step_params(const StepUpdate& u, int i) {
  return LincombStepParams{u.key_lo, u.key_hi, u.stream, u.step, u.sample_offset, u.comb[i].clip};
}

void step_update_host(const StepUpdate& u, const float* x, const float* eps, uint64_t P, uint64_t D, float* out) {
  check_step_update(u, P);
  std::vector<float> tmp(u.n > 1 ? P * D : 0);
  const float* values[3] = {x, eps, tmp.data()};
  for (int i = 0; i < u.n; ++i) sde_lincomb_terms(step_terms(u, i, values, u.coef.data(), P, D), i + 1 < u.n ? tmp.data() : out);
}

}  // namespace unet
}  // namespace itk
