// Data movement on 4-byte elements: strided gathers (transpose, slice, the filter-layout
// transposes for cuDNN), slab copies (concat / split along one axis) and padding; and the same
// on 2-byte elements (bfloat16 / float16 storage, reduced_kernels.h), from the same kernels
// templated on the element type E (the bits are moved, never converted).
#include "common.cuh"
#include "reduced_kernels.h"

namespace cn {
namespace cuda {
namespace k {

namespace {

template <typename E>
__global__ void gather_kernel(E* out, const E* in, int64_t n, IndexMap map,
                              int64_t in_offset) {
  CN_FOR_EACH(i, n) {
    int64_t src = in_offset, rest = i;
    for (int d = map.rank - 1; d >= 0; --d) {
      int64_t idx = rest % map.shape[d];
      rest /= map.shape[d];
      src += idx * map.a_strides[d];
    }
    out[i] = in[src];
  }
}

// Plain 2-D transpose [rows, cols] -> [cols, rows] through a shared tile (coalesced both ways).
template <typename E>
__global__ void transpose2d_kernel(E* out, const E* in, int64_t rows,
                                   int64_t cols) {
  __shared__ E tile[32][33];
  int64_t c0 = (int64_t)blockIdx.x * 32, r0 = (int64_t)blockIdx.y * 32;
  for (int j = threadIdx.y; j < 32; j += 8) {
    int64_t r = r0 + j, c = c0 + threadIdx.x;
    if (r < rows && c < cols) tile[j][threadIdx.x] = in[r * cols + c];
  }
  __syncthreads();
  for (int j = threadIdx.y; j < 32; j += 8) {
    int64_t c = c0 + j, r = r0 + threadIdx.x;
    if (r < rows && c < cols) out[c * rows + r] = tile[threadIdx.x][j];
  }
}

template <typename E>
__global__ void slab_kernel(E* out, const E* in, int64_t outer, int64_t in_axis,
                            int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  // into_out: out[o, offset + a, i] = in[o, a, i] for a < in_axis
  // else:     out[o, a, i] = in[o, offset + a, i] for a < out_axis
  int64_t axis = into_out ? in_axis : out_axis;
  CN_FOR_EACH(t, outer * axis * inner) {
    int64_t o = t / (axis * inner), rest = t - o * axis * inner;
    if (into_out)
      out[o * out_axis * inner + offset * inner + rest] = in[t];
    else
      out[t] = in[o * in_axis * inner + offset * inner + rest];
  }
}

template <typename E>
__global__ void pad_kernel(E* out, const E* in, int64_t n, PadDesc d, E value) {
  CN_FOR_EACH(i, n) {
    int64_t src = 0, stride = 1, rest = i;
    bool inside = true;
    for (int k = d.rank - 1; k >= 0; --k) {
      int64_t idx = rest % d.out_shape[k] - d.before[k];
      rest /= d.out_shape[k];
      inside = inside && idx >= 0 && idx < d.in_shape[k];
      src += idx * stride;
      stride *= d.in_shape[k];
    }
    out[i] = inside ? in[src] : value;
  }
}

template <typename E>
cudaError_t gather_t(cudaStream_t s, void* out, const void* in, int64_t n, const IndexMap& map, int64_t in_offset) {
  if (n == 0) return cudaSuccess;
  // A 2-D transpose (also what a 4-D filter relayout reduces to) takes the tiled path.
  if (map.rank == 2 && in_offset == 0 && map.a_strides[1] == map.shape[0] &&
      map.a_strides[0] == 1) {
    int64_t rows = map.shape[1], cols = map.shape[0];  // of the input
    dim3 grid((unsigned)((cols + 31) / 32), (unsigned)((rows + 31) / 32));
    if (grid.y <= 65535) {
      transpose2d_kernel<E><<<grid, dim3(32, 8), 0, s>>>((E*)out, (const E*)in, rows, cols);
      return cudaGetLastError();
    }
  }
  gather_kernel<E><<<grid_for(n), kThreads, 0, s>>>((E*)out, (const E*)in, n, map, in_offset);
  return cudaGetLastError();
}

template <typename E>
cudaError_t slab_t(cudaStream_t s, void* out, const void* in, int64_t outer, int64_t in_axis, int64_t out_axis,
                   int64_t offset, int64_t inner, bool into_out) {
  int64_t n = outer * (into_out ? in_axis : out_axis) * inner;
  if (n == 0) return cudaSuccess;
  slab_kernel<E><<<grid_for(n), kThreads, 0, s>>>((E*)out, (const E*)in, outer, in_axis, out_axis, offset, inner,
                                                  into_out);
  return cudaGetLastError();
}

template <typename E>
cudaError_t pad_t(cudaStream_t s, void* out, const void* in, int64_t n, const PadDesc& d, E value) {
  if (n == 0) return cudaSuccess;
  pad_kernel<E><<<grid_for(n), kThreads, 0, s>>>((E*)out, (const E*)in, n, d, value);
  return cudaGetLastError();
}

}  // namespace

cudaError_t gather_strided(cudaStream_t s, void* out, const void* in, int64_t n,
                           const IndexMap& map, int64_t in_offset) {
  return gather_t<uint32_t>(s, out, in, n, map, in_offset);
}

cudaError_t copy_slab(cudaStream_t s, void* out, const void* in, int64_t outer, int64_t in_axis,
                      int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  return slab_t<uint32_t>(s, out, in, outer, in_axis, out_axis, offset, inner, into_out);
}

cudaError_t pad(cudaStream_t s, float* out, const float* in, int64_t n, const PadDesc& d,
                float value) {
  return pad_t<float>(s, out, in, n, d, value);
}

cudaError_t gather_strided16(cudaStream_t s, void* out, const void* in, int64_t n, const IndexMap& map,
                             int64_t in_offset) {
  return gather_t<uint16_t>(s, out, in, n, map, in_offset);
}

cudaError_t copy_slab16(cudaStream_t s, void* out, const void* in, int64_t outer, int64_t in_axis, int64_t out_axis,
                        int64_t offset, int64_t inner, bool into_out) {
  return slab_t<uint16_t>(s, out, in, outer, in_axis, out_axis, offset, inner, into_out);
}

cudaError_t pad16(cudaStream_t s, void* out, const void* in, int64_t n, const PadDesc& d, uint16_t value_bits) {
  return pad_t<uint16_t>(s, out, in, n, d, value_bits);
}

}  // namespace k
}  // namespace cuda
}  // namespace cn
