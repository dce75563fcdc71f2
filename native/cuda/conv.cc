// CudaBackend convolution on cuDNN: forward, backward-data and backward-filter over NHWC
// tensors, depthwise as a grouped convolution, with per-shape plans (descriptors and chosen
// algorithms) cached in ConvCache (conv_plan.h). One choose function and one run path serve the three
// directions, over the per-direction traits in conv_traits.h, for float32 here and for
// bfloat16 / float16 data too (run_conv_direction, called by half_conv.cc: Note
// [reduced-precision convolutions]).
//
// Note [API choice: convolution]: the legacy API (cudnnConvolutionForward & co.) by default.
// cuDNN 9 marks it deprecated but ships it, and its heuristics (cudnnGet*Algorithm_v7) and
// measurement (cudnnFind*AlgorithmEx) cover plain and grouped convolutions. Its one fusion,
// cudnnConvolutionBiasActivationForward, is used where it applies (Note [conv + bias +
// relu]). It reaches fewer engines than the graph API (cuDNN's frontend, which PyTorch uses),
// and the layers where PyTorch was much faster are ones it serves poorly (docs/cuda.md,
// "Measurements behind the conv decisions"). So plain (ungrouped) convolutions can also run
// on the graph API (conv_graph.h; the cuda option convApi: 'graph', CUDNN_NODE_CONV_API=graph),
// with the same layouts and explicit padding as here, so only the engine differs; depthwise
// stays legacy. The default moves to the graph API once gpu:check has measured it ahead.
//
// Note [filter layout]: our filters are HWIO (HWCM for depthwise); cuDNN's NHWC filter
// layout is KRSC = [out_c, kh, kw, in_c / groups]. Both are the 2-D transpose of one
// [kh * kw * in_c_per_group, out_c] matrix, so the forward and backward-data transpose the
// filter into scratch, and backward-filter transposes KRSC back into dw.
//
// Note [asymmetric padding]: the legacy API pads symmetrically; TensorFlow's SAME padding
// puts the odd extra row/column at the bottom/right. When a window reaches that extra row,
// the input is zero-padded explicitly into scratch first (as TensorFlow does on GPUs), cuDNN
// runs with the symmetric part, and backward-data slices its result back. The graph API
// takes pre and post paddings, so there such a convolution is first planned on the input as
// it is (no copy in or out); only where no engine takes that does it fall back to the
// explicit padding, per direction and alignment. The profiler's note says which ran.
//
// Note [graph API fallback]: with convApi 'graph', a direction whose graph cannot be built
// (no engine proposed or usable, or none whose workspace fits in the memory left) runs on the
// legacy API instead, for that shape, direction and alignment from then on, so that no shape
// only the legacy API covers becomes an error. Errors while a built plan executes are still
// errors. The profiler's note then reads "cuDNN legacy ..., graph API declined";
// gpu.test.ts checks that the common shapes do run on graph engines.
//
// Note [conv + bias + relu]: a forward convolution with both a bias and a ReLU (a Keras
// Conv2D with activation 'relu') runs on the legacy API as one
// cudnnConvolutionBiasActivationForward, y = relu(conv(x) + 0 * z + bias) with z = y and
// alpha2 = 0, so y's previous contents do not count (PyTorch and TensorFlow pass their
// uninitialized output as z the same way; gpu.test.ts runs it on a block full of NaN), on the
// algorithm chosen for the plain convolution. The call takes a ReLU with any algorithm but an
// identity activation only with IMPLICIT_PRECOMP_GEMM, so a bias alone (or a ReLU alone) stays
// one extra pass, k::bias_act, after the best algorithm. Should cuDNN decline the call, the
// plan remembers it (Note [fused call fallback]). The profiler's note says "bias + relu
// fused". On the graph API, bias and ReLU stay a separate pass.
#include <algorithm>
#include <iterator>
#include <string>

#include "../core/kernel_note.h"
#include "conv_graph.h"
#include "conv_plan.h"
#include "conv_traits.h"
#include "cuda_backend.h"
#include "kernels/kernels.h"
#include "kernels/reduced_kernels.h"

namespace cn {
namespace cuda {

namespace {

// Calls between retries of a graph build that failed for want of memory.
constexpr int kGraphRetryInterval = 32;

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

// Chooses direction D's legacy algorithm for pl once (Note [TF32 and algorithm choice]);
// with autotune the candidates are timed on bufs.
template <typename D>
Status choose(CudaBackend* b, ConvPlan* pl, const ConvBuffers& bufs, const std::string& shapes) {
  AlgoChoice& choice = pl->dir(D::kDirection).legacy;
  if (choice.valid) return Status::ok();
  CN_RETURN_IF_ERROR(pl->conv.set_math(pl->tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH));
  const LegacyConv c = pl->legacy(b->cudnn_handle());
  typename D::Perf perf[D::kAlgoCount];
  int got = 0;
  CN_RETURN_IF_ERROR(D::heuristics(c, perf, &got, shapes));
  if (pl->autotune) {
    Scratch ws;
    size_t size = 0;
    CN_RETURN_IF_ERROR(autotune_workspace(b, max_workspace(perf, got), &ws, &size));
    CN_RETURN_IF_ERROR(D::find(c, bufs, perf, &got, ws.get(), size, shapes));
    CN_RETURN_IF_ERROR(b->check_context(std::string("autotuning the legacy ") + D::kName +
                                        " algorithms for " + shapes));  // Note [autotune faults]
  }
  return pick(b, *pl, perf, got, &choice, D::kName, shapes);
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

// The explicit padding's window, for 16-bit data (kernels/elementwise_body.h).
k::ew::Window pad_window(const Conv2DParams& p, const ConvPlan& pl) {
  return {p.n, p.in_c, pl.xp_h, pl.xp_w, p.in_h, p.in_w, pl.extra_top, pl.extra_left};
}

// Zero-pads x [n, in_h, in_w, c] into xp [n, xp_h, xp_w, c] (Note [asymmetric padding]).
Status prepad_input(cudaStream_t s, void* xp, const void* x, const Conv2DParams& p,
                    const ConvPlan& pl, const std::string& shapes) {
  if (pl.dtype != DType::kFloat32) {
    CN_LAUNCH_CHECK(k::rp_pad16(s, xp, x, pad_window(p, pl)), "prepad " + shapes);
    return Status::ok();
  }
  k::PadDesc d;
  d.rank = 4;
  int64_t in[4] = {p.n, p.in_h, p.in_w, p.in_c}, out[4] = {p.n, pl.xp_h, pl.xp_w, p.in_c},
          before[4] = {0, pl.extra_top, pl.extra_left, 0};
  for (int i = 0; i < 4; ++i) {
    d.in_shape[i] = in[i];
    d.out_shape[i] = out[i];
    d.before[i] = before[i];
  }
  CN_LAUNCH_CHECK(k::pad(s, static_cast<float*>(xp), static_cast<const float*>(x), p.n * pl.xp_h * pl.xp_w * p.in_c,
                         d, 0.f),
                  "prepad " + shapes);
  return Status::ok();
}

// Keeps the interior of the padded dxp: dx = dxp[:, top:top+in_h, left:left+in_w, :].
Status unpad_output(cudaStream_t s, void* dx, const void* dxp, const Conv2DParams& p,
                    const ConvPlan& pl, const std::string& shapes) {
  if (pl.dtype != DType::kFloat32) {
    CN_LAUNCH_CHECK(k::rp_crop16(s, dx, dxp, pad_window(p, pl)), "unpad " + shapes);
    return Status::ok();
  }
  k::IndexMap m;
  m.rank = 4;
  int64_t shape[4] = {p.n, p.in_h, p.in_w, p.in_c};
  int64_t strides[4] = {pl.xp_h * pl.xp_w * p.in_c, pl.xp_w * p.in_c, p.in_c, 1};
  for (int i = 0; i < 4; ++i) {
    m.shape[i] = shape[i];
    m.a_strides[i] = strides[i];
  }
  int64_t offset = pl.extra_top * strides[1] + pl.extra_left * strides[2];
  CN_LAUNCH_CHECK(k::gather_strided(s, dx, dxp, p.n * p.in_h * p.in_w * p.in_c, m, offset),
                  "unpad " + shapes);
  return Status::ok();
}

// The profiler's note of a legacy-API call (core/kernel_note.h): direction, cuDNN's
// algorithm, whether it ran on tensor cores (TF32), forward whether bias and ReLU ran in the
// same call (Note [conv + bias + relu]), and whether it stands in for the graph API (Note
// [graph API fallback]).
template <typename D>
void note_legacy(const AlgoChoice& a, bool prepad, bool graph_declined, bool bias_relu = false) {
  if (!kernel_notes_wanted()) return;
  const int count = (int)std::size(D::kAlgoNames);
  const bool tensor = a.math == CUDNN_TENSOR_OP_MATH || a.math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
  kernel_note(std::string("cuDNN legacy ") +
              (a.algo >= 0 && a.algo < count ? D::kAlgoNames[a.algo] : "algo " + std::to_string(a.algo)) +
              (tensor ? " tensor ops" : " fma") + (prepad ? ", input padded first" : "") +
              (bias_relu ? ", bias + relu fused" : "") +
              (graph_declined ? ", graph API declined" : ""));
}

// The graph-API geometry of pl: on the explicitly padded input (symmetric padding), or, with
// direct, on the input as it is with its real pre and post paddings.
ConvGeometry graph_geometry(const Conv2DParams& p, const ConvPlan& pl, bool direct) {
  ConvGeometry geo;
  geo.data_type = pl.data_type;
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
Status run_graph(CudaBackend* b, ConvPlan* pl, ConvDirection dir, const Conv2DParams& p,
                 const ConvBuffers& bufs, const std::string& shapes, bool direct, bool* done) {
  *done = false;
  const int64_t align = graph_alignment(bufs);
  DirectionPlan& d = pl->dir(dir);
  GraphSlot& slot = (direct ? d.direct : d.graph)[align == 16 ? 0 : align == 8 ? 1 : align == 4 ? 2 : 3];
  if (!slot.plan) {
    if (slot.declined) return Status::ok();
    if (slot.retry_in > 0) {
      --slot.retry_in;
      return Status::ok();
    }
    Status built = graph_conv_build(b, dir, graph_geometry(p, *pl, direct), pl->tf32, pl->autotune, align, bufs,
                                    &slot.plan);
    if (!built.is_ok()) {
      slot.plan.reset();
      // A lost context (Note [autotune faults]) is an error; memory short for a moment is
      // retried later (Note [transient graph failures]); anything else declines for good.
      CN_RETURN_IF_ERROR(b->check_context("building a graph API plan for " + shapes));
      if (built.code() == StatusCode::kOutOfMemory) slot.retry_in = kGraphRetryInterval;
      else slot.declined = true;
      return Status::ok();
    }
  }
  return execute_graph(b, *slot.plan, bufs, pl->prepad && !direct, shapes, done);
}

// y = relu(conv(x) + bias) in one legacy call (Note [conv + bias + relu]), with the plan's
// forward algorithm and its workspace ws. *done is false where cuDNN declines the call (the
// plan remembers it, and the caller runs the convolution and k::bias_act instead).
Status run_bias_relu(CudaBackend* b, ConvPlan* pl, const ConvBuffers& bufs, const float* bias,
                     int64_t out_c, void* ws, const std::string& shapes, bool* done) {
  *done = false;
  if (pl->bias_relu_declined) return Status::ok();
  if (!pl->bias_relu_ready) {  // descriptors cuDNN refuses: the unfused path (Note [fused call fallback])
    if (!pl->bias.set_nhwc(1, (int)out_c, 1, 1).is_ok() || !pl->relu.set().is_ok()) {
      pl->bias_relu_declined = true;
      return Status::ok();
    }
    pl->bias_relu_ready = true;
  }
  const AlgoChoice& fwd = pl->dir(ConvDirection::kForward).legacy;
  cudnnStatus_t st = cudnn().cudnnConvolutionBiasActivationForward(
      b->cudnn_handle(), &kOne, pl->x.get(), bufs.x, pl->w.get(), bufs.w, pl->conv.get(),
      (cudnnConvolutionFwdAlgo_t)fwd.algo, ws, fwd.workspace, &kZero, pl->y.get(), bufs.out,
      pl->bias.get(), bias, pl->relu.get(), pl->y.get(), bufs.out);
  if (st == CUDNN_STATUS_SUCCESS) {
    note_legacy<ForwardConv>(fwd, pl->prepad, pl->graph, true);
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

// Direction D on the legacy API (by choice, or Note [graph API fallback]); forward with
// fused_bias first tries conv + bias + relu as one call (*fused says it ran).
template <typename D>
Status run_legacy(CudaBackend* b, ConvPlan* pl, const ConvBuffers& bufs, const float* fused_bias,
                  int64_t out_c, const std::string& shapes, bool* fused) {
  CN_RETURN_IF_ERROR(choose<D>(b, pl, bufs, shapes));
  const AlgoChoice& a = pl->dir(D::kDirection).legacy;
  Scratch ws;
  CN_RETURN_IF_ERROR(b->scratch(&ws, a.workspace));
  CN_RETURN_IF_ERROR(pl->conv.set_math(a.math));
  if constexpr (D::kDirection == ConvDirection::kForward) {
    if (fused_bias) {
      CN_RETURN_IF_ERROR(run_bias_relu(b, pl, bufs, fused_bias, out_c, ws.get(), shapes, fused));
      if (*fused) return Status::ok();
    }
  }
  note_legacy<D>(a, pl->prepad, pl->graph);
  return D::run(pl->legacy(b->cudnn_handle()), bufs, a.algo, ws.get(), a.workspace, shapes);
}

// The one run path of every direction D, on bufs (conv_traits.h): the first of these that
// takes it runs it. With prepad on the graph API, the unpadded operands with asymmetric
// padding; then, with prepad, explicit padding (x padded into scratch; for backward-data
// dx written padded into scratch and sliced back) on the graph API, then on the legacy API
// (Note [asymmetric padding], Note [graph API fallback]). fused_bias: see run_legacy.
template <typename D>
Status run_conv(CudaBackend* b, ConvPlan* pl, const Conv2DParams& p, ConvBuffers bufs,
                const float* fused_bias, const std::string& shapes, bool* fused) {
  constexpr bool kPadsOutput = D::kDirection == ConvDirection::kBackwardData;
  *fused = false;
  bool done = false;
  if (pl->graph && pl->prepad) CN_RETURN_IF_ERROR(run_graph(b, pl, D::kDirection, p, bufs, shapes, true, &done));
  if (done) return Status::ok();
  Scratch padded;
  void* const out = bufs.out;
  if (pl->prepad) {
    CN_RETURN_IF_ERROR(b->scratch(&padded, dtype_size(pl->dtype) * p.n * pl->xp_h * pl->xp_w * p.in_c));
    if (kPadsOutput) {
      bufs.out = padded.get();
    } else {
      CN_RETURN_IF_ERROR(prepad_input(b->stream(), padded.get(), bufs.x, p, *pl, shapes));
      bufs.x = padded.get();
    }
  }
  if (pl->graph) CN_RETURN_IF_ERROR(run_graph(b, pl, D::kDirection, p, bufs, shapes, false, &done));
  if (!done) CN_RETURN_IF_ERROR(run_legacy<D>(b, pl, bufs, fused_bias, p.out_c, shapes, fused));
  if (kPadsOutput && pl->prepad) CN_RETURN_IF_ERROR(unpad_output(b->stream(), out, bufs.out, p, *pl, shapes));
  return Status::ok();
}

}  // namespace

Status run_conv_direction(CudaBackend* b, ConvPlan* pl, ConvDirection dir, const Conv2DParams& p,
                          const ConvBuffers& bufs, const std::string& shapes) {
  bool fused = false;
  switch (dir) {
    case ConvDirection::kForward: return run_conv<ForwardConv>(b, pl, p, bufs, nullptr, shapes, &fused);
    case ConvDirection::kBackwardData: return run_conv<BackwardDataConv>(b, pl, p, bufs, nullptr, shapes, &fused);
    case ConvDirection::kBackwardFilter:
      return run_conv<BackwardFilterConv>(b, pl, p, bufs, nullptr, shapes, &fused);
  }
  return invalid_argument("conv2d: unknown direction");
}

}  // namespace cuda

Status CudaBackend::conv2d_forward(float* y, const float* x, const float* w, const float* bias,
                                   const Conv2DParams& p) {
  using namespace cuda;
  CN_RETURN_IF_ERROR(validate_conv("conv2d_forward", p));
  if (p.n == 0 || p.out_c == 0) return Status::ok();  // an empty y (Note [empty convolutions])
  std::string shapes = conv_shapes(p);
  ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(get_plan(conv_cache(), p, &pl));
  int64_t rsc = p.k_h * p.k_w * pl->cin_per_group;
  Scratch wk;
  CN_RETURN_IF_ERROR(scratch(&wk, sizeof(float) * rsc * p.out_c));
  CN_RETURN_IF_ERROR(transpose_2d(stream_, wk.f32(), w, rsc, p.out_c, shapes));
  ConvBuffers bufs;
  bufs.x = x;
  bufs.w = wk.f32();
  bufs.out = y;
  bool fused = false;
  CN_RETURN_IF_ERROR(run_conv<ForwardConv>(this, pl, p, bufs, bias && p.relu ? bias : nullptr, shapes, &fused));
  if (!fused && (bias || p.relu))
    CN_LAUNCH_CHECK(k::bias_act(stream_, y, bias, p.n * p.out_h * p.out_w, p.out_c, p.relu),
                    "bias/relu " + shapes);
  return Status::ok();
}

Status CudaBackend::conv2d_backward_data(float* dx, const float* dy, const float* w,
                                         const Conv2DParams& p) {
  using namespace cuda;
  CN_RETURN_IF_ERROR(validate_conv("conv2d_backward_data", p));
  if (p.n == 0) return Status::ok();
  if (p.out_c == 0) {  // no output channels: nothing flows back (Note [empty convolutions])
    CN_CUDA_CHECK(cudaMemsetAsync(dx, 0, sizeof(float) * p.n * p.in_h * p.in_w * p.in_c, stream_), conv_shapes(p));
    return Status::ok();
  }
  std::string shapes = conv_shapes(p);
  ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(get_plan(conv_cache(), p, &pl));
  int64_t rsc = p.k_h * p.k_w * pl->cin_per_group;
  Scratch wk;
  CN_RETURN_IF_ERROR(scratch(&wk, sizeof(float) * rsc * p.out_c));
  CN_RETURN_IF_ERROR(transpose_2d(stream_, wk.f32(), w, rsc, p.out_c, shapes));
  ConvBuffers bufs;
  bufs.w = wk.f32();
  bufs.y = dy;
  bufs.out = dx;
  bool fused = false;
  return run_conv<BackwardDataConv>(this, pl, p, bufs, nullptr, shapes, &fused);
}

Status CudaBackend::conv2d_backward_filter(float* dw, float* dbias, const float* x,
                                           const float* dy, const Conv2DParams& p) {
  using namespace cuda;
  CN_RETURN_IF_ERROR(validate_conv("conv2d_backward_filter", p));
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
  Scratch dwk;
  CN_RETURN_IF_ERROR(scratch(&dwk, sizeof(float) * rsc * p.out_c));
  ConvBuffers bufs;
  bufs.x = x;
  bufs.y = dy;
  bufs.out = dwk.f32();
  bool fused = false;
  CN_RETURN_IF_ERROR(run_conv<BackwardFilterConv>(this, pl, p, bufs, nullptr, shapes, &fused));
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
