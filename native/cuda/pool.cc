// CudaBackend 2-D max / average pooling over NHWC, on our own kernels (kernels/pool.cu).
//
// Note [API choice: pooling]: neither cuDNN API, but direct kernels. Pooling is memory-bound,
// so cuDNN has nothing to win here, and its (legacy) pooling does not fit our semantics:
// padding is symmetric only (TensorFlow's SAME puts the odd extra row at the bottom),
// max-pool backward needs the forward output y, which the Backend interface does not pass
// (it recomputes the argmax from x, as the cpu backend does), and ties must go to the first
// maximum in the window, as TensorFlow. The kernels match all three exactly; average pooling
// excludes padding from the count, as TensorFlow. If cuDNN pooling is wanted later (graph
// API resample ops), this file is the one to change.
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {

std::string pool_shapes(const Pool2DParams& p) { return pool2d_shapes(p); }

// The shared validator (core/params.h), so cpu and cuda accept the same structs.
Status validate(const char* op, const Pool2DParams& p, cuda::k::PoolDesc* d) {
  CN_RETURN_IF_ERROR(validate_pool2d_params(op, p));
  *d = {p.kind == PoolKind::kMax, p.n, p.in_h, p.in_w, p.c, p.out_h, p.out_w, p.k_h, p.k_w,
        p.stride_h, p.stride_w, p.pad_top, p.pad_left};
  return Status::ok();
}

}  // namespace

Status CudaBackend::pool2d_forward(float* y, const float* x, const Pool2DParams& p) {
  cuda::k::PoolDesc d;
  CN_RETURN_IF_ERROR(validate("pool2d_forward", p, &d));
  CN_LAUNCH_CHECK(cuda::k::pool_forward(stream_, y, x, d), "pool2d_forward " + pool_shapes(p));
  return Status::ok();
}

Status CudaBackend::pool2d_backward(float* dx, const float* dy, const float* x,
                                    const Pool2DParams& p) {
  cuda::k::PoolDesc d;
  CN_RETURN_IF_ERROR(validate("pool2d_backward", p, &d));
  cuda::Scratch at;  // max pooling's per-window argmax (Note [pooling backward by gather])
  CN_RETURN_IF_ERROR(scratch(&at, cuda::k::pool_backward_scratch(d)));
  CN_LAUNCH_CHECK(cuda::k::pool_backward(stream_, dx, dy, x, static_cast<int*>(at.get()), d),
                  "pool2d_backward " + pool_shapes(p));
  return Status::ok();
}

Status CudaBackend::max_pool_gather(float* y, const float* src, const float* x,
                                    const Pool2DParams& p) {
  cuda::k::PoolDesc d;
  CN_RETURN_IF_ERROR(validate("max_pool_gather", p, &d));
  if (!d.max) return invalid_argument("max_pool_gather: expected max pooling parameters");
  CN_LAUNCH_CHECK(cuda::k::max_pool_gather(stream_, y, src, x, d), "max_pool_gather " + pool_shapes(p));
  return Status::ok();
}

}  // namespace cn
