// softmax.cc: CpuBackend softmax / log-softmax over the last axis of [rows, cols], their
// backward, and the fused sparse softmax cross-entropy. Rows are independent and go
// parallel; each row is a few passes of leaf loops.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::parallel_for;

Status check_rows(const char* op, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0)
    return invalid_argument(std::string(op) + ": negative size [" + std::to_string(rows) + "," +
                            std::to_string(cols) + "]");
  return Status::ok();
}

// Note [row kernels]: row reductions use 16 vertical lanes over a [n / 16, 16] view (a
// loop shape GCC vectorizes without -ffast-math; a single running sum does not, and a
// double running sum costs an add latency per element). Sums accumulate in double.
constexpr int64_t kLanes = 16;

// Row maximum. NaN needs no care here: it reaches the output through exp(x - max).
float row_max(const float* x, int64_t n) {
  float lane[kLanes];
  for (int64_t k = 0; k < kLanes; ++k) lane[k] = -std::numeric_limits<float>::infinity();
  const int64_t blocks = n / kLanes;
  for (int64_t r = 0; r < blocks; ++r)
    for (int64_t k = 0; k < kLanes; ++k) {
      const float v = x[r * kLanes + k];
      lane[k] = v > lane[k] ? v : lane[k];
    }
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = blocks * kLanes; i < n; ++i) m = x[i] > m ? x[i] : m;
  for (int64_t k = 0; k < kLanes; ++k) m = lane[k] > m ? lane[k] : m;
  return m;
}

// sum(a[i] * b[i]) in double; b == nullptr sums a alone.
double row_dot(const float* a, const float* b, int64_t n) {
  double lane[kLanes] = {0};
  const int64_t blocks = n / kLanes;
  if (b) {
    for (int64_t r = 0; r < blocks; ++r)
      for (int64_t k = 0; k < kLanes; ++k)
        lane[k] += (double)a[r * kLanes + k] * (double)b[r * kLanes + k];
  } else {
    for (int64_t r = 0; r < blocks; ++r)
      for (int64_t k = 0; k < kLanes; ++k) lane[k] += (double)a[r * kLanes + k];
  }
  double s = 0.0;
  for (int64_t i = blocks * kLanes; i < n; ++i) s += b ? (double)a[i] * b[i] : (double)a[i];
  for (int64_t k = 0; k < kLanes; ++k) s += lane[k];
  return s;
}

// y[i] = exp(x[i] - m) (y may alias x); returns the sum of the row (in double).
double exp_shifted(float* y, const float* x, int64_t n, float m) {
  for (int64_t i = 0; i < n; ++i) y[i] = cpu::exp_f(x[i] - m);
  return row_dot(y, nullptr, n);
}

double sum_exp_shifted(const float* x, int64_t n, float m) {
  double lane[kLanes] = {0};
  const int64_t blocks = n / kLanes;
  for (int64_t r = 0; r < blocks; ++r)
    for (int64_t k = 0; k < kLanes; ++k) lane[k] += cpu::exp_f(x[r * kLanes + k] - m);
  double s = 0.0;
  for (int64_t i = blocks * kLanes; i < n; ++i) s += cpu::exp_f(x[i] - m);
  for (int64_t k = 0; k < kLanes; ++k) s += lane[k];
  return s;
}

void scale_row(float* y, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) y[i] *= c;
}
void log_softmax_row(float* y, const float* x, int64_t n, float m, float log_sum) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_sum;
}
void softmax_grad_row(float* dx, const float* dy, const float* y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - s);
}
void log_softmax_grad_row(float* dx, const float* dy, const float* y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] - cpu::exp_f(y[i]) * s;
}

}  // namespace

// Note [stable softmax]: every row is shifted by its maximum before exp, so the largest
// term is exp(0) = 1 and nothing overflows; log-softmax is (x - max) - log(sum), never
// log(softmax), so tiny probabilities keep their precision. y may alias x.
Status CpuBackend::softmax(float* y, const float* x, int64_t rows, int64_t cols, bool log) {
  CN_RETURN_IF_ERROR(check_rows("softmax", rows, cols));
  if (rows == 0 || cols == 0) return Status::ok();
  if (!y || !x) return invalid_argument("softmax: null buffer");
  parallel_for(rows, cpu::row_grain(cols * 4), [=](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      const float m = row_max(xr, cols);
      if (log) {
        // (x - m) - log(sum): m + log(sum) first would lose the low bits of x - m.
        const float ls = (float)std::log(sum_exp_shifted(xr, cols, m));
        log_softmax_row(yr, xr, cols, m, ls);
      } else {
        const double s = exp_shifted(yr, xr, cols, m);
        scale_row(yr, cols, (float)(1.0 / s));
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
  const int64_t grain = cpu::row_grain(cols * 2);
  parallel_for(rows, grain, [=](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* g = dy + r * cols;
      const float* yr = y + r * cols;
      float* d = dx + r * cols;
      if (log)
        log_softmax_grad_row(d, g, yr, cols, (float)row_dot(g, nullptr, cols));
      else
        softmax_grad_row(d, g, yr, cols, (float)row_dot(g, yr, cols));
    }
  });
  return Status::ok();
}

// loss[r] = logsumexp(logits[r]) - logits[r, label] = log(sum) - (logits[r, label] - max);
// dlogits = softmax - onehot, unscaled (the caller divides by the batch if it wants a mean).
Status CpuBackend::sparse_softmax_cross_entropy(float* loss, float* dlogits, const float* logits,
                                                const int32_t* labels, int64_t rows,
                                                int64_t cols) {
  const char* op = "sparse_softmax_cross_entropy";
  CN_RETURN_IF_ERROR(check_rows(op, rows, cols));
  if (rows == 0) return Status::ok();
  if (!loss || !logits || !labels) return invalid_argument(std::string(op) + ": null buffer");
  // Labels are checked before anything is written, so a bad batch leaves no partial output.
  for (int64_t r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= cols)
      return invalid_argument(std::string(op) + ": label " + std::to_string(labels[r]) +
                              " at row " + std::to_string(r) + " is outside [0, " +
                              std::to_string(cols) + ")");
  parallel_for(rows, cpu::row_grain(cols * 4), [=](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = logits + r * cols;
      const int32_t label = labels[r];
      const float m = row_max(xr, cols);
      double s;
      if (dlogits) {
        float* d = dlogits + r * cols;
        s = exp_shifted(d, xr, cols, m);
        scale_row(d, cols, (float)(1.0 / s));
        d[label] -= 1.0f;
      } else {
        s = sum_exp_shifted(xr, cols, m);
      }
      loss[r] = (float)std::log(s) - (xr[label] - m);
    }
  });
  return Status::ok();
}

}  // namespace cn
