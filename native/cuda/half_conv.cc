// CudaReducedPrecision convolutions (half_backend.h): forward, backward-data and
// backward-filter on bfloat16 / float16 data through cuDNN, with the float32 path's plans,
// algorithm choice, graph API and explicit padding (conv.cc's run_conv_direction).
//
// Note [reduced-precision convolutions]: x, the filter and y are described to cuDNN in the
// data type (CUDNN_DATA_BFLOAT16 / CUDNN_DATA_HALF) with a float compute type (cuDNN's
// PSEUDO_BFLOAT16 / PSEUDO_HALF configurations: products accumulated in float), on the
// legacy API with tensor-op math and on the graph API with tensor-core engines allowed, but
// never an engine whose numerical notes say it reduces in reduced precision (Note [graph API
// engines]). Both APIs require x, w and y of one data type, so:
//   - the filter gradient is computed in the data type into KRSC scratch, and the relayout
//     to HWIO that the float32 path runs anyway (Note [filter layout] in conv.cc) writes it
//     as float32 (or the data type) in the same pass: the rounding of dw to bf16 / fp16
//     happens once, inside cuDNN, as in TensorFlow's and PyTorch's GPU mixed precision
//     (autocast casts the bf16 weight gradient to the float32 master weight's type after);
//   - a float32 y (attr outDtype) or dx is computed in the data type and widened by the
//     epilogue pass (bias and ReLU, when there are any, run in that same pass);
//   - depthwise convolutions (their own entry points, HWCM filters) run as grouped ones on
//     the legacy API, as in float32;
//   - bias and ReLU are always that separate pass (k::rp_bias_act, bias float32 or the data
//     type), never cudnnConvolutionBiasActivationForward: its bias must be of y's type, and
//     the separate pass adds a float32 bias to the float result before its one rounding;
//   - the bias gradient (sum of dy over N, H, W) is summed from the 16-bit dy directly, in
//     double partial sums (batch norm's statistics pass, k::rp_column_sums), into float32.
#include "conv_plan.h"
#include "cuda_backend.h"
#include "half_backend.h"
#include "kernels/kernels.h"
#include "kernels/reduced_kernels.h"

namespace cn {

namespace {

using cuda::expect_typed;
constexpr DType kF32 = DType::kFloat32;

// The shared checks: x (or dy) and the filter of one reduced dtype, and p.depthwise as the
// entry point says (depthwise ones take an HWCM filter, run as a grouped convolution as the
// float32 path does; the rest an HWIO one).
Status conv_setup(const char* op, const TypedPtr& data, const TypedPtr& w, const Conv2DParams& p, bool depthwise,
                  DType* t) {
  CN_RETURN_IF_ERROR(expect_typed(op, "x", data, {DType::kBFloat16, DType::kFloat16}));
  *t = data.dtype;
  if (w) CN_RETURN_IF_ERROR(expect_typed(op, "filter", w, {*t}));
  CN_RETURN_IF_ERROR(cuda::validate_conv(op, p));
  if (p.depthwise != depthwise)
    return invalid_argument(std::string(op) + (depthwise ? ": expected depthwise parameters" : ": expected the parameters of a plain convolution"));
  return Status::ok();
}

// Rows of the filter as a [rsc, out_c] matrix (Note [filter layout] in conv.cc).
int64_t filter_rows(const Conv2DParams& p) { return p.k_h * p.k_w * (p.depthwise ? 1 : p.in_c); }

// filter HWIO / HWCM [rsc, out_c] (type t) -> KRSC [out_c, rsc] scratch of type t.
Status filter_to_krsc(CudaBackend* b, cuda::Scratch* wk, const TypedPtr& w, DType t, const Conv2DParams& p,
                      const std::string& shapes) {
  const int64_t rsc = filter_rows(p);
  CN_RETURN_IF_ERROR(b->scratch(wk, dtype_size(t) * rsc * p.out_c));
  CN_LAUNCH_CHECK(cuda::k::rp_transpose(b->stream(), wk->get(), (int)t, w.data, (int)t, rsc, p.out_c),
                  "filter relayout " + shapes);
  return Status::ok();
}

std::string typed_shapes(const Conv2DParams& p, DType t) { return cuda::conv_shapes(p) + " " + dtype_name(t); }


Status forward(CudaBackend* b_, const char* op, TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias,
               const Conv2DParams& p, bool depthwise) {
  DType t;
  cuda::ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(conv_setup(op, x, w, p, depthwise, &t));
  CN_RETURN_IF_ERROR(expect_typed(op, "y", y, {t, kF32}));
  if (bias) CN_RETURN_IF_ERROR(expect_typed(op, "bias", bias, {kF32, t}));
  if (p.n == 0 || p.out_c == 0) return Status::ok();  // an empty y (Note [empty convolutions])
  const std::string shapes = typed_shapes(p, t);
  CN_RETURN_IF_ERROR(cuda::get_plan(b_->conv_cache(), p, t, &pl));
  cuda::Scratch wk, yt;
  CN_RETURN_IF_ERROR(filter_to_krsc(b_, &wk, w, t, p, shapes));
  const int64_t rows = p.n * p.out_h * p.out_w;
  void* out = y.data;
  if (y.dtype != t) {  // float32 y: computed in t, widened by the epilogue
    CN_RETURN_IF_ERROR(b_->scratch(&yt, dtype_size(t) * rows * p.out_c));
    out = yt.get();
  }
  cuda::ConvBuffers bufs;
  bufs.x = x.data;
  bufs.w = wk.get();
  bufs.out = out;
  CN_RETURN_IF_ERROR(cuda::run_conv_direction(b_, pl, cuda::ConvDirection::kForward, p, bufs, shapes));
  if (bias || p.relu || out != y.data)
    CN_LAUNCH_CHECK(cuda::k::rp_bias_act(b_->stream(), y.data, (int)y.dtype, out, (int)t, bias.data,
                                         (int)bias.dtype, rows, p.out_c, p.relu),
                    "bias/relu " + shapes);
  return Status::ok();
}

Status backward_data(CudaBackend* b_, const char* op, TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p,
                     bool depthwise) {
  DType t;
  cuda::ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(conv_setup(op, dy, w, p, depthwise, &t));
  CN_RETURN_IF_ERROR(expect_typed(op, "dx", dx, {t, kF32}));
  const int64_t dx_n = p.n * p.in_h * p.in_w * p.in_c;
  if (p.n == 0) return Status::ok();
  const std::string shapes = typed_shapes(p, t);
  if (p.out_c == 0) {  // no output channels: nothing flows back (Note [empty convolutions])
    CN_CUDA_CHECK(cudaMemsetAsync(dx.data, 0, dtype_size(dx.dtype) * dx_n, b_->stream()), shapes);
    return Status::ok();
  }
  CN_RETURN_IF_ERROR(cuda::get_plan(b_->conv_cache(), p, t, &pl));
  cuda::Scratch wk, dxt;
  CN_RETURN_IF_ERROR(filter_to_krsc(b_, &wk, w, t, p, shapes));
  void* out = dx.data;
  if (dx.dtype != t) {
    CN_RETURN_IF_ERROR(b_->scratch(&dxt, dtype_size(t) * dx_n));
    out = dxt.get();
  }
  cuda::ConvBuffers bufs;
  bufs.w = wk.get();
  bufs.y = dy.data;
  bufs.out = out;
  CN_RETURN_IF_ERROR(cuda::run_conv_direction(b_, pl, cuda::ConvDirection::kBackwardData, p, bufs, shapes));
  if (out != dx.data)
    CN_LAUNCH_CHECK(cuda::k::rp_cast(b_->stream(), dx.data, (int)dx.dtype, out, (int)t, dx_n), "dx " + shapes);
  return Status::ok();
}

Status backward_filter(CudaBackend* b_, const char* op, TypedPtr dw, TypedPtr dbias, TypedPtr x, TypedPtr dy,
                       const Conv2DParams& p, bool depthwise) {
  DType t;
  cuda::ConvPlan* pl = nullptr;
  CN_RETURN_IF_ERROR(conv_setup(op, x, TypedPtr(), p, depthwise, &t));
  CN_RETURN_IF_ERROR(expect_typed(op, "dy", dy, {t}));
  CN_RETURN_IF_ERROR(expect_typed(op, "dw", dw, {kF32, t}));
  if (dbias) CN_RETURN_IF_ERROR(expect_typed(op, "dbias", dbias, {kF32}));
  const std::string shapes = typed_shapes(p, t);
  const int64_t rows = p.n * p.out_h * p.out_w, rsc = filter_rows(p);
  if (p.out_c == 0) return Status::ok();  // dw and dbias are empty (Note [empty convolutions])
  if (p.n == 0) {  // no samples: zero gradients
    CN_CUDA_CHECK(cudaMemsetAsync(dw.data, 0, dtype_size(dw.dtype) * rsc * p.out_c, b_->stream()), shapes);
    if (dbias) CN_CUDA_CHECK(cudaMemsetAsync(dbias.data, 0, sizeof(float) * p.out_c, b_->stream()), shapes);
    return Status::ok();
  }
  CN_RETURN_IF_ERROR(cuda::get_plan(b_->conv_cache(), p, t, &pl));
  cuda::Scratch dwk;
  CN_RETURN_IF_ERROR(b_->scratch(&dwk, dtype_size(t) * rsc * p.out_c));
  cuda::ConvBuffers bufs;
  bufs.x = x.data;
  bufs.y = dy.data;
  bufs.out = dwk.get();
  CN_RETURN_IF_ERROR(cuda::run_conv_direction(b_, pl, cuda::ConvDirection::kBackwardFilter, p, bufs, shapes));
  // KRSC [out_c, rsc] in t -> HWIO [rsc, out_c] in dw's type, one pass.
  CN_LAUNCH_CHECK(cuda::k::rp_transpose(b_->stream(), dw.data, (int)dw.dtype, dwk.get(), (int)t, p.out_c, rsc),
                  "filter gradient relayout " + shapes);
  if (dbias) {  // sum of dy over N, H, W, into float32
    cuda::Scratch part;
    CN_RETURN_IF_ERROR(b_->scratch(&part, sizeof(double) * cuda::k::bn_partials_size(rows, p.out_c)));
    CN_LAUNCH_CHECK(cuda::k::rp_column_sums(b_->stream(), static_cast<float*>(dbias.data),
                                            static_cast<double*>(part.get()), dy.data, (int)t, rows, p.out_c),
                    "bias gradient " + shapes);
  }
  return Status::ok();
}

}  // namespace

Status CudaReducedPrecision::conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias, const Conv2DParams& p) {
  return forward(b_, "conv2d_forward", y, x, w, bias, p, false);
}
Status CudaReducedPrecision::conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w, const Conv2DParams& p) {
  return backward_data(b_, "conv2d_backward_data", dx, dy, w, p, false);
}
Status CudaReducedPrecision::conv2d_backward_filter(TypedPtr dw, TypedPtr dbias, TypedPtr x, TypedPtr dy,
                                                    const Conv2DParams& p) {
  return backward_filter(b_, "conv2d_backward_filter", dw, dbias, x, dy, p, false);
}
Status CudaReducedPrecision::depthwise_conv2d_forward(TypedPtr y, TypedPtr x, TypedPtr w, TypedPtr bias,
                                                      const Conv2DParams& p) {
  return forward(b_, "depthwise_conv2d_forward", y, x, w, bias, p, true);
}
Status CudaReducedPrecision::depthwise_conv2d_backward_data(TypedPtr dx, TypedPtr dy, TypedPtr w,
                                                            const Conv2DParams& p) {
  return backward_data(b_, "depthwise_conv2d_backward_data", dx, dy, w, p, true);
}
Status CudaReducedPrecision::depthwise_conv2d_backward_filter(TypedPtr dw, TypedPtr x, TypedPtr dy,
                                                              const Conv2DParams& p) {
  return backward_filter(b_, "depthwise_conv2d_backward_filter", dw, TypedPtr(), x, dy, p, true);
}

}  // namespace cn
