// ConvPlan (conv_plan.h): descriptors and explicit padding per convolution shape and
// setting, made on first use and cached in the backend's ConvCache.
#include <algorithm>
#include <climits>
#include <mutex>
#include <unordered_map>

#include "conv_plan.h"
#include "cuda_backend.h"

namespace cn {
namespace cuda {

std::string conv_shapes(const Conv2DParams& p) {
  return std::string(p.depthwise ? "depthwise " : "") + "x=" + shape_str(p.input_shape()) +
         " filter=" + shape_str(p.filter_shape()) + " y=" + shape_str(p.output_shape()) +
         " strides=[" + std::to_string(p.stride_h) + "," + std::to_string(p.stride_w) +
         "] dilations=[" + std::to_string(p.dil_h) + "," + std::to_string(p.dil_w) +
         "] pads=[" + std::to_string(p.pad_top) + "," + std::to_string(p.pad_bottom) + "," +
         std::to_string(p.pad_left) + "," + std::to_string(p.pad_right) + "]";
}

Status validate_conv(const char* op, const Conv2DParams& p) {
  CN_RETURN_IF_ERROR(validate_conv2d_params(op, p));
  for (int64_t d : {p.n, p.in_h + p.pad_top + p.pad_bottom, p.in_w + p.pad_left + p.pad_right,
                    p.in_c, p.out_c})
    if (d > INT_MAX) return invalid_argument(std::string(op) + ": dimension too large for cuDNN " + conv_shapes(p));
  return Status::ok();
}

namespace {

std::string plan_key(const Conv2DParams& p, DType dtype, bool tf32, bool autotune, bool graph) {
  int64_t v[] = {(int64_t)dtype, p.n, p.in_h, p.in_w, p.in_c, p.k_h, p.k_w, p.out_c, p.stride_h, p.stride_w,
                 p.dil_h, p.dil_w, p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, p.out_h,
                 p.out_w, p.depthwise, p.depth_multiplier, tf32, autotune, graph};
  return std::string(reinterpret_cast<const char*>(v), sizeof(v));
}

}  // namespace

struct ConvCache {
  std::mutex mu;
  std::unordered_map<std::string, std::unique_ptr<ConvPlan>> plans;
};

void ConvCacheDeleter::operator()(ConvCache* c) const { delete c; }

// One plan per shape and setting: descriptors now, each direction's choices (lazily) in conv.cc.
Status get_plan(ConvCache* cache, const Conv2DParams& p, DType dtype, ConvPlan** out) {
  if (dtype != DType::kFloat32 && dtype != DType::kBFloat16 && dtype != DType::kFloat16)
    return invalid_argument(std::string("conv2d: cuDNN convolutions take float32, bfloat16 or float16, not ") +
                            dtype_name(dtype));
  // Tensor cores always for bf16 / fp16 data (the TF32 switch is about float32 inputs).
  bool tf32 = options().allow_tf32 || dtype != DType::kFloat32, autotune = options().autotune;
  bool graph = options().graph_conv && !p.depthwise;
  std::string key = plan_key(p, dtype, tf32, autotune, graph);
  std::lock_guard<std::mutex> lock(cache->mu);
  auto it = cache->plans.find(key);
  if (it != cache->plans.end()) {
    *out = it->second.get();
    return Status::ok();
  }
  auto pl = std::make_unique<ConvPlan>();
  pl->dtype = dtype;
  pl->data_type = dtype == DType::kBFloat16 ? CUDNN_DATA_BFLOAT16 : dtype == DType::kFloat16 ? CUDNN_DATA_HALF
                                                                                              : CUDNN_DATA_FLOAT;
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

  CN_RETURN_IF_ERROR(pl->x.set_nhwc((int)p.n, (int)p.in_c, (int)pl->xp_h, (int)pl->xp_w, pl->data_type));
  CN_RETURN_IF_ERROR(pl->y.set_nhwc((int)p.n, (int)p.out_c, (int)p.out_h, (int)p.out_w, pl->data_type));
  CN_RETURN_IF_ERROR(pl->w.set_krsc((int)p.out_c, (int)pl->cin_per_group, (int)p.k_h, (int)p.k_w, pl->data_type));
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

}  // namespace cuda

cuda::ConvCache* CudaBackend::conv_cache() {
  if (!conv_cache_) conv_cache_.reset(new cuda::ConvCache());
  return conv_cache_.get();
}

}  // namespace cn
