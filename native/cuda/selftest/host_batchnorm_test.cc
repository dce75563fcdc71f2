// host_batchnorm_test: runs the cuda batch-norm kernels' per-thread code
// (kernels/batchnorm_body.h; plain, fused with a relu, and with a residual added) on the host, every thread of the
// grids batchnorm.cu launches (and of deliberately small grids, so threads loop), and
// compares the results with a plain double-precision batch norm. No GPU and no CUDA toolkit needed: g++ alone builds it
// (test/cuda-host-kernels.test.ts does, and reads the closing "N passed, N failed" line).
//   g++ -std=c++17 -O2 -Inative native/cuda/selftest/host_batchnorm_test.cc -o /tmp/t && /tmp/t
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../kernels/batchnorm_body.h"

using namespace cn::cuda::k;
using bn::Launch;

namespace {

int passed = 0, failed = 0;

void check(const std::string& what, const std::vector<float>& got, const std::vector<double>& want,
           double tol) {
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double e = std::fabs(got[i] - want[i]) / (1.0 + std::fabs(want[i]));
    if (!(e <= worst)) worst = e, at = i;  // NaN counts as worst
  }
  bool ok = got.size() == want.size() && worst <= tol;
  if (!ok)
    printf("FAIL %s: max rel err %.3g at %zu (got %.9g want %.9g)\n", what.c_str(), worst, at,
           got.empty() ? 0.0 : got[at], want.empty() ? 0.0 : want[at]);
  ok ? ++passed : ++failed;
}

// A float buffer whose data() is 16-byte aligned plus `offset` floats (offset 1 forces the
// one-channel-per-thread path).
struct Buf {
  std::vector<float> store;
  float* p;
  Buf(size_t n, int offset) : store(n + 8) {
    auto base = reinterpret_cast<uintptr_t>(store.data());
    p = reinterpret_cast<float*>((base + 15) & ~uintptr_t(15)) + offset;
  }
  std::vector<float> get(size_t n) const { return std::vector<float>(p, p + n); }
};

// Every thread of a grid, in order (the kernels' threads are independent).
template <typename F>
void run_grid(Launch l, F f) {
  const int64_t stride = (int64_t)l.blocks * l.threads;
  for (int64_t t = 0; t < stride; ++t) f(t, stride);
}

// The finish kernel: a warp per channel, lanes added in the device's butterfly order.
void finish(float* out0, float* out1, const double* p0, const double* p1, const float* x,
            int64_t rows, int64_t splits, int64_t c, int kind) {
  for (int64_t ch = 0; ch < c; ++ch) {
    double a[32], b[32];
    for (int lane = 0; lane < 32; ++lane) bn::finish_lane(&a[lane], &b[lane], p0, p1, splits, c, ch, lane);
    for (int o = 16; o > 0; o >>= 1) {
      double na[32], nb[32];
      for (int l = 0; l < 32; ++l) na[l] = a[l] + a[l ^ o], nb[l] = b[l] + b[l ^ o];
      for (int l = 0; l < 32; ++l) a[l] = na[l], b[l] = nb[l];
    }
    bn::finish_store(out0, out1, x, rows, ch, a[0], b[0], kind);
  }
}

// batchnorm.cu's sums(): partials with the launch geometry, then finish.
void sums(float* out0, float* out1, const float* x, const float* dy, const float* mean,
          const float* mscale, const float* mbeta, int64_t rows, int64_t c, int kind,
          unsigned max_blocks) {
  const int w = bn::width(c, x, dy);
  int64_t splits = 0;
  Launch l = bn::partials_launch(rows, c, w, &splits);
  if (max_blocks && l.blocks > max_blocks) l.blocks = max_blocks;
  std::vector<double> part(bn::partials_size(rows, c));
  double *p0 = part.data(), *p1 = p0 + splits * c;
  if ((size_t)(2 * splits * c) > part.size()) {
    printf("FAIL partials_size(%lld, %lld) = %zu < %lld\n", (long long)rows, (long long)c, part.size(), (long long)(2 * splits * c));
    ++failed;
    return;
  }
  run_grid(l, [&](int64_t t, int64_t s) {
    if (w == 4) bn::partials_thread<4>(p0, p1, x, dy, mean, mscale, mbeta, rows, c, splits, kind, t, s);
    else bn::partials_thread<1>(p0, p1, x, dy, mean, mscale, mbeta, rows, c, splits, kind, t, s);
  });
  finish(out0, out1, p0, p1, x, rows, splits, c, kind);
}

// residual_offset >= 0: the forward adds a residual z (Note [batch norm + add + relu]) held
// at that alignment offset (1 with an aligned x forces the one-channel path); the backward
// then is the unfused one (the join's gradient arrives already masked).
void one_case(int64_t rows, int64_t c, int offset, unsigned max_blocks, float center, bool affine,
              bool relu = false, int residual_offset = -1) {
  const int64_t n = rows * c;
  std::mt19937 gen((unsigned)(rows * 131 + c * 7 + offset));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Buf x(n, offset), dy(n, offset), y(n, offset), dx(n, offset), z(n, residual_offset < 0 ? 0 : residual_offset);
  const float* zp = residual_offset < 0 ? nullptr : z.p;
  std::vector<float> gamma(c), beta(c);
  for (int64_t i = 0; i < n; ++i) x.p[i] = center + 2.f * u(gen), dy.p[i] = u(gen), z.p[i] = u(gen);
  for (int64_t i = 0; i < c; ++i) gamma[i] = 1.f + 0.5f * u(gen), beta[i] = u(gen);
  const float* g = affine ? gamma.data() : nullptr;
  const float* b = affine ? beta.data() : nullptr;
  const float eps = 1e-3f;
  char label[160];
  snprintf(label, sizeof label, "rows %lld c %lld offset %d%s center %g%s%s%s", (long long)rows, (long long)c, offset,
           max_blocks ? " small grid" : "", center, affine ? "" : " no gamma/beta", relu ? " relu" : "",
           zp ? (residual_offset ? " + residual (offset 1)" : " + residual") : "");

  // Reference, in double.
  std::vector<double> rm(c, 0), rv(c, 0), ry(n), rdx(n), rdg(c, 0), rdb(c, 0), sdy(c, 0), sdyd(c, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ch = 0; ch < c; ++ch) rm[ch] += x.p[r * c + ch];
  for (auto& m : rm) m /= rows;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ch = 0; ch < c; ++ch) rv[ch] += std::pow(x.p[r * c + ch] - rm[ch], 2);
  for (auto& v : rv) v /= rows;

  std::vector<float> mean(c), var(c), scale(c);
  sums(mean.data(), var.data(), x.p, nullptr, nullptr, nullptr, nullptr, rows, c, bn::kMoments, max_blocks);
  check(std::string("moments mean ") + label, mean, rm, 1e-6);
  check(std::string("moments variance ") + label, var, rv, 1e-5);

  // Normalize with the statistics the kernels computed (as the backend does).
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ch = 0; ch < c; ++ch) {
      const double inv = 1.0 / std::sqrt((double)var[ch] + eps);
      ry[r * c + ch] = (x.p[r * c + ch] - (double)mean[ch]) * inv * (g ? g[ch] : 1.0) + (b ? b[ch] : 0.0) +
                       (zp ? (double)zp[r * c + ch] : 0.0);
    }
  const std::vector<double> pre = ry;  // before the relu
  if (relu)
    for (auto& v : ry) v = v > 0 ? v : 0;
  for (int64_t ch = 0; ch < c; ++ch) bn::scale_item(scale.data(), var.data(), g, ch, eps);
  {
    const int w = bn::width(c, x.p, y.p, zp);
    const int64_t groups = c / w, nvec = n / w;
    bool stationary = false;
    Launch l = bn::elementwise_launch(nvec, groups, &stationary);
    if (max_blocks && l.blocks > max_blocks) l.blocks = max_blocks;
    run_grid(l, [&](int64_t t, int64_t s) {
      if (w == 4) bn::normalize_thread<4>(y.p, x.p, zp, mean.data(), scale.data(), b, relu, nvec, groups, stationary, t, s);
      else bn::normalize_thread<1>(y.p, x.p, zp, mean.data(), scale.data(), b, relu, nvec, groups, stationary, t, s);
    });
  }
  check(std::string("normalize ") + label, y.get(n), ry, 2e-5);
  if (zp) relu = false;  // the backward of a join is the unfused one

  // Backward, from the kernels' mean and variance; with relu, of dy masked where y <= 0.
  std::vector<double> dye(n);
  for (int64_t i = 0; i < n; ++i) dye[i] = relu && !(pre[i] > 0) ? 0.0 : dy.p[i];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ch = 0; ch < c; ++ch) {
      const double d = dye[r * c + ch];
      sdy[ch] += d;
      sdyd[ch] += d * (x.p[r * c + ch] - (double)mean[ch]);
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t ch = 0; ch < c; ++ch) {
      const double inv = 1.0 / std::sqrt((double)var[ch] + eps), gg = g ? g[ch] : 1.0;
      const double xmu = x.p[r * c + ch] - (double)mean[ch];
      rdx[r * c + ch] = gg * inv * (dye[r * c + ch] - sdy[ch] / rows - xmu * inv * inv * sdyd[ch] / rows);
    }
  for (int64_t ch = 0; ch < c; ++ch) rdb[ch] = sdy[ch], rdg[ch] = sdyd[ch] / std::sqrt((double)var[ch] + eps);
  std::vector<float> s_dy(c), s_dyd(c), dgamma(c), dbeta(c), coeff(3 * c);
  const float* ms = relu ? scale.data() : nullptr;
  const float* mb = relu ? b : nullptr;
  sums(s_dy.data(), s_dyd.data(), x.p, dy.p, mean.data(), ms, mb, rows, c, bn::kGradSums, max_blocks);
  for (int64_t ch = 0; ch < c; ++ch)
    bn::param_grads_item(dgamma.data(), dbeta.data(), coeff.data(), s_dy.data(), s_dyd.data(), var.data(), g, c,
                         ch, eps, 1.f / (float)rows);
  check(std::string("dbeta ") + label, dbeta, rdb, 1e-5);
  check(std::string("dgamma ") + label, dgamma, rdg, 1e-5);
  {
    const int w = bn::width(c, dx.p, dy.p, x.p);
    const int64_t groups = c / w, nvec = n / w;
    bool stationary = false;
    Launch l = bn::elementwise_launch(nvec, groups, &stationary);
    if (max_blocks && l.blocks > max_blocks) l.blocks = max_blocks;
    run_grid(l, [&](int64_t t, int64_t s) {
      if (w == 4) bn::backward_data_thread<4>(dx.p, dy.p, x.p, mean.data(), coeff.data(), ms, mb, nvec, groups, c, stationary, t, s);
      else bn::backward_data_thread<1>(dx.p, dy.p, x.p, mean.data(), coeff.data(), ms, mb, nvec, groups, c, stationary, t, s);
    });
  }
  // dx is a difference of terms of size |dy|: compared at that scale.
  check(std::string("dx ") + label, dx.get(n), rdx, 1e-4);
}

}  // namespace

int main() {
  // Widths: c % 4 == 0 takes four channels per thread unless misaligned (offset 1).
  // Blocks: groups below 256 (multiples of groups), 256..1024 (one group per thread), above
  // 1024 (non-stationary). Rows: fewer than a 4-row step, uneven splits, many splits.
  const int64_t cs[] = {1, 3, 4, 6, 8, 64, 100, 2052, 1030, 4100, 8192};
  const int64_t rows_list[] = {1, 3, 17, 200};
  for (int64_t c : cs)
    for (int64_t rows : rows_list)
      for (int offset : {0, 1}) {
        if (rows * c > 400000 && rows > 17) continue;
        one_case(rows, c, offset, 0, 0.f, true);
        one_case(rows, c, offset, 3, 0.f, true);  // 3 blocks: every thread loops
        one_case(rows, c, offset, 3, 0.f, true, true);  // batch norm + relu
        one_case(rows, c, offset, 3, 0.f, true, true, offset);  // batch norm + add + relu
        if (offset == 0) one_case(rows, c, 0, 0, 0.f, true, true, 1);  // a misaligned residual
      }
  one_case(5000, 64, 0, 0, 1000.f, true);  // far from zero: the shifted moments
  one_case(5000, 64, 0, 0, 0.f, false);    // scale=False, center=False
  one_case(5000, 64, 0, 0, 0.f, false, true);
  one_case(40000, 64, 0, 0, 0.f, true, true);
  one_case(40000, 64, 0, 0, 0.f, true, false, 0);  // + residual, no relu
  one_case(20000, 24, 0, 0, 0.f, true);    // many splits (rows / 16 bound)
  one_case(40000, 64, 0, 0, 0.f, true);    // more splits at width 4 than at width 1
  one_case(20000, 24, 0, 7, -300.f, true);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
