// cuDNN's legacy convolution API, one traits struct per direction (forward, backward-data,
// backward-filter): the algorithm enum and perf types, the heuristics (Get*Algorithm_v7) and
// timed (Find*AlgorithmEx) candidate lists, whose perf entries carry each algorithm's
// workspace size, the call itself, and the matching graph-API direction. conv.cc chooses
// an algorithm and runs a convolution with one function each, generic over these.
//
// Operands are ConvBuffers (conv_graph.h) in every direction: forward reads x and w and
// writes out (y); backward-data reads w and y (dy) and writes out (dx); backward-filter
// reads x and y (dy) and writes out (dw, KRSC).
#pragma once
#include <cudnn.h>

#include <string>

#include "conv_graph.h"
#include "cuda_check.h"
#include "descriptors.h"

namespace cn {
namespace cuda {

// One convolution as the legacy API sees it: its descriptors (x and y NHWC, the KRSC
// filter w, the convolution) and the handle its calls run on.
struct LegacyConv {
  cudnnHandle_t handle;
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
};

// Every call writes out = 1 * op(inputs) + 0 * out.
constexpr float kOne = 1.f, kZero = 0.f;

struct ForwardConv {
  static constexpr ConvDirection kDirection = ConvDirection::kForward;
  static constexpr const char* kName = "forward";  // in messages
  static constexpr int kAlgoCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  using Algo = cudnnConvolutionFwdAlgo_t;
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  // The profiler's names of the algorithms, by number.
  static constexpr const char* kAlgoNames[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                               "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};

  static Status heuristics(const LegacyConv& c, Perf* perf, int* got, const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnGetConvolutionForwardAlgorithm_v7(c.handle, c.x, c.w, c.conv, c.y, kAlgoCount,
                                                                  got, perf),
                   shapes);
    return Status::ok();
  }
  static Status find(const LegacyConv& c, const ConvBuffers& b, Perf* perf, int* got, void* ws,
                     size_t ws_size, const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnFindConvolutionForwardAlgorithmEx(c.handle, c.x, b.x, c.w, b.w, c.conv, c.y, b.out,
                                                                  kAlgoCount, got, perf, ws, ws_size),
                   shapes);
    return Status::ok();
  }
  static Status run(const LegacyConv& c, const ConvBuffers& b, int algo, void* ws, size_t ws_size,
                    const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnConvolutionForward(c.handle, &kOne, c.x, b.x, c.w, b.w, c.conv, (Algo)algo, ws,
                                                   ws_size, &kZero, c.y, b.out),
                   shapes + " algo " + std::to_string(algo));
    return Status::ok();
  }
};

struct BackwardDataConv {
  static constexpr ConvDirection kDirection = ConvDirection::kBackwardData;
  static constexpr const char* kName = "backward-data";
  static constexpr int kAlgoCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr const char* kAlgoNames[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD",
                                               "WINOGRAD_NONFUSED"};

  static Status heuristics(const LegacyConv& c, Perf* perf, int* got, const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnGetConvolutionBackwardDataAlgorithm_v7(c.handle, c.w, c.y, c.conv, c.x, kAlgoCount,
                                                                       got, perf),
                   shapes);
    return Status::ok();
  }
  static Status find(const LegacyConv& c, const ConvBuffers& b, Perf* perf, int* got, void* ws,
                     size_t ws_size, const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnFindConvolutionBackwardDataAlgorithmEx(c.handle, c.w, b.w, c.y, b.y, c.conv, c.x,
                                                                       b.out, kAlgoCount, got, perf, ws, ws_size),
                   shapes);
    return Status::ok();
  }
  static Status run(const LegacyConv& c, const ConvBuffers& b, int algo, void* ws, size_t ws_size,
                    const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnConvolutionBackwardData(c.handle, &kOne, c.w, b.w, c.y, b.y, c.conv, (Algo)algo, ws,
                                                        ws_size, &kZero, c.x, b.out),
                   shapes + " algo " + std::to_string(algo));
    return Status::ok();
  }
};

struct BackwardFilterConv {
  static constexpr ConvDirection kDirection = ConvDirection::kBackwardFilter;
  static constexpr const char* kName = "backward-filter";
  static constexpr int kAlgoCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr const char* kAlgoNames[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD",
                                               "WINOGRAD_NONFUSED", "FFT_TILING"};

  static Status heuristics(const LegacyConv& c, Perf* perf, int* got, const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnGetConvolutionBackwardFilterAlgorithm_v7(c.handle, c.x, c.y, c.conv, c.w,
                                                                         kAlgoCount, got, perf),
                   shapes);
    return Status::ok();
  }
  static Status find(const LegacyConv& c, const ConvBuffers& b, Perf* perf, int* got, void* ws,
                     size_t ws_size, const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnFindConvolutionBackwardFilterAlgorithmEx(c.handle, c.x, b.x, c.y, b.y, c.conv, c.w,
                                                                         b.out, kAlgoCount, got, perf, ws, ws_size),
                   shapes);
    return Status::ok();
  }
  static Status run(const LegacyConv& c, const ConvBuffers& b, int algo, void* ws, size_t ws_size,
                    const std::string& shapes) {
    CN_CUDNN_CHECK(cudnn().cudnnConvolutionBackwardFilter(c.handle, &kOne, c.x, b.x, c.y, b.y, c.conv, (Algo)algo,
                                                          ws, ws_size, &kZero, c.w, b.out),
                   shapes + " algo " + std::to_string(algo));
    return Status::ok();
  }
};

}  // namespace cuda
}  // namespace cn
