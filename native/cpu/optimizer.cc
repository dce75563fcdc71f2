// optimizer.cc: CpuBackend sgd_update, adam_update (Adam and Nadam) and rmsprop_update,
// in place on the weights and slots, with Keras 3 update rules. Scalars are computed in
// float32 in the order Keras computes them, so trajectories track Keras closely.
#include <cmath>
#include <cstdint>
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::kGrain;
using cpu::parallel_for;

// Note [optimizer kernels]: each update loop is a function whose pointers are __restrict
// parameters and whose scalars are by-value parameters. Weights and slots are distinct
// buffers; saying so (GCC honours restrict on parameters, not on locals) and keeping the
// scalars out of memory lets the loops vectorize without runtime overlap checks.
#define CN_R __restrict

void sgd_kernel(float* CN_R w, const float* CN_R g, int64_t b, int64_t e, float lr) {
  for (int64_t i = b; i < e; ++i) w[i] -= g[i] * lr;
}
void sgd_momentum_kernel(float* CN_R w, float* CN_R v, const float* CN_R g, int64_t b, int64_t e,
                         float lr, float mom, bool nesterov) {
  if (nesterov) {
    for (int64_t i = b; i < e; ++i) {
      v[i] = v[i] * mom - g[i] * lr;
      w[i] += v[i] * mom - g[i] * lr;
    }
  } else {
    for (int64_t i = b; i < e; ++i) {
      v[i] = v[i] * mom - g[i] * lr;
      w[i] += v[i];
    }
  }
}
void adam_kernel(float* CN_R w, float* CN_R m, float* CN_R v, const float* CN_R g, int64_t b,
                 int64_t e, float one_m_b1, float one_m_b2, float alpha, float eps) {
  for (int64_t i = b; i < e; ++i) {
    m[i] += (g[i] - m[i]) * one_m_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_m_b2;
    w[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + eps);
  }
}
void nadam_kernel(float* CN_R w, float* CN_R m, float* CN_R v, const float* CN_R g, int64_t b,
                  int64_t e, float one_m_b1, float one_m_b2, float u_t1, float c_m, float c_g,
                  float c_gd, float c_v, float lr, float eps) {
  for (int64_t i = b; i < e; ++i) {
    m[i] += (g[i] - m[i]) * one_m_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_m_b2;
    const float m_hat = (u_t1 * m[i]) / c_m + (c_g * g[i]) / c_gd;
    const float v_hat = v[i] / c_v;
    w[i] -= (m_hat * lr) / (std::sqrt(v_hat) + eps);
  }
}
// Four RMSprop variants so each loop is branch-free.
void rmsprop_kernel(float* CN_R w, float* CN_R s, const float* CN_R g, int64_t b, int64_t e,
                    float lr, float rho, float one_m_rho, float eps) {
  for (int64_t i = b; i < e; ++i) {
    s[i] = rho * s[i] + one_m_rho * (g[i] * g[i]);
    w[i] -= (lr * g[i]) / std::sqrt(s[i] + eps);
  }
}
void rmsprop_momentum_kernel(float* CN_R w, float* CN_R s, float* CN_R mo, const float* CN_R g,
                             int64_t b, int64_t e, float lr, float rho, float one_m_rho, float eps,
                             float mu) {
  for (int64_t i = b; i < e; ++i) {
    s[i] = rho * s[i] + one_m_rho * (g[i] * g[i]);
    mo[i] = mu * mo[i] + (lr * g[i]) / std::sqrt(s[i] + eps);
    w[i] -= mo[i];
  }
}
void rmsprop_centered_kernel(float* CN_R w, float* CN_R s, float* CN_R mg, const float* CN_R g,
                             int64_t b, int64_t e, float lr, float rho, float one_m_rho,
                             float eps) {
  for (int64_t i = b; i < e; ++i) {
    s[i] = rho * s[i] + one_m_rho * (g[i] * g[i]);
    mg[i] = rho * mg[i] + one_m_rho * g[i];
    w[i] -= (lr * g[i]) / std::sqrt(s[i] - mg[i] * mg[i] + eps);
  }
}
void rmsprop_centered_momentum_kernel(float* CN_R w, float* CN_R s, float* CN_R mo, float* CN_R mg,
                                      const float* CN_R g, int64_t b, int64_t e, float lr,
                                      float rho, float one_m_rho, float eps, float mu) {
  for (int64_t i = b; i < e; ++i) {
    s[i] = rho * s[i] + one_m_rho * (g[i] * g[i]);
    mg[i] = rho * mg[i] + one_m_rho * g[i];
    mo[i] = mu * mo[i] + (lr * g[i]) / std::sqrt(s[i] - mg[i] * mg[i] + eps);
    w[i] -= mo[i];
  }
}

#undef CN_R

Status check_common(const char* op, const float* w, const float* g, int64_t n) {
  if (n < 0)
    return invalid_argument(std::string(op) + ": negative element count " + std::to_string(n));
  if (n > 0 && (!w || !g)) return invalid_argument(std::string(op) + ": null weights or gradient");
  return Status::ok();
}

Status read_step(const char* op, const float* step, float* t) {
  if (!step) return invalid_argument(std::string(op) + ": null step");
  *t = *step;
  if (!(*t >= 1.0f))
    return invalid_argument(std::string(op) + ": step must be >= 1 (1-based) but is " +
                            std::to_string(*t));
  return Status::ok();
}

// Keras 3 Nadam's u_product after step t: prod_{i=1..t} beta1 * (1 - 0.5 * 0.96^(0.004 i)),
// multiplied in float32 in Keras's order. The product underflows to 0 within a few hundred
// steps, after which it stays 0, so the loop stops there. A per-thread memo turns the usual
// call sequence (every variable at step t, then t + 1) into O(1) per call.
float nadam_u_product(float beta1, int64_t t) {
  static thread_local float memo_beta1 = NAN, memo_product = 1.0f;
  static thread_local int64_t memo_t = 0;
  int64_t i = 1;
  float prod = 1.0f;
  if (memo_beta1 == beta1 && memo_t <= t) {
    i = memo_t + 1;
    prod = memo_product;
  }
  for (; i <= t && prod != 0.0f; ++i)
    prod = prod * beta1 * (1.0f - 0.5f * std::pow(0.96f, (float)i * 0.004f));
  memo_beta1 = beta1;
  memo_t = t;
  memo_product = prod;
  return prod;
}

}  // namespace

// momentum > 0: v = momentum * v - lr * g; w += nesterov ? momentum * v - lr * g : v.
// otherwise:    w -= lr * g (velocity unused, may be null).
Status CpuBackend::sgd_update(float* w, float* velocity, const float* g, int64_t n,
                              const OptimizerParams& p) {
  CN_RETURN_IF_ERROR(check_common("sgd_update", w, g, n));
  if (!(p.momentum >= 0.0f))
    return invalid_argument("sgd_update: momentum must be >= 0 but is " +
                            std::to_string(p.momentum));
  if (n == 0) return Status::ok();
  const float lr = p.lr, mom = p.momentum;
  if (mom > 0.0f) {
    if (!velocity) return invalid_argument("sgd_update: momentum > 0 needs a velocity slot");
    const bool nesterov = p.nesterov;
    parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
      sgd_momentum_kernel(w, velocity, g, b, e, lr, mom, nesterov);
    });
  } else {
    parallel_for(n, kGrain, [=](int64_t b, int64_t e) { sgd_kernel(w, g, b, e, lr); });
  }
  return Status::ok();
}

// v = v * momentum + x * rest (no contraction into a fused multiply-add: the build has no
// FMA target, so the result is the unfused mul, mul, add's).
Status CpuBackend::moving_average(float* v, const float* x, int64_t n, float momentum, float rest) {
  CN_RETURN_IF_ERROR(check_common("moving_average", v, x, n));
  parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) v[i] = v[i] * momentum + x[i] * rest;
  });
  return Status::ok();
}

// Adam:  m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); alpha = lr sqrt(1 - b2^t) / (1 - b1^t);
//        w -= m alpha / (sqrt(v) + eps).
// Nadam (Keras 3): u_t = b1 (1 - 0.5 * 0.96^(0.004 t)), u_t1 the same at t + 1,
//        m_hat = u_t1 m / (1 - u_prod_t * u_t1) + (1 - u_t) g / (1 - u_prod_t),
//        v_hat = v / (1 - b2^t); w -= lr m_hat / (sqrt(v_hat) + eps).
Status CpuBackend::adam_update(float* w, float* m, float* v, const float* g, int64_t n,
                               const OptimizerParams& p, const float* step, bool nadam) {
  const char* op = nadam ? "nadam_update" : "adam_update";
  CN_RETURN_IF_ERROR(check_common(op, w, g, n));
  if (n > 0 && (!m || !v)) return invalid_argument(std::string(op) + ": null moment slot");
  if (!(p.beta1 >= 0.0f && p.beta1 < 1.0f && p.beta2 >= 0.0f && p.beta2 < 1.0f))
    return invalid_argument(std::string(op) + ": beta1 and beta2 must be in [0, 1) but are " +
                            std::to_string(p.beta1) + " and " + std::to_string(p.beta2));
  float t = 0.0f;
  CN_RETURN_IF_ERROR(read_step(op, step, &t));
  if (n == 0) return Status::ok();
  const float lr = p.lr, b1 = p.beta1, b2 = p.beta2, eps = p.epsilon;
  const float one_m_b1 = 1.0f - b1, one_m_b2 = 1.0f - b2;
  const float b2_power = std::pow(b2, t);
  if (!nadam) {
    const float b1_power = std::pow(b1, t);
    const float alpha = lr * std::sqrt(1.0f - b2_power) / (1.0f - b1_power);
    parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
      adam_kernel(w, m, v, g, b, e, one_m_b1, one_m_b2, alpha, eps);
    });
    return Status::ok();
  }
  const float u_t = b1 * (1.0f - 0.5f * std::pow(0.96f, t * 0.004f));
  const float u_t1 = b1 * (1.0f - 0.5f * std::pow(0.96f, (t + 1.0f) * 0.004f));
  const float u_prod_t = nadam_u_product(b1, (int64_t)t);
  const float u_prod_t1 = u_prod_t * u_t1;
  const float c_m = 1.0f - u_prod_t1, c_g = 1.0f - u_t, c_gd = 1.0f - u_prod_t;
  const float c_v = 1.0f - b2_power;
  parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
    nadam_kernel(w, m, v, g, b, e, one_m_b1, one_m_b2, u_t1, c_m, c_g, c_gd, c_v, lr, eps);
  });
  return Status::ok();
}

// ms = rho ms + (1 - rho) g^2; centered: mg = rho mg + (1 - rho) g, denom = ms - mg^2 + eps,
// else denom = ms + eps; inc = lr g / sqrt(denom); momentum > 0: mom = momentum mom + inc,
// w -= mom; else w -= inc.
Status CpuBackend::rmsprop_update(float* w, float* ms, float* mom, float* mg, const float* g,
                                  int64_t n, const OptimizerParams& p) {
  CN_RETURN_IF_ERROR(check_common("rmsprop_update", w, g, n));
  if (!(p.momentum >= 0.0f))
    return invalid_argument("rmsprop_update: momentum must be >= 0 but is " +
                            std::to_string(p.momentum));
  if (n == 0) return Status::ok();
  const bool use_mom = p.momentum > 0.0f, centered = p.centered;
  if (!ms) return invalid_argument("rmsprop_update: null mean-square slot");
  if (use_mom && !mom)
    return invalid_argument("rmsprop_update: momentum > 0 needs a momentum slot");
  if (centered && !mg)
    return invalid_argument("rmsprop_update: centered needs a mean-gradient slot");
  const float lr = p.lr, rho = p.rho, one_m_rho = 1.0f - p.rho, eps = p.epsilon, mu = p.momentum;
  parallel_for(n, kGrain, [=](int64_t b, int64_t e) {
    if (centered && use_mom)
      rmsprop_centered_momentum_kernel(w, ms, mom, mg, g, b, e, lr, rho, one_m_rho, eps, mu);
    else if (centered)
      rmsprop_centered_kernel(w, ms, mg, g, b, e, lr, rho, one_m_rho, eps);
    else if (use_mom)
      rmsprop_momentum_kernel(w, ms, mom, g, b, e, lr, rho, one_m_rho, eps, mu);
    else
      rmsprop_kernel(w, ms, g, b, e, lr, rho, one_m_rho, eps);
  });
  return Status::ok();
}

}  // namespace cn
