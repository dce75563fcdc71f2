// NHWC image kernels: bilinear resize (TensorFlow semantics: half_pixel_centers or
// align_corners) forward and backward, and 2-D max / average pooling forward and backward.
// Note [pooling kernels]: see pool.cc for why pooling runs on these rather than cuDNN.
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

// The window of output element i: its batch/channel base pointer offset and corner.
struct Window {
  int64_t base, h0, w0, h1, w1;  // rows [h0, h1) and columns [w0, w1) inside the image
};

__device__ __forceinline__ Window window_of(int64_t i, const PoolDesc& d) {
  int64_t c = i % d.c, t = i / d.c, ox = t % d.out_w;
  t /= d.out_w;
  int64_t oy = t % d.out_h, n = t / d.out_h;
  int64_t hs = oy * d.stride_h - d.pad_top, ws = ox * d.stride_w - d.pad_left;
  Window w;
  w.base = n * d.in_h * d.in_w * d.c + c;
  w.h0 = max(hs, (int64_t)0);
  w.w0 = max(ws, (int64_t)0);
  w.h1 = min(hs + d.k_h, d.in_h);
  w.w1 = min(ws + d.k_w, d.in_w);
  return w;
}

// Offset of the window's first maximum in row-major window order (TensorFlow's tie-break);
// -1 for an empty window.
__device__ __forceinline__ int64_t argmax_in(const float* x, const Window& w, const PoolDesc& d) {
  int64_t best_at = -1;
  float best = 0.f;
  for (int64_t h = w.h0; h < w.h1; ++h)
    for (int64_t v = w.w0; v < w.w1; ++v) {
      int64_t at = w.base + (h * d.in_w + v) * d.c;
      float val = x[at];
      if (best_at < 0 || val > best) {
        best = val;
        best_at = at;
      }
    }
  return best_at;
}

__global__ void pool_forward_kernel(float* y, const float* x, PoolDesc d) {
  CN_FOR_EACH(i, d.n * d.out_h * d.out_w * d.c) {
    Window w = window_of(i, d);
    if (d.max) {
      int64_t at = argmax_in(x, w, d);
      y[i] = at < 0 ? 0.f : x[at];
    } else {
      float sum = 0.f;
      for (int64_t h = w.h0; h < w.h1; ++h)
        for (int64_t v = w.w0; v < w.w1; ++v) sum += x[w.base + (h * d.in_w + v) * d.c];
      int64_t count = (w.h1 - w.h0) * (w.w1 - w.w0);  // padding excluded, as TensorFlow
      y[i] = count > 0 ? sum / (float)count : 0.f;
    }
  }
}

__global__ void max_pool_gather_kernel(float* y, const float* src, const float* x, PoolDesc d) {
  CN_FOR_EACH(i, d.n * d.out_h * d.out_w * d.c) {
    int64_t at = argmax_in(x, window_of(i, d), d);
    y[i] = at < 0 ? 0.f : src[at];
  }
}

__global__ void pool_backward_kernel(float* dx, const float* dy, const float* x, PoolDesc d) {
  CN_FOR_EACH(i, d.n * d.out_h * d.out_w * d.c) {
    Window w = window_of(i, d);
    float g = dy[i];
    if (d.max) {
      int64_t at = argmax_in(x, w, d);
      if (at >= 0) atomicAdd(dx + at, g);
    } else {
      int64_t count = (w.h1 - w.h0) * (w.w1 - w.w0);
      if (count <= 0) continue;
      float share = g / (float)count;
      for (int64_t h = w.h0; h < w.h1; ++h)
        for (int64_t v = w.w0; v < w.w1; ++v) atomicAdd(dx + w.base + (h * d.in_w + v) * d.c, share);
    }
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

cudaError_t pool_forward(cudaStream_t s, float* y, const float* x, const PoolDesc& d) {
  int64_t n = d.n * d.out_h * d.out_w * d.c;
  if (n == 0) return cudaSuccess;
  pool_forward_kernel<<<grid_for(n), kThreads, 0, s>>>(y, x, d);
  return cudaGetLastError();
}

cudaError_t max_pool_gather(cudaStream_t s, float* y, const float* src, const float* x,
                            const PoolDesc& d) {
  int64_t n = d.n * d.out_h * d.out_w * d.c;
  if (n == 0) return cudaSuccess;
  max_pool_gather_kernel<<<grid_for(n), kThreads, 0, s>>>(y, src, x, d);
  return cudaGetLastError();
}

cudaError_t pool_backward(cudaStream_t s, float* dx, const float* dy, const float* x,
                          const PoolDesc& d) {
  cudaError_t e = cudaMemsetAsync(dx, 0, sizeof(float) * d.n * d.in_h * d.in_w * d.c, s);
  int64_t n = d.n * d.out_h * d.out_w * d.c;
  if (e != cudaSuccess || n == 0) return e;
  pool_backward_kernel<<<grid_for(n), kThreads, 0, s>>>(dx, dy, x, d);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
