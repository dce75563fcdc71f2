// image.cc: CpuBackend resize_bilinear and its backward on NHWC, with TensorFlow's
// ResizeBilinear / ResizeBilinearGrad arithmetic (same float expressions in the same order,
// so the forward reproduces TF's kernel bit for bit when no FMA contraction happens).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::parallel_for;

struct Interp {
  int64_t lo, hi;  // source indices
  float lerp;      // weight of hi
};

// TF: scale = align_corners && out > 1 ? (in - 1) / (out - 1) : in / out (in float);
// src = half_pixel ? (o + 0.5) * scale - 0.5 : o * scale; lo = max(floor(src), 0),
// hi = min(ceil(src), in - 1), lerp = src - floor(src).
void weights(std::vector<Interp>* w, int64_t out, int64_t in, bool align_corners, bool half_pixel) {
  const float scale = (align_corners && out > 1) ? (float)(in - 1) / (float)(out - 1)
                                                 : (float)in / (float)out;
  w->resize((size_t)out);
  for (int64_t o = 0; o < out; ++o) {
    const float src = half_pixel ? ((float)o + 0.5f) * scale - 0.5f : (float)o * scale;
    const float f = std::floor(src);
    Interp& it = (*w)[(size_t)o];
    it.lo = std::max<int64_t>((int64_t)f, 0);
    it.hi = std::min<int64_t>((int64_t)std::ceil(src), in - 1);
    it.lerp = src - f;
  }
}

// One output pixel's channels: TF's top/bottom lerps, in TF's operation order.
void lerp_pixel(float* o, const float* tl, const float* tr, const float* bl, const float* br,
                int64_t C, float xl, float yl) {
  for (int64_t c = 0; c < C; ++c) {
    const float t = tl[c] + (tr[c] - tl[c]) * xl;
    const float u = bl[c] + (br[c] - bl[c]) * xl;
    o[c] = t + (u - t) * yl;
  }
}

// d[c] += (g[c] * w) * x, as TF forms each product.
void accumulate_pixel(float* d, const float* g, int64_t C, float w, float x) {
  for (int64_t c = 0; c < C; ++c) d[c] += g[c] * w * x;
}

Status check_resize(const char* op, const ResizeParams& p) {
  if (p.n < 0 || p.in_h < 0 || p.in_w < 0 || p.c < 0 || p.out_h < 0 || p.out_w < 0)
    return invalid_argument(std::string(op) + ": negative size");
  if (p.align_corners && p.half_pixel_centers)
    return invalid_argument(std::string(op) +
                            ": align_corners and half_pixel_centers cannot both be true");
  if ((p.in_h == 0 || p.in_w == 0) && p.out_h > 0 && p.out_w > 0 && p.n > 0 && p.c > 0)
    return invalid_argument(std::string(op) + ": cannot resize an empty image [" +
                            std::to_string(p.in_h) + "," + std::to_string(p.in_w) + "] to [" +
                            std::to_string(p.out_h) + "," + std::to_string(p.out_w) + "]");
  return Status::ok();
}

}  // namespace

Status CpuBackend::resize_bilinear(float* y, const float* x, const ResizeParams& p) {
  CN_RETURN_IF_ERROR(check_resize("resize_bilinear", p));
  if (p.n == 0 || p.c == 0 || p.out_h == 0 || p.out_w == 0) return Status::ok();
  if (!y || !x) return invalid_argument("resize_bilinear: null buffer");
  std::vector<Interp> ys, xs;
  try {
    weights(&ys, p.out_h, p.in_h, p.align_corners, p.half_pixel_centers);
    weights(&xs, p.out_w, p.in_w, p.align_corners, p.half_pixel_centers);
  } catch (const std::bad_alloc&) {
    return out_of_memory("resize_bilinear: no memory for interpolation tables");
  }
  const int64_t C = p.c, row_out = p.out_w * C, row_in = p.in_w * C;
  parallel_for(p.n * p.out_h, cpu::row_grain(row_out * 4), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t img = row / p.out_h, oy = row % p.out_h;
      const Interp& iy = ys[(size_t)oy];
      const float* top = x + (img * p.in_h + iy.lo) * row_in;
      const float* bot = x + (img * p.in_h + iy.hi) * row_in;
      const float yl = iy.lerp;
      float* out = y + row * row_out;
      for (int64_t ox = 0; ox < p.out_w; ++ox) {
        const Interp& ix = xs[(size_t)ox];
        const float* tl = top + ix.lo * C;
        const float* tr = top + ix.hi * C;
        const float* bl = bot + ix.lo * C;
        const float* br = bot + ix.hi * C;
        lerp_pixel(out + ox * C, tl, tr, bl, br, C, ix.lerp, yl);
      }
    }
  });
  return Status::ok();
}

// Note [resize backward as a gather]: TF scatters each dy pixel into four dx pixels, which
// races when parallel. We instead give each thread whole dx rows: for every input row we
// list the output rows that read it (with their y weight), then scatter only along x, within
// the row the thread owns. Each product is formed as TF forms it, (dy * wy) * wx; only the
// order in which contributions to one dx pixel are summed can differ (a few ulps).
Status CpuBackend::resize_bilinear_backward(float* dx, const float* dy, const ResizeParams& p) {
  CN_RETURN_IF_ERROR(check_resize("resize_bilinear_backward", p));
  const int64_t C = p.c, row_out = p.out_w * C, row_in = p.in_w * C;
  const int64_t n_dx = p.n * p.in_h * row_in;
  if (n_dx == 0) return Status::ok();
  if (!dx || (!dy && p.out_h * row_out > 0))
    return invalid_argument("resize_bilinear_backward: null buffer");
  std::vector<Interp> ys, xs;
  std::vector<int64_t> start;  // CSR over input rows: entries [start[iy], start[iy+1])
  std::vector<int64_t> src_row;
  std::vector<float> wy;
  try {
    weights(&ys, p.out_h, p.in_h, p.align_corners, p.half_pixel_centers);
    weights(&xs, p.out_w, p.in_w, p.align_corners, p.half_pixel_centers);
    start.assign((size_t)p.in_h + 1, 0);
    for (const Interp& it : ys) {
      ++start[(size_t)it.lo + 1];
      ++start[(size_t)it.hi + 1];
    }
    for (int64_t i = 0; i < p.in_h; ++i) start[(size_t)i + 1] += start[(size_t)i];
    src_row.resize((size_t)start[(size_t)p.in_h]);
    wy.resize(src_row.size());
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t oy = 0; oy < p.out_h; ++oy) {  // ascending oy, top entry before bottom
      const Interp& it = ys[(size_t)oy];
      size_t k = (size_t)fill[(size_t)it.lo]++;
      src_row[k] = oy;
      wy[k] = 1.0f - it.lerp;
      k = (size_t)fill[(size_t)it.hi]++;
      src_row[k] = oy;
      wy[k] = it.lerp;
    }
  } catch (const std::bad_alloc&) {
    return out_of_memory("resize_bilinear_backward: no memory for interpolation tables");
  }
  const int64_t per_row = std::max<int64_t>(1, p.out_h * row_out / std::max<int64_t>(p.in_h, 1));
  parallel_for(p.n * p.in_h, cpu::row_grain(per_row * 4), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t img = row / p.in_h, iy = row % p.in_h;
      float* d = dx + row * row_in;
      std::fill(d, d + row_in, 0.0f);
      for (int64_t k = start[(size_t)iy]; k < start[(size_t)iy + 1]; ++k) {
        const float* g = dy + (img * p.out_h + src_row[(size_t)k]) * row_out;
        const float w = wy[(size_t)k];
        for (int64_t ox = 0; ox < p.out_w; ++ox) {
          const Interp& ix = xs[(size_t)ox];
          const float* gp = g + ox * C;
          accumulate_pixel(d + ix.lo * C, gp, C, w, 1.0f - ix.lerp);
          accumulate_pixel(d + ix.hi * C, gp, C, w, ix.lerp);
        }
      }
    }
  });
  return Status::ok();
}

}  // namespace cn
