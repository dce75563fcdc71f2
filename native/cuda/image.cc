// CudaBackend bilinear resize forward / backward (kernels/image.cu), TensorFlow semantics.
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {

std::string resize_ctx(const ResizeParams& p) {
  return "x=[" + std::to_string(p.n) + "," + std::to_string(p.in_h) + "," + std::to_string(p.in_w) +
         "," + std::to_string(p.c) + "] out=[" + std::to_string(p.out_h) + "," +
         std::to_string(p.out_w) + "]" + (p.align_corners ? " align_corners" : "") +
         (p.half_pixel_centers ? " half_pixel_centers" : "");
}

// TensorFlow's CalculateResizeScale.
float resize_scale(int64_t in, int64_t out, bool align_corners) {
  return (align_corners && out > 1) ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
}

Status make_desc(const char* op, const ResizeParams& p, cuda::k::ResizeDesc* d) {
  if (p.n < 0 || p.c < 0 || p.in_h <= 0 || p.in_w <= 0 || p.out_h <= 0 || p.out_w <= 0)
    return invalid_argument(std::string(op) + ": bad sizes " + resize_ctx(p));
  if (p.align_corners && p.half_pixel_centers)
    return invalid_argument(std::string(op) + ": align_corners and half_pixel_centers exclude each other");
  *d = {p.n, p.in_h, p.in_w, p.c, p.out_h, p.out_w, resize_scale(p.in_h, p.out_h, p.align_corners),
        resize_scale(p.in_w, p.out_w, p.align_corners), p.half_pixel_centers};
  return Status::ok();
}

}  // namespace

Status CudaBackend::resize_bilinear(float* y, const float* x, const ResizeParams& p) {
  cuda::k::ResizeDesc d;
  CN_RETURN_IF_ERROR(make_desc("resize_bilinear", p, &d));
  CN_LAUNCH_CHECK(cuda::k::resize_bilinear(stream_, y, x, d), "resize_bilinear " + resize_ctx(p));
  return Status::ok();
}

Status CudaBackend::resize_bilinear_backward(float* dx, const float* dy, const ResizeParams& p) {
  cuda::k::ResizeDesc d;
  CN_RETURN_IF_ERROR(make_desc("resize_bilinear_backward", p, &d));
  CN_LAUNCH_CHECK(cuda::k::resize_bilinear_backward(stream_, dx, dy, d),
                  "resize_bilinear_backward " + resize_ctx(p));
  return Status::ok();
}

}  // namespace cn
