// Reference problems of docs/design/ot.md §7, generated from the project's Philox4x32-10:
// key = seed, counter = (index >> 2, 0, problem, tag), word = index & 3; tags 1 = cost entries,
// 2 = source data, 3 = target data, 4 = target weights. Uniforms U32 → float64 (u32d); normals
// by Box–Muller on word pairs: pair q (words 2q, 2q+1) gives normals 2q and 2q+1, so point i of a
// 2-D cloud uses pair i.
#include <algorithm>
#include <cmath>

#include "../kernels/normal.h"
#include "../kernels/philox.h"
#include "cost.h"

namespace itk {
namespace ot {
namespace {

enum Tag : uint32_t { kCost = 1, kSource = 2, kTarget = 3, kWeights = 4 };

uint32_t word(uint32_t lo, uint32_t hi, uint32_t problem, uint32_t tag, uint64_t index) {
  Philox4 c{{static_cast<uint32_t>(index >> 2), 0u, problem, tag}};
  return philox4x32(c, lo, hi).v[index & 3];
}

double uniform(uint32_t lo, uint32_t hi, uint32_t problem, uint32_t tag, uint64_t index) {
  return u32d(word(lo, hi, problem, tag, index));
}

// Point i of a 2-D standard normal cloud.
void normal_pair(uint32_t lo, uint32_t hi, uint32_t problem, uint32_t tag, uint64_t i, double* z0, double* z1) {
  float a, b;
  box_muller(word(lo, hi, problem, tag, 2 * i), word(lo, hi, problem, tag, 2 * i + 1), &a, &b);
  *z0 = a;
  *z1 = b;
}

// Digit-like density on the 28×28 grid: 3 quadratic Bézier strokes, control points U(5,22)²,
// 40 samples per stroke, each adding exp(−d²/(2·1.2²)); max-normalised, 1e-4 floor, sum 1.
std::vector<double> digit(uint32_t lo, uint32_t hi, uint32_t problem, uint32_t tag) {
  const int G = 28;
  std::vector<double> img(G * G, 0.0);
  for (int s = 0; s < 3; ++s) {
    double P[3][2];
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 2; ++k) P[c][k] = 5.0 + 17.0 * uniform(lo, hi, problem, tag, static_cast<uint64_t>(6 * s + 2 * c + k));
    for (int q = 0; q < 40; ++q) {
      const double t = q / 39.0, w0 = (1 - t) * (1 - t), w1 = 2 * t * (1 - t), w2 = t * t;
      const double pu = w0 * P[0][0] + w1 * P[1][0] + w2 * P[2][0];
      const double pv = w0 * P[0][1] + w1 * P[1][1] + w2 * P[2][1];
      for (int u = 0; u < G; ++u)
        for (int v = 0; v < G; ++v) {
          const double d2 = (u - pu) * (u - pu) + (v - pv) * (v - pv);
          img[u * G + v] += std::exp(-d2 / (2 * 1.2 * 1.2));
        }
    }
  }
  const double mx = *std::max_element(img.begin(), img.end());
  double sum = 0;
  for (double& x : img) {
    x = x / mx + 1e-4;
    sum += x;
  }
  for (double& x : img) x /= sum;
  return img;
}

}  // namespace

void reference_r1(std::size_t n, uint32_t lo, uint32_t hi, uint32_t problem, ReferenceProblem* out) {
  out->n = out->m = n;
  out->C.resize(n * n);
  for (std::size_t q = 0; q < n * n; ++q) out->C[q] = uniform(lo, hi, problem, kCost, q);
  out->a.assign(n, 1.0 / static_cast<double>(n));
  out->b.assign(n, 1.0 / static_cast<double>(n));
}

void reference_r2(int p, uint32_t lo, uint32_t hi, uint32_t problem, ReferenceProblem* out) {
  const std::size_t N = 28 * 28;
  out->n = out->m = N;
  out->C.resize(N * N);
  grid_cost(28, 28, p, out->C.data());
  const double mx = p == 1 ? 2.0 * 27.0 : 2.0 * 27.0 * 27.0;
  for (double& c : out->C) c /= mx;
  out->a = digit(lo, hi, problem, kSource);
  out->b = digit(lo, hi, problem, kTarget);
}

void reference_r3(std::size_t n, std::size_t m, uint32_t lo, uint32_t hi, uint32_t problem, ReferenceProblem* out) {
  out->n = n;
  out->m = m;
  out->X.resize(2 * n);
  out->Y.resize(2 * m);
  for (std::size_t i = 0; i < n; ++i) normal_pair(lo, hi, problem, kSource, i, &out->X[2 * i], &out->X[2 * i + 1]);
  for (std::size_t j = 0; j < m; ++j) {
    normal_pair(lo, hi, problem, kTarget, j, &out->Y[2 * j], &out->Y[2 * j + 1]);
    out->Y[2 * j] += 1.0;
    out->Y[2 * j + 1] += 0.5;
  }
  out->C.resize(n * m);
  pairwise_cost(out->X.data(), out->Y.data(), false, n, m, 2, true, out->C.data());
  const double mx = *std::max_element(out->C.begin(), out->C.end());
  for (double& c : out->C) c /= mx;
  out->a.assign(n, 1.0 / static_cast<double>(n));
  out->b.resize(m);
  double s = 0;
  for (std::size_t j = 0; j < m; ++j) s += (out->b[j] = 0.5 + uniform(lo, hi, problem, kWeights, j));
  for (double& x : out->b) x /= s;
}

}  // namespace ot
}  // namespace itk
