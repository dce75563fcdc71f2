// NHWC image kernels: bilinear resize (TensorFlow semantics: half_pixel_centers or
// align_corners) forward and backward. Pooling is in pool.cu.
#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

struct Lerp {
  int64_t lo, hi;
  float t;
};

// TensorFlow's compute_interpolation_weights for one output coordinate.
__device__ __forceinline__ Lerp lerp_at(int64_t o, float scale, int64_t in, bool half_pixel) {
  float x = half_pixel ? ((float)o + 0.5f) * scale - 0.5f : (float)o * scale;
  float f = floorf(x);
  Lerp l;
  l.lo = max((int64_t)f, (int64_t)0);
  l.hi = min((int64_t)ceilf(x), in - 1);
  l.t = x - f;
  return l;
}

__global__ void resize_kernel(float* y, const float* x, ResizeDesc d) {
  CN_FOR_EACH(i, d.n * d.out_h * d.out_w * d.c) {
    int64_t c = i % d.c, t = i / d.c, ox = t % d.out_w;
    t /= d.out_w;
    int64_t oy = t % d.out_h, n = t / d.out_h;
    Lerp ly = lerp_at(oy, d.scale_h, d.in_h, d.half_pixel);
    Lerp lx = lerp_at(ox, d.scale_w, d.in_w, d.half_pixel);
    const float* img = x + n * d.in_h * d.in_w * d.c + c;
    float tl = img[(ly.lo * d.in_w + lx.lo) * d.c], tr = img[(ly.lo * d.in_w + lx.hi) * d.c];
    float bl = img[(ly.hi * d.in_w + lx.lo) * d.c], br = img[(ly.hi * d.in_w + lx.hi) * d.c];
    float top = tl + (tr - tl) * lx.t, bottom = bl + (br - bl) * lx.t;
    y[i] = top + (bottom - top) * ly.t;
  }
}

__global__ void resize_backward_kernel(float* dx, const float* dy, ResizeDesc d) {
  CN_FOR_EACH(i, d.n * d.out_h * d.out_w * d.c) {
    int64_t c = i % d.c, t = i / d.c, ox = t % d.out_w;
    t /= d.out_w;
    int64_t oy = t % d.out_h, n = t / d.out_h;
    Lerp ly = lerp_at(oy, d.scale_h, d.in_h, d.half_pixel);
    Lerp lx = lerp_at(ox, d.scale_w, d.in_w, d.half_pixel);
    float* img = dx + n * d.in_h * d.in_w * d.c + c;
    float g = dy[i];
    atomicAdd(img + (ly.lo * d.in_w + lx.lo) * d.c, g * (1.f - ly.t) * (1.f - lx.t));
    atomicAdd(img + (ly.lo * d.in_w + lx.hi) * d.c, g * (1.f - ly.t) * lx.t);
    atomicAdd(img + (ly.hi * d.in_w + lx.lo) * d.c, g * ly.t * (1.f - lx.t));
    atomicAdd(img + (ly.hi * d.in_w + lx.hi) * d.c, g * ly.t * lx.t);
  }
}

}  // namespace

cudaError_t resize_bilinear(cudaStream_t s, float* y, const float* x, const ResizeDesc& d) {
  int64_t n = d.n * d.out_h * d.out_w * d.c;
  if (n == 0) return cudaSuccess;
  resize_kernel<<<grid_for(n), kThreads, 0, s>>>(y, x, d);
  return cudaGetLastError();
}

cudaError_t resize_bilinear_backward(cudaStream_t s, float* dx, const float* dy,
                                     const ResizeDesc& d) {
  cudaError_t e = cudaMemsetAsync(dx, 0, sizeof(float) * d.n * d.in_h * d.in_w * d.c, s);
  int64_t n = d.n * d.out_h * d.out_w * d.c;
  if (e != cudaSuccess || n == 0) return e;
  resize_backward_kernel<<<grid_for(n), kThreads, 0, s>>>(dx, dy, d);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
