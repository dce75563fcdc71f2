// Reductions over [outer, r, inner] views (sum, mean, max, min, prod), argmax and one_hot.
// Note [two-pass reductions]: when there are few output elements but a long reduced axis
// (a global sum, a bias gradient over N*H*W), the axis is split across blocks into partial
// results in scratch and reduced again: deterministic, no atomics.
#include <cfloat>

#include "common.cuh"

namespace cn {
namespace cuda {
namespace k {

namespace {

enum { kSum, kMean, kMax, kMin, kProd };  // order of cn::ReduceOp

__device__ __forceinline__ float identity(int op) {
  return op == kMax ? -INFINITY : op == kMin ? INFINITY : op == kProd ? 1.f : 0.f;
}
__device__ __forceinline__ float combine(int op, float a, float b) {
  switch (op) {
    case kMax: return (a != a || b != b) ? a + b : fmaxf(a, b);
    case kMin: return (a != a || b != b) ? a + b : fminf(a, b);
    case kProd: return a * b;
    default: return a + b;
  }
}

// inner == 1: one block per (row, split), a block-wide reduction.
__global__ void reduce_rows(float* out, const float* in, int64_t outer, int64_t r, int op,
                            float scale) {
  __shared__ float part[kThreads / 32];
  int64_t splits = gridDim.y, sp = blockIdx.y;
  int64_t len = (r + splits - 1) / splits, lo = sp * len, hi = min(r, lo + len);
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const float* row = in + o * r;
    float acc = identity(op);
    for (int64_t j = lo + threadIdx.x; j < hi; j += blockDim.x) acc = combine(op, acc, row[j]);
    for (int off = 16; off > 0; off >>= 1)
      acc = combine(op, acc, __shfl_xor_sync(0xffffffffu, acc, off));
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = acc;
    __syncthreads();
    if (threadIdx.x == 0) {
      float t = part[0];
      for (int w = 1; w < (int)(blockDim.x >> 5); ++w) t = combine(op, t, part[w]);
      out[o * splits + sp] = t * scale;
    }
    __syncthreads();
  }
}

// inner > 1: one thread per (outer, inner) element and split; coalesced along inner.
__global__ void reduce_cols(float* out, const float* in, int64_t outer, int64_t r,
                            int64_t inner, int op, float scale) {
  int64_t splits = gridDim.y, sp = blockIdx.y;
  int64_t len = (r + splits - 1) / splits, lo = sp * len, hi = min(r, lo + len);
  CN_FOR_EACH(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const float* p = in + o * r * inner + i;
    float acc = identity(op);
    for (int64_t j = lo; j < hi; ++j) acc = combine(op, acc, p[j * inner]);
    out[(o * splits + sp) * inner + i] = acc * scale;
  }
}

int64_t splits_for(int64_t outer, int64_t r, int64_t inner) {
  if (inner == 1) {
    if (outer >= 512) return 1;
    int64_t s = (r + 8191) / 8192;
    return s < 1 ? 1 : (s > 512 ? 512 : s);
  }
  int64_t items = outer * inner;
  if (items >= 65536) return 1;
  int64_t s = (r + 63) / 64, cap = (65536 + items - 1) / items;
  if (s > cap) s = cap;
  return s < 1 ? 1 : (s > 1024 ? 1024 : s);
}

cudaError_t reduce_pass(cudaStream_t s, float* out, const float* in, int64_t outer, int64_t r,
                        int64_t inner, int op, float scale, int64_t splits) {
  if (inner == 1) {
    dim3 grid((unsigned)(outer < 65536 ? outer : 65536), (unsigned)splits);
    reduce_rows<<<grid, kThreads, 0, s>>>(out, in, outer, r, op, scale);
  } else {
    dim3 grid(grid_for(outer * inner), (unsigned)splits);
    reduce_cols<<<grid, kThreads, 0, s>>>(out, in, outer, r, inner, op, scale);
  }
  return cudaGetLastError();
}

// inner == 1: one warp per row; ties go to the lowest index.
__global__ void argmax_rows(int32_t* out, const float* in, int64_t outer, int64_t r) {
  int lane = threadIdx.x & 31;
  int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  int64_t warps = ((int64_t)gridDim.x * blockDim.x) >> 5;
  for (int64_t o = warp; o < outer; o += warps) {
    const float* row = in + o * r;
    float best = -INFINITY;
    int64_t bi = r;  // "none yet"
    for (int64_t j = lane; j < r; j += 32) {
      float v = row[j];
      if (bi == r || v > best) { best = v; bi = j; }
    }
    for (int off = 16; off > 0; off >>= 1) {
      float ov = __shfl_xor_sync(0xffffffffu, best, off);
      int64_t oi = __shfl_xor_sync(0xffffffffu, bi, off);
      if (oi != r && (bi == r || ov > best || (ov == best && oi < bi))) { best = ov; bi = oi; }
    }
    if (lane == 0) out[o] = (int32_t)(bi == r ? 0 : bi);
  }
}

__global__ void argmax_cols(int32_t* out, const float* in, int64_t outer, int64_t r,
                            int64_t inner) {
  CN_FOR_EACH(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const float* p = in + o * r * inner + i;
    float best = -INFINITY;
    int64_t bi = 0;
    for (int64_t j = 0; j < r; ++j) {
      float v = p[j * inner];
      if (j == 0 || v > best) { best = v; bi = j; }
    }
    out[t] = (int32_t)bi;
  }
}

__global__ void one_hot_kernel(float* out, const int32_t* idx, int64_t n, int64_t depth,
                               float on, float off) {
  CN_FOR_EACH(t, n * depth) {
    int64_t i = t / depth, d = t - i * depth;
    out[t] = idx[i] == d ? on : off;
  }
}

}  // namespace

int64_t reduce_scratch(int64_t outer, int64_t r, int64_t inner) {
  int64_t sp = splits_for(outer, r, inner);
  return sp > 1 ? outer * sp * inner : 0;
}

cudaError_t reduce(cudaStream_t s, float* out, const float* in, int64_t outer, int64_t r,
                   int64_t inner, int op, float* scratch) {
  if (outer * inner == 0) return cudaSuccess;
  float final_scale = op == kMean ? 1.f / (float)r : 1.f;
  int pass_op = op == kMean ? kSum : op;
  int64_t sp = splits_for(outer, r, inner);
  if (sp == 1 || !scratch) return reduce_pass(s, out, in, outer, r, inner, pass_op, final_scale, 1);
  cudaError_t e = reduce_pass(s, scratch, in, outer, r, inner, pass_op, 1.f, sp);
  if (e != cudaSuccess) return e;
  return reduce_pass(s, out, scratch, outer, sp, inner, pass_op, final_scale, 1);
}

cudaError_t argmax(cudaStream_t s, int32_t* out, const float* in, int64_t outer, int64_t r,
                   int64_t inner) {
  if (outer * inner == 0) return cudaSuccess;
  if (inner == 1)
    argmax_rows<<<grid_for(outer * 32), kThreads, 0, s>>>(out, in, outer, r);
  else
    argmax_cols<<<grid_for(outer * inner), kThreads, 0, s>>>(out, in, outer, r, inner);
  return cudaGetLastError();
}

cudaError_t one_hot(cudaStream_t s, float* out, const int32_t* indices, int64_t n,
                    int64_t depth, float on_value, float off_value) {
  one_hot_kernel<<<grid_for(n * depth), kThreads, 0, s>>>(out, indices, n, depth, on_value,
                                                          off_value);
  return cudaGetLastError();
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
