// Optimizer updates in place, Keras 3 semantics (keras/src/optimizers/{sgd,adam,nadam,
// rmsprop}.py). Adam/Nadam read the 1-based step from device memory, so a compiled plan
// can run many steps without a host round trip: a one-thread kernel turns it into the
// per-step coefficients, the elementwise kernel reads them.
#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

// SGD: m = momentum * m - lr * g; w += nesterov ? momentum * m - lr * g : m. Without
// momentum (velocity null): w -= lr * g.
__global__ void sgd_kernel(float* w, float* vel, const float* g, int64_t n, float lr,
                           float momentum, bool nesterov) {
  CN_FOR_EACH(i, n) {
    if (!vel) {
      w[i] -= lr * g[i];
      continue;
    }
    float m = momentum * vel[i] - lr * g[i];
    vel[i] = m;
    w[i] += nesterov ? momentum * m - lr * g[i] : m;
  }
}

// coef: Adam  [alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)]
//       Nadam [u_t, u_t1, 1 - u_product_t, 1 - u_product_t1, 1 - b2^t] with
//       u_s = b1 * (1 - 0.5 * 0.96^(0.004 s)) and u_product_t = prod_{s<=t} u_s.
__global__ void adam_coef_kernel(float* coef, const float* step, float lr, float b1, float b2,
                                 bool nadam) {
  double t = (double)*step;
  if (!nadam) {
    coef[0] = (float)(lr * sqrt(1.0 - pow((double)b2, t)) / (1.0 - pow((double)b1, t)));
    return;
  }
  // Keras keeps u_product in a float32 variable multiplied once per step; replay that.
  // (Keras: u_s = b1 * (1 - 0.5 * 0.96^(0.004 s)), u_product_t = u_product_{t-1} * u_t.)
  float prod = 1.f;
  int64_t steps = (int64_t)t;
  for (int64_t s = 1; s <= steps; ++s) {
    prod = prod * (b1 * (1.f - 0.5f * powf(0.96f, (float)s * 0.004f)));
    if (prod < 1e-12f) {  // 1 - prod is 1.f from here on: no need to go further
      prod = 0.f;
      break;
    }
  }
  float u_t = b1 * (1.f - 0.5f * powf(0.96f, (float)t * 0.004f));
  float u_t1 = b1 * (1.f - 0.5f * powf(0.96f, (float)(t + 1) * 0.004f));
  coef[0] = u_t;
  coef[1] = u_t1;
  coef[2] = 1.f - prod;
  coef[3] = 1.f - prod * u_t1;
  coef[4] = 1.f - powf(b2, (float)t);
}

__global__ void adam_kernel(float* w, float* m, float* v, const float* g, int64_t n, float lr,
                            float b1, float b2, float eps, const float* coef, bool nadam) {
  CN_FOR_EACH(i, n) {
    float gi = g[i];
    float mi = m[i] + (gi - m[i]) * (1.f - b1);
    float vi = v[i] + (gi * gi - v[i]) * (1.f - b2);
    m[i] = mi;
    v[i] = vi;
    if (!nadam) {
      w[i] -= mi * coef[0] / (sqrtf(vi) + eps);
    } else {
      float m_hat = coef[1] * mi / coef[3] + (1.f - coef[0]) * gi / coef[2];
      float v_hat = vi / coef[4];
      w[i] -= m_hat * lr / (sqrtf(v_hat) + eps);
    }
  }
}

// RMSprop: ms = rho * ms + (1 - rho) * g^2; centered: mg = rho * mg + (1 - rho) * g and
// denominator ms - mg^2 + eps, else ms + eps; inc = lr * g / sqrt(denominator);
// momentum (mom non-null): mom = momentum * mom + inc, w -= mom; else w -= inc.
__global__ void rmsprop_kernel(float* w, float* ms, float* mom, float* mg, const float* g,
                               int64_t n, float lr, float rho, float momentum, float eps) {
  CN_FOR_EACH(i, n) {
    float gi = g[i];
    float s = rho * ms[i] + (1.f - rho) * gi * gi;
    ms[i] = s;
    float denom = s + eps;
    if (mg) {
      float a = rho * mg[i] + (1.f - rho) * gi;
      mg[i] = a;
      denom = s - a * a + eps;
    }
    float inc = lr * gi / sqrtf(denom);
    if (mom) {
      float mv = momentum * mom[i] + inc;
      mom[i] = mv;
      w[i] -= mv;
    } else {
      w[i] -= inc;
    }
  }
}

// Explicit roundings: no fused multiply-add, so the result is the unfused ops' (and cpu's).
__global__ void moving_average_kernel(float* v, const float* x, int64_t n, float momentum, float rest) {
  CN_FOR_EACH(i, n) v[i] = __fadd_rn(__fmul_rn(v[i], momentum), __fmul_rn(x[i], rest));
}

}  // namespace

cudaError_t sgd_update(cudaStream_t s, float* w, float* velocity, const float* g, int64_t n,
                       float lr, float momentum, bool nesterov) {
  if (n == 0) return cudaSuccess;
  sgd_kernel<<<grid_for(n), kThreads, 0, s>>>(w, velocity, g, n, lr, momentum, nesterov);
  return cudaGetLastError();
}

cudaError_t moving_average(cudaStream_t s, float* v, const float* x, int64_t n, float momentum,
                           float rest) {
  if (n == 0) return cudaSuccess;
  moving_average_kernel<<<grid_for(n), kThreads, 0, s>>>(v, x, n, momentum, rest);
  return cudaGetLastError();
}

cudaError_t adam_update(cudaStream_t s, float* w, float* m, float* v, const float* g, int64_t n,
                        float lr, float beta1, float beta2, float epsilon, const float* step,
                        bool nadam, float* coef) {
  if (n == 0) return cudaSuccess;
  adam_coef_kernel<<<1, 1, 0, s>>>(coef, step, lr, beta1, beta2, nadam);
  adam_kernel<<<grid_for(n), kThreads, 0, s>>>(w, m, v, g, n, lr, beta1, beta2, epsilon, coef,
                                               nadam);
  return cudaGetLastError();
}

cudaError_t rmsprop_update(cudaStream_t s, float* w, float* ms, float* mom, float* mg,
                           const float* g, int64_t n, float lr, float rho, float momentum,
                           float epsilon) {
  if (n == 0) return cudaSuccess;
  rmsprop_kernel<<<grid_for(n), kThreads, 0, s>>>(w, ms, mom, mg, g, n, lr, rho, momentum,
                                                  epsilon);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
