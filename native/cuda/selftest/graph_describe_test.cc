// Host test of the graph-API convolution descriptions (native/cuda/conv_graph.cc): for the
// layer shapes our models use, in every direction and pointer alignment, cuDNN itself
// finalizes the tensors, the convolution descriptor and the convolution node we build, and
// it refuses descriptions whose output extent does not follow from the input (so a wrong
// dimension, stride or padding order in ours would fail here). Needs no GPU: cuDNN's shim,
// graph and runtime-compiled engine libraries (scripts/fetch-cudnn-loader-test.sh) and
// CUDNN_NODE_CUDNN_PATH pointing at them. Built and run by test/cuda-graph-describe.test.ts;
// prints "N passed, M failed" last. The same in float16 and bfloat16 (Note
// [reduced-precision convolutions] in half_conv.cc), the legacy API's descriptors in all
// three types (plain and depthwise), and the cuDNN status -> error code mapping.
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/conv_graph.h"
#include "cuda/cuda_check.h"
#include "cuda/descriptors.h"
#include "cuda/loader.h"

using namespace cn;
using namespace cn::cuda;

namespace {

int passed = 0, failed = 0;

void expect(bool ok, const std::string& what, const std::string& detail) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL %s: %s\n", what.c_str(), detail.c_str());
  }
}

struct Layer {
  const char* name;
  int64_t n, h, w, c, k, r, stride, pad, dil;
};

int64_t out_extent(int64_t in, int64_t r, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - ((r - 1) * dil + 1)) / stride + 1;
}

ConvGeometry geometry(const Layer& l) {
  ConvGeometry g;
  g.n = l.n;
  g.c = l.c;
  g.h = l.h;
  g.w = l.w;
  g.k = l.k;
  g.r = l.r;
  g.s = l.r;
  g.pad_h = g.pad_w = l.pad;
  g.stride_h = g.stride_w = l.stride;
  g.dil_h = g.dil_w = l.dil;
  g.out_h = out_extent(l.h, l.r, l.stride, l.pad, l.dil);
  g.out_w = out_extent(l.w, l.r, l.stride, l.pad, l.dil);
  return g;
}

}  // namespace

int main() {
  std::vector<std::string> searched;
  LoadResult lr = load_cudnn(&searched);
  if (!lr.ok) {
    std::printf("cuDNN did not load: %s\n0 passed, 1 failed\n", lr.error.c_str());
    return 1;
  }
  std::printf("cuDNN %d from %s\n", lr.version, lr.path.c_str());
  const Layer layers[] = {
      {"fashion conv1 7x7 1->64", 8, 28, 28, 1, 64, 7, 1, 3, 1},
      {"fashion 3x3 128->256 @7", 8, 7, 7, 128, 256, 3, 1, 1, 1},
      {"resnet stem 7x7/2 3->64", 4, 224, 224, 3, 64, 7, 2, 3, 1},
      {"resnet 3x3 64->64 @56", 4, 56, 56, 64, 64, 3, 1, 1, 1},
      {"resnet shortcut 1x1/2 64->128", 4, 56, 56, 64, 128, 1, 2, 0, 1},
      {"resnet 3x3/2 256->512 @14", 4, 14, 14, 256, 512, 3, 2, 1, 1},
      {"dilated 3x3 d2 16->8", 2, 17, 13, 16, 8, 3, 1, 2, 2},
  };
  const ConvDirection dirs[] = {ConvDirection::kForward, ConvDirection::kBackwardData,
                                ConvDirection::kBackwardFilter};
  const char* dir_names[] = {"forward", "backward-data", "backward-filter"};
  for (const Layer& l : layers) {
    for (ConvDirection d : dirs) {
      for (int64_t align : {16, 8, 4}) {
        const std::string what = std::string(l.name) + " " + dir_names[(int)d] + " align " + std::to_string(align);
        Status s = graph_conv_check_description(d, geometry(l), align);
        expect(s.is_ok(), what, s.message());
      }
      // An output one row too tall (or the input's extent used for it) must be refused.
      ConvGeometry bad = geometry(l);
      bad.out_h += 1;
      Status s = graph_conv_check_description(d, bad, 16);
      expect(!s.is_ok(), std::string(l.name) + " " + dir_names[(int)d] + " with a wrong output height",
             "cuDNN accepted out_h " + std::to_string(bad.out_h));
    }
  }
  // Note [reduced-precision convolutions] (half_conv.cc): the same layers with float16 and
  // bfloat16 x, w and y (float accumulation) in every direction, at the 16-byte alignment the
  // allocator gives and at 8, 4 and 2 (graph_alignment's 2 for 16-bit pointers), and
  // the same wrong output height refused.
  for (cudnnDataType_t dt : {CUDNN_DATA_HALF, CUDNN_DATA_BFLOAT16}) {
    const char* type = dt == CUDNN_DATA_HALF ? "float16" : "bfloat16";
    for (const Layer& l : layers) {
      for (ConvDirection d : dirs) {
        ConvGeometry g = geometry(l);
        g.data_type = dt;
        for (int64_t align : {16, 8, 4, 2}) {
          Status s = graph_conv_check_description(d, g, align);
          expect(s.is_ok(), std::string(l.name) + " " + type + " " + dir_names[(int)d] + " align " + std::to_string(align),
                 s.message());
        }
        ConvGeometry bad = g;
        bad.out_h += 1;
        Status s = graph_conv_check_description(d, bad, 16);
        expect(!s.is_ok(), std::string(l.name) + " " + type + " " + dir_names[(int)d] + " with a wrong output height",
               "cuDNN accepted out_h " + std::to_string(bad.out_h));
      }
    }
  }
  // TensorFlow SAME at stride 2 on even inputs pads one row/column more at the bottom/right
  // (Note [asymmetric padding] in conv.cc): described on the unpadded input with pre and post
  // paddings, and refused when the post padding is dropped (the output no longer follows).
  struct Asym {
    const char* name;
    int64_t n, h, c, k, r, pre, post;
  };
  const Asym asym[] = {
      {"resnet stem 7x7/2 SAME @224", 4, 224, 3, 64, 7, 2, 3},
      {"resnet 3x3/2 SAME 64->128 @56", 4, 56, 64, 128, 3, 0, 1},
      {"resnet 3x3/2 SAME 256->512 @14", 4, 14, 256, 512, 3, 0, 1},
  };
  for (cudnnDataType_t dt : {CUDNN_DATA_FLOAT, CUDNN_DATA_HALF, CUDNN_DATA_BFLOAT16})
  for (const Asym& a : asym) {
    const std::string type = dt == CUDNN_DATA_FLOAT ? "" : dt == CUDNN_DATA_HALF ? " float16" : " bfloat16";
    ConvGeometry g;
    g.data_type = dt;
    g.n = a.n;
    g.c = a.c;
    g.h = g.w = a.h;
    g.k = a.k;
    g.r = g.s = a.r;
    g.pad_h = g.pad_w = a.pre;
    g.post_h = g.post_w = a.post;
    g.stride_h = g.stride_w = 2;
    g.out_h = g.out_w = (a.h + a.pre + a.post - a.r) / 2 + 1;
    for (ConvDirection d : dirs) {
      const std::string what = std::string(a.name) + type + " " + dir_names[(int)d] + " pre/post paddings";
      Status s = graph_conv_check_description(d, g, 16);
      expect(s.is_ok(), what, s.message());
      ConvGeometry bad = g;
      bad.post_h = a.pre;  // the symmetric description of the same output: one row short
      s = graph_conv_check_description(d, bad, 16);
      expect(!s.is_ok(), what + " without the post padding", "cuDNN accepted it");
    }
  }
  // The legacy API's descriptors (descriptors.h, as conv_plan.cc sets them) in float32,
  // float16 and bfloat16, plain and depthwise (grouped): cuDNN takes them without a device
  // and computes the output extent we expect from them.
  for (cudnnDataType_t dt : {CUDNN_DATA_FLOAT, CUDNN_DATA_HALF, CUDNN_DATA_BFLOAT16}) {
    const std::string type = dt == CUDNN_DATA_FLOAT ? "float32" : dt == CUDNN_DATA_HALF ? "float16" : "bfloat16";
    for (const Layer& l : layers) {
      for (bool depthwise : {false, true}) {
        const ConvGeometry g = geometry(l);
        const int groups = depthwise ? (int)g.c : 1;
        const int64_t k = depthwise ? g.c * 2 : g.k;  // depth multiplier 2
        TensorDesc x, y;
        FilterDesc w;
        ConvDesc conv;
        Status s = x.set_nhwc((int)g.n, (int)g.c, (int)g.h, (int)g.w, dt);
        if (s.is_ok()) s = y.set_nhwc((int)g.n, (int)k, (int)g.out_h, (int)g.out_w, dt);
        if (s.is_ok()) s = w.set_krsc((int)k, depthwise ? 1 : (int)g.c, (int)g.r, (int)g.s, dt);
        if (s.is_ok()) s = conv.set((int)g.pad_h, (int)g.pad_w, (int)g.stride_h, (int)g.stride_w, (int)g.dil_h, (int)g.dil_w, groups);
        if (s.is_ok()) s = conv.set_math(dt == CUDNN_DATA_FLOAT ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH);
        int dn = 0, dc = 0, dh = 0, dw = 0;
        if (s.is_ok() && cudnn().cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &dn, &dc, &dh, &dw) != CUDNN_STATUS_SUCCESS)
          s = backend_error("cudnnGetConvolution2dForwardOutputDim failed");
        const bool extent = dn == g.n && dc == k && dh == g.out_h && dw == g.out_w;
        expect(s.is_ok() && extent, std::string(l.name) + " legacy descriptors " + type + (depthwise ? " depthwise" : ""),
               s.is_ok() ? "output [" + std::to_string(dn) + "," + std::to_string(dc) + "," + std::to_string(dh) + "," + std::to_string(dw) + "]" : s.message());
      }
    }
  }
  // Note [cuDNN out of memory]: host (4003) and device (4004) allocation failures are
  // ERR_OUT_OF_MEMORY; another internal error is not.
  for (cudnnStatus_t st : {CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED,
                           CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED, CUDNN_STATUS_BAD_PARAM}) {
    Status s = cudnn_status(st, "cudnnBackendExecute", __FILE__, __LINE__, "status mapping");
    bool oom = st != CUDNN_STATUS_BAD_PARAM;
    expect(s.code() == (oom ? StatusCode::kOutOfMemory : StatusCode::kBackendError),
           "cuDNN status " + std::to_string((int)st) + " maps to " + (oom ? "ERR_OUT_OF_MEMORY" : "ERR_BACKEND"),
           std::string(status_code_name(s.code())) + ": " + s.message());
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
