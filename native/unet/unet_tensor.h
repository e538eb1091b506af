// A dense float32 NCHW tensor (vectors are [B, C, 1, 1]). Plain storage; the ops live in
// unet_ops.h.
//
// Storage without a zero fill (docs/design/unet.md, "Tensor storage"): most ops write every
// element of their output, so the zero fill of Tensor(B, C, H, W) was pure overhead (~3 % of a
// W4A8 forward of the built-in model, all memset). `d` stays a std::vector<float> (the model
// builder, the bindings and the CUDA path read it as one), and std::allocator always fills a
// vector it grows, so the fill is avoided by reuse instead: a tensor's buffer goes back to a small
// per-thread pool when the tensor dies, and Tensor::uninit takes a buffer of exactly the size
// from that pool and hands it out with stale contents. A forward allocates the same shapes step
// after step, so after the first call every uninit is a pool hit.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

namespace itk {
namespace unet {

// The per-thread buffer pool behind Tensor::uninit (unet_tensor.cc). take: a buffer of exactly n
// floats, contents unspecified (stale, or NaN under ITOKIT_UNET_POISON); give: keep `v` for reuse
// (it is freed instead when small; a full pool frees its oldest buffers to make room). Bounded:
// kTensorPoolBuffers buffers and kTensorPoolBytes bytes per thread, so the pool holds no more than
// a forward's freed temporaries, which malloc would hold in its free lists anyway.
constexpr std::size_t kTensorPoolBuffers = 32;
constexpr std::size_t kTensorPoolBytes = std::size_t{64} << 20;
constexpr std::size_t kTensorPoolMinFloats = 4096;  // smaller buffers: malloc + fill is cheaper than a pool search
std::vector<float> tensor_pool_take(std::size_t n);
void tensor_pool_give(std::vector<float>&& v);

struct Tensor {
  int B = 0, C = 0, H = 1, W = 1;
  std::vector<float> d;
  Tensor() = default;
  // Zero-filled: for callers that accumulate into it or write only part of it.
  Tensor(int b, int c, int h, int w) : B(b), C(c), H(h), W(w), d(static_cast<std::size_t>(b) * c * h * w, 0.0f) {}
  // Contents unspecified: only for an op that provably writes every element before any read
  // (tests run the UNet suite with ITOKIT_UNET_POISON=1, which fills these with NaN).
  static Tensor uninit(int b, int c, int h, int w) {
    Tensor t;
    t.B = b;
    t.C = c;
    t.H = h;
    t.W = w;
    t.d = tensor_pool_take(static_cast<std::size_t>(b) * c * h * w);
    t.pooled_ = true;
    return t;
  }
  // Copies and moves as the members; the buffer of an uninit tensor goes back to the pool when the
  // tensor drops it (destruction, or a move assigned over it). Other tensors (weights, inputs,
  // zero-filled ones) free theirs as before, so dispose() of a model still returns its memory.
  // The copy of an uninit tensor is an activation too: it inherits the flag.
  Tensor(const Tensor&) = default;
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(const Tensor&) = default;
  Tensor& operator=(Tensor&& o) noexcept {
    if (this != &o) {
      recycle();
      B = o.B;
      C = o.C;
      H = o.H;
      W = o.W;
      d = std::move(o.d);
      shape = std::move(o.shape);
      pooled_ = o.pooled_;
    }
    return *this;
  }
  ~Tensor() { recycle(); }

  std::size_t plane() const { return static_cast<std::size_t>(H) * W; }
  std::size_t size() const { return d.size(); }
  float* img(int b) { return d.data() + static_cast<std::size_t>(b) * C * plane(); }
  const float* img(int b) const { return d.data() + static_cast<std::size_t>(b) * C * plane(); }
  // Shape as loaded from a file (weights); rank and dims for shape checks.
  std::vector<int> shape;

 private:
  bool pooled_ = false;  // d came from tensor_pool_take (an activation): return it there
  void recycle() {
    if (pooled_ && d.capacity() >= kTensorPoolMinFloats) tensor_pool_give(std::move(d));
  }
};

}  // namespace unet
}  // namespace itk
