// RAII owners for cuDNN descriptors (legacy API): created by the first set_*(), whose Status
// reports any failure, and destroyed with the owner.
#pragma once
#include <cudnn.h>

#include "cuda_check.h"

namespace cn {
namespace cuda {

class TensorDesc {
 public:
  TensorDesc() = default;
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  ~TensorDesc() {
    if (d_) cudnn().cudnnDestroyTensorDescriptor(d_);
  }
  // A 4-D tensor of type dt (float unless said) in NHWC layout with logical dims n, c, h, w.
  Status set_nhwc(int n, int c, int h, int w, cudnnDataType_t dt = CUDNN_DATA_FLOAT) {
    if (!d_) CN_CUDNN_CHECK(cudnn().cudnnCreateTensorDescriptor(&d_), "");
    CN_CUDNN_CHECK(cudnn().cudnnSetTensor4dDescriptor(d_, CUDNN_TENSOR_NHWC, dt, n,
                                                      c, h, w),
                   dims(n, c, h, w));
    return Status::ok();
  }
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  static std::string dims(int n, int c, int h, int w) {
    return "NHWC n=" + std::to_string(n) + " c=" + std::to_string(c) + " h=" +
           std::to_string(h) + " w=" + std::to_string(w);
  }
  cudnnTensorDescriptor_t d_ = nullptr;
};

class FilterDesc {
 public:
  FilterDesc() = default;
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  ~FilterDesc() {
    if (d_) cudnn().cudnnDestroyFilterDescriptor(d_);
  }
  // KRSC: [k out channels, r rows, s cols, c in channels per group].
  Status set_krsc(int k, int c, int r, int s, cudnnDataType_t dt = CUDNN_DATA_FLOAT) {
    if (!d_) CN_CUDNN_CHECK(cudnn().cudnnCreateFilterDescriptor(&d_), "");
    CN_CUDNN_CHECK(cudnn().cudnnSetFilter4dDescriptor(d_, dt, CUDNN_TENSOR_NHWC, k,
                                                      c, r, s),
                   "KRSC [" + std::to_string(k) + "," + std::to_string(r) + "," +
                       std::to_string(s) + "," + std::to_string(c) + "]");
    return Status::ok();
  }
  cudnnFilterDescriptor_t get() const { return d_; }

 private:
  cudnnFilterDescriptor_t d_ = nullptr;
};

// The compute type is float for every data type (float, and half / bfloat16 data with float
// accumulation: cuDNN's PSEUDO_HALF_CONFIG and PSEUDO_BFLOAT16_CONFIG).
class ConvDesc {
 public:
  ConvDesc() = default;
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  ~ConvDesc() {
    if (d_) cudnn().cudnnDestroyConvolutionDescriptor(d_);
  }
  Status set(int pad_h, int pad_w, int stride_h, int stride_w, int dil_h, int dil_w,
             int groups) {
    if (!d_) CN_CUDNN_CHECK(cudnn().cudnnCreateConvolutionDescriptor(&d_), "");
    CN_CUDNN_CHECK(cudnn().cudnnSetConvolution2dDescriptor(d_, pad_h, pad_w, stride_h, stride_w,
                                                           dil_h, dil_w, CUDNN_CROSS_CORRELATION,
                                                           CUDNN_DATA_FLOAT),
                   "pads " + std::to_string(pad_h) + "," + std::to_string(pad_w));
    CN_CUDNN_CHECK(cudnn().cudnnSetConvolutionGroupCount(d_, groups),
                   "groups " + std::to_string(groups));
    return Status::ok();
  }
  Status set_math(cudnnMathType_t m) {
    CN_CUDNN_CHECK(cudnn().cudnnSetConvolutionMathType(d_, m), "");
    return Status::ok();
  }
  cudnnConvolutionDescriptor_t get() const { return d_; }

 private:
  cudnnConvolutionDescriptor_t d_ = nullptr;
};

// A ReLU activation (max(x, 0), NaN propagated as TensorFlow's relu does), for the fused
// convolution + bias + ReLU call.
class ReluDesc {
 public:
  ReluDesc() = default;
  ReluDesc(const ReluDesc&) = delete;
  ReluDesc& operator=(const ReluDesc&) = delete;
  ~ReluDesc() {
    if (d_) cudnn().cudnnDestroyActivationDescriptor(d_);
  }
  Status set() {
    if (!d_) CN_CUDNN_CHECK(cudnn().cudnnCreateActivationDescriptor(&d_), "");
    CN_CUDNN_CHECK(cudnn().cudnnSetActivationDescriptor(d_, CUDNN_ACTIVATION_RELU,
                                                        CUDNN_PROPAGATE_NAN, 0.0),
                   "relu activation");
    return Status::ok();
  }
  cudnnActivationDescriptor_t get() const { return d_; }

 private:
  cudnnActivationDescriptor_t d_ = nullptr;
};

}  // namespace cuda
}  // namespace cn
