// Convolutions on cuDNN's graph (backend) API: one operation graph of a single convolution
// node per shape, direction and pointer alignment, an engine chosen from cuDNN's heuristics
// (or timed, with autotune), and its execution plan, kept for reuse. conv.cc decides when to
// use it (Note [API choice: convolution]); this file knows nothing of our tensors' layouts
// beyond the geometry it is given.
//
// Note [graph API engines]: candidates are heuristics mode A's engine configs, then the
// fallback list's. An engine whose numerical notes say it down-converts inputs or reduces in
// reduced precision is never used (fp32 in, fp32 accuracy expected); one with the tensor-core
// note (TF32 on fp32 data) only where TF32 is allowed; an engine compiled at run time (NVRTC,
// up to seconds per finalize) only when no precompiled one is usable. Without autotune the
// first candidate that finalizes and whose workspace can be allocated is taken; with
// autotune up to kGraphAutotuneCandidates of them are timed on the call's buffers (the best
// of two batches of back-to-back runs, so that launch cost does not decide between engines
// whose kernels take microseconds) and the fastest kept (as PyTorch's cudnn.benchmark does
// over the same lists).
#pragma once
#include <cudnn.h>

#include <cstdint>
#include <memory>
#include <string>

#include "../core/status.h"

namespace cn {
class CudaBackend;
namespace cuda {

enum class ConvDirection { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };

// Note [convolution workspace cap]: no convolution algorithm or graph engine whose workspace
// exceeds 1 GiB is used, on either API, and autotuning times candidates in at most 1 GiB:
// an engine that wants more would take memory the step's tensors need.
constexpr size_t kConvWorkspaceCap = size_t(1) << 30;

// One plain (ungrouped) convolution as cuDNN sees it: x [n, c, h, w] and y [n, k, out_h,
// out_w] in NHWC memory, the filter KRSC [k, c, r, s], zero padding pad_h / pad_w before
// (top / left) and post_h / post_w after (bottom / right; negative: the same as before), all
// three tensors of data_type (FLOAT, or HALF / BFLOAT16 for Note [reduced-precision
// convolutions] in half_conv.cc), accumulated in float whatever it is.
struct ConvGeometry {
  cudnnDataType_t data_type = CUDNN_DATA_FLOAT;
  int64_t n = 0, c = 0, h = 0, w = 0;
  int64_t k = 0, r = 0, s = 0;
  int64_t out_h = 0, out_w = 0;
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t post_h = -1, post_w = -1;
  int64_t bottom() const { return post_h < 0 ? pad_h : post_h; }
  int64_t right() const { return post_w < 0 ? pad_w : post_w; }
};

// The three operands. forward writes y from x and w; backward-data writes x (dx) from y (dy)
// and w; backward-filter writes w (dw) from x and y (dy).
struct ConvBuffers {
  const void* x = nullptr;
  const void* w = nullptr;
  const void* y = nullptr;
  void* out = nullptr;  // the written one: y, x or w by direction
};

constexpr int kGraphAutotuneCandidates = 16;

class GraphConv;
struct GraphConvDeleter {
  void operator()(GraphConv* g) const;
};
using GraphConvPtr = std::unique_ptr<GraphConv, GraphConvDeleter>;

// Largest of 16, 8, 4 and 2 bytes that every pointer is aligned to (2 only with 16-bit data):
// part of the plan's key, since an engine may rely on the alignment it was planned for.
int64_t graph_alignment(const ConvBuffers& bufs);

// Builds the plan (Note [graph API engines]); bufs are used only to time candidates.
Status graph_conv_build(CudaBackend* b, ConvDirection dir, const ConvGeometry& g, bool tf32,
                        bool autotune, int64_t alignment, const ConvBuffers& bufs,
                        GraphConvPtr* out);
size_t graph_conv_workspace(const GraphConv& plan);
// Builds and finalizes only the graph's tensors, convolution descriptor and node, which
// need no device: cuDNN's own validation of what we describe, for host tests
// (native/cuda/selftest/graph_describe_test.cc).
Status graph_conv_check_description(ConvDirection dir, const ConvGeometry& g, int64_t alignment);
// "engine 12" (cuDNN's global engine index), for error messages.
std::string graph_conv_engine(const GraphConv& plan);
// Runs the plan on b's stream with a workspace of at least graph_conv_workspace() bytes.
Status graph_conv_run(CudaBackend* b, const GraphConv& plan, const ConvBuffers& bufs,
                      void* workspace);

}  // namespace cuda
}  // namespace cn
