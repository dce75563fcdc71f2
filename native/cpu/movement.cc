// movement.cc: CpuBackend transpose, copy_slab, slice and pad. The bodies are templates on
// the element (cpu::*_elems in movement.h): uint32_t for the 4-byte dtypes (the Backend
// methods), uint16_t for bfloat16 / float16 (CpuReducedPrecision, bf16_movement.cc); they
// copy bits, never values. Shapes are first simplified (size-1 axes dropped, axes that stay
// adjacent merged) so most calls reduce to contiguous row copies.
#include "movement.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "cpu_backend.h"
#include "parallel.h"

namespace cn {
namespace {

using cpu::kGrain;
using cpu::parallel_for;

// Copies rows [0, rows) of `len` elements from src (row stride ss) to dst (row stride ds),
// splitting by elements so that one long row is still spread across threads.
template <typename E>
void copy_rows(E* dst, int64_t ds, const E* src, int64_t ss, int64_t rows, int64_t len) {
  if (rows <= 0 || len <= 0) return;
  parallel_for(rows * len, kGrain, [&](int64_t b, int64_t e) {
    int64_t i = b;
    while (i < e) {
      const int64_t r = i / len, c0 = i % len, c1 = std::min(len, c0 + (e - i));
      std::memcpy(dst + r * ds + c0, src + r * ss + c0, (size_t)(c1 - c0) * sizeof(E));
      i += c1 - c0;
    }
  });
}

std::string perm_str(const TransposeParams& p) {
  std::string s = "[";
  for (int k = 0; k < p.rank; ++k) s += (k ? "," : "") + std::to_string(p.perm[k]);
  return s + "]";
}

Status check_transpose(const TransposeParams& p) {
  if (p.rank < 0 || p.rank > kMaxRank)
    return invalid_argument("transpose: rank " + std::to_string(p.rank) + " is not in [0, 8]");
  bool seen[kMaxRank] = {false};
  int64_t n = 1;
  for (int k = 0; k < p.rank; ++k) {
    if (p.perm[k] < 0 || p.perm[k] >= p.rank || seen[p.perm[k]])
      return invalid_argument("transpose: perm " + perm_str(p) + " is not a permutation of [0, " +
                              std::to_string(p.rank) + ")");
    seen[p.perm[k]] = true;
    if (p.in_shape[k] < 0) return invalid_argument("transpose: negative dimension in input shape");
    n *= p.in_shape[k];
  }
  if (n != p.size)
    return invalid_argument("transpose: size " + std::to_string(p.size) +
                            " does not match the input shape (" + std::to_string(n) + " elements)");
  return Status::ok();
}

// Note [transpose tiles]: when the input's contiguous axis is not the output's last axis
// the copy is a (batched) 2-D transpose between those two axes. We move 32x32 tiles through
// a local buffer (the transposition happens in L1, between rows read and rows written), so
// each source and destination cache line is touched in one contiguous burst. Transposing
// straight from source to destination keeps 32 lines live at a power-of-two stride, which
// map to one L1 set and thrash: 2-10x slower than this at 1024x1024 and up.
constexpr int64_t kTile = 32;

}  // namespace

namespace cpu {

template <typename E>
Status transpose_elems(void* out_v, const void* in_v, const TransposeParams& p) {
  CN_RETURN_IF_ERROR(check_transpose(p));
  if (p.size == 0) return Status::ok();
  if (!out_v || !in_v) return invalid_argument("transpose: null buffer");
  E* out = static_cast<E*>(out_v);
  const E* in = static_cast<const E*>(in_v);

  // Output axis k walks input axis perm[k]: extent ext[k], input stride st[k].
  int64_t istr[kMaxRank];
  for (int64_t k = p.rank - 1, s = 1; k >= 0; --k) {
    istr[k] = s;
    s *= p.in_shape[k];
  }
  int r = 0;
  int64_t ext[kMaxRank], st[kMaxRank];
  for (int k = 0; k < p.rank; ++k) {
    const int64_t d = p.in_shape[p.perm[k]], s = istr[p.perm[k]];
    if (d == 1) continue;
    if (r > 0 && st[r - 1] == s * d) {  // still adjacent in the input: merge
      ext[r - 1] *= d;
      st[r - 1] = s;
    } else {
      ext[r] = d;
      st[r] = s;
      ++r;
    }
  }
  if (r == 0 || (r == 1 && st[0] == 1)) {  // the identity, after simplification
    copy_rows(out, 0, in, 0, 1, p.size);
    return Status::ok();
  }
  int64_t ostr[kMaxRank];
  for (int64_t k = r - 1, s = 1; k >= 0; --k) {
    ostr[k] = s;
    s *= ext[k];
  }

  const int64_t len = ext[r - 1];
  if (st[r - 1] == 1) {  // the last axis stays innermost: contiguous rows
    cpu::RowWalker w;
    w.rank = r - 1;
    w.nops = 1;
    for (int k = 0; k < r - 1; ++k) {
      w.extent[k] = ext[k];
      w.stride[0][k] = st[k];
    }
    cpu::parallel_rows(w, p.size / len, len, kGrain,
                       [&](const cpu::RowWalker& it, int64_t row, int64_t c0, int64_t c1) {
                         std::memcpy(out + row * len + c0, in + it.off[0] + c0,
                                     (size_t)(c1 - c0) * sizeof(E));
                       });
    return Status::ok();
  }

  // Tiled 2-D transpose between output axis j (input-contiguous) and the last output axis,
  // batched over the remaining axes.
  int j = 0;
  while (st[j] != 1) ++j;
  int nb = 0;
  int64_t bext[kMaxRank], bist[kMaxRank], bost[kMaxRank], batch = 1;
  for (int k = 0; k < r - 1; ++k) {
    if (k == j) continue;
    bext[nb] = ext[k];
    bist[nb] = st[k];
    bost[nb] = ostr[k];
    batch *= ext[k];
    ++nb;
  }
  const int64_t na = ext[j], oa = ostr[j], sl = st[r - 1];
  const int64_t ta = (na + kTile - 1) / kTile, tl = (len + kTile - 1) / kTile;
  parallel_for(batch * ta * tl, cpu::row_grain(kTile * kTile), [&](int64_t b, int64_t e) {
    E tile[kTile][kTile];
    for (int64_t u = b; u < e; ++u) {
      int64_t rest = u / (ta * tl);
      const int64_t a0 = (u / tl % ta) * kTile, l0 = (u % tl) * kTile;
      int64_t io = 0, oo = 0;
      for (int k = nb - 1; k >= 0; --k) {
        const int64_t i = rest % bext[k];
        rest /= bext[k];
        io += i * bist[k];
        oo += i * bost[k];
      }
      const int64_t wa = std::min(kTile, na - a0), wl = std::min(kTile, len - l0);
      const E* src = in + io + a0 + l0 * sl;
      E* dst = out + oo + a0 * oa + l0;
      // Contiguous reads, transposed into the buffer; then contiguous row writes.
      for (int64_t l = 0; l < wl; ++l)
        for (int64_t a = 0; a < wa; ++a) tile[a][l] = src[a + l * sl];
      for (int64_t a = 0; a < wa; ++a)
        for (int64_t l = 0; l < wl; ++l) dst[a * oa + l] = tile[a][l];
    }
  });
  return Status::ok();
}

template <typename E>
Status copy_slab_elems(void* out_v, const void* in_v, int64_t outer, int64_t in_axis,
                       int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  if (outer < 0 || in_axis < 0 || out_axis < 0 || offset < 0 || inner < 0)
    return invalid_argument("copy_slab: negative size or offset");
  const int64_t span = into_out ? in_axis : out_axis;  // extent actually copied
  const int64_t room = into_out ? out_axis : in_axis;  // extent of the axis offset indexes
  if (offset + span > room)
    return invalid_argument("copy_slab: offset " + std::to_string(offset) + " + " +
                            std::to_string(span) + " exceeds the axis of " + std::to_string(room) +
                            (into_out ? " in the output" : " in the input"));
  if (outer == 0 || span == 0 || inner == 0) return Status::ok();
  if (!out_v || !in_v) return invalid_argument("copy_slab: null buffer");
  E* out = static_cast<E*>(out_v);
  const E* in = static_cast<const E*>(in_v);
  if (into_out)
    copy_rows(out + offset * inner, out_axis * inner, in, in_axis * inner, outer, span * inner);
  else
    copy_rows(out, out_axis * inner, in + offset * inner, in_axis * inner, outer, span * inner);
  return Status::ok();
}

template <typename E>
Status slice_elems(void* out_v, const void* in_v, const Shape& in_shape, const Shape& begin,
                   const Shape& size) {
  const size_t rank = in_shape.size();
  if (rank > (size_t)kMaxRank)
    return invalid_argument("slice: rank " + std::to_string(rank) + " is above 8");
  if (begin.size() != rank || size.size() != rank)
    return invalid_argument("slice: begin " + shape_str(begin) + " and size " + shape_str(size) +
                            " must have the rank of the input shape " + shape_str(in_shape));
  for (size_t k = 0; k < rank; ++k)
    if (in_shape[k] < 0 || begin[k] < 0 || size[k] < 0 || begin[k] + size[k] > in_shape[k])
      return invalid_argument("slice: begin " + shape_str(begin) + " and size " + shape_str(size) +
                              " do not fit inside the input shape " + shape_str(in_shape));
  const int64_t n = num_elements(size);
  if (n == 0) return Status::ok();
  if (!out_v || !in_v) return invalid_argument("slice: null buffer");

  // Fold trailing axes taken whole into the axis before them.
  int r = (int)rank;
  int64_t dim[kMaxRank], beg[kMaxRank], sz[kMaxRank];
  for (int k = 0; k < r; ++k) {
    dim[k] = in_shape[k];
    beg[k] = begin[k];
    sz[k] = size[k];
  }
  while (r > 1 && beg[r - 1] == 0 && sz[r - 1] == dim[r - 1]) {
    dim[r - 2] *= dim[r - 1];
    beg[r - 2] *= dim[r - 1];
    sz[r - 2] *= dim[r - 1];
    --r;
  }
  if (r == 0) {  // a scalar
    *static_cast<E*>(out_v) = *static_cast<const E*>(in_v);
    return Status::ok();
  }
  int64_t istr[kMaxRank];
  for (int64_t k = r - 1, s = 1; k >= 0; --k) {
    istr[k] = s;
    s *= dim[k];
  }
  int64_t base = 0;
  for (int k = 0; k < r; ++k) base += beg[k] * istr[k];
  const E* in = static_cast<const E*>(in_v) + base;
  E* out = static_cast<E*>(out_v);
  const int64_t len = sz[r - 1];
  cpu::RowWalker w;
  w.rank = r - 1;
  w.nops = 1;
  for (int k = 0; k < r - 1; ++k) {
    w.extent[k] = sz[k];
    w.stride[0][k] = istr[k];
  }
  cpu::parallel_rows(w, n / len, len, kGrain,
                     [&](const cpu::RowWalker& it, int64_t row, int64_t c0, int64_t c1) {
                       std::memcpy(out + row * len + c0, in + it.off[0] + c0,
                                   (size_t)(c1 - c0) * sizeof(E));
                     });
  return Status::ok();
}

template <typename E>
Status pad_elems(E* out, const E* in, const Shape& in_shape, const Shape& before,
                 const Shape& after, E value) {
  const size_t rank = in_shape.size();
  if (rank > (size_t)kMaxRank)
    return invalid_argument("pad: rank " + std::to_string(rank) + " is above 8");
  if (before.size() != rank || after.size() != rank)
    return invalid_argument("pad: paddings before " + shape_str(before) + " and after " +
                            shape_str(after) + " must have the rank of the input shape " +
                            shape_str(in_shape));
  for (size_t k = 0; k < rank; ++k)
    if (in_shape[k] < 0 || before[k] < 0 || after[k] < 0)
      return invalid_argument("pad: negative size or padding (input " + shape_str(in_shape) +
                              ", before " + shape_str(before) + ", after " + shape_str(after) +
                              ")");
  int r = (int)rank;
  int64_t dim[kMaxRank], pb[kMaxRank], pa[kMaxRank], od[kMaxRank];
  int64_t n_out = 1, n_in = 1;
  for (int k = 0; k < r; ++k) {
    dim[k] = in_shape[k];
    pb[k] = before[k];
    pa[k] = after[k];
    n_out *= pb[k] + dim[k] + pa[k];
    n_in *= dim[k];
  }
  if (n_out == 0) return Status::ok();
  if (!out || (!in && n_in > 0)) return invalid_argument("pad: null buffer");
  // Fold trailing unpadded axes into the axis before them (padding H, W of NHWC copies
  // runs of W*C / C elements instead of single elements).
  while (r > 1 && pb[r - 1] == 0 && pa[r - 1] == 0) {
    dim[r - 2] *= dim[r - 1];
    pb[r - 2] *= dim[r - 1];
    pa[r - 2] *= dim[r - 1];
    --r;
  }
  if (r == 0) {
    out[0] = in[0];
    return Status::ok();
  }
  int64_t istr[kMaxRank];
  for (int64_t k = r - 1, s = 1; k >= 0; --k) {
    istr[k] = s;
    s *= dim[k];
    od[k] = pb[k] + dim[k] + pa[k];
  }
  // The walker's offset counts output coordinates with input strides; subtracting the
  // `before` shift gives the input row (valid only when every coordinate is inside).
  int64_t shift = 0;
  for (int k = 0; k < r - 1; ++k) shift += pb[k] * istr[k];
  const int64_t len = od[r - 1], lb = pb[r - 1], li = dim[r - 1];
  cpu::RowWalker w;
  w.rank = r - 1;
  w.nops = 1;
  for (int k = 0; k < r - 1; ++k) {
    w.extent[k] = od[k];
    w.stride[0][k] = istr[k];
  }
  cpu::parallel_rows(w, n_out / len, len, kGrain,
                     [&](const cpu::RowWalker& it, int64_t row, int64_t c0, int64_t c1) {
    E* o = out + row * len;
    bool inside = li > 0;
    for (int k = 0; k < it.rank && inside; ++k)
      inside = it.idx[k] >= pb[k] && it.idx[k] < pb[k] + dim[k];
    if (!inside) {
      std::fill(o + c0, o + c1, value);
      return;
    }
    const E* src = in + (it.off[0] - shift);  // the input row
    const int64_t m0 = std::max(c0, lb), m1 = std::min(c1, lb + li);
    if (m0 >= m1) {
      std::fill(o + c0, o + c1, value);
      return;
    }
    std::fill(o + c0, o + m0, value);
    std::memcpy(o + m0, src + (m0 - lb), (size_t)(m1 - m0) * sizeof(E));
    std::fill(o + m1, o + c1, value);
  });
  return Status::ok();
}

template Status transpose_elems<uint32_t>(void*, const void*, const TransposeParams&);
template Status transpose_elems<uint16_t>(void*, const void*, const TransposeParams&);
template Status copy_slab_elems<uint32_t>(void*, const void*, int64_t, int64_t, int64_t, int64_t, int64_t, bool);
template Status copy_slab_elems<uint16_t>(void*, const void*, int64_t, int64_t, int64_t, int64_t, int64_t, bool);
template Status slice_elems<uint32_t>(void*, const void*, const Shape&, const Shape&, const Shape&);
template Status slice_elems<uint16_t>(void*, const void*, const Shape&, const Shape&, const Shape&);
template Status pad_elems<uint32_t>(uint32_t*, const uint32_t*, const Shape&, const Shape&, const Shape&, uint32_t);
template Status pad_elems<uint16_t>(uint16_t*, const uint16_t*, const Shape&, const Shape&, const Shape&, uint16_t);

}  // namespace cpu

Status CpuBackend::transpose(void* out, const void* in, const TransposeParams& p) {
  return cpu::transpose_elems<uint32_t>(out, in, p);
}

Status CpuBackend::copy_slab(void* out, const void* in, int64_t outer, int64_t in_axis,
                             int64_t out_axis, int64_t offset, int64_t inner, bool into_out) {
  return cpu::copy_slab_elems<uint32_t>(out, in, outer, in_axis, out_axis, offset, inner, into_out);
}

Status CpuBackend::slice(void* out, const void* in, const Shape& in_shape, const Shape& begin,
                         const Shape& size) {
  return cpu::slice_elems<uint32_t>(out, in, in_shape, begin, size);
}

// float32 padding as bits (a copy; the fill value's bits are the float's).
Status CpuBackend::pad(float* out, const float* in, const Shape& in_shape, const Shape& before,
                       const Shape& after, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return cpu::pad_elems<uint32_t>(reinterpret_cast<uint32_t*>(out), reinterpret_cast<const uint32_t*>(in),
                                  in_shape, before, after, bits);
}

}  // namespace cn
