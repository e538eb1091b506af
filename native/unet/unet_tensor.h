// A dense float32 NCHW tensor (vectors are [B, C, 1, 1]). Plain storage; the ops live in
// unet_ops.h.
#pragma once
#include <cstddef>
#include <vector>

namespace itk {
namespace unet {

struct Tensor {
  int B = 0, C = 0, H = 1, W = 1;
  std::vector<float> d;
  Tensor() = default;
  Tensor(int b, int c, int h, int w) : B(b), C(c), H(h), W(w), d(static_cast<std::size_t>(b) * c * h * w, 0.0f) {}
  std::size_t plane() const { return static_cast<std::size_t>(H) * W; }
  std::size_t size() const { return d.size(); }
  float* img(int b) { return d.data() + static_cast<std::size_t>(b) * C * plane(); }
  const float* img(int b) const { return d.data() + static_cast<std::size_t>(b) * C * plane(); }
  // Shape as loaded from a file (weights); rank and dims for shape checks.
  std::vector<int> shape;
};

}  // namespace unet
}  // namespace itk
