// CudaBackend convolution on cuDNN: forward, backward-data and backward-filter over NHWC
// tensors, depthwise as a grouped convolution, with per-shape plans (descriptors and chosen
// algorithms) cached in ConvCache.
//
// Note [API choice: convolution]: the legacy API (cudnnConvolutionForward & co.) by default.
// cuDNN 9 marks it deprecated but ships it, and its heuristics (cudnnGet*Algorithm_v7) and
// measurement (cudnnFind*AlgorithmEx) cover exactly what we need for plain and grouped
// convolutions. Its one fusion, cudnnConvolutionBiasActivationForward, is used where it
// applies (Note [conv + bias + relu]); a bias alone or a ReLU alone is one extra
// elementwise pass (k::bias_act) after the best algorithm. The legacy API reaches fewer
// engines than the graph API (cuDNN's frontend, which PyTorch uses): on the H200 our layers
// where PyTorch was much faster were the stride-2 1x1 and small 7x7 / 14x14 ones. So plain
// (ungrouped) convolutions can also run on the graph API (conv_graph.h; the cuda option
// convApi: 'graph', CUDNN_NODE_CONV_API=graph), with the same layouts and explicit padding
// as here, so only the engine differs; depthwise stays legacy. The default moves to the
// graph API once gpu:check has measured it ahead (bench/gpu.ts modes graph and graphTuned).
//
// Note [filter layout]: our filters are HWIO (HWCM for depthwise); cuDNN's NHWC filter
// layout is KRSC = [out_c, kh, kw, in_c / groups]. Both are the 2-D transpose of one
// [kh * kw * in_c_per_group, out_c] matrix, so the forward and backward-data transpose the
// filter into scratch, and backward-filter transposes KRSC back into dw.
//
// Note [asymmetric padding]: the legacy API pads symmetrically. TensorFlow's SAME padding
// puts the odd extra row/column at the bottom/right. When that extra row is actually reached
// by a window, the input is zero-padded explicitly into scratch first (as TensorFlow does on
// GPUs) and cuDNN runs with the symmetric part; backward-data slices the result back. The
// graph API takes pre and post paddings, so there such a convolution is first planned on the
// input as it is, with the real paddings (no copy in or out: about 2.8 GB less traffic in a
// ResNet-34 step at batch 256); only where no engine takes that does it fall back to the
// explicit padding, per direction and alignment. The profiler's note says which ran.
//
// Note [graph API fallback]: with convApi 'graph', a direction whose graph cannot be built
// (no engine proposed or usable for it, or none whose workspace fits in the memory left)
// runs on the legacy API instead, for that shape, direction and alignment from then on, so
// that the graph API can become the default without a shape that only the legacy API
// covers turning into an error. Errors while a built plan executes are still errors. The
// profiler's note then reads "cuDNN legacy ..., graph API declined", and gpu.test.ts
// checks that the common shapes do run on graph engines.
//
// Note [conv + bias + relu]: a forward convolution with both a bias and a ReLU (a Keras
// Conv2D with activation 'relu', as in every layer of the Fashion-MNIST CNN) runs on the
// legacy API as one cudnnConvolutionBiasActivationForward, y = relu(conv(x) + 0 * z + bias)
// with z = y and alpha2 = 0, so y's previous contents do not count (PyTorch and TensorFlow
// pass their uninitialized output as z the same way; gpu.test.ts runs it on a recycled
// block full of NaN), on the algorithm chosen for the plain convolution (the call takes a
// ReLU with any algorithm; an identity activation, i.e. a bias alone, only with
// IMPLICIT_PRECOMP_GEMM, so a bias alone stays a separate pass). It saves the separate pass over y that k::bias_act
// would make. Should cuDNN decline the call for a shape, the plan remembers it and that
// shape goes back to convolution + k::bias_act; the profiler's note says which ran
// ("bias + relu fused"), and test/gpu.test.ts checks that the fused call ran and agrees
// with the cpu backend. On the graph API, bias and ReLU stay a separate pass.
#include <algorithm>
#include <climits>
#include <cstring>
#include <unordered_map>

#include "../core/kernel_note.h"
#include "conv_graph.h"
#include "cuda_backend.h"
#include "descriptors.h"
#include "kernels/kernels.h"

namespace cn {
namespace cuda {

namespace {

struct AlgoChoice {
  bool valid = false;
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

struct ConvPlan {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  int groups = 1;
  int64_t cin_per_group = 0;
  int64_t xp_h = 0, xp_w = 0;  // input extent cuDNN sees (after explicit padding)
  int64_t extra_top = 0, extra_bottom = 0, extra_left = 0, extra_right = 0;
  int64_t pad_h = 0, pad_w = 0;  // the symmetric padding cuDNN applies
  bool prepad = false;
  bool tf32 = true, autotune = false;
  AlgoChoice fwd, bwd_data, bwd_filter;
  // Note [conv + bias + relu]: the bias [1, out_c, 1, 1] and ReLU descriptors (set on first
  // use), and whether cuDNN declined the fused call for this shape.
  TensorDesc bias;
  ReluDesc relu;
  bool bias_relu_ready = false, bias_relu_declined = false;
  // On the graph API: one plan per direction and pointer alignment (16, 8, 4 bytes), on
  // the explicitly padded input; with prepad, first tried on the input as it is, with
  // asymmetric padding (direct_*; Note [asymmetric padding]).
  bool graph = false;
  GraphConvPtr graph_plans[3][3];
  GraphConvPtr direct_plans[3][3];
  bool direct_failed[3][3] = {};
  bool graph_declined[3][3] = {};  // no engine built: the legacy API runs it
  // Note [transient graph failures]: calls to skip before building again after a build
  // failed only because memory was short (the legacy API runs them meanwhile).
  int direct_retry_in[3][3] = {}, graph_retry_in[3][3] = {};
};

// Calls between retries of a graph build that failed for want of memory.
constexpr int kGraphRetryInterval = 32;

std::string conv_shapes(const Conv2DParams& p) {
  return std::string(p.depthwise ? "depthwise " : "") + "x=" + shape_str(p.input_shape()) +
         " filter=" + shape_str(p.filter_shape()) + " y=" + shape_str(p.output_shape()) +
         " strides=[" + std::to_string(p.stride_h) + "," + std::to_string(p.stride_w) +
         "] dilations=[" + std::to_string(p.dil_h) + "," + std::to_string(p.dil_w) +
         "] pads=[" + std::to_string(p.pad_top) + "," + std::to_string(p.pad_bottom) + "," +
         std::to_string(p.pad_left) + "," + std::to_string(p.pad_right) + "]";
}

std::string plan_key(const Conv2DParams& p, bool tf32, bool autotune, bool graph) {
  int64_t v[] = {p.n, p.in_h, p.in_w, p.in_c, p.k_h, p.k_w, p.out_c, p.stride_h, p.stride_w,
                 p.dil_h, p.dil_w, p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, p.out_h,
                 p.out_w, p.depthwise, p.depth_multiplier, tf32, autotune, graph};
  return std::string(reinterpret_cast<const char*>(v), sizeof(v));
}

// The shared validator (core/params.h), so cpu and cuda accept the same structs, plus
// cuDNN's own limit: its descriptors take int32 extents.
Status validate(const char* op, const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate_conv2d_params(op, p));
  for (int64_t d : {p.n, p.in_h + p.pad_top + p.pad_bottom, p.in_w + p.pad_left + p.pad_right,
                    p.in_c, p.out_c})
    if (d > INT_MAX) return invalid_argument(std::string(op) + ": dimension too large for cuDNN " + conv_shapes(p));
  return Status::ok();
}

}  // namespace

struct ConvCache {
  std::mutex mu;
  std::unordered_map<std::string, std::unique_ptr<ConvPlan>> plans;
};

void ConvCacheDeleter::operator()(ConvCache* c) const { delete c; }

namespace {

// One plan per shape and setting: descriptors and (lazily) the algorithm of each direction.
Status get_plan(ConvCache* cache, const Conv2DParams& p, ConvPlan** out) {
  bool tf32 = options().allow_tf32, autotune = options().autotune;
  bool graph = options().graph_conv && !p.depthwise;
  std::string key = plan_key(p, tf32, autotune, graph);
  std::lock_guard<std::mutex> lock(cache->mu);
  auto it = cache->plans.find(key);
  if (it != cache->plans.end()) {
    *out = it->second.get();
    return Status::ok();
  }
  auto pl = std::make_unique<ConvPlan>();
  pl->tf32 = tf32;
  pl->autotune = autotune;
  pl->graph = graph;
  pl->groups = p.depthwise ? (int)p.in_c : 1;
  pl->cin_per_group = p.depthwise ? 1 : p.in_c;
  int64_t keh = (p.k_h - 1) * p.dil_h + 1, kew = (p.k_w - 1) * p.dil_w + 1;
  int64_t sym_h = std::min(p.pad_top, p.pad_bottom), sym_w = std::min(p.pad_left, p.pad_right);
  pl->extra_top = p.pad_top - sym_h;
  pl->extra_bottom = p.pad_bottom - sym_h;
  pl->extra_left = p.pad_left - sym_w;
  pl->extra_right = p.pad_right - sym_w;
  // An extra bottom row / right column that no window reaches needs no explicit padding
  // (but the input must still cover one window: C++ division truncates (2 - 3) / 2 to 0).
  if (pl->extra_top == 0 && p.in_h + 2 * sym_h >= keh &&
      (p.in_h + 2 * sym_h - keh) / p.stride_h + 1 == p.out_h)
    pl->extra_bottom = 0;
  if (pl->extra_left == 0 && p.in_w + 2 * sym_w >= kew &&
      (p.in_w + 2 * sym_w - kew) / p.stride_w + 1 == p.out_w)
    pl->extra_right = 0;
  pl->prepad = pl->extra_top || pl->extra_bottom || pl->extra_left || pl->extra_right;
  pl->pad_h = sym_h;
  pl->pad_w = sym_w;
  pl->xp_h = p.in_h + pl->extra_top + pl->extra_bottom;
  pl->xp_w = p.in_w + pl->extra_left + pl->extra_right;

  CN_RETURN_IF_ERROR(pl->x.set_nhwc((int)p.n, (int)p.in_c, (int)pl->xp_h, (int)pl->xp_w));
  CN_RETURN_IF_ERROR(pl->y.set_nhwc((int)p.n, (int)p.out_c, (int)p.out_h, (int)p.out_w));
  CN_RETURN_IF_ERROR(pl->w.set_krsc((int)p.out_c, (int)pl->cin_per_group, (int)p.k_h, (int)p.k_w));
  CN_RETURN_IF_ERROR(pl->conv.set((int)sym_h, (int)sym_w, (int)p.stride_h, (int)p.stride_w,
                                  (int)p.dil_h, (int)p.dil_w, pl->groups));
  int dn = 0, dc = 0, dh = 0, dw = 0;
  CN_CUDNN_CHECK(cudnn().cudnnGetConvolution2dForwardOutputDim(pl->conv.get(), pl->x.get(),
                                                               pl->w.get(), &dn, &dc, &dh, &dw),
                 conv_shapes(p));
  if (dn != p.n || dc != p.out_c || dh != p.out_h || dw != p.out_w)
    return Status(StatusCode::kInternal,
                  "conv2d: cuDNN computes output [" + std::to_string(dn) + "," +
                      std::to_string(dh) + "," + std::to_string(dw) + "," + std::to_string(dc) +
                      "] for " + conv_shapes(p));
  *out = pl.get();
  cache->plans.emplace(key, std::move(pl));
  return Status::ok();
}

// Note [TF32 and algorithm choice]: with TF32 allowed the descriptor asks for tensor-op
// math and each candidate's own math type is used; strict fp32 asks for FMA math and skips
// candidates that would use tensor ops. Candidates come sorted fastest first, from cuDNN's
// heuristics or, with autotune, from timing them (cudnnFind*Ex) on the call's own buffers.
bool math_ok(bool tf32, cudnnMathType_t m) {
  return tf32 || (m != CUDNN_TENSOR_OP_MATH && m != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
}

// Picks the first usable candidate whose workspace we can allocate.
template <typename Perf>
Status pick(CudaBackend* b, const ConvPlan& pl, const Perf* perf, int got, AlgoChoice* out,
            const char* what, const std::string& shapes) {
  for (int i = 0; i < got; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || !math_ok(pl.tf32, perf[i].mathType)) continue;
    if (perf[i].memory > kConvWorkspaceCap) continue;  // Note [convolution workspace cap]
    Scratch probe;
    if (!b->scratch(&probe, perf[i].memory).is_ok()) continue;  // too big for memory left
    out->valid = true;
    out->algo = (int)perf[i].algo;
    out->math = pl.tf32 ? perf[i].mathType : CUDNN_FMA_MATH;
    out->workspace = perf[i].memory;
    return Status::ok();
  }
  return backend_error(std::string("cudnn: no ") + what + " algorithm supports " + shapes +
                       (pl.tf32 ? "" : " in strict fp32"));
}

template <typename Perf>
size_t max_workspace(const Perf* perf, int got) {
  size_t m = 0;
  for (int i = 0; i < got; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) m = std::max(m, perf[i].memory);
  return std::min(m, kConvWorkspaceCap);
}

// An autotune workspace: as large as the candidates want (capped), smaller if memory is short.
Status autotune_workspace(CudaBackend* b, size_t want, Scratch* ws, size_t* got) {
  for (size_t size = want;; size /= 2) {
    if (b->scratch(ws, size).is_ok()) {
      *got = size;
      return Status::ok();
    }
    if (size == 0) return out_of_memory("cuda: no memory left for a convolution workspace");
  }
}

Status choose_fwd(CudaBackend* b, ConvPlan* pl, const float* x, const float* w, float* y,
                  const std::string& shapes) {
  if (pl->fwd.valid) return Status::ok();
  CN_RETURN_IF_ERROR(pl->conv.set_math(pl->tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int got = 0;
  CN_CUDNN_CHECK(cudnn().cudnnGetConvolutionForwardAlgorithm_v7(
                     b->cudnn_handle(), pl->x.get(), pl->w.get(), pl->conv.get(), pl->y.get(),
                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf),
                 shapes);
  if (pl->autotune) {
    Scratch ws;
    size_t size = 0;
    CN_RETURN_IF_ERROR(autotune_workspace(b, max_workspace(perf, got), &ws, &size));
    CN_CUDNN_CHECK(cudnn().cudnnFindConvolutionForwardAlgorithmEx(
                       b->cudnn_handle(), pl->x.get(), x, pl->w.get(), w, pl->conv.get(),
                       pl->y.get(), y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got, perf, ws.get(),
                       size),
                   shapes);
    CN_RETURN_IF_ERROR(b->check_context("autotuning the legacy forward algorithms for " + shapes));  // Note [autotune faults]
  }
  return pick(b, *pl, perf, got, &pl->fwd, "forward", shapes);
}

Status choose_bwd_data(CudaBackend* b, ConvPlan* pl, const float* w, const float* dy, float* dx,
                       const std::string& shapes) {
  if (pl->bwd_data.valid) return Status::ok();
  CN_RETURN_IF_ERROR(pl->conv.set_math(pl->tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int got = 0;
  CN_CUDNN_CHECK(cudnn().cudnnGetConvolutionBackwardDataAlgorithm_v7(
                     b->cudnn_handle(), pl->w.get(), pl->y.get(), pl->conv.get(), pl->x.get(),
                     CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf),
                 shapes);
  if (pl->autotune) {
    Scratch ws;
    size_t size = 0;
    CN_RETURN_IF_ERROR(autotune_workspace(b, max_workspace(perf, got), &ws, &size));
    CN_CUDNN_CHECK(cudnn().cudnnFindConvolutionBackwardDataAlgorithmEx(
                       b->cudnn_handle(), pl->w.get(), w, pl->y.get(), dy, pl->conv.get(),
                       pl->x.get(), dx, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf,
                       ws.get(), size),
                   shapes);
    CN_RETURN_IF_ERROR(b->check_context("autotuning the legacy backward-data algorithms for " + shapes));  // Note [autotune faults]
  }
  return pick(b, *pl, perf, got, &pl->bwd_data, "backward-data", shapes);
}

Status choose_bwd_filter(CudaBackend* b, ConvPlan* pl, const float* x, const float* dy,
                         float* dw, const std::string& shapes) {
  if (pl->bwd_filter.valid) return Status::ok();
  CN_RETURN_IF_ERROR(pl->conv.set_math(pl->tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  int got = 0;
  CN_CUDNN_CHECK(cudnn().cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                     b->cudnn_handle(), pl->x.get(), pl->y.get(), pl->conv.get(), pl->w.get(),
                     CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf),
                 shapes);
  if (pl->autotune) {
    Scratch ws;
    size_t size = 0;
    CN_RETURN_IF_ERROR(autotune_workspace(b, max_workspace(perf, got), &ws, &size));
    CN_CUDNN_CHECK(cudnn().cudnnFindConvolutionBackwardFilterAlgorithmEx(
                       b->cudnn_handle(), pl->x.get(), x, pl->y.get(), dy, pl->conv.get(),
                       pl->w.get(), dw, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf,
                       ws.get(), size),
                   shapes);
    CN_RETURN_IF_ERROR(b->check_context("autotuning the legacy backward-filter algorithms for " + shapes));  // Note [autotune faults]
  }
  return pick(b, *pl, perf, got, &pl->bwd_filter, "backward-filter", shapes);
}

// HWIO (or HWCM) [rsc, k] <-> KRSC [k, rsc] as a 2-D transpose of 4-byte elements.
Status transpose_2d(cudaStream_t s, float* out, const float* in, int64_t rows, int64_t cols,
                    const std::string& shapes) {
  k::IndexMap m;
  m.rank = 2;
  m.shape[0] = cols;  // out is [cols, rows]
  m.shape[1] = rows;
  m.a_strides[0] = 1;
  m.a_strides[1] = cols;
  CN_LAUNCH_CHECK(k::gather_strided(s, out, in, rows * cols, m, 0), "filter relayout " + shapes);
  return Status::ok();
}

// Zero-pads x [n, in_h, in_w, c] into xp [n, xp_h, xp_w, c] (Note [asymmetric padding]).
Status prepad_input(cudaStream_t s, float* xp, const float* x, const Conv2DParams& p,
                    const ConvPlan& pl, const std::string& shapes) {
  k::PadDesc d;
  d.rank = 4;
  int64_t in[4] = {p.n, p.in_h, p.in_w, p.in_c}, out[4] = {p.n, pl.xp_h, pl.xp_w, p.in_c},
          before[4] = {0, pl.extra_top, pl.extra_left, 0};
  for (int i = 0; i < 4; ++i) {
    d.in_shape[i] = in[i];
    d.out_shape[i] = out[i];
    d.before[i] = before[i];
  }
  CN_LAUNCH_CHECK(k::pad(s, xp, x, p.n * pl.xp_h * pl.xp_w * p.in_c, d, 0.f), "prepad " + shapes);
  return Status::ok();
}

const float kOne = 1.f, kZero = 0.f;

// The profiler's note of a legacy-API call (core/kernel_note.h): direction, cuDNN's
// algorithm, whether it ran on tensor cores (TF32), forward whether bias and ReLU ran in the
// same call (Note [conv + bias + relu]), and whether it stands in for the graph API (Note
// [graph API fallback]).
void note_legacy(ConvDirection dir, const AlgoChoice& a, bool prepad, bool graph_declined,
                 bool bias_relu = false) {
  if (!kernel_notes_wanted()) return;
  static const char* const fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* const data[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* const filter[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
  const char* const* names = dir == ConvDirection::kForward ? fwd : dir == ConvDirection::kBackwardData ? data : filter;
  const int count = dir == ConvDirection::kForward ? 8 : dir == ConvDirection::kBackwardData ? 6 : 7;
  const bool tensor = a.math == CUDNN_TENSOR_OP_MATH || a.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  kernel_note(std::string("cuDNN legacy ") + (a.algo >= 0 && a.algo < count ? names[a.algo] : "algo " + std::to_string(a.algo)) +
              (tensor ? " tensor ops" : " fma") + (prepad ? ", input padded first" : "") +
              (bias_relu ? ", bias + relu fused" : "") +
              (graph_declined ? ", graph API declined" : ""));
}

// The graph-API geometry of pl: on the explicitly padded input (symmetric padding), or, with
// direct, on the input as it is with its real pre and post paddings.
ConvGeometry graph_geometry(const Conv2DParams& p, const ConvPlan& pl, bool direct) {
  ConvGeometry geo;
  geo.n = p.n;
  geo.c = p.in_c;
  geo.h = direct ? p.in_h : pl.xp_h;
  geo.w = direct ? p.in_w : pl.xp_w;
  geo.k = p.out_c;
  geo.r = p.k_h;
  geo.s = p.k_w;
  geo.out_h = p.out_h;
  geo.out_w = p.out_w;
  geo.pad_h = direct ? p.pad_top : pl.pad_h;
  geo.pad_w = direct ? p.pad_left : pl.pad_w;
  geo.post_h = direct ? p.pad_bottom : pl.pad_h;
  geo.post_w = direct ? p.pad_right : pl.pad_w;
  geo.stride_h = p.stride_h;
  geo.stride_w = p.stride_w;
  geo.dil_h = p.dil_h;
  geo.dil_w = p.dil_w;
  return geo;
}

// Executes a built graph plan with a workspace from b's allocator. *ran is false, with no
// error, where that workspace cannot be allocated now: the caller falls back to the legacy
// API for this call instead of failing the step (its algorithm's workspace was probed).
Status execute_graph(CudaBackend* b, const GraphConv& g, const ConvBuffers& bufs, bool padded,
                     const std::string& shapes, bool* ran) {
  *ran = false;
  Scratch ws;
  if (!b->scratch(&ws, graph_conv_workspace(g)).is_ok()) return Status::ok();
  if (kernel_notes_wanted())
    kernel_note("cuDNN graph " + graph_conv_engine(g) + (padded ? ", input padded first" : ""));
  *ran = true;
  Status s = graph_conv_run(b, g, bufs, ws.get());
  if (!s.is_ok()) return Status(s.code(), s.message() + " [" + shapes + "]");
  return Status::ok();
}

// Runs direction dir of pl on the graph API, building its plan on first use (*done): with
// direct, on the unpadded operands with asymmetric padding (Note [asymmetric padding]),
// else on the explicitly padded operands (or the operands as they are, without prepad).
// Where no engine builds (none proposed or usable, or none whose workspace fits), *done
// stays false, for this direction and alignment from then on: the caller then takes the
// padded path (direct) or the legacy API (Note [graph API fallback]).
Status run_graph_plan(CudaBackend* b, ConvPlan* pl, ConvDirection dir, const Conv2DParams& p,
                      const ConvBuffers& bufs, const std::string& shapes, bool direct, bool* done) {
  *done = false;
  const int64_t align = graph_alignment(bufs);
  const int slot = align == 16 ? 0 : align == 8 ? 1 : 2;
  GraphConvPtr& g = (direct ? pl->direct_plans : pl->graph_plans)[(int)dir][slot];
  bool& declined = (direct ? pl->direct_failed : pl->graph_declined)[(int)dir][slot];
  int& retry_in = (direct ? pl->direct_retry_in : pl->graph_retry_in)[(int)dir][slot];
  if (!g) {
    if (declined) return Status::ok();
    if (retry_in > 0) {
      --retry_in;
      return Status::ok();
    }
    Status built = graph_conv_build(b, dir, graph_geometry(p, *pl, direct), pl->tf32, pl->autotune, align, bufs, &g);
    if (!built.is_ok()) {
      g.reset();
      // A lost context (Note [autotune faults]) is an error; memory short for a moment is
      // retried later (Note [transient graph failures]); anything else declines for good.
      CN_RETURN_IF_ERROR(b->check_context("building a graph API plan for " + shapes));
      if (built.code() == StatusCode::kOutOfMemory) retry_in = kGraphRetryInterval;
      else declined = true;
      return Status::ok();
    }
  }
  bool ran = false;
  CN_RETURN_IF_ERROR(execute_graph(b, *g, bufs, pl->prepad && !direct, shapes, &ran));
  *done = ran;
  return Status::ok();
}

Status run_graph(CudaBackend* b, ConvPlan* pl, ConvDirection dir, const Conv2DParams& p,
                 const ConvBuffers& bufs, const std::string& shapes, bool* done) {
  return run_graph_plan(b, pl, dir, p, bufs, shapes, false, done);
}

// With prepad on the graph API: first the unpadded operands (see run_graph_plan).
Status run_graph_direct(CudaBackend* b, ConvPlan* pl, ConvDirection dir, const Conv2DParams& p,
                        const ConvBuffers& bufs, const std::string& shapes, bool* done) {
  *done = false;
  if (!pl->graph || !pl->prepad) return Status::ok();
  return run_graph_plan(b, pl, dir, p, bufs, shapes, true, done);
}

// y = relu(conv(xin) + bias) in one legacy call (Note [conv + bias + relu]), with the plan's
// forward algorithm and its workspace ws. *done is false where cuDNN declines the call (the
// plan remembers it, and the caller runs the convolution and k::bias_act instead).
Status run_bias_relu(CudaBackend* b, ConvPlan* pl, float* y, const float* xin, const float* wk,
                     const float* bias, int64_t out_c, void* ws, const std::string& shapes,
                     bool* done) {
  *done = false;
  if (pl->bias_relu_declined) return Status::ok();
  if (!pl->bias_relu_ready) {  // descriptors cuDNN refuses: the unfused path (Note [fused call fallback])
    if (!pl->bias.set_nhwc(1, (int)out_c, 1, 1).is_ok() || !pl->relu.set().is_ok()) {
      pl->bias_relu_declined = true;
      return Status::ok();
    }
    pl->bias_relu_ready = true;
  }
  cudnnStatus_t st = cudnn().cudnnConvolutionBiasActivationForward(
      b->cudnn_handle(), &kOne, pl->x.get(), xin, pl->w.get(), wk, pl->conv.get(),
      (cudnnConvolutionFwdAlgo_t)pl->fwd.algo, ws, pl->fwd.workspace, &kZero, pl->y.get(), y,
      pl->bias.get(), bias, pl->relu.get(), pl->y.get(), y);
  if (st == CUDNN_STATUS_SUCCESS) {
    note_legacy(ConvDirection::kForward, pl->fwd, pl->prepad, pl->graph, true);
    *done = true;
    return Status::ok();
  }
  // Note [fused call fallback]: any other status takes the unfused path, which reports a
  // real fault itself. Under TF32 or autotune cuDNN may pick a forward algorithm that the
  // fused call then rejects (BAD_PARAM, not only NOT_SUPPORTED's 3000-3999). A shortage of
  // memory (Note [cuDNN out of memory]) falls back for this call only; the rest decline the
  // fused call for this shape from now on.
  if (!cudnn_status_is_out_of_memory((int)st)) pl->bias_relu_declined = true;
  if (kernel_notes_wanted()) kernel_note("cuDNN fused conv + bias + ReLU declined (status " + std::to_string((int)st) + ") for " + shapes);
  return Status::ok();
}

}  // namespace
}  // namespace cuda

cuda::ConvCache* CudaBackend::conv_cache() {
  if (!conv_cache_) conv_cache_.reset(new cuda::ConvCache());
  return conv_cache_.get();
}

Status CudaBackend::conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                                   const Conv2DParams& p) {
  using namespace cuda;
  CN_RETURN_IF_ERROR(validate("conv2d_forward", p));
  if (p.n == 0 || p.out_c == 0) return Status::ok();  // an empty y (Note [empty convolutions])
  std::string shapes = conv_shapes(p);
  ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(get_plan(conv_cache(), p, &pl));
  int64_t rsc = p.k_h * p.k_w * pl->cin_per_group;
  Scratch wk, xp, ws;
  CN_RETURN_IF_ERROR(scratch(&wk, sizeof(float) * rsc * p.out_c));
  CN_RETURN_IF_ERROR(transpose_2d(stream_, wk.f32(), w, rsc, p.out_c, shapes));
  ConvBuffers bufs;
  bufs.x = x;
  bufs.w = wk.f32();
  bufs.out = y;
  bool done = false;
  CN_RETURN_IF_ERROR(run_graph_direct(this, pl, ConvDirection::kForward, p, bufs, shapes, &done));
  const float* xin = x;
  if (pl->prepad && !done) {
    CN_RETURN_IF_ERROR(scratch(&xp, sizeof(float) * p.n * pl->xp_h * pl->xp_w * p.in_c));
    CN_RETURN_IF_ERROR(prepad_input(stream_, xp.f32(), x, p, *pl, shapes));
    xin = xp.f32();
  }
  if (pl->graph && !done) {
    bufs.x = xin;
    CN_RETURN_IF_ERROR(run_graph(this, pl, ConvDirection::kForward, p, bufs, shapes, &done));
  }
  if (!done) {  // the legacy API (by choice, or Note [graph API fallback])
    CN_RETURN_IF_ERROR(choose_fwd(this, pl, xin, wk.f32(), y, shapes));
    CN_RETURN_IF_ERROR(scratch(&ws, pl->fwd.workspace));
    CN_RETURN_IF_ERROR(pl->conv.set_math(pl->fwd.math));
    if (bias && p.relu) {
      bool fused = false;
      CN_RETURN_IF_ERROR(run_bias_relu(this, pl, y, xin, wk.f32(), bias, p.out_c, ws.get(), shapes, &fused));
      if (fused) return Status::ok();
    }
    note_legacy(ConvDirection::kForward, pl->fwd, pl->prepad, pl->graph);
    CN_CUDNN_CHECK(cudnn().cudnnConvolutionForward(
                       cudnn_, &kOne, pl->x.get(), xin, pl->w.get(), wk.get(), pl->conv.get(),
                       (cudnnConvolutionFwdAlgo_t)pl->fwd.algo, ws.get(), pl->fwd.workspace,
                       &kZero, pl->y.get(), y),
                   shapes + " algo " + std::to_string(pl->fwd.algo));
  }
  if (bias || p.relu)
    CN_LAUNCH_CHECK(k::bias_act(stream_, y, bias, p.n * p.out_h * p.out_w, p.out_c, p.relu),
                    "bias/relu " + shapes);
  return Status::ok();
}

Status CudaBackend::conv2d_backward_data(float* dx, const float* dy, const float* w,
                                         const Conv2DParams& p) {
  using namespace cuda;
  CN_RETURN_IF_ERROR(validate("conv2d_backward_data", p));
  if (p.n == 0) return Status::ok();
  if (p.out_c == 0) {  // no output channels: nothing flows back (Note [empty convolutions])
    CN_CUDA_CHECK(cudaMemsetAsync(dx, 0, sizeof(float) * p.n * p.in_h * p.in_w * p.in_c, stream_), conv_shapes(p));
    return Status::ok();
  }
  std::string shapes = conv_shapes(p);
  ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(get_plan(conv_cache(), p, &pl));
  int64_t rsc = p.k_h * p.k_w * pl->cin_per_group;
  Scratch wk, dxp, ws;
  CN_RETURN_IF_ERROR(scratch(&wk, sizeof(float) * rsc * p.out_c));
  CN_RETURN_IF_ERROR(transpose_2d(stream_, wk.f32(), w, rsc, p.out_c, shapes));
  ConvBuffers bufs;
  bufs.w = wk.f32();
  bufs.y = dy;
  bufs.out = dx;
  bool done = false;
  CN_RETURN_IF_ERROR(run_graph_direct(this, pl, ConvDirection::kBackwardData, p, bufs, shapes, &done));
  if (done) return Status::ok();
  float* dxo = dx;
  if (pl->prepad) {
    CN_RETURN_IF_ERROR(scratch(&dxp, sizeof(float) * p.n * pl->xp_h * pl->xp_w * p.in_c));
    dxo = dxp.f32();
  }
  if (pl->graph) {
    bufs.out = dxo;
    CN_RETURN_IF_ERROR(run_graph(this, pl, ConvDirection::kBackwardData, p, bufs, shapes, &done));
  }
  if (!done) {  // the legacy API (by choice, or Note [graph API fallback])
    CN_RETURN_IF_ERROR(choose_bwd_data(this, pl, wk.f32(), dy, dxo, shapes));
    CN_RETURN_IF_ERROR(scratch(&ws, pl->bwd_data.workspace));
    CN_RETURN_IF_ERROR(pl->conv.set_math(pl->bwd_data.math));
    note_legacy(ConvDirection::kBackwardData, pl->bwd_data, pl->prepad, pl->graph);
    CN_CUDNN_CHECK(cudnn().cudnnConvolutionBackwardData(
                       cudnn_, &kOne, pl->w.get(), wk.get(), pl->y.get(), dy, pl->conv.get(),
                       (cudnnConvolutionBwdDataAlgo_t)pl->bwd_data.algo, ws.get(),
                       pl->bwd_data.workspace, &kZero, pl->x.get(), dxo),
                   shapes + " algo " + std::to_string(pl->bwd_data.algo));
  }
  if (pl->prepad) {  // keep the interior: dx = dxp[:, top:top+in_h, left:left+in_w, :]
    k::IndexMap m;
    m.rank = 4;
    int64_t shape[4] = {p.n, p.in_h, p.in_w, p.in_c};
    int64_t strides[4] = {pl->xp_h * pl->xp_w * p.in_c, pl->xp_w * p.in_c, p.in_c, 1};
    for (int i = 0; i < 4; ++i) {
      m.shape[i] = shape[i];
      m.a_strides[i] = strides[i];
    }
    int64_t offset = pl->extra_top * strides[1] + pl->extra_left * strides[2];
    CN_LAUNCH_CHECK(k::gather_strided(stream_, dx, dxo, p.n * p.in_h * p.in_w * p.in_c, m, offset),
                    "unpad " + shapes);
  }
  return Status::ok();
}

Status CudaBackend::conv2d_backward_filter(float* dw, float* dbias, const float* x,
                                           const float* dy, const Conv2DParams& p) {
  using namespace cuda;
  CN_RETURN_IF_ERROR(validate("conv2d_backward_filter", p));
  std::string shapes = conv_shapes(p);
  int64_t rows = p.n * p.out_h * p.out_w;
  if (p.out_c == 0) return Status::ok();  // dw and dbias are empty (Note [empty convolutions])
  if (p.n == 0) {  // no samples: zero gradients
    int64_t wn = p.k_h * p.k_w * (p.depthwise ? 1 : p.in_c) * p.out_c;
    CN_CUDA_CHECK(cudaMemsetAsync(dw, 0, sizeof(float) * wn, stream_), shapes);
    if (dbias) CN_CUDA_CHECK(cudaMemsetAsync(dbias, 0, sizeof(float) * p.out_c, stream_), shapes);
    return Status::ok();
  }
  ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(get_plan(conv_cache(), p, &pl));
  int64_t rsc = p.k_h * p.k_w * pl->cin_per_group;
  Scratch dwk, xp, ws;
  CN_RETURN_IF_ERROR(scratch(&dwk, sizeof(float) * rsc * p.out_c));
  ConvBuffers bufs;
  bufs.x = x;
  bufs.y = dy;
  bufs.out = dwk.f32();
  bool done = false;
  CN_RETURN_IF_ERROR(run_graph_direct(this, pl, ConvDirection::kBackwardFilter, p, bufs, shapes, &done));
  const float* xin = x;
  if (pl->prepad && !done) {
    CN_RETURN_IF_ERROR(scratch(&xp, sizeof(float) * p.n * pl->xp_h * pl->xp_w * p.in_c));
    CN_RETURN_IF_ERROR(prepad_input(stream_, xp.f32(), x, p, *pl, shapes));
    xin = xp.f32();
  }
  if (pl->graph && !done) {
    bufs.x = xin;
    CN_RETURN_IF_ERROR(run_graph(this, pl, ConvDirection::kBackwardFilter, p, bufs, shapes, &done));
  }
  if (!done) {  // the legacy API (by choice, or Note [graph API fallback])
    CN_RETURN_IF_ERROR(choose_bwd_filter(this, pl, xin, dy, dwk.f32(), shapes));
    CN_RETURN_IF_ERROR(scratch(&ws, pl->bwd_filter.workspace));
    CN_RETURN_IF_ERROR(pl->conv.set_math(pl->bwd_filter.math));
    note_legacy(ConvDirection::kBackwardFilter, pl->bwd_filter, pl->prepad, pl->graph);
    CN_CUDNN_CHECK(cudnn().cudnnConvolutionBackwardFilter(
                       cudnn_, &kOne, pl->x.get(), xin, pl->y.get(), dy, pl->conv.get(),
                       (cudnnConvolutionBwdFilterAlgo_t)pl->bwd_filter.algo, ws.get(),
                       pl->bwd_filter.workspace, &kZero, pl->w.get(), dwk.get()),
                   shapes + " algo " + std::to_string(pl->bwd_filter.algo));
  }
  CN_RETURN_IF_ERROR(transpose_2d(stream_, dw, dwk.f32(), p.out_c, rsc, shapes));
  if (dbias) {  // sum of dy over N, H, W
    Scratch part;
    int64_t need = k::reduce_scratch(1, rows, p.out_c);
    CN_RETURN_IF_ERROR(scratch(&part, sizeof(float) * need));
    CN_LAUNCH_CHECK(k::reduce(stream_, dbias, dy, 1, rows, p.out_c, (int)ReduceOp::kSum, part.f32()),
                    "bias gradient " + shapes);
  }
  return Status::ok();
}

}  // namespace cn
