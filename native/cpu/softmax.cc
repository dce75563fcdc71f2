// softmax.cc: CpuBackend softmax / log-softmax over the last axis of [rows, cols], their
// backward, and the fused sparse softmax cross-entropy. One row per task; rows go parallel.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::kGrainHeavy;
using cpu::parallel_for;

Status check_rows(const char* op, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    return invalid_argument(std::string(op) + ": negative size [" + std::to_string(rows) + "," +
                            std::to_string(cols) + "]");
  return Status::ok();
}

// Row maximum in eight lanes (vectorizes). NaN inputs need no special care: they reach
// the output through exp(x - max) anyway.
inline float row_max(const float* x, int64_t n) {
  float lane[8];
  for (int k = 0; k < 8; ++k) lane[k] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] = x[i + k] > lane[k] ? x[i + k] : lane[k];
  for (; i < n; ++i) lane[0] = x[i] > lane[0] ? x[i] : lane[0];
  float m = lane[0];
  for (int k = 1; k < 8; ++k) m = lane[k] > m ? lane[k] : m;
  return m;
}

// Sum of exp(x - m) over the row, accumulated in double.
inline double row_sum_exp(const float* x, int64_t n, float m) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return s;
}

}  // namespace

// Note [stable softmax]: every row is shifted by its maximum before exp, so the largest
// term is exp(0) = 1 and nothing overflows; log-softmax is (x - max) - log(sum), never
// log(softmax), so tiny probabilities keep their precision. y may alias x.
Status CpuBackend::softmax(float* y, const float* x, int64_t rows, int64_t cols, bool log) {
  CN_RETURN_IF_ERROR(check_rows("softmax", rows, cols));
  if (rows == 0 || cols == 0) return Status::ok();
  if (!y || !x) return invalid_argument("softmax: null buffer");
  parallel_for(rows, cpu::row_grain(cols, kGrainHeavy), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      const float m = row_max(xr, cols);
      if (log) {
        const float ls = (float)std::log(row_sum_exp(xr, cols, m));
        for (int64_t i = 0; i < cols; ++i) yr[i] = (xr[i] - m) - ls;
      } else {
        double s = 0.0;
        for (int64_t i = 0; i < cols; ++i) {
          const float ei = std::exp(xr[i] - m);
          yr[i] = ei;
          s += ei;
        }
        const float inv = (float)(1.0 / s);
        for (int64_t i = 0; i < cols; ++i) yr[i] *= inv;
      }
    }
  });
  return Status::ok();
}

// softmax:     dx = y * (dy - sum(dy * y))
// log-softmax: dx = dy - exp(y) * sum(dy)
Status CpuBackend::softmax_backward(float* dx, const float* dy, const float* y, int64_t rows,
                                    int64_t cols, bool log) {
  CN_RETURN_IF_ERROR(check_rows("softmax_backward", rows, cols));
  if (rows == 0 || cols == 0) return Status::ok();
  if (!dx || !dy || !y) return invalid_argument("softmax_backward: null buffer");
  parallel_for(rows, cpu::row_grain(cols, log ? kGrainHeavy : cpu::kGrain), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* g = dy + r * cols;
      const float* yr = y + r * cols;
      float* d = dx + r * cols;
      double s = 0.0;
      if (log) {
        for (int64_t i = 0; i < cols; ++i) s += g[i];
        const float sf = (float)s;
        for (int64_t i = 0; i < cols; ++i) d[i] = g[i] - std::exp(yr[i]) * sf;
      } else {
        for (int64_t i = 0; i < cols; ++i) s += (double)g[i] * yr[i];
        const float sf = (float)s;
        for (int64_t i = 0; i < cols; ++i) d[i] = yr[i] * (g[i] - sf);
      }
    }
  });
  return Status::ok();
}

// loss[r] = logsumexp(logits[r]) - logits[r, label] = log(sum) - (logits[r, label] - max);
// dlogits = softmax - onehot, unscaled (the caller divides by the batch if it wants a mean).
Status CpuBackend::sparse_softmax_cross_entropy(float* loss, float* dlogits, const float* logits,
                                                const int32_t* labels, int64_t rows,
                                                int64_t cols) {
  CN_RETURN_IF_ERROR(check_rows("sparse_softmax_cross_entropy", rows, cols));
  if (rows == 0) return Status::ok();
  if (!loss || !logits || !labels) return invalid_argument("sparse_softmax_cross_entropy: null buffer");
  // Labels are checked before anything is written, so a bad batch leaves no partial output.
  for (int64_t r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= cols)
      return invalid_argument("sparse_softmax_cross_entropy: label " + std::to_string(labels[r]) +
                              " at row " + std::to_string(r) + " is outside [0, " +
                              std::to_string(cols) + ")");
  parallel_for(rows, cpu::row_grain(cols, kGrainHeavy), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = logits + r * cols;
      const int32_t label = labels[r];
      const float m = row_max(xr, cols);
      double s;
      if (dlogits) {
        float* d = dlogits + r * cols;
        s = 0.0;
        for (int64_t i = 0; i < cols; ++i) {
          const float ei = std::exp(xr[i] - m);
          d[i] = ei;
          s += ei;
        }
        const float inv = (float)(1.0 / s);
        for (int64_t i = 0; i < cols; ++i) d[i] *= inv;
        d[label] -= 1.0f;
      } else {
        s = row_sum_exp(xr, cols, m);
      }
      loss[r] = (float)std::log(s) - (xr[label] - m);
    }
  });
  return Status::ok();
}

}  // namespace cn
