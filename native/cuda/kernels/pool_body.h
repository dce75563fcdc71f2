// What each thread of the pooling kernels does (pool.cu), as host + device functions of the
// thread's first index t0 and the grid's thread count, plus the launch geometry. The kernels
// are one-line wrappers, so test/cuda-host-kernels.test.ts runs these very functions on the
// host, thread by thread with the launchers' geometry, against a plain double-precision
// pooling (native/cuda/selftest/host_pool_test.cc): indexing, windows clipped by padding,
// empty windows, ties and vector widths are checked without a GPU.
//
// Semantics (TensorFlow's): max pooling takes the first maximum of a window in row-major
// window order; average pooling divides by the number of elements inside the image (padding
// excluded); an empty window (all padding) yields 0 and receives no gradient.
//
// Note [pooling index arithmetic]: an item's coordinates come from divisions by c, out_w and
// out_h. 64-bit integer division is a long software sequence on the GPU, so the kernels are
// instantiated for int32 indices, used whenever every offset fits (int64 otherwise), and each
// thread moves W = 4 channels (16-byte loads and stores) where c % 4 == 0 and the arrays are
// aligned, so the division runs once per four elements.
//
// Note [pooling backward by gather]: the backward runs over dx, not dy: each input element
// adds up dy of the windows that cover it (at most ceil(k / stride) per axis). So every dx
// element is written exactly once: no zero fill, no atomics, and the result is deterministic.
// Max pooling first stores each window's argmax (window-relative, int32) in scratch; an input
// element takes the gradient of a window where it is that argmax.
#pragma once
#include <cstdint>

#include "grid.h"
#include "vector_access.h"

namespace cn {
namespace cuda {
namespace k {
namespace pool {

// The pooling geometry in the index type I (int or int64_t).
template <typename I>
struct Geom {
  I n, in_h, in_w, c, out_h, out_w, k_h, k_w, s_h, s_w, pad_top, pad_left;
};

// ---- launch geometry (host)

// int32 indices suffice when every element offset of x and y (and the grid-stride loop's
// 64-bit counter, cast per item) fits.
inline bool fits_int32(int64_t n, int64_t in_h, int64_t in_w, int64_t c, int64_t out_h, int64_t out_w) {
  const int64_t lim = INT32_MAX;
  return n * in_h * in_w * c < lim && n * out_h * out_w * c < lim;
}

// Channels per thread: 4 where c allows it and every array is 16-byte aligned (elem_bytes 2:
// the 16-bit storage types, whose arrays need 8-byte alignment; the int32 argmax scratch
// comes from the allocator, always 16-byte aligned).
inline int width(int64_t c, const void* a, const void* b = nullptr, const void* d = nullptr,
                 const void* e = nullptr, int64_t elem_bytes = 4) {
  return c % 4 == 0 && aligned_vec(a, elem_bytes) && aligned_vec(b, elem_bytes) && aligned_vec(d, elem_bytes) &&
                 aligned16(e)
             ? 4
             : 1;
}

struct Launch {
  unsigned blocks;
  int threads;
};
inline Launch launch(int64_t items) { return {grid_for(items), kThreads}; }

// ---- per-thread work (host + device)
//
// x, y, dy, dx and src are of the storage type T (float, Bf16, Fp16, half_types.h): loads
// widen to float, the window's max or sum is taken in float, and the one store rounds.

template <typename I>
CN_HD I min_of(I a, I b) { return a < b ? a : b; }
template <typename I>
CN_HD I max_of(I a, I b) { return a > b ? a : b; }

// Output item v (W channels of one output pixel): its coordinates, the window's unclipped
// corner (hs, ws) and the clipped rows [h0, h1) and columns [w0, w1).
template <typename I>
struct Window {
  I n, g, hs, ws, h0, h1, w0, w1;
};

template <typename I, int W>
CN_HD Window<I> window_of(const Geom<I>& d, I v) {
  const I groups = d.c / W;
  Window<I> w;
  w.g = v % groups;
  I t = v / groups;
  const I ox = t % d.out_w;
  t /= d.out_w;
  const I oy = t % d.out_h;
  w.n = t / d.out_h;
  w.hs = oy * d.s_h - d.pad_top;
  w.ws = ox * d.s_w - d.pad_left;
  w.h0 = max_of<I>(w.hs, 0);
  w.w0 = max_of<I>(w.ws, 0);
  w.h1 = min_of<I>(w.hs + d.k_h, d.in_h);
  w.w1 = min_of<I>(w.ws + d.k_w, d.in_w);
  return w;
}

// The first maximum of each channel of window w: its window-relative position
// ((h - hs) * k_w + (v - ws); -1 for an empty window) and, if best is given, its value.
template <typename I, int W, typename T>
CN_HD void argmax_of(int (&at)[W], float (&best)[W], const T* x, const Geom<I>& d,
                     const Window<I>& w) {
  for (int j = 0; j < W; ++j) at[j] = -1, best[j] = 0.f;
  const T* base = x + w.n * d.in_h * d.in_w * d.c + w.g * W;
  for (I h = w.h0; h < w.h1; ++h)
    for (I v = w.w0; v < w.w1; ++v) {
      float e[W];
      load<W>(e, base + (h * d.in_w + v) * d.c);
      const int rel = (int)((h - w.hs) * d.k_w + (v - w.ws));
      for (int j = 0; j < W; ++j)
        if (at[j] < 0 || e[j] > best[j]) best[j] = e[j], at[j] = rel;
    }
}

// y = max or average over each window, output items t0, t0 + stride, ... < items.
template <typename I, int W, typename T>
CN_HD void forward_thread(T* y, const T* x, Geom<I> d, bool max, int64_t items,
                          int64_t t0, int64_t stride) {
  for (int64_t t = t0; t < items; t += stride) {
    const Window<I> w = window_of<I, W>(d, (I)t);
    float out[W];
    if (max) {
      int at[W];
      argmax_of<I, W>(at, out, x, d, w);
    } else {
      for (int j = 0; j < W; ++j) out[j] = 0.f;
      const T* base = x + w.n * d.in_h * d.in_w * d.c + w.g * W;
      for (I h = w.h0; h < w.h1; ++h)
        for (I v = w.w0; v < w.w1; ++v) {
          float e[W];
          load<W>(e, base + (h * d.in_w + v) * d.c);
          for (int j = 0; j < W; ++j) out[j] += e[j];
        }
      const I count = (w.h1 - w.h0) * (w.w1 - w.w0);
      for (int j = 0; j < W; ++j) out[j] = count > 0 ? out[j] / (float)count : 0.f;
    }
    store<W>(y + (I)t * W, out);
  }
}

// at[o] = window o's argmax position (window-relative, -1 if empty), per channel.
template <typename I, int W, typename T>
CN_HD void argmax_thread(int* at, const T* x, Geom<I> d, int64_t items, int64_t t0,
                         int64_t stride) {
  for (int64_t t = t0; t < items; t += stride) {
    int a[W];
    float best[W];
    argmax_of<I, W>(a, best, x, d, window_of<I, W>(d, (I)t));
    store<W>(at + (I)t * W, a);
  }
}

// y[o] = src at window o's first maximum of x (max pooling's second derivative); 0 if empty.
template <typename I, int W, typename T>
CN_HD void gather_thread(T* y, const T* src, const T* x, Geom<I> d, int64_t items,
                         int64_t t0, int64_t stride) {
  for (int64_t t = t0; t < items; t += stride) {
    const Window<I> w = window_of<I, W>(d, (I)t);
    int a[W];
    float best[W], out[W];
    argmax_of<I, W>(a, best, x, d, w);
    const T* base = src + w.n * d.in_h * d.in_w * d.c + w.g * W;
    for (int j = 0; j < W; ++j) {
      const I h = w.hs + a[j] / d.k_w, v = w.ws + a[j] % d.k_w;
      out[j] = a[j] < 0 ? 0.f : to_f(base[(h * d.in_w + v) * d.c + j]);
    }
    store<W>(y + (I)t * W, out);
  }
}

// dx over input items t0, t0 + stride, ... < items (W channels of one input pixel): the sum
// of dy over the windows covering it, where it is the window's argmax (max: `at` from
// argmax_thread) or divided by the window's count (average; at is null).
template <typename I, int W, typename T>
CN_HD void backward_thread(T* dx, const T* dy, const int* at, Geom<I> d, int64_t items,
                           int64_t t0, int64_t stride) {
  const I groups = d.c / W;
  for (int64_t t = t0; t < items; t += stride) {
    const I item = (I)t;
    const I g = item % groups;
    I r = item / groups;
    const I x = r % d.in_w;
    r /= d.in_w;
    const I h = r % d.in_h, n = r / d.in_h;
    // Windows oy with oy * s_h - pad_top <= h < oy * s_h - pad_top + k_h (likewise ox).
    const I hp = h + d.pad_top, xp = x + d.pad_left;
    const I oy0 = hp - d.k_h + 1 <= 0 ? 0 : (hp - d.k_h + d.s_h) / d.s_h;
    const I oy1 = min_of<I>(hp / d.s_h, d.out_h - 1);
    const I ox0 = xp - d.k_w + 1 <= 0 ? 0 : (xp - d.k_w + d.s_w) / d.s_w;
    const I ox1 = min_of<I>(xp / d.s_w, d.out_w - 1);
    float acc[W];
    for (int j = 0; j < W; ++j) acc[j] = 0.f;
    for (I oy = oy0; oy <= oy1; ++oy)
      for (I ox = ox0; ox <= ox1; ++ox) {
        const I o = ((n * d.out_h + oy) * d.out_w + ox) * d.c + g * W;
        float gv[W];
        load<W>(gv, dy + o);
        const I hs = oy * d.s_h - d.pad_top, ws = ox * d.s_w - d.pad_left;
        if (at) {
          int a[W];
          load<W>(a, at + o);
          const int rel = (int)((h - hs) * d.k_w + (x - ws));
          for (int j = 0; j < W; ++j)
            if (a[j] == rel) acc[j] += gv[j];
        } else {
          const I count = (min_of<I>(hs + d.k_h, d.in_h) - max_of<I>(hs, 0)) *
                          (min_of<I>(ws + d.k_w, d.in_w) - max_of<I>(ws, 0));
          for (int j = 0; j < W; ++j) acc[j] += gv[j] / (float)count;
        }
      }
    store<W>(dx + item * W, acc);
  }
}

}  // namespace pool
}  // namespace k
}  // namespace cuda
}  // namespace cn
