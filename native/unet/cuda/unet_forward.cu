// The UNet forward pass on the GPU (docs/design/unet.md §4, §4.1, §7.2–7.5): the CUDA backend of
// the model's op graph (native/unet/unet_graph.h, also run by the CPU's unet_forward.cc: same
// layer plan, same quantizers, same epilogues) over device-resident weights and device activations.
//
// Residency: Model::cuda holds a CudaModel, created on the first CUDA call; each layer's weights
// are uploaded the first time a call needs them and stay until the model is freed. Per call only x,
// t (as the time embedding e(t), or the temporal features read from the quantized model's exact
// cache on the host), and ε̂ cross the bus. Activations come from the stream-ordered pool.
//
// Precision: FP32 convs equal the CPU's bit for bit (native/unet/cuda/unet_conv.cu); integer convs too
// (native/unet/cuda/unet_qconv.cu); SiLU and e^x use the CPU's exp_f32 (native/kernels/unet_elem.h);
// GroupNorm statistics and the attention row sums are reduced in another order and differ in the
// last bits, so whole-model outputs agree to a tolerance (test/gpu/unet.test.ts).
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "../../core/cuda_api.h"
#include "../../core/device_buffer.h"
#include "../unet_cuda.h"
#include "../unet_graph.h"
#include "../unet_quant.h"
#include "../../sde/cuda/sampler_ops.cuh"
#include "unet_host.cuh"

namespace itk {
namespace unet {

// Device copy of a model's weights (opaque to C++ outside cuda/; see unet_model.h).
struct CudaModel {
  struct ConvW {
    DeviceBuffer w, b;                     // FP32 weights [O, I, KH, KW] (dequantized for integer layers), bias
    DeviceBuffer kern, wsum, scale, zero;  // integer layers
  };
  struct NormW {
    DeviceBuffer gamma, beta;
  };
  std::mutex mu;  // one forward at a time per model (lazy uploads, one stream)
  cudaStream_t stream = nullptr;
  std::unordered_map<const Conv*, ConvW> convs;
  std::unordered_map<const GroupNorm*, NormW> norms;
  std::atomic<std::size_t> resident{0};  // bytes in convs, norms and graph buffers, updated after each forward

  // A captured forward (docs/design/unet.md §9, "CUDA graphs"): the whole walk for one shape, and
  // the sampler update after it when the call is a whole step (StepUpdate). Everything that changes
  // from call to call is read by the kernels from fixed device buffers, refilled before each launch:
  // x, the temporal input, the activation parameters ({Δ, z} per quantizer) and the update's
  // coefficients and noise parameters; the graph writes ε̂ (or x′) to y. So one graph serves every
  // step of a DDIM run. seen counts completed plain runs of the key; capture happens on the call
  // after one, once every weight it needs is resident (uploads come from pageable host memory and
  // cannot be captured).
  struct GraphKey {
    int B, H, W, mode, tin, tin_rows;  // tin: width of the temporal input row (0: none); tin_rows: 1 or B
    bool cached;
    int qconv, precision;
    std::vector<int> update;  // the step update's structure (update_shape; empty: the forward alone)
    bool operator==(const GraphKey& o) const {
      return B == o.B && H == o.H && W == o.W && mode == o.mode && tin == o.tin && tin_rows == o.tin_rows && cached == o.cached && qconv == o.qconv &&
             precision == o.precision && update == o.update;
    }
  };
  struct Graph {
    GraphKey key;
    int seen = 0;
    bool failed = false;  // capture or instantiation failed once: this key runs the plain launches
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    DeviceBuffer x, tin, act, coef, params, y;
    ~Graph() {
      if (exec) cudaGraphExecDestroy(exec);
      if (graph) cudaGraphDestroy(graph);
    }
  };
  static constexpr std::size_t kMaxGraphs = 64;  // e.g. 50 DDIM steps of one shape; the oldest goes first
  std::vector<std::unique_ptr<Graph>> graphs;

  Graph& graph_for(const GraphKey& k) {
    for (auto& g : graphs)
      if (g->key == k) return *g;
    if (graphs.size() >= kMaxGraphs) graphs.erase(graphs.begin());
    graphs.push_back(std::make_unique<Graph>());
    graphs.back()->key = k;
    return *graphs.back();
  }

  std::size_t count_resident() const {
    std::size_t n = 0;
    for (const auto& kv : convs) {
      const ConvW& w = kv.second;
      n += w.w.bytes() + w.b.bytes() + w.kern.bytes() + w.wsum.bytes() + w.scale.bytes() + w.zero.bytes();
    }
    for (const auto& kv : norms) n += kv.second.gamma.bytes() + kv.second.beta.bytes();
    for (const auto& g : graphs)  // a captured key's fixed buffers
      n += g->x.bytes() + g->tin.bytes() + g->act.bytes() + g->coef.bytes() + g->params.bytes() + g->y.bytes();
    return n;
  }

  ~CudaModel() {
    graphs.clear();
    convs.clear();
    norms.clear();
    if (stream) cudaStreamDestroy(stream);
  }
};

namespace {

using dev::Act;
using dev::Buf;

using dev::upload;

CudaModel& state(const Model& m) {
  static std::mutex create;
  std::lock_guard<std::mutex> lock(create);
  if (!m.cuda) {
    cuda::require_available();
    auto s = std::make_shared<CudaModel>();
    cuda::check(cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    // Keep freed activation memory in the pool between calls (the default threshold 0 hands it
    // back to the driver at every synchronisation, and the next call would allocate again).
    int device = 0;
    cudaMemPool_t pool;
    cuda::check(cudaGetDevice(&device), "cudaGetDevice");
    cuda::check(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
    uint64_t keep = std::numeric_limits<uint64_t>::max();
    cuda::check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), "cudaMemPoolSetAttribute");
    std::atomic_store(&m.cuda, std::move(s));  // device_bytes() reads it from the JS thread
  }
  return *m.cuda;
}

// One forward call: the model's device weights, the stream and the call's options.
class Walk {
 public:
  Walk(const Model& m, CudaModel& st, const ForwardOpts& o) : m_(m), st_(st), o_(o), s_(st.stream) {
    require(o.fp_precision == FpPrecision::Fp32 || dev::compute_major() >= 8, Code::DeviceUnavailable,
            "fpPrecision 'tf32' and 'bf16' need a GPU of compute capability 8.0 or newer");
  }

  // ε̂ for a host x, returned on the host.
  Tensor run(const Tensor& x0, const std::vector<int64_t>& t) {
    Tensor out(x0.B, m_.cfg.out_ch, x0.H, x0.W);
    run_into(x0.d.data(), cudaMemcpyHostToDevice, x0.B, x0.H, x0.W, t, out.d.data(), cudaMemcpyDeviceToHost);
    return out;
  }

  // ε̂ [B, out_ch, H, W] of x [B, in_ch, H, W] into y; x and y on the host or the device as the copy
  // kinds say (a device x is copied first: the walk may centre its input in place). With u (device
  // x and y only) y receives x′, the sampler update of x and ε̂, instead of ε̂. With graphs on (the
  // default; ITOKIT_UNET_GRAPH=0 turns them off) the second call of a key and every later one
  // replay a captured graph of body(); the first runs body() directly and uploads the weights.
  void run_into(const float* x_src, cudaMemcpyKind in_kind, int B, int H, int W, const std::vector<int64_t>& t,
                float* y_dst, cudaMemcpyKind out_kind, const StepUpdate* u = nullptr) {
    const Config& cfg = m_.cfg;
    const CallIn in = call_inputs(t, B, u);  // host work: cache lookups or e(t), the step's parameters
    const std::size_t nx = static_cast<std::size_t>(B) * cfg.in_ch * H * W, ny = static_cast<std::size_t>(B) * cfg.out_ch * H * W;
    const char* env = std::getenv("ITOKIT_UNET_GRAPH");
    const bool graphs = !(env && std::strcmp(env, "0") == 0);
    CudaModel::Graph* gr = nullptr;
    if (graphs) {
      gr = &st_.graph_for(CudaModel::GraphKey{B, H, W, static_cast<int>(o_.mode), in.tin.C, in.tin.B, cached_, static_cast<int>(qconv_),
                                              static_cast<int>(o_.fp_precision), update_shape(u)});
      if (!gr->failed && !gr->exec && gr->seen >= 1) capture(*gr, in, nx, ny, H, W);
    }
    if (gr && gr->exec) {
      o_.ctl.check();
      cuda::check(cudaMemcpyAsync(gr->x.get(), x_src, nx * sizeof(float), in_kind, s_), "copy x");
      fill(gr->tin.get(), gr->act.get(), gr->coef.get(), gr->params.get(), in);
      cuda::check(cudaGraphLaunch(gr->exec, s_), "cudaGraphLaunch");
      cuda::check(cudaMemcpyAsync(y_dst, gr->y.get(), ny * sizeof(float), out_kind, s_), "copy the output");
      cuda::check(cudaStreamSynchronize(s_), "unet forward");
      o_.ctl.check();
      return;
    }
    Act x(B, cfg.in_ch, H, W, s_);
    cuda::check(cudaMemcpyAsync(x.p(), x_src, nx * sizeof(float), in_kind, s_), "copy x");
    Buf tin(in.tin.size() * sizeof(float), s_), act(in.act.size() * sizeof(float), s_),
        coef(u ? u->coef.size() * sizeof(double) : 0, s_), params(in.params.size() * sizeof(LincombStepParams), s_);
    fill(tin.as<void>(), act.as<void>(), coef.as<void>(), params.as<void>(), in);
    const Act y = body(x, Inputs{tin.as<float>(), act.as<float>(), x_src, coef.as<double>(), params.as<LincombStepParams>(), u}, B, true);
    cuda::check(cudaMemcpyAsync(y_dst, y.p(), ny * sizeof(float), out_kind, s_), "copy the output");
    cuda::check(cudaStreamSynchronize(s_), "unet forward");
    if (gr) ++gr->seen;  // a completed plain run: every weight of this key is resident now
  }

 private:
  // What a call hands the device besides x, made on the host: the temporal input (cached features
  // [B, tib_width] or e(t) [B, C0]), the activation table {Δ_i, z_i} of every quantizer i (quantized
  // modes), and the step update's coefficients (in u) and noise parameters, one entry per combination.
  struct CallIn {
    Tensor tin;
    std::vector<float> act;
    const StepUpdate* u = nullptr;
    std::vector<LincombStepParams> params;
  };
  // Device pointers to the same, as the kernels read them (fixed buffers under a graph).
  struct Inputs {
    const float* tin;
    const float* act;
    const float* x;  // the step's x, unchanged by the walk (StepUpdate's X)
    const double* coef;
    const LincombStepParams* params;
    const StepUpdate* u;  // the update's structure (host), or null
  };

  CallIn call_inputs(const std::vector<int64_t>& t, int B, const StepUpdate* u) {
    CallIn in;
    in.tin = temporal_input(t, B);
    if (o_.mode != Mode::Fp && m_.quant) {
      const int A = m_.quant->n_act;
      in.act.resize(2 * static_cast<std::size_t>(A));
      for (int i = 0; i < A; ++i) {
        in.act[2 * i] = o_.act_scale[i];
        in.act[2 * i + 1] = o_.act_zero[i];
      }
    }
    in.u = u;
    if (u)
      for (int i = 0; i < u->n; ++i) in.params.push_back(step_params(*u, i));
    return in;
  }

  // Uploads a call's inputs into device buffers of their sizes, in stream order.
  void fill(void* tin, void* act, void* coef, void* params, const CallIn& in) {
    const auto put = [this](void* dst, const void* src, std::size_t bytes, const char* what) {
      if (bytes) cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s_), what);
    };
    put(tin, in.tin.d.data(), in.tin.size() * sizeof(float), "upload temporal input");
    put(act, in.act.data(), in.act.size() * sizeof(float), "upload activation parameters");
    if (in.u) put(coef, in.u->coef.data(), in.u->coef.size() * sizeof(double), "upload update coefficients");
    put(params, in.params.data(), in.params.size() * sizeof(LincombStepParams), "upload update parameters");
  }

  // The graph key's part for a step update: what the launches' structure depends on (the values
  // live in device memory).
  static std::vector<int> update_shape(const StepUpdate* u) {
    std::vector<int> k;
    if (!u) return k;
    k.push_back(u->n);
    for (int i = 0; i < u->n; ++i) {
      const StepUpdate::Comb& c = u->comb[i];
      k.insert(k.end(), {c.K, static_cast<int>(c.in[0]), static_cast<int>(c.in[1]), c.noise ? 1 : 0});
    }
    return k;
  }

  // Captures body() for gr's key into a graph over fixed buffers; on any failure the stream leaves
  // capture mode, the key is marked failed and runs the plain launches from then on.
  void capture(CudaModel::Graph& gr, const CallIn& in, std::size_t nx, std::size_t ny, int H, int W) {
    const Config& cfg = m_.cfg;
    const int B = gr.key.B;
    try {
      gr.x = DeviceBuffer(nx * sizeof(float));
      gr.tin = DeviceBuffer(in.tin.size() * sizeof(float));
      gr.act = DeviceBuffer(in.act.size() * sizeof(float));
      gr.coef = DeviceBuffer(in.u ? in.u->coef.size() * sizeof(double) : 0);
      gr.params = DeviceBuffer(in.params.size() * sizeof(LincombStepParams));
      gr.y = DeviceBuffer(ny * sizeof(float));
      cuda::check(cudaStreamSynchronize(s_), "unet graph capture");
      cuda::check(cudaStreamBeginCapture(s_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
      try {
        Act x(B, cfg.in_ch, H, W, s_);
        cuda::check(cudaMemcpyAsync(x.p(), gr.x.get(), nx * sizeof(float), cudaMemcpyDeviceToDevice, s_), "copy x");
        const Inputs dev{static_cast<const float*>(gr.tin.get()), static_cast<const float*>(gr.act.get()),
                         static_cast<const float*>(gr.x.get()), static_cast<const double*>(gr.coef.get()),
                         static_cast<const LincombStepParams*>(gr.params.get()), in.u};
        const Act y = body(x, dev, B, false);
        cuda::check(cudaMemcpyAsync(gr.y.get(), y.p(), ny * sizeof(float), cudaMemcpyDeviceToDevice, s_), "copy the output");
      } catch (...) {
        cudaGraph_t g = nullptr;
        cudaStreamEndCapture(s_, &g);
        if (g) cudaGraphDestroy(g);
        throw;
      }
      cuda::check(cudaStreamEndCapture(s_, &gr.graph), "cudaStreamEndCapture");
      cuda::check(cudaGraphInstantiate(&gr.exec, gr.graph, 0), "cudaGraphInstantiate");
    } catch (const Error&) {
      cudaGetLastError();  // clear a sticky launch/capture error so the plain path can run
      if (gr.exec) cudaGraphExecDestroy(gr.exec);
      if (gr.graph) cudaGraphDestroy(gr.graph);
      gr.exec = nullptr;
      gr.graph = nullptr;
      gr.failed = true;
    }
  }

  // The host side of the temporal path (§4 "Time embedding", §7.2): quantized modes with the exact
  // cache read the features on the host (call_temporal: the CPU's lookup, misses computed in FP32 and
  // counted), [B, tib_width]; otherwise e(t) [B, C0], whose time MLP and time_emb_proj run in body().
  Tensor temporal_input(const std::vector<int64_t>& t, int B) {
    cached_ = o_.mode != Mode::Fp && o_.use_cache && m_.quant && !m_.quant->cache_t.empty();
    if (cached_) {
      // A batch at one cached timestep (every quantized call from the samplers) needs one feature
      // row: uploaded once and read by every image (row stride 0), not B copies per call. A miss
      // keeps the per-sample rows, so the miss counter counts samples as on the CPU.
      const std::vector<int64_t>& ct = m_.quant->cache_t;
      const bool one_t = std::all_of(t.begin(), t.end(), [&](int64_t v) { return v == t[0]; }) &&
                         std::find(ct.begin(), ct.end(), t[0]) != ct.end();
      Tensor f = call_temporal(m_, one_t ? std::vector<int64_t>{t[0]} : t, o_);
      tin_rows_ = f.B;
      return f;
    }
    require_tib_weights(m_, t);  // a cache-only model (tib_weights 'none') cannot run the TIB
    (void)B;
    return time_proj(m_.cfg, t);
  }

  // Everything on the device after x and the call's inputs are there: the model's op graph
  // (unet_graph.h) run by this backend, then the step update when there is one (ε̂ or x′ returned).
  // Every launch is enqueued on s_ and every buffer allocated and freed in stream order, so the same
  // code runs plainly or under capture. plain: may wait for the stream between blocks (abort
  // checks); never while capturing.
  Act body(Act& x, const Inputs& in, int B, bool plain) {
    plain_ = plain;
    tin_ = in.tin;
    act_ = in.act;
    B_ = B;
    v_.clear();
    v_.resize(static_cast<std::size_t>(m_.graph.values));
    v_[m_.graph.input] = std::move(x);  // the walk may centre its input in place
    try {
      run_graph(m_.graph, *this);
    } catch (...) {
      clear();  // free in the stream mode the buffers were made in (a failed capture: still capturing)
      throw;
    }
    Act y = std::move(v_[m_.graph.output]);
    clear();
    return in.u ? step_update(*in.u, in, y) : std::move(y);
  }

  // x′ from the step's x (in.x) and ε̂: each combination of u one lincomb launch over device values,
  // its coefficients and noise parameters read from in.coef and in.params (unet_step.h).
  Act step_update(const StepUpdate& u, const Inputs& in, const Act& eps) {
    const uint64_t P = static_cast<uint64_t>(eps.B), D = eps.size() / P;
    Act tmp, out(eps.B, eps.C, eps.H, eps.W, s_);
    if (u.n > 1) tmp = Act(eps.B, eps.C, eps.H, eps.W, s_);
    const float* values[3] = {in.x, eps.p(), tmp.p()};  // StepUpdate::Value order
    for (int i = 0; i < u.n; ++i)
      cuda::sampler_lincomb_f32_async(step_terms(u, i, values, in.coef, P, D), in.params + i, i + 1 < u.n ? tmp.p() : out.p(), s_);
    return out;
  }

  void clear() {
    v_.clear();
    feats_.clear();
    tfs_.clear();
  }

 public:
  // --- the graph's ops (run_graph calls them) ---
  void temporal(const Op&) { features(tin_, B_); }
  void center(const Op& op) { dev::center(v_[op.in[0]].p(), v_[op.in[0]].size(), s_); }
  void conv(const Op& op) { v_[op.out[0]] = layer(*op.conv[0], v_[op.in[0]], feature(op)); }
  void norm_conv(const Op& op) {
    const Act& x = v_[op.in[0]];
    if (int_input(*op.conv[0], o_)) {
      v_[op.out[0]] = apply(*op.conv[0], prep_norm(*op.norm, op.silu, *op.conv[0], x), feature(op));
      return;
    }
    const Act h = norm(*op.norm, x, op.silu);
    v_[op.out[0]] = layer(*op.conv[0], h, feature(op));
  }
  // One input quantizer for q, k, v (§7.4).
  void norm_qkv(const Op& op) {
    const Act& x = v_[op.in[0]];
    const Conv& q = *op.conv[0];
    Act h;
    In in;
    if (int_input(q, o_)) {
      in = prep_norm(*op.norm, false, q, x);
    } else {
      h = norm(*op.norm, x, false);
      in = prep(q, h);
    }
    for (int i = 0; i < 3; ++i) v_[op.out[i]] = apply(*op.conv[i], in);
  }
  void attention_core(const Op& op) {
    const Act &q = v_[op.in[0]], &k = v_[op.in[1]], &v = v_[op.in[2]];
    Act att(q.B, q.C, q.H, q.W, s_);
    dev::attention(q.p(), k.p(), v.p(), q.B, q.C, static_cast<int>(q.plane()), op.head_dim, att.p(), s_);
    v_[op.out[0]] = std::move(att);
  }
  void residual(const Op& op) {
    Act& a = v_[op.in[0]];
    dev::residual(a.p(), v_[op.in[1]].p(), a.size(), op.scale, s_);
  }
  void concat(const Op& op) {
    const Act &h = v_[op.in[0]], &s = v_[op.in[1]];
    Act cat(h.B, h.C + s.C, h.H, h.W, s_);
    dev::concat(h.p(), h.C, s.p(), s.C, h.B, static_cast<int>(h.plane()), cat.p(), s_);  // [h, skip] (§4 "Blocks")
    v_[op.out[0]] = std::move(cat);
  }
  void upsample_conv(const Op& op) {
    const Act& h = v_[op.in[0]];
    Act up(h.B, h.C, 2 * h.H, 2 * h.W, s_);
    dev::upsample2x(h.p(), h.B, h.C, h.H, h.W, up.p(), s_);
    v_[op.out[0]] = layer(*op.conv[0], up);
  }
  void tap(const Op&) {}  // taps are refused on CUDA (forward_cuda)
  void checkpoint(const Op&) {
    // Waits for the enqueued block so an abort takes effect while the GPU works, not after.
    if (!plain_) return;  // under capture: the abort is checked around the graph launch
    cuda::check(cudaStreamSynchronize(s_), "unet forward");
    o_.ctl.check();
  }
  void release(int v) { v_[v] = Act(); }  // back to the stream-ordered pool

 private:
  // Where resnet i finds its temporal feature: row b at base + b·stride.
  struct Tf {
    const float* base;
    int stride;
  };
  const Tf* feature(const Op& op) const { return op.tf >= 0 ? &tfs_[op.tf] : nullptr; }

  // The device side of the temporal path: the cached features [B, tib_width] are read in place;
  // otherwise the time MLP and every time_emb_proj run here from e(t) (feats_ holds their outputs).
  void features(const float* tin, int B) {
    tfs_.clear();
    if (cached_) {
      // one row for the whole batch (temporal_input) is read with row stride 0
      const int stride = tin_rows_ == 1 ? 0 : m_.tib_width;
      for (const Resnet* r : m_.tib) tfs_.push_back({tin + r->tib_offset, stride});
      return;
    }
    Act de(B, m_.cfg.boc[0], 1, 1, s_);
    cuda::check(cudaMemcpyAsync(de.p(), tin, de.size() * sizeof(float), cudaMemcpyDeviceToDevice, s_), "copy time embedding");
    Act h = conv_fp_plain(m_.lin1, de);
    dev::silu(h.p(), h.size(), s_);
    Act emb = conv_fp_plain(m_.lin2, h);
    dev::silu(emb.p(), emb.size(), s_);  // SiLU(emb), the input of every time_emb_proj
    feats_.reserve(m_.tib.size());
    for (const Resnet* r : m_.tib) {
      feats_.push_back(conv_fp_plain(r->temb, emb));
      tfs_.push_back({feats_.back().p(), r->temb.O});
    }
  }

  CudaModel::ConvW& weights(const Conv& c) { return st_.convs[&c]; }

  // FP32 weights of a layer: its own, or the dequantized integer weights (FP-input integer layers,
  // fake quant, FP mode of a quantized model), as apply() in unet_forward.cc.
  const float* fp_weights(const Conv& c) {
    CudaModel::ConvW& w = weights(c);
    if (!w.w.get()) {
      if (!qint(c) && !c.w16.empty()) {
        const std::vector<float> d = fp_weights_f32(c);  // fp_weights 'f16': widened once, resident in FP32
        w.w = upload(d.data(), d.size(), s_);
      } else if (!qint(c) || !c.w.empty()) {
        w.w = upload(c.w.data(), c.w.size(), s_);
      } else if (!c.q.deq.empty()) {
        w.w = upload(c.q.deq.data(), c.q.deq.size(), s_);
      } else {
        const std::vector<float> d = dequantized(c);
        w.w = upload(d.data(), d.size(), s_);
      }
    }
    return static_cast<const float*>(w.w.get());
  }

  const float* bias(const Conv& c) {
    CudaModel::ConvW& w = weights(c);
    if (!w.b.get()) w.b = upload(c.b.data(), c.b.size(), s_);
    return static_cast<const float*>(w.b.get());
  }

  dev::QW int_weights(const Conv& c) {
    CudaModel::ConvW& w = weights(c);
    const QWeights& q = c.q;
    if (!w.kern.get()) {
      // all four or none: a failed upload leaves nothing half-set for the next call
      DeviceBuffer kern = upload(q.kern.data(), q.kern.size(), s_), wsum = upload(q.wsum.data(), q.wsum.size(), s_),
                   scale = upload(q.scale.data(), q.scale.size(), s_), zero = upload(q.zero.data(), q.zero.size(), s_);
      w.wsum = std::move(wsum);
      w.scale = std::move(scale);
      w.zero = std::move(zero);
      w.kern = std::move(kern);
    }
    return dev::QW{static_cast<const uint8_t*>(w.kern.get()), static_cast<const int32_t*>(w.wsum.get()),
                   static_cast<const float*>(w.scale.get()), static_cast<const float*>(w.zero.get()), q.bits, q.K,
                   q.bits == 4 ? q.Kp / 2 : q.Kp, q.group > 0 ? q.group : q.K, q.ng, q.Kp / 32};
  }

  dev::ConvGeo geometry(const Conv& c, const Act& x) const {
    require(x.C == c.I, Code::Shape, c.name + ": channel mismatch");
    return dev::conv_geometry(c, x.B, x.H, x.W);
  }

  // FP32 conv on an FP32 input with the layer's FP32 weights (time MLP and projections).
  Act conv_fp_plain(const Conv& c, const Act& x) {
    const dev::ConvGeo g = geometry(c, x);
    Act y(x.B, c.O, g.Ho, g.Wo, s_);
    dev::conv_fp(g, x.p(), fp_weights(c), bias(c), nullptr, 0, y.p(), s_);
    return y;
  }

  // A layer's input prepared once (to_q, to_k, to_v share it, §7.4): FP32, u8 NHWC codes
  // (integer mode) or quantized-dequantized FP32 (fake quant), as prep_input() in unet_forward.cc.
  struct In {
    const Act* x = nullptr;
    Buf codes;
    Act fq;
    bool integer = false, fake = false;
    const float* aq = nullptr;  // the quantizer's {Δ, z} in the call's activation table
  };

  In prep(const Conv& c, const Act& x) {
    In in;
    in.x = &x;
    if (o_.mode == Mode::Fp || !qint(c) || c.act < 0) return in;
    require(o_.mode == Mode::Integer || o_.mode == Mode::FakeQuant, Code::InvalidArg, "CUDA runs the fp, integer and fake-quant modes");
    in.aq = act_ + 2 * c.act;
    if (o_.mode == Mode::Integer) {
      in.integer = true;
      in.codes = Buf(x.size(), s_);
      dev::quantize_nhwc(x.p(), x.B, x.C, static_cast<int>(x.plane()), in.aq, in.codes.as<uint8_t>(), s_);
    } else {
      in.fake = true;
      in.fq = Act(x.B, x.C, x.H, x.W, s_);
      dev::fake_quant(x.p(), x.size(), in.aq, in.fq.p(), s_);
    }
    return in;
  }

  // The u8 input codes of c straight from GroupNorm(+SiLU) of x (one launch, no FP32 tensor); in.x
  // points at x, which has the normalised map's shape.
  In prep_norm(const GroupNorm& gn, bool silu, const Conv& c, const Act& x) {
    const NormW w = norm_weights(gn, x);
    In in;
    in.x = &x;
    in.integer = true;
    in.aq = act_ + 2 * c.act;
    in.codes = Buf(x.size(), s_);
    dev::group_norm_quant_nhwc(x.p(), x.B, x.C, static_cast<int>(x.plane()), gn.G, gn.eps, w.gamma, w.beta, silu, in.aq,
                               in.codes.as<uint8_t>(), s_);
    return in;
  }

  Act apply(const Conv& c, const In& in, const Tf* add = nullptr) {
    const Act& x = *in.x;
    const dev::ConvGeo g = geometry(c, x);
    Act y(x.B, c.O, g.Ho, g.Wo, s_);
    const float* a = add ? add->base : nullptr;
    const int as = add ? add->stride : 0;
    if (in.integer) {
      dev::conv_int(g, in.codes.as<uint8_t>(), int_weights(c), bias(c), in.aq, a, as, y.p(), s_, qconv_);
    } else {
      // fpPrecision applies to the network's FP convolutions; the time MLP (conv_fp_plain) stays FP32
      const float* xin = in.fake ? in.fq.p() : x.p();
      if (o_.fp_precision == FpPrecision::Fp32) dev::conv_fp(g, xin, fp_weights(c), bias(c), a, as, y.p(), s_);
      else dev::conv_fp_mma(g, xin, fp_weights(c), bias(c), a, as, y.p(), o_.fp_precision, s_);
    }
    return y;
  }

  Act layer(const Conv& c, const Act& x, const Tf* add = nullptr) {
    const In in = prep(c, x);
    return apply(c, in, add);
  }

  struct NormW {
    const float *gamma, *beta;
  };
  // gn's device weights (uploaded on first use), after checking x's channels.
  NormW norm_weights(const GroupNorm& gn, const Act& x) {
    require(x.C == gn.C, Code::Shape, gn.name + ": channel mismatch");
    CudaModel::NormW& w = st_.norms[&gn];
    if (!w.gamma.get()) {
      DeviceBuffer beta = upload(gn.beta.data(), gn.beta.size(), s_);
      w.gamma = upload(gn.gamma.data(), gn.gamma.size(), s_);
      w.beta = std::move(beta);
    }
    return NormW{static_cast<const float*>(w.gamma.get()), static_cast<const float*>(w.beta.get())};
  }

  Act norm(const GroupNorm& gn, const Act& x, bool silu) {
    const NormW w = norm_weights(gn, x);
    Act y(x.B, x.C, x.H, x.W, s_);
    dev::group_norm(x.p(), x.B, x.C, static_cast<int>(x.plane()), gn.G, gn.eps, w.gamma, w.beta, silu, y.p(), s_);
    return y;
  }

  const Model& m_;
  CudaModel& st_;
  const ForwardOpts& o_;
  cudaStream_t s_;
  dev::QconvKernel qconv_ = dev::qconv_kernel_choice();
  bool cached_ = false, plain_ = true;
  const float* tin_ = nullptr;  // the call's temporal input (body)
  const float* act_ = nullptr;  // the call's activation table {Δ_i, z_i} (body)
  int tin_rows_ = 0;            // rows of the cached temporal input (1: shared by the batch)
  int B_ = 0;
  std::vector<Act> v_;      // the graph's values
  std::vector<Act> feats_;  // the time_emb_proj outputs (uncached temporal path)
  std::vector<Tf> tfs_;
};

}  // namespace

Tensor forward_cuda(const Model& m, const Tensor& x, const std::vector<int64_t>& t, const ForwardOpts& o) {
  require(o.mode == Mode::Fp || o.mode == Mode::Integer || o.mode == Mode::FakeQuant, Code::InvalidArg,
          "calibration runs on the CPU");
  require(o.taps == nullptr, Code::InvalidArg, "debug taps run on the CPU");
  require(o.mode == Mode::Fp || (o.act_scale && o.act_zero), Code::InvalidArg, "quantized modes need the step's activation parameters");
  CudaModel& st = state(m);
  std::lock_guard<std::mutex> lock(st.mu);
  Walk w(m, st, o);
  Tensor y = w.run(x, t);
  st.resident.store(st.count_resident());
  return y;
}

namespace {

// forward_device and forward_step_device: y = ε̂, or x′ of u (y = x then), with x and y on the device.
void device_call(const Model& m, const float* x, int B, int H, int W, const std::vector<int64_t>& t, const ForwardOpts& o,
                 float* y, const StepUpdate* u) {
  const Config& cfg = m.cfg;
  require(static_cast<int>(t.size()) == B, Code::Shape, "one timestep per sample is required");
  const int div = 1 << (static_cast<int>(cfg.boc.size()) - 1);
  require(B > 0 && H > 0 && W > 0 && H % div == 0 && W % div == 0, Code::Shape, "H and W must be divisible by " + std::to_string(div));
  require(o.mode == Mode::Fp || (o.act_scale && o.act_zero), Code::InvalidArg, "quantized modes need the step's activation parameters");
  require(o.mode == Mode::Fp || m.quant, Code::InvalidArg, "the model is not quantized");
  CudaModel& st = state(m);
  std::lock_guard<std::mutex> lock(st.mu);
  const std::size_t nx = static_cast<std::size_t>(B) * cfg.in_ch * H * W;
  const std::size_t i = dev::first_nonfinite(x, nx, st.stream);
  require(i == nx, Code::InvalidArg, "x holds a non-finite value at index " + std::to_string(i));
  Walk w(m, st, o);
  w.run_into(x, cudaMemcpyDeviceToDevice, B, H, W, t, y, cudaMemcpyDeviceToDevice, u);
  st.resident.store(st.count_resident());
  const std::size_t ny = static_cast<std::size_t>(B) * cfg.out_ch * H * W;
  const std::size_t k = dev::first_nonfinite(y, ny, st.stream);
  require(k == ny, Code::Numerical, std::string(u ? "the step produced" : "the model produced") + " a non-finite value at output index " +
                                        std::to_string(k) + ": its weights overflow float32 on this input");
}

}  // namespace

void forward_device(const Model& m, const float* x, int B, int H, int W, const std::vector<int64_t>& t, const ForwardOpts& o,
                    float* y) {
  device_call(m, x, B, H, W, t, o, y, nullptr);
}

void forward_step_device(const Model& m, float* x, int B, int H, int W, const std::vector<int64_t>& t, const ForwardOpts& o,
                         const StepUpdate& u) {
  require(m.cfg.in_ch == m.cfg.out_ch, Code::Shape, "a sampler step needs a model whose output has the input's channels");
  check_step_update(u, static_cast<uint64_t>(B));
  device_call(m, x, B, H, W, t, o, x, &u);
}

std::size_t device_bytes(const Model& m) {
  const std::shared_ptr<CudaModel> s = std::atomic_load(&m.cuda);
  return s ? s->resident.load() : 0;  // never waits for a running forward (it holds mu)
}

}  // namespace unet
}  // namespace itk
