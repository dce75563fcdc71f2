// The per-shape state of a cuDNN convolution (conv.cc): its descriptors, the explicit
// padding the legacy API needs (Note [asymmetric padding]), and per direction the legacy
// algorithm and graph-API plans chosen so far; ConvCache keeps one per shape and setting.
#pragma once
#include <cudnn.h>

#include <cstdint>
#include <string>

#include "../core/backend.h"
#include "conv_graph.h"
#include "conv_traits.h"
#include "descriptors.h"

namespace cn {
class CudaBackend;
namespace cuda {

struct ConvCache;

// A legacy algorithm chosen for one direction of a plan.
struct AlgoChoice {
  bool valid = false;
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

// A graph-API plan for one direction and pointer alignment, built on first use.
struct GraphSlot {
  GraphConvPtr plan;
  bool declined = false;  // no engine built: the next path runs it, from then on
  // Note [transient graph failures]: calls to skip before building again after a build
  // failed only because memory was short (the next path runs them meanwhile).
  int retry_in = 0;
};

// What one direction of a plan has chosen: its legacy algorithm, and on the graph API one
// slot per pointer alignment (16, 8, 4, 2 bytes) on the explicitly padded input (or the input
// as it is, without prepad), plus, with prepad, one on the input as it is with asymmetric
// padding (direct; Note [asymmetric padding]).
struct DirectionPlan {
  AlgoChoice legacy;
  GraphSlot graph[4], direct[4];
};

struct ConvPlan {
  // The data type of x, w and y (float32, or bfloat16 / float16: Note [reduced-precision
  // convolutions] in half_conv.cc), and cuDNN's name for it.
  DType dtype = DType::kFloat32;
  cudnnDataType_t data_type = CUDNN_DATA_FLOAT;
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  int groups = 1;
  int64_t cin_per_group = 0;
  int64_t xp_h = 0, xp_w = 0;  // input extent cuDNN sees (after explicit padding)
  int64_t extra_top = 0, extra_bottom = 0, extra_left = 0, extra_right = 0;
  int64_t pad_h = 0, pad_w = 0;  // the symmetric padding cuDNN applies
  bool prepad = false;
  // tf32: tensor cores allowed (always, for bfloat16 / float16 data).
  bool tf32 = true, autotune = false;
  bool graph = false;  // plain convolutions on the graph API (convApi 'graph')
  DirectionPlan dirs[3];  // by ConvDirection
  // Note [conv + bias + relu]: the bias [1, out_c, 1, 1] and ReLU descriptors (set on first
  // use), and whether cuDNN declined the fused call for this shape.
  TensorDesc bias;
  ReluDesc relu;
  bool bias_relu_ready = false, bias_relu_declined = false;

  DirectionPlan& dir(ConvDirection d) { return dirs[(int)d]; }
  LegacyConv legacy(cudnnHandle_t h) const { return {h, x.get(), y.get(), w.get(), conv.get()}; }
};

// "x=[..] filter=[..] y=[..] strides=.. dilations=.. pads=..", for messages.
std::string conv_shapes(const Conv2DParams& p);
// The shared validator (core/params.h), so cpu and cuda accept the same structs, plus
// cuDNN's own limit: its descriptors take int32 extents.
Status validate_conv(const char* op, const Conv2DParams& p);
// The plan of p on data of dtype (float32, bfloat16, float16) under the current cuda
// options, made on first use.
Status get_plan(ConvCache* cache, const Conv2DParams& p, DType dtype, ConvPlan** out);
inline Status get_plan(ConvCache* cache, const Conv2DParams& p, ConvPlan** out) {
  return get_plan(cache, p, DType::kFloat32, out);
}

// Runs direction dir of pl on bufs (conv.cc's one run path: the graph API where chosen, else
// the legacy API; explicit padding where needed), with no epilogue: the operands are of
// pl's data type, the filter in KRSC.
Status run_conv_direction(CudaBackend* b, ConvPlan* pl, ConvDirection dir, const Conv2DParams& p,
                          const ConvBuffers& bufs, const std::string& shapes);

}  // namespace cuda
}  // namespace cn
