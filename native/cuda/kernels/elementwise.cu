// Elementwise kernels: unary ops and their gradients, broadcasting binary ops (float32 and
// int32), select, cast, fill, and the small fused helpers (bias + ReLU, add + ReLU and its
// gradient).
// Note [one kernel per family]: the op is a runtime switch inside one kernel rather than a
// template per op; the branch is uniform across a warp, costs nothing next to the memory
// traffic, and keeps build time (3 GPU targets on 2 CI cores) small.
// Note [float4 elementwise]: unary ops, their gradients, same-shape and scalar-broadcast
// binary ops and bias + ReLU move four floats per thread when every pointer is 16-byte
// aligned (a scalar kernel takes the last n % 4 elements): with one float load per thread
// too few bytes are in flight to keep HBM busy. Each lane applies the scalar function, so
// the results are the scalar kernels', bit for bit.
#include "common.cuh"
#include "elementwise_body.h"

namespace cn {
namespace cuda {
namespace k {

namespace {

// The scalar functions (and the op enums) are elementwise_body.h's, shared with the typed
// kernels of reduced_elementwise.cu and run on the host by its tests.
using namespace ew;
using ew::apply_binary;
using ew::apply_unary;
using ew::apply_unary_grad;

__global__ void unary_kernel(float* y, const float* x, int64_t n, int op, float alpha) {
  CN_FOR_EACH(i, n) y[i] = apply_unary(op, x[i], alpha);
}

__global__ void unary_grad_kernel(float* dx, const float* dy, const float* ref, int64_t n,
                                  int op, float alpha) {
  CN_FOR_EACH(i, n) dx[i] = apply_unary_grad(op, dy[i], ref[i], alpha);
}

// ---- four floats per thread (Note [float4 elementwise])

// aligned16: vector_access.h's.

__global__ void unary_kernel4(float4* y, const float4* x, int64_t n4, int op, float alpha) {
  CN_FOR_EACH(i, n4) {
    float4 v = x[i];
    v.x = apply_unary(op, v.x, alpha);
    v.y = apply_unary(op, v.y, alpha);
    v.z = apply_unary(op, v.z, alpha);
    v.w = apply_unary(op, v.w, alpha);
    y[i] = v;
  }
}

__global__ void unary_grad_kernel4(float4* dx, const float4* dy, const float4* ref, int64_t n4,
                                   int op, float alpha) {
  CN_FOR_EACH(i, n4) {
    const float4 g = dy[i], r = ref[i];
    dx[i] = make_float4(apply_unary_grad(op, g.x, r.x, alpha), apply_unary_grad(op, g.y, r.y, alpha),
                        apply_unary_grad(op, g.z, r.z, alpha), apply_unary_grad(op, g.w, r.w, alpha));
  }
}

// Note [int32 division]: Div and FloorDiv on int32 floor (tfjs divides int32 tensors with
// floorDiv), Mod is floored; division by zero gives 0 instead of trapping.
__device__ __forceinline__ int32_t apply_binary(int op, int32_t a, int32_t b) {
  switch (op) {
    case bAdd: return a + b;
    case bSub: return a - b;
    case bMul: return a * b;
    case bDiv:
    case bFloorDiv: {
      if (b == 0) return 0;
      int32_t q = a / b;
      return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
    case bMaximum: return a > b ? a : b;
    case bMinimum: return a < b ? a : b;
    case bPow: {
      if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
      int32_t r = 1, base = a;
      for (int32_t e = b; e; e >>= 1, base *= base)
        if (e & 1) r *= base;
      return r;
    }
    case bSquaredDifference: { int32_t d = a - b; return d * d; }
    case bEqual: return a == b;
    case bNotEqual: return a != b;
    case bGreater: return a > b;
    case bGreaterEqual: return a >= b;
    case bLess: return a < b;
    case bLessEqual: return a <= b;
    case bMod: {
      if (b == 0) return 0;
      int32_t r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
  }
  return 0;
}

template <typename T>
__global__ void binary_kernel(T* out, const T* a, const T* b, int op, int64_t n, int mode,
                              IndexMap map) {
  CN_FOR_EACH(i, n) {
    int64_t ia = i, ib = i;
    if (mode == 1) {
      ia = 0;
    } else if (mode == 2) {
      ib = 0;
    } else if (mode == 3) {
      ia = 0;
      ib = 0;
      int64_t rest = i;
      for (int d = map.rank - 1; d >= 0; --d) {
        int64_t idx = rest % map.shape[d];
        rest /= map.shape[d];
        ia += idx * map.a_strides[d];
        ib += idx * map.b_strides[d];
      }
    }
    out[i] = apply_binary(op, a[ia], b[ib]);
  }
}

// mode 0: a and b have out's shape; 1: a is one value; 2: b is one value.
__global__ void binary_kernel4(float4* out, const float* a, const float* b, int op, int64_t n4,
                               int mode) {
  const float4* a4 = reinterpret_cast<const float4*>(a);
  const float4* b4 = reinterpret_cast<const float4*>(b);
  CN_FOR_EACH(i, n4) {
    const float4 u = mode == 1 ? make_float4(a[0], a[0], a[0], a[0]) : a4[i];
    const float4 v = mode == 2 ? make_float4(b[0], b[0], b[0], b[0]) : b4[i];
    out[i] = make_float4(apply_binary(op, u.x, v.x), apply_binary(op, u.y, v.y),
                         apply_binary(op, u.z, v.z), apply_binary(op, u.w, v.w));
  }
}

// out = relu(a + b) and dx = (g1 + g2) masked by ref > 0: four floats per thread where the
// pointers are aligned, the scalar kernel for the rest (Note [float4 elementwise]).
__device__ __forceinline__ float add_relu1(float a, float b) {
  const float s = a + b;
  return s > 0.f ? s : 0.f;
}
__device__ __forceinline__ float add_relu_grad1(float g1, float g2, float r) {
  const float g = g1 + g2;
  return r > 0.f ? g : 0.f;
}

__global__ void add_relu_kernel(float* out, const float* a, const float* b, int64_t n) {
  CN_FOR_EACH(i, n) out[i] = add_relu1(a[i], b[i]);
}
__global__ void add_relu_kernel4(float4* out, const float4* a, const float4* b, int64_t n4) {
  CN_FOR_EACH(i, n4) {
    const float4 u = a[i], v = b[i];
    out[i] = make_float4(add_relu1(u.x, v.x), add_relu1(u.y, v.y), add_relu1(u.z, v.z), add_relu1(u.w, v.w));
  }
}
__global__ void add_relu_grad_kernel(float* dx, const float* g1, const float* g2, const float* r,
                                     int64_t n) {
  CN_FOR_EACH(i, n) dx[i] = add_relu_grad1(g1[i], g2[i], r[i]);
}
__global__ void add_relu_grad_kernel4(float4* dx, const float4* g1, const float4* g2,
                                      const float4* r, int64_t n4) {
  CN_FOR_EACH(i, n4) {
    const float4 u = g1[i], v = g2[i], w = r[i];
    dx[i] = make_float4(add_relu_grad1(u.x, v.x, w.x), add_relu_grad1(u.y, v.y, w.y),
                        add_relu_grad1(u.z, v.z, w.z), add_relu_grad1(u.w, v.w, w.w));
  }
}

__global__ void select_kernel(float* out, const float* c, const float* a, const float* b,
                              int64_t n) {
  CN_FOR_EACH(i, n) out[i] = c[i] != 0.f ? a[i] : b[i];
}

// dtype codes of cn::DType: 0 float32, 1 int32, 2 uint8.
__global__ void cast_kernel(void* out, int od, const void* in, int id, int64_t n) {
  CN_FOR_EACH(i, n) {
    double v = id == 0 ? (double)static_cast<const float*>(in)[i]
             : id == 1 ? (double)static_cast<const int32_t*>(in)[i]
                       : (double)static_cast<const uint8_t*>(in)[i];
    if (od == 0) {
      static_cast<float*>(out)[i] = (float)v;
    } else if (od == 1) {  // truncation toward zero, NaN -> 0, saturating
      int32_t r = v != v ? 0 : v >= 2147483647.0 ? 2147483647 : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
      static_cast<int32_t*>(out)[i] = r;
    } else {  // bool / uint8: nonzero -> 1 for floats and ints alike
      static_cast<uint8_t*>(out)[i] = v != 0.0 ? 1 : 0;
    }
  }
}

__global__ void fill_kernel(void* out, int dt, double value, int64_t n) {
  CN_FOR_EACH(i, n) {
    if (dt == 0) static_cast<float*>(out)[i] = (float)value;
    else if (dt == 1) static_cast<int32_t*>(out)[i] = (int32_t)value;
    else static_cast<uint8_t*>(out)[i] = (uint8_t)value;
  }
}

__device__ __forceinline__ float bias_act1(float y, float b, bool relu) {
  const float v = y + b;
  return relu && v < 0.f ? 0.f : v;
}

__global__ void bias_act_kernel(float* y, const float* bias, int64_t n, int64_t cols, bool relu) {
  CN_FOR_EACH(i, n) y[i] = bias_act1(y[i], bias ? bias[i % cols] : 0.f, relu);
}

// cols % 4 == 0: vector i covers columns (4 i) % cols .. + 3.
__global__ void bias_act_kernel4(float4* y, const float* bias, int64_t n4, int64_t cols, bool relu) {
  CN_FOR_EACH(i, n4) {
    float4 v = y[i];
    const int64_t c = (i * 4) % cols;
    v.x = bias_act1(v.x, bias ? bias[c] : 0.f, relu);
    v.y = bias_act1(v.y, bias ? bias[c + 1] : 0.f, relu);
    v.z = bias_act1(v.z, bias ? bias[c + 2] : 0.f, relu);
    v.w = bias_act1(v.w, bias ? bias[c + 3] : 0.f, relu);
    y[i] = v;
  }
}

}  // namespace

cudaError_t unary(cudaStream_t s, float* y, const float* x, int64_t n, int op, float alpha) {
  int64_t done = 0;
  if (n >= 4 && aligned16(y) && aligned16(x)) {
    const int64_t n4 = n / 4;
    unary_kernel4<<<grid_for(n4), kThreads, 0, s>>>((float4*)y, (const float4*)x, n4, op, alpha);
    done = 4 * n4;
  }
  if (done < n) unary_kernel<<<grid_for(n - done), kThreads, 0, s>>>(y + done, x + done, n - done, op, alpha);
  return cudaGetLastError();
}

cudaError_t unary_grad(cudaStream_t s, float* dx, const float* dy, const float* ref, int64_t n,
                       int op, float alpha) {
  int64_t done = 0;
  if (n >= 4 && aligned16(dx) && aligned16(dy) && aligned16(ref)) {
    const int64_t n4 = n / 4;
    unary_grad_kernel4<<<grid_for(n4), kThreads, 0, s>>>((float4*)dx, (const float4*)dy,
                                                         (const float4*)ref, n4, op, alpha);
    done = 4 * n4;
  }
  if (done < n)
    unary_grad_kernel<<<grid_for(n - done), kThreads, 0, s>>>(dx + done, dy + done, ref + done,
                                                              n - done, op, alpha);
  return cudaGetLastError();
}

cudaError_t binary(cudaStream_t s, void* out, const void* a, const void* b, bool is_int, int op,
                   int64_t n, int mode, const IndexMap& map) {
  if (!is_int && mode <= 2 && n >= 4 && aligned16(out) && (mode == 1 || aligned16(a)) &&
      (mode == 2 || aligned16(b))) {
    const int64_t n4 = n / 4, done = 4 * n4;
    const float* fa = (const float*)a;
    const float* fb = (const float*)b;
    binary_kernel4<<<grid_for(n4), kThreads, 0, s>>>((float4*)out, fa, fb, op, n4, mode);
    if (done < n)  // the tail, with the scalar kernel's indexing (one-value operands stay put)
      binary_kernel<float><<<grid_for(n - done), kThreads, 0, s>>>(
          (float*)out + done, mode == 1 ? fa : fa + done, mode == 2 ? fb : fb + done, op, n - done,
          mode, map);
    return cudaGetLastError();
  }
  if (is_int)
    binary_kernel<int32_t><<<grid_for(n), kThreads, 0, s>>>(
        (int32_t*)out, (const int32_t*)a, (const int32_t*)b, op, n, mode, map);
  else
    binary_kernel<float><<<grid_for(n), kThreads, 0, s>>>((float*)out, (const float*)a,
                                                          (const float*)b, op, n, mode, map);
  return cudaGetLastError();
}

cudaError_t add_relu(cudaStream_t s, float* out, const float* a, const float* b, int64_t n) {
  int64_t done = 0;
  if (n >= 4 && aligned16(out) && aligned16(a) && aligned16(b)) {
    const int64_t n4 = n / 4;
    add_relu_kernel4<<<grid_for(n4), kThreads, 0, s>>>((float4*)out, (const float4*)a, (const float4*)b, n4);
    done = 4 * n4;
  }
  if (done < n) add_relu_kernel<<<grid_for(n - done), kThreads, 0, s>>>(out + done, a + done, b + done, n - done);
  return cudaGetLastError();
}

cudaError_t add_relu_grad(cudaStream_t s, float* dx, const float* g1, const float* g2,
                          const float* ref, int64_t n) {
  int64_t done = 0;
  if (n >= 4 && aligned16(dx) && aligned16(g1) && aligned16(g2) && aligned16(ref)) {
    const int64_t n4 = n / 4;
    add_relu_grad_kernel4<<<grid_for(n4), kThreads, 0, s>>>((float4*)dx, (const float4*)g1,
                                                            (const float4*)g2, (const float4*)ref, n4);
    done = 4 * n4;
  }
  if (done < n)
    add_relu_grad_kernel<<<grid_for(n - done), kThreads, 0, s>>>(dx + done, g1 + done, g2 + done,
                                                                 ref + done, n - done);
  return cudaGetLastError();
}

cudaError_t select(cudaStream_t s, float* out, const float* cond, const float* a,
                   const float* b, int64_t n) {
  select_kernel<<<grid_for(n), kThreads, 0, s>>>(out, cond, a, b, n);
  return cudaGetLastError();
}

cudaError_t cast(cudaStream_t s, void* out, int out_dtype, const void* in, int in_dtype,
                 int64_t n) {
  cast_kernel<<<grid_for(n), kThreads, 0, s>>>(out, out_dtype, in, in_dtype, n);
  return cudaGetLastError();
}

cudaError_t fill(cudaStream_t s, void* out, int dtype, double value, int64_t n) {
  fill_kernel<<<grid_for(n), kThreads, 0, s>>>(out, dtype, value, n);
  return cudaGetLastError();
}

cudaError_t bias_act(cudaStream_t s, float* y, const float* bias, int64_t rows, int64_t cols,
                     bool relu) {
  int64_t n = rows * cols;
  if (n == 0) return cudaSuccess;
  if (cols % 4 == 0 && aligned16(y))
    bias_act_kernel4<<<grid_for(n / 4), kThreads, 0, s>>>((float4*)y, bias, n / 4, cols, relu);
  else
    bias_act_kernel<<<grid_for(n), kThreads, 0, s>>>(y, bias, n, cols, relu);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
