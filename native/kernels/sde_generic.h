// Per-element updates of the callback path (user-defined models, docs/design/sde.md §6): the
// drift and diffusion arrive as buffers computed by JavaScript; noise and the update run natively.
// Diffusion buffer layouts follow docs/design/sde.md §1: diagonal/scalar [P, d], additive [d, m] shared by all
// paths, general [P, d, m].
#pragma once
#include "sde_steps.h"

namespace itk {
namespace sde {

enum NoiseType : int32_t { kDiagonal = 0, kAdditive = 1, kScalar = 2, kGeneral = 3 };
enum GenericOp : int32_t {
  kOpEuler = 0,      // x = y + f1 h + G1·dW
  kOpMilstein = 1,   // x = y + f1 h + g1 dW + ½ gdg (dW² − h)        (diagonal, scalar)
  kOpHeun = 2,       // x = y + ½(f1 + f2)h + ½(G1 + G2)·dW
  kOpSra1Stage = 3,  // x = y + ¾h f1 + (3/2) G1·J                     (G1 = G(t+h); additive)
  kOpSra1Final = 4,  // x = y + h(f1/3 + 2f2/3) + G1·(dW − J) + G2·J    (G2 = G(t))
  kOpProbe = 5,      // x = y + f1 h + g1 sqrt|h|  (derivative-free Milstein support point)
  kOpGdg = 6,        // x = (g2 − g1)/sqrt|h|      (≈ g ∂g/∂x, torchsde grad_free)
  kOpMilsteinDx = 7, // as kOpMilstein with gdg holding ∂g/∂x (from the user's diffusionDx)
  kOpCalculus = 8,   // x = y + h·g1·gdg: drift conversion f_Strat = f_Itô − ½ g ∂g/∂x (h = ∓½; diagonal)
};

template <typename T>
struct GenericArgs {
  int32_t op = 0, noise = 0;
  uint64_t paths = 0;
  uint32_t d = 1, m = 1;
  T h = T(0), sqrt_h = T(0);
  T* x = nullptr;  // output [P, d] (may alias y)
  const T *y = nullptr, *f1 = nullptr, *f2 = nullptr, *g1 = nullptr, *g2 = nullptr, *gdg = nullptr;
  const T *dW = nullptr, *J = nullptr;  // [P, m]
};

// (G·v)_i of path p for a noise vector v = w[p*m .. p*m+m).
template <typename T>
ITK_HD T g_dot(const GenericArgs<T>& a, const T* g, const T* w, uint64_t p, uint32_t i) {
  const T* v = w + p * a.m;
  switch (a.noise) {
    case kDiagonal: return mu(g[p * a.d + i], v[i]);
    case kScalar: return mu(g[p * a.d + i], v[0]);
    case kAdditive: {
      T s = T(0);
      for (uint32_t k = 0; k < a.m; ++k) s = ad(s, mu(g[i * a.m + k], v[k]));
      return s;
    }
    default: {
      T s = T(0);
      const T* gr = g + (p * a.d + i) * a.m;
      for (uint32_t k = 0; k < a.m; ++k) s = ad(s, mu(gr[k], v[k]));
      return s;
    }
  }
}

// (G·(dW − J))_i, for SRA1.
template <typename T>
ITK_HD T g_dot_diff(const GenericArgs<T>& a, const T* g, uint64_t p, uint32_t i) {
  T s = T(0);
  for (uint32_t k = 0; k < a.m; ++k) {
    const T gk = a.noise == kAdditive ? g[i * a.m + k] : g[(p * a.d + i) * a.m + k];
    s = ad(s, mu(gk, sb(a.dW[p * a.m + k], a.J[p * a.m + k])));
  }
  return s;
}

template <typename T>
ITK_HD void generic_update(const GenericArgs<T>& a, uint64_t p, uint32_t i) {
  const uint64_t e = p * a.d + i;
  const T y = a.y[e];
  switch (a.op) {
    case kOpEuler: a.x[e] = step_em(y, a.f1[e], g_dot(a, a.g1, a.dW, p, i), a.h); break;
    case kOpMilstein:
    case kOpMilsteinDx: {
      const T dw = a.dW[p * a.m + (a.noise == kScalar ? 0 : i)];
      const T gdg = a.op == kOpMilstein ? a.gdg[e] : mu(a.g1[e], a.gdg[e]);
      a.x[e] = step_milstein(y, a.f1[e], a.g1[e], gdg, dw, a.h);
      break;
    }
    case kOpHeun:
      a.x[e] = step_heun(y, a.f1[e], a.f2[e], g_dot(a, a.g1, a.dW, p, i), g_dot(a, a.g2, a.dW, p, i), a.h);
      break;
    case kOpSra1Stage: a.x[e] = sra1_stage(y, a.f1[e], g_dot(a, a.g1, a.J, p, i), a.h); break;
    case kOpSra1Final:
      a.x[e] = sra1_final(y, a.f1[e], a.f2[e], g_dot_diff(a, a.g1, p, i), g_dot(a, a.g2, a.J, p, i), a.h);
      break;
    case kOpProbe: a.x[e] = ad(ad(y, mu(a.f1[e], a.h)), mu(a.g1[e], a.sqrt_h)); break;
    case kOpCalculus: a.x[e] = ad(y, mu(a.h, mu(a.g1[e], a.gdg[e]))); break;
    default: a.x[e] = dv(sb(a.g2[e], a.g1[e]), a.sqrt_h); break;  // kOpGdg
  }
}

}  // namespace sde
}  // namespace itk
