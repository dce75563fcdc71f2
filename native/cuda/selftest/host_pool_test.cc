// host_pool_test: runs the cuda pooling kernels' per-thread code (kernels/pool_body.h) on the
// host, every thread of the grids pool.cu launches (and of deliberately small grids, so
// threads loop), for both index types and both widths, and compares with a plain
// double-precision pooling written here from TensorFlow's definition: first maximum wins,
// average excludes padding, an empty window gives 0, the max gradient goes to the first
// maximum. No GPU and no CUDA toolkit needed: g++ alone builds it (test/cuda-host-kernels.test.ts
// does, and reads the closing "N passed, N failed" line).
//   g++ -std=c++17 -O2 -Inative native/cuda/selftest/host_pool_test.cc -o /tmp/t && /tmp/t
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../kernels/pool_body.h"

using namespace cn::cuda::k;

namespace {

int passed = 0, failed = 0;

void check(const std::string& what, const float* got, const std::vector<double>& want, double tol) {
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double e = std::fabs(got[i] - want[i]) / (1.0 + std::fabs(want[i]));
    if (!(e <= worst)) worst = e, at = i;  // NaN counts as worst
  }
  bool ok = worst <= tol;
  if (!ok)
    printf("FAIL %s: max rel err %.3g at %zu (got %.9g want %.9g)\n", what.c_str(), worst, at,
           want.empty() ? 0.0 : got[at], want.empty() ? 0.0 : want[at]);
  ok ? ++passed : ++failed;
}

// A buffer whose data() is 16-byte aligned plus `offset` elements (offset 1 forces width 1).
template <typename T>
struct Buf {
  std::vector<T> store;
  T* p;
  Buf(size_t n, int offset) : store(n + 8) {
    auto base = reinterpret_cast<uintptr_t>(store.data());
    p = reinterpret_cast<T*>((base + 15) & ~uintptr_t(15)) + offset;
  }
};

struct Case {
  int64_t n, h, w, c, kh, kw, sh, sw, pt, pb, pl, pr;
  int64_t oh() const { return (h + pt + pb - kh) / sh + 1; }
  int64_t ow() const { return (w + pl + pr - kw) / sw + 1; }
};

// The reference: per output, the clipped window, its first maximum (row-major) or mean.
struct Ref {
  std::vector<double> max_y, avg_y, max_dx, avg_dx, gather_y;
};

Ref reference(const Case& k, const std::vector<float>& x, const std::vector<float>& dy,
              const std::vector<float>& src) {
  const int64_t oh = k.oh(), ow = k.ow();
  Ref r;
  r.max_y.assign(k.n * oh * ow * k.c, 0);
  r.avg_y = r.gather_y = r.max_y;
  r.max_dx.assign(k.n * k.h * k.w * k.c, 0);
  r.avg_dx = r.max_dx;
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ch = 0; ch < k.c; ++ch) {
          const int64_t o = ((n * oh + oy) * ow + ox) * k.c + ch;
          int64_t best = -1, count = 0;
          double sum = 0;
          for (int64_t i = 0; i < k.kh; ++i)
            for (int64_t j = 0; j < k.kw; ++j) {
              const int64_t hh = oy * k.sh - k.pt + i, ww = ox * k.sw - k.pl + j;
              if (hh < 0 || hh >= k.h || ww < 0 || ww >= k.w) continue;
              const int64_t at = ((n * k.h + hh) * k.w + ww) * k.c + ch;
              if (best < 0 || x[at] > x[best]) best = at;
              sum += x[at];
              ++count;
            }
          if (best >= 0) {
            r.max_y[o] = x[best];
            r.gather_y[o] = src[best];
            r.max_dx[best] += dy[o];
          }
          if (count) {
            r.avg_y[o] = sum / count;
            for (int64_t i = 0; i < k.kh; ++i)
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t hh = oy * k.sh - k.pt + i, ww = ox * k.sw - k.pl + j;
                if (hh < 0 || hh >= k.h || ww < 0 || ww >= k.w) continue;
                r.avg_dx[((n * k.h + hh) * k.w + ww) * k.c + ch] += (double)dy[o] / count;
              }
          }
        }
  return r;
}

template <typename I>
pool::Geom<I> geom(const Case& k) {
  return {(I)k.n, (I)k.h, (I)k.w, (I)k.c, (I)k.oh(), (I)k.ow(), (I)k.kh, (I)k.kw,
          (I)k.sh, (I)k.sw, (I)k.pt, (I)k.pl};
}

// Every thread of the launch, in order (the items are independent).
template <typename F>
void run_grid(pool::Launch l, F f) {
  const int64_t stride = (int64_t)l.blocks * l.threads;
  for (int64_t t = 0; t < stride; ++t) f(t, stride);
}

template <typename I, int W>
void run_case(const Case& k, const std::string& label, int offset, unsigned max_blocks,
              const std::vector<float>& xv, const std::vector<float>& dyv,
              const std::vector<float>& srcv, const Ref& r) {
  const int64_t in = k.n * k.h * k.w * k.c, out = k.n * k.oh() * k.ow() * k.c;
  Buf<float> x(in, offset), dy(out, offset), src(in, offset), y(out, offset), dx(in, offset);
  Buf<int> at(out, offset);
  std::copy(xv.begin(), xv.end(), x.p);
  std::copy(dyv.begin(), dyv.end(), dy.p);
  std::copy(srcv.begin(), srcv.end(), src.p);
  const pool::Geom<I> d = geom<I>(k);
  auto grid = [&](int64_t items) {
    pool::Launch l = pool::launch(items);
    if (max_blocks && l.blocks > max_blocks) l.blocks = max_blocks;
    return l;
  };
  const std::string tag = label + (sizeof(I) == 4 ? " int32" : " int64") + " W" + std::to_string(W) +
                          (max_blocks ? " small grid" : "");

  for (int max = 0; max < 2; ++max) {
    std::fill(y.p, y.p + out, -7.f);
    run_grid(grid(out / W), [&](int64_t t, int64_t s) { pool::forward_thread<I, W>(y.p, x.p, d, max, out / W, t, s); });
    check((max ? "max fwd " : "avg fwd ") + tag, y.p, max ? r.max_y : r.avg_y, max ? 0 : 1e-6);

    std::fill(dx.p, dx.p + in, -7.f);  // every element must be written
    int* a = max ? at.p : nullptr;
    if (a) run_grid(grid(out / W), [&](int64_t t, int64_t s) { pool::argmax_thread<I, W>(a, x.p, d, out / W, t, s); });
    run_grid(grid(in / W), [&](int64_t t, int64_t s) { pool::backward_thread<I, W>(dx.p, dy.p, a, d, in / W, t, s); });
    check((max ? "max bwd " : "avg bwd ") + tag, dx.p, max ? r.max_dx : r.avg_dx, 1e-6);
  }
  std::fill(y.p, y.p + out, -7.f);
  run_grid(grid(out / W), [&](int64_t t, int64_t s) { pool::gather_thread<I, W>(y.p, src.p, x.p, d, out / W, t, s); });
  check("max gather " + tag, y.p, r.gather_y, 0);
}

void one_case(const Case& k, bool ties) {
  const int64_t in = k.n * k.h * k.w * k.c, out = k.n * k.oh() * k.ow() * k.c;
  std::mt19937 gen((unsigned)(k.h * 131 + k.c * 7 + k.kh * 3 + k.sh + ties));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::uniform_int_distribution<int> q(-2, 2);
  std::vector<float> x(in), dy(out), src(in);
  for (auto& v : x) v = ties ? (float)q(gen) : u(gen);  // few levels: many tied maxima
  for (auto& v : dy) v = u(gen);
  for (auto& v : src) v = u(gen);
  const Ref r = reference(k, x, dy, src);
  char label[200];
  snprintf(label, sizeof label, "x [%lld,%lld,%lld,%lld] k %lldx%lld s %lldx%lld pads %lld,%lld,%lld,%lld%s",
           (long long)k.n, (long long)k.h, (long long)k.w, (long long)k.c, (long long)k.kh, (long long)k.kw,
           (long long)k.sh, (long long)k.sw, (long long)k.pt, (long long)k.pb, (long long)k.pl,
           (long long)k.pr, ties ? " ties" : "");
  for (int offset = 0; offset < 2; ++offset)
    for (unsigned mb : {0u, 3u}) {
      run_case<int, 1>(k, label, offset, mb, x, dy, src, r);  // width 1 serves every c
      run_case<int64_t, 1>(k, label, offset, mb, x, dy, src, r);
      Buf<float> probe(1, offset);
      if (pool::width(k.c, probe.p) == 4) {
        run_case<int, 4>(k, label, offset, mb, x, dy, src, r);
        run_case<int64_t, 4>(k, label, offset, mb, x, dy, src, r);
      }
    }
}

}  // namespace

int main() {
  const Case cases[] = {
      // n, h, w, c, kh, kw, sh, sw, pads top, bottom, left, right
      {2, 8, 8, 4, 2, 2, 2, 2, 0, 0, 0, 0},      // Fashion-MNIST style 2x2/2
      {2, 9, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1},      // ResNet's 3x3/2 max pool (odd input)
      {2, 10, 10, 8, 3, 3, 2, 2, 0, 1, 0, 1},    // TensorFlow SAME: the extra pad bottom/right
      {1, 7, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1},      // overlapping windows, c not a multiple of 4
      {3, 5, 7, 1, 2, 3, 1, 2, 0, 1, 1, 0},      // one channel, rectangular window and strides
      {1, 6, 6, 12, 6, 6, 1, 1, 0, 0, 0, 0},     // global pooling (one window)
      {1, 5, 5, 4, 4, 4, 3, 3, 2, 2, 2, 2},      // windows mostly padding
      {1, 4, 4, 4, 2, 2, 1, 1, 2, 0, 2, 0},      // empty windows (all padding) at the top-left
      {2, 12, 11, 20, 3, 2, 3, 4, 1, 2, 0, 3},   // strides larger than the window: uncovered inputs
      {1, 3, 3, 5, 1, 1, 2, 2, 0, 0, 0, 0},      // 1x1/2
  };
  for (const Case& k : cases) {
    one_case(k, false);
    one_case(k, true);
  }
  // The index type switch: int32 exactly while every offset fits.
  const bool small = pool::fits_int32(256, 112, 112, 64, 56, 56);
  const bool big = pool::fits_int32(1024, 224, 224, 64, 112, 112);
  if (small && !big) ++passed;
  else printf("FAIL fits_int32: ResNet's pool at batch 256 %d (want 1), batch 1024 at 224 %d (want 0)\n", small, big), ++failed;
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
