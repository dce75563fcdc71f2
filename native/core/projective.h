// TensorFlow's ImageProjectiveTransformV3 per output pixel, shared by the cpu loop and the
// cuda kernel (host + device code): out[b, y, x, c] = image[b] sampled at the point that
// the 8-parameter transform [a0, a1, a2, b0, b1, b2, c0, c1] maps the output point (x, y) to:
//   k = c0 x + c1 y + 1, in_x = (a0 x + a1 y + a2) / k, in_y = (b0 x + b1 y + b2) / k,
// the coordinates mapped by the fill mode (reflect, wrap, constant, nearest), then read with
// nearest or bilinear interpolation; points outside the image read fill_value. Keras 3's
// RandomRotation is this with a rotation about the image center.
#pragma once
#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define CN_HD __host__ __device__ __forceinline__
#else
#define CN_HD inline
#endif

namespace cn {

enum class FillMode : int { kReflect = 0, kWrap = 1, kConstant = 2, kNearest = 3 };

struct ProjectiveParams {
  int64_t n = 0, h = 0, w = 0, c = 0, out_h = 0, out_w = 0;
  bool per_image = true;  // transforms is [n, 8]; else one [1, 8] transform for every image
  bool bilinear = true;   // else nearest
  FillMode fill_mode = FillMode::kConstant;
  float fill_value = 0.f;
};

// TensorFlow's map_coordinate for one axis of length len.
CN_HD float projective_map_coordinate(float in, int64_t len, FillMode mode) {
  float c = in;
  const float l = (float)len;
  if (mode == FillMode::kConstant) return c;
  if (mode == FillMode::kReflect) {
    if (c < 0.f) {
      if (len <= 1) {
        c = 0.f;
      } else {
        const float sz2 = 2.f * l;
        if (c < sz2) c = sz2 * (float)(int64_t)(-c / sz2) + c;
        c = c < -l ? c + sz2 : -c - 1.f;
      }
    } else if (c > l - 1.f) {
      if (len <= 1) {
        c = 0.f;
      } else {
        const float sz2 = 2.f * l;
        c -= sz2 * (float)(int64_t)(c / sz2);
        if (c >= l) c = sz2 - c - 1.f;
      }
    }
  } else if (mode == FillMode::kWrap) {
    if (c < 0.f) {
      if (len <= 1) c = 0.f;
      else c += l * ((float)(int64_t)(-c / (l - 1.f)) + 1.f);
    } else if (c > l - 1.f) {
      if (len <= 1) c = 0.f;
      else c -= l * (float)(int64_t)(c / (l - 1.f));
    }
  }
  return c < 0.f ? 0.f : (c > l - 1.f ? l - 1.f : c);
}

CN_HD float projective_read(const float* img, const ProjectiveParams& p, int64_t y, int64_t x,
                            int64_t ch) {
  return (y >= 0 && y < p.h && x >= 0 && x < p.w) ? img[(y * p.w + x) * p.c + ch] : p.fill_value;
}

// One output value: img is image b's [h, w, c] data, t its 8 transform parameters.
CN_HD float projective_sample(const float* img, const float* t, const ProjectiveParams& p,
                              int64_t oy, int64_t ox, int64_t ch) {
  const float fx = (float)ox, fy = (float)oy;
  const float k = t[6] * fx + t[7] * fy + 1.f;
  if (k == 0.f) return p.fill_value;
  const float x = projective_map_coordinate((t[0] * fx + t[1] * fy + t[2]) / k, p.w, p.fill_mode);
  const float y = projective_map_coordinate((t[3] * fx + t[4] * fy + t[5]) / k, p.h, p.fill_mode);
  if (!p.bilinear) return projective_read(img, p, (int64_t)roundf(y), (int64_t)roundf(x), ch);
  const float y0 = floorf(y), x0 = floorf(x), y1 = y0 + 1.f, x1 = x0 + 1.f;
  const int64_t iy0 = (int64_t)y0, ix0 = (int64_t)x0, iy1 = iy0 + 1, ix1 = ix0 + 1;
  const float top = (x1 - x) * projective_read(img, p, iy0, ix0, ch) + (x - x0) * projective_read(img, p, iy0, ix1, ch);
  const float bot = (x1 - x) * projective_read(img, p, iy1, ix0, ch) + (x - x0) * projective_read(img, p, iy1, ix1, ch);
  return (y1 - y) * top + (y - y0) * bot;
}

}  // namespace cn
