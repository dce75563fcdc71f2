// cuda_selftest: runs every CudaBackend method once or more on small inputs and compares with
// naive host references; for a machine with a GPU, before (or beside) the JS parity suites.
// Not part of the addon. Build and run (prints one line per check, then "N passed, N failed"):
//   native/cuda/selftest/build.sh && /tmp/cuda_selftest
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "../../core/params.h"
#include "../cuda_probe.h"
#include "../kernels/counter_rng.h"

using namespace cn;
using V = std::vector<float>;

namespace {

Backend* B = nullptr;
int passed = 0, failed = 0;

struct Dev {  // a device buffer holding a copy of host data
  void* p = nullptr;
  size_t bytes = 0;
  explicit Dev(size_t n_bytes) : bytes(n_bytes) {
    Status s = B->allocate(&p, bytes);
    if (!s.is_ok()) { printf("allocate: %s\n", s.message().c_str()); exit(2); }
  }
  template <typename T>
  explicit Dev(const std::vector<T>& h) : Dev(h.size() * sizeof(T)) {
    Status s = B->upload(p, h.data(), bytes);
    if (!s.is_ok()) { printf("upload: %s\n", s.message().c_str()); exit(2); }
  }
  ~Dev() { B->release(p, bytes); }
  float* f() const { return (float*)p; }
  int32_t* i() const { return (int32_t*)p; }
  template <typename T = float>
  std::vector<T> get() const {
    std::vector<T> h(bytes / sizeof(T));
    Status s = B->download(h.data(), p, bytes);
    if (!s.is_ok()) { printf("download: %s\n", s.message().c_str()); exit(2); }
    return h;
  }
};

V rnd(size_t n, float lo = -1.f, float hi = 1.f, unsigned seed = 1) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  V v(n);
  for (auto& x : v) x = d(g);
  return v;
}

void check(const std::string& name, const Status& s, const V& got, const V& want, float tol) {
  if (!s.is_ok()) {
    printf("FAIL %s: %s\n", name.c_str(), s.message().c_str());
    ++failed;
    return;
  }
  if (got.size() != want.size()) {
    printf("FAIL %s: size %zu vs %zu\n", name.c_str(), got.size(), want.size());
    ++failed;
    return;
  }
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double e = std::fabs((double)got[i] - want[i]) / (1.0 + std::fabs((double)want[i]));
    if (!(e <= worst)) { worst = e; at = i; }  // NaN counts as worst
  }
  bool ok = worst <= tol;
  printf("%s %s: max rel err %.3g at %zu (got %g want %g)\n", ok ? "ok  " : "FAIL", name.c_str(),
         worst, at, got.empty() ? 0.0 : got[at], want.empty() ? 0.0 : want[at]);
  ok ? ++passed : ++failed;
}

// ---- references
V conv_ref(const V& x, const V& w, const Conv2DParams& p) {
  V y(p.n * p.out_h * p.out_w * p.out_c, 0.f);
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t oc = 0; oc < p.out_c; ++oc) {
          double acc = 0;
          for (int64_t kh = 0; kh < p.k_h; ++kh)
            for (int64_t kw = 0; kw < p.k_w; ++kw) {
              int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
              int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
              if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
              if (p.depthwise) {
                int64_t c = oc / p.depth_multiplier, m = oc % p.depth_multiplier;
                acc += x[((n * p.in_h + ih) * p.in_w + iw) * p.in_c + c] *
                       w[((kh * p.k_w + kw) * p.in_c + c) * p.depth_multiplier + m];
              } else {
                for (int64_t ic = 0; ic < p.in_c; ++ic)
                  acc += x[((n * p.in_h + ih) * p.in_w + iw) * p.in_c + ic] *
                         w[((kh * p.k_w + kw) * p.in_c + ic) * p.out_c + oc];
              }
            }
          y[((n * p.out_h + oh) * p.out_w + ow) * p.out_c + oc] = (float)acc;
        }
  return y;
}

// Gradients of sum(y * dy) by finite structure: dx and dw from the same loops.
void conv_grads_ref(const V& x, const V& w, const V& dy, const Conv2DParams& p, V* dx, V* dw) {
  dx->assign(x.size(), 0.f);
  dw->assign(w.size(), 0.f);
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t oc = 0; oc < p.out_c; ++oc) {
          float g = dy[((n * p.out_h + oh) * p.out_w + ow) * p.out_c + oc];
          for (int64_t kh = 0; kh < p.k_h; ++kh)
            for (int64_t kw = 0; kw < p.k_w; ++kw) {
              int64_t ih = oh * p.stride_h - p.pad_top + kh * p.dil_h;
              int64_t iw = ow * p.stride_w - p.pad_left + kw * p.dil_w;
              if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
              auto one = [&](int64_t ic, int64_t wi) {
                int64_t xi = ((n * p.in_h + ih) * p.in_w + iw) * p.in_c + ic;
                (*dx)[xi] += g * w[wi];
                (*dw)[wi] += g * x[xi];
              };
              if (p.depthwise)
                one(oc / p.depth_multiplier,
                    ((kh * p.k_w + kw) * p.in_c + oc / p.depth_multiplier) * p.depth_multiplier +
                        oc % p.depth_multiplier);
              else
                for (int64_t ic = 0; ic < p.in_c; ++ic) one(ic, ((kh * p.k_w + kw) * p.in_c + ic) * p.out_c + oc);
            }
        }
}

void test_conv(const char* name, Shape xs, Shape fs, int64_t stride, Padding pad, bool depthwise,
               int64_t dil = 1) {
  Conv2DParams p;
  Status s = make_conv2d_params(&p, xs, fs, stride, stride, dil, dil, pad, {}, depthwise);
  if (!s.is_ok()) { printf("FAIL %s params: %s\n", name, s.message().c_str()); ++failed; return; }
  V x = rnd(num_elements(xs), -1, 1, 2), w = rnd(num_elements(fs), -1, 1, 3),
    bias = rnd(p.out_c, -1, 1, 4), dy = rnd(num_elements(p.output_shape()), -1, 1, 5);
  Dev dx_(x), dw_(w), db_(bias), ddy(dy), y(num_elements(p.output_shape()) * 4),
      gx(x.size() * 4), gw(w.size() * 4), gb(bias.size() * 4);
  V want = conv_ref(x, w, p);
  for (size_t i = 0; i < want.size(); ++i) want[i] = std::max(0.f, want[i] + bias[i % p.out_c]);
  p.relu = true;
  Status st = B->conv2d_forward(y.f(), dx_.f(), dw_.f(), db_.f(), p);
  check(std::string(name) + " forward+bias+relu", st, y.get(), want, 2e-2f);
  V rdx, rdw;
  conv_grads_ref(x, w, dy, p, &rdx, &rdw);
  st = B->conv2d_backward_data(gx.f(), ddy.f(), dw_.f(), p);
  check(std::string(name) + " backward-data", st, gx.get(), rdx, 2e-2f);
  st = B->conv2d_backward_filter(gw.f(), gb.f(), dx_.f(), ddy.f(), p);
  check(std::string(name) + " backward-filter", st, gw.get(), rdw, 2e-2f);
  V rdb(p.out_c, 0.f);
  for (size_t i = 0; i < dy.size(); ++i) rdb[i % p.out_c] += dy[i];
  check(std::string(name) + " bias gradient", st, gb.get(), rdb, 1e-4f);
}

void test_matmul(bool ta, bool tb, int64_t batch, bool a_b, bool b_b) {
  MatMulParams p;
  p.batch = batch; p.m = 37; p.n = 29; p.k = 53; p.trans_a = ta; p.trans_b = tb;
  p.a_batched = a_b; p.b_batched = b_b; p.has_bias = true; p.relu = false;
  V a = rnd((a_b ? batch : 1) * p.m * p.k, -1, 1, 7), b = rnd((b_b ? batch : 1) * p.k * p.n, -1, 1, 8),
    bias = rnd(p.n, -1, 1, 9);
  V want(batch * p.m * p.n);
  for (int64_t t = 0; t < batch; ++t)
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        double acc = bias[j];
        for (int64_t q = 0; q < p.k; ++q) {
          float av = a[(a_b ? t * p.m * p.k : 0) + (ta ? q * p.m + i : i * p.k + q)];
          float bv = b[(b_b ? t * p.k * p.n : 0) + (tb ? j * p.k + q : q * p.n + j)];
          acc += av * bv;
        }
        want[(t * p.m + i) * p.n + j] = (float)acc;
      }
  Dev da(a), dbm(b), dbias(bias), c(want.size() * 4);
  Status s = B->matmul(c.f(), da.f(), dbm.f(), dbias.f(), p);
  char name[96];
  snprintf(name, sizeof name, "matmul ta=%d tb=%d batch=%lld a_b=%d b_b=%d", ta, tb, (long long)batch, a_b, b_b);
  check(name, s, c.get(), want, 2e-2f);
}

void test_batchnorm() {
  BatchNormParams p;
  p.rows = 300; p.c = 12; p.epsilon = 1e-3f;
  V x = rnd(p.rows * p.c, -2, 3, 11), g = rnd(p.c, 0.5, 1.5, 12), be = rnd(p.c, -1, 1, 13),
    dy = rnd(p.rows * p.c, -1, 1, 14);
  V mean(p.c, 0), var(p.c, 0);
  for (int64_t r = 0; r < p.rows; ++r) for (int64_t c = 0; c < p.c; ++c) mean[c] += x[r * p.c + c] / p.rows;
  for (int64_t r = 0; r < p.rows; ++r) for (int64_t c = 0; c < p.c; ++c) { float d = x[r * p.c + c] - mean[c]; var[c] += d * d / p.rows; }
  V y(x.size()), dx(x.size()), dg(p.c, 0), db(p.c, 0);
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t c = 0; c < p.c; ++c) {
      float xh = (x[r * p.c + c] - mean[c]) / std::sqrt(var[c] + p.epsilon);
      y[r * p.c + c] = g[c] * xh + be[c];
      dg[c] += dy[r * p.c + c] * xh;
      db[c] += dy[r * p.c + c];
    }
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t c = 0; c < p.c; ++c) {
      float inv = 1.f / std::sqrt(var[c] + p.epsilon);
      float xh = (x[r * p.c + c] - mean[c]) * inv;
      dx[r * p.c + c] = g[c] * inv * (dy[r * p.c + c] - db[c] / p.rows - xh * dg[c] / p.rows);
    }
  Dev X(x), G(g), Be(be), DY(dy), Y(x.size() * 4), M(p.c * 4), Va(p.c * 4), DX(x.size() * 4),
      DG(p.c * 4), DB(p.c * 4);
  Status s = B->batchnorm_forward_training(Y.f(), M.f(), Va.f(), X.f(), G.f(), Be.f(), nullptr, p);
  check("batchnorm training y", s, Y.get(), y, 1e-4f);
  check("batchnorm batch mean", s, M.get(), mean, 1e-5f);
  check("batchnorm batch variance (biased)", s, Va.get(), var, 1e-4f);
  s = B->batchnorm_forward_inference(Y.f(), X.f(), G.f(), Be.f(), M.f(), Va.f(), nullptr, p);
  check("batchnorm inference", s, Y.get(), y, 1e-4f);
  s = B->batchnorm_backward(DX.f(), DG.f(), DB.f(), DY.f(), X.f(), G.f(), Be.f(), M.f(), Va.f(), p);
  check("batchnorm backward dx", s, DX.get(), dx, 1e-3f);
  check("batchnorm backward dgamma", s, DG.get(), dg, 1e-3f);
  check("batchnorm backward dbeta", s, DB.get(), db, 1e-4f);
}

void test_pool(PoolKind kind, int64_t k, int64_t stride, Padding pad) {
  Pool2DParams p;
  Shape xs = {2, 7, 9, 3};
  make_pool2d_params(&p, kind, xs, k, k, stride, stride, pad);
  V x = rnd(num_elements(xs), -1, 1, 21), dy = rnd(num_elements(p.output_shape()), -1, 1, 22);
  V y(num_elements(p.output_shape())), dx(x.size(), 0.f);
  for (int64_t n = 0; n < p.n; ++n)
    for (int64_t oh = 0; oh < p.out_h; ++oh)
      for (int64_t ow = 0; ow < p.out_w; ++ow)
        for (int64_t c = 0; c < p.c; ++c) {
          float best = -INFINITY, sum = 0; int64_t at = -1, cnt = 0;
          for (int64_t i = oh * stride - p.pad_top; i < oh * stride - p.pad_top + k; ++i)
            for (int64_t j = ow * stride - p.pad_left; j < ow * stride - p.pad_left + k; ++j) {
              if (i < 0 || j < 0 || i >= p.in_h || j >= p.in_w) continue;
              int64_t xi = ((n * p.in_h + i) * p.in_w + j) * p.c + c;
              if (at < 0 || x[xi] > best) { best = x[xi]; at = xi; }
              sum += x[xi]; ++cnt;
            }
          int64_t yi = ((n * p.out_h + oh) * p.out_w + ow) * p.c + c;
          if (kind == PoolKind::kMax) { y[yi] = best; dx[at] += dy[yi]; }
          else {
            y[yi] = sum / cnt;
            for (int64_t i = oh * stride - p.pad_top; i < oh * stride - p.pad_top + k; ++i)
              for (int64_t j = ow * stride - p.pad_left; j < ow * stride - p.pad_left + k; ++j)
                if (i >= 0 && j >= 0 && i < p.in_h && j < p.in_w) dx[((n * p.in_h + i) * p.in_w + j) * p.c + c] += dy[yi] / cnt;
          }
        }
  Dev X(x), DY(dy), Y(y.size() * 4), DX(x.size() * 4);
  std::string name = std::string(kind == PoolKind::kMax ? "maxpool" : "avgpool") + " k" + std::to_string(k) +
                     " s" + std::to_string(stride) + (pad == Padding::kSame ? " same" : " valid");
  check(name + " forward", B->pool2d_forward(Y.f(), X.f(), p), Y.get(), y, 1e-6f);
  check(name + " backward", B->pool2d_backward(DX.f(), DY.f(), X.f(), p), DX.get(), dx, 1e-5f);
}

void test_reduce(int64_t outer, int64_t r, int64_t inner, ReduceOp op) {
  V x = rnd(outer * r * inner, 0.5f, 1.5f, 31), want(outer * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = op == ReduceOp::kMax ? -INFINITY : op == ReduceOp::kMin ? INFINITY : op == ReduceOp::kProd ? 1 : 0;
      for (int64_t j = 0; j < r; ++j) {
        double v = x[(o * r + j) * inner + i];
        if (op == ReduceOp::kMax) acc = std::max(acc, v);
        else if (op == ReduceOp::kMin) acc = std::min(acc, v);
        else if (op == ReduceOp::kProd) acc *= v;
        else acc += v;
      }
      want[o * inner + i] = (float)(op == ReduceOp::kMean ? acc / r : acc);
    }
  Dev X(x), Y(want.size() * 4);
  ReduceParams p{outer, r, inner};
  char name[96];
  snprintf(name, sizeof name, "reduce op%d [%lld,%lld,%lld]", (int)op, (long long)outer, (long long)r, (long long)inner);
  check(name, B->reduce(Y.f(), X.f(), op, p), Y.get(), want, op == ReduceOp::kProd ? 1e-3f : 1e-4f);
}

void test_misc() {
  // argmax, one_hot
  {
    int64_t outer = 5, r = 77, inner = 1;
    V x = rnd(outer * r, -1, 1, 41);
    V want(outer);
    for (int64_t o = 0; o < outer; ++o) { int64_t b = 0; for (int64_t j = 1; j < r; ++j) if (x[o * r + j] > x[o * r + b]) b = j; want[o] = (float)b; }
    Dev X(x), Y(outer * 4);
    Status s = B->argmax(Y.i(), X.f(), ReduceParams{outer, r, inner});
    auto got = Y.get<int32_t>();
    check("argmax rows", s, V(got.begin(), got.end()), want, 0);
    V x2 = rnd(3 * 6 * 4, -1, 1, 42), want2(12);
    for (int64_t o = 0; o < 3; ++o) for (int64_t i = 0; i < 4; ++i) { int64_t b = 0; for (int64_t j = 1; j < 6; ++j) if (x2[(o * 6 + j) * 4 + i] > x2[(o * 6 + b) * 4 + i]) b = j; want2[o * 4 + i] = (float)b; }
    Dev X2(x2), Y2(12 * 4);
    s = B->argmax(Y2.i(), X2.f(), ReduceParams{3, 6, 4});
    auto got2 = Y2.get<int32_t>();
    check("argmax inner", s, V(got2.begin(), got2.end()), want2, 0);
    std::vector<int32_t> idx = {0, 3, 2, 9};
    Dev I(idx), OH(4 * 5 * 4);
    V oh(20, 0.f);
    for (int k = 0; k < 4; ++k) if (idx[k] < 5) oh[k * 5 + idx[k]] = 1.f;
    check("one_hot", B->one_hot(OH.f(), I.i(), 4, 5, 1.f, 0.f), OH.get(), oh, 0);
  }
  // softmax family
  {
    int64_t rows = 9, cols = 70;
    V x = rnd(rows * cols, -3, 3, 51), dy = rnd(rows * cols, -1, 1, 52), sm(x.size()), ls(x.size()), dsm(x.size()), dls(x.size());
    std::vector<int32_t> labels(rows);
    V loss(rows), dlog(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      labels[r] = (int32_t)((r * 7) % cols);
      double m = -INFINITY, s = 0, dot = 0, sdy = 0;
      for (int64_t c = 0; c < cols; ++c) m = std::max(m, (double)x[r * cols + c]);
      for (int64_t c = 0; c < cols; ++c) s += std::exp(x[r * cols + c] - m);
      for (int64_t c = 0; c < cols; ++c) {
        sm[r * cols + c] = (float)(std::exp(x[r * cols + c] - m) / s);
        ls[r * cols + c] = (float)(x[r * cols + c] - m - std::log(s));
        dot += dy[r * cols + c] * sm[r * cols + c];
        sdy += dy[r * cols + c];
      }
      for (int64_t c = 0; c < cols; ++c) {
        dsm[r * cols + c] = (float)(sm[r * cols + c] * (dy[r * cols + c] - dot));
        dls[r * cols + c] = (float)(dy[r * cols + c] - sm[r * cols + c] * sdy);
        dlog[r * cols + c] = sm[r * cols + c] - (c == labels[r] ? 1.f : 0.f);
      }
      loss[r] = -ls[r * cols + labels[r]];
    }
    Dev X(x), DY(dy), Y(x.size() * 4), L(x.size() * 4), DX(x.size() * 4), LO(rows * 4), DL(x.size() * 4), LB(labels);
    check("softmax", B->softmax(Y.f(), X.f(), rows, cols, false), Y.get(), sm, 1e-5f);
    check("log_softmax", B->softmax(L.f(), X.f(), rows, cols, true), L.get(), ls, 1e-5f);
    check("softmax backward", B->softmax_backward(DX.f(), DY.f(), Y.f(), rows, cols, false), DX.get(), dsm, 1e-5f);
    check("log_softmax backward", B->softmax_backward(DX.f(), DY.f(), L.f(), rows, cols, true), DX.get(), dls, 1e-5f);
    Status s = B->sparse_softmax_cross_entropy(LO.f(), DL.f(), X.f(), LB.i(), rows, cols);
    check("sparse xent loss", s, LO.get(), loss, 1e-5f);
    check("sparse xent dlogits", s, DL.get(), dlog, 1e-5f);
  }
  // binary with broadcasting, float and int
  {
    Shape as = {4, 1, 5}, bs = {3, 1};
    V a = rnd(20, -2, 2, 61), b = rnd(3, 0.5f, 2, 62);
    BroadcastParams p;
    make_broadcast_params(&p, as, bs);
    V want(p.size);
    for (int64_t i = 0; i < 4; ++i) for (int64_t j = 0; j < 3; ++j) for (int64_t k = 0; k < 5; ++k) {
      float av = a[i * 5 + k], bv = b[j], r = std::fmod(av, bv);
      want[(i * 3 + j) * 5 + k] = (r != 0 && ((r < 0) != (bv < 0))) ? r + bv : r;
    }
    Dev A(a), Bb(b), O(p.size * 4);
    check("binary mod broadcast", B->binary(O.f(), A.f(), Bb.f(), DType::kFloat32, BinaryOp::kMod, p), O.get(), want, 1e-6f);
    std::vector<int32_t> ai = {7, -7, 7, -7, 0}, bi = {2, 2, -2, -2, 3};
    BroadcastParams q;
    make_broadcast_params(&q, {5}, {5});
    Dev AI(ai), BI(bi), OI(20);
    Status s = B->binary(OI.p, AI.p, BI.p, DType::kInt32, BinaryOp::kFloorDiv, q);
    auto gi = OI.get<int32_t>();
    check("binary int floordiv", s, V(gi.begin(), gi.end()), V{3, -4, -4, 3, 0}, 0);
    BroadcastParams sc;
    make_broadcast_params(&sc, {1}, {2, 3});
    V s1 = {2.f}, s2 = rnd(6, 1, 2, 63), w3(6);
    for (int i = 0; i < 6; ++i) w3[i] = std::pow(2.f, s2[i]);
    Dev S1(s1), S2(s2), SO(24);
    check("binary pow scalar", B->binary(SO.f(), S1.f(), S2.f(), DType::kFloat32, BinaryOp::kPow, sc), SO.get(), w3, 1e-5f);
  }
  // unary / grads / select / cast / fill
  {
    V x = rnd(1000, -3, 3, 71), dy = rnd(1000, -1, 1, 72), y(1000), g(1000);
    for (int i = 0; i < 1000; ++i) y[i] = x[i] > 0 ? x[i] : 0.7f * std::expm1(x[i]);
    for (int i = 0; i < 1000; ++i) g[i] = y[i] > 0 ? dy[i] : dy[i] * (y[i] + 0.7f);
    Dev X(x), DY(dy), Y(4000), G(4000);
    check("unary elu", B->unary(Y.f(), X.f(), 1000, UnaryOp::kElu, 0.7f), Y.get(), y, 1e-5f);
    check("unary_grad elu", B->unary_grad(G.f(), DY.f(), Y.f(), 1000, UnaryGradOp::kElu, 0.7f), G.get(), g, 1e-5f);
    V sg(1000);
    for (int i = 0; i < 1000; ++i) sg[i] = 1.f / (1.f + std::exp(-x[i]));
    check("unary sigmoid", B->unary(Y.f(), X.f(), 1000, UnaryOp::kSigmoid, 1.f), Y.get(), sg, 1e-6f);
    V sel(1000);
    for (int i = 0; i < 1000; ++i) sel[i] = x[i] != 0 ? dy[i] : x[i];
    Dev S(4000);
    check("select", B->select(S.f(), X.f(), DY.f(), X.f(), 1000), S.get(), sel, 0);
    Dev CI(4000), CF(4000);
    Status s = B->cast(CI.p, DType::kInt32, X.p, DType::kFloat32, 1000);
    if (s.is_ok()) s = B->cast(CF.p, DType::kFloat32, CI.p, DType::kInt32, 1000);
    V tr(1000);
    for (int i = 0; i < 1000; ++i) tr[i] = std::trunc(x[i]);
    check("cast float->int->float", s, CF.get(), tr, 0);
    Dev F(4000);
    check("fill", B->fill(F.p, DType::kFloat32, 2.5, 1000), F.get(), V(1000, 2.5f), 0);
  }
  // movement
  {
    Shape s = {2, 3, 4, 5};
    V x = rnd(120, -1, 1, 81), t(120), sl, pd;
    TransposeParams tp;
    tp.rank = 4;
    int perm[4] = {2, 0, 3, 1};
    for (int i = 0; i < 4; ++i) { tp.in_shape[i] = s[i]; tp.perm[i] = perm[i]; }
    tp.size = 120;
    int64_t o = 0;
    for (int64_t a = 0; a < 4; ++a) for (int64_t b = 0; b < 2; ++b) for (int64_t c = 0; c < 5; ++c) for (int64_t d = 0; d < 3; ++d)
      t[o++] = x[((b * 3 + d) * 4 + a) * 5 + c];
    Dev X(x), T(480);
    check("transpose", B->transpose(T.p, X.p, tp), T.get(), t, 0);
    V x2 = rnd(37 * 53, -1, 1, 82), t2(37 * 53);
    for (int64_t i = 0; i < 37; ++i) for (int64_t j = 0; j < 53; ++j) t2[j * 37 + i] = x2[i * 53 + j];
    TransposeParams tp2; tp2.rank = 2; tp2.in_shape[0] = 37; tp2.in_shape[1] = 53; tp2.perm[0] = 1; tp2.perm[1] = 0; tp2.size = 37 * 53;
    Dev X2(x2), T2(x2.size() * 4);
    check("transpose 2d", B->transpose(T2.p, X2.p, tp2), T2.get(), t2, 0);
    for (int64_t a = 1; a < 2; ++a) for (int64_t b = 1; b < 3; ++b) for (int64_t c = 0; c < 4; ++c) for (int64_t d = 2; d < 5; ++d)
      sl.push_back(x[((a * 3 + b) * 4 + c) * 5 + d]);
    Dev SL(sl.size() * 4);
    check("slice", B->slice(SL.p, X.p, s, {1, 1, 0, 2}, {1, 2, 4, 3}), SL.get(), sl, 0);
    for (int64_t a = 0; a < 2; ++a) for (int64_t b = 0; b < 3 + 2; ++b) for (int64_t c = 0; c < 4 + 1; ++c) for (int64_t d = 0; d < 5; ++d) {
      int64_t bb = b - 1, cc = c;
      pd.push_back(bb >= 0 && bb < 3 && cc < 4 ? x[((a * 3 + bb) * 4 + cc) * 5 + d] : -9.f);
    }
    Dev PD(pd.size() * 4);
    check("pad", B->pad(PD.f(), X.f(), s, {0, 1, 0, 0}, {0, 1, 1, 0}, -9.f), PD.get(), pd, 0);
    // concat along axis 1 of [2, 3, 20] and [2, 2, 20] -> [2, 5, 20], then split back
    V a = rnd(120, -1, 1, 83), b = rnd(80, -1, 1, 84), cat;
    for (int64_t i = 0; i < 2; ++i) {
      cat.insert(cat.end(), a.begin() + i * 60, a.begin() + (i + 1) * 60);
      cat.insert(cat.end(), b.begin() + i * 40, b.begin() + (i + 1) * 40);
    }
    Dev A(a), Bb(b), C(200 * 4), Back(80 * 4);
    Status st = B->copy_slab(C.p, A.p, 2, 3, 5, 0, 20, true);
    if (st.is_ok()) st = B->copy_slab(C.p, Bb.p, 2, 2, 5, 3, 20, true);
    check("copy_slab concat", st, C.get(), cat, 0);
    check("copy_slab split", B->copy_slab(Back.p, C.p, 2, 5, 2, 3, 20, false), Back.get(), b, 0);
  }
  // resize bilinear (half-pixel), forward and adjoint identity <R x, dy> == <x, R^T dy>
  {
    ResizeParams p;
    p.n = 1; p.in_h = 3; p.in_w = 4; p.c = 2; p.out_h = 5; p.out_w = 7;
    V x = rnd(24, -1, 1, 91), dy = rnd(70, -1, 1, 92);
    Dev X(x), DY(dy), Y(70 * 4), DX(24 * 4);
    Status s = B->resize_bilinear(Y.f(), X.f(), p);
    if (s.is_ok()) s = B->resize_bilinear_backward(DX.f(), DY.f(), p);
    V y = Y.get(), dx = DX.get();
    double l = 0, r = 0;
    for (int i = 0; i < 70; ++i) l += y[i] * dy[i];
    for (int i = 0; i < 24; ++i) r += x[i] * dx[i];
    check("resize adjoint", s, V{(float)l}, V{(float)r}, 1e-5f);
    // corner pixel of an upscale equals the input corner
    check("resize corner", s, V{y[0], y[1]}, V{x[0], x[1]}, 1e-6f);
  }
  // random: identical to the cpu definition (Philox4x32-10)
  {
    int64_t n = 1003;
    V mask(n), uni(n), nor(n);
    float rate = 0.3f, scale = 1.f / (1.f - rate);
    for (int64_t i = 0; i < n; ++i) {
      rng::Block blk = rng::philox4x32_10((uint64_t)(i / 4), 1234567ull);
      float u = rng::uniform01(blk.x[i % 4]);
      mask[i] = u >= rate ? scale : 0.f;
      uni[i] = -2.f + 5.f * u;
      int64_t k = (i % 4) & ~1;
      float u1 = (float)((blk.x[k] >> 8) + 1) * rng::kTwoM24, u2 = (float)(blk.x[k + 1] >> 8) * rng::kTwoM24;
      float rr = std::sqrt(-2.f * std::log(u1)), t = 6.2831853f * u2;
      nor[i] = 1.f + 2.f * (rr * ((i % 2) ? std::sin(t) : std::cos(t)));
    }
    Dev M(n * 4), U(n * 4), N(n * 4);
    check("dropout mask (bit-exact)", B->dropout_mask(M.f(), n, rate, 1234567ull), M.get(), mask, 0);
    check("random uniform (bit-exact)", B->random(U.f(), n, false, -2.f, 3.f, 1234567ull), U.get(), uni, 0);
    check("random normal", B->random(N.f(), n, true, 1.f, 2.f, 1234567ull), N.get(), nor, 1e-5f);
  }
  // optimizers, one step at t = 3
  {
    int64_t n = 257;
    V w = rnd(n, -1, 1, 101), g = rnd(n, -1, 1, 102), m = rnd(n, -0.1f, 0.1f, 103), v = rnd(n, 0, 0.1f, 104);
    OptimizerParams p;
    p.lr = 0.01f; p.momentum = 0.9f; p.nesterov = true;
    V ws = w, vs = m;
    for (int64_t i = 0; i < n; ++i) { vs[i] = p.momentum * m[i] - p.lr * g[i]; ws[i] = w[i] + p.momentum * vs[i] - p.lr * g[i]; }
    Dev W(w), G(g), VEL(m);
    Status s = B->sgd_update(W.f(), VEL.f(), G.f(), n, p);
    check("sgd nesterov w", s, W.get(), ws, 1e-6f);
    float t = 3.f;
    V wa = w, ma = m, va = v;
    double alpha = p.lr * std::sqrt(1 - std::pow(0.999, 3)) / (1 - std::pow(0.9, 3));
    for (int64_t i = 0; i < n; ++i) {
      ma[i] = m[i] + (g[i] - m[i]) * 0.1f;
      va[i] = v[i] + (g[i] * g[i] - v[i]) * 0.001f;
      wa[i] = w[i] - (float)(ma[i] * alpha / (std::sqrt(va[i]) + p.epsilon));
    }
    Dev W2(w), M2(m), V2(v), G2(g), T(V{t});
    s = B->adam_update(W2.f(), M2.f(), V2.f(), G2.f(), n, p, T.f(), false);
    check("adam w", s, W2.get(), wa, 1e-5f);
    // nadam at t = 3
    double up = 1;
    for (int k = 1; k <= 3; ++k) up *= 0.9 * (1 - 0.5 * std::pow(0.96, k));
    double ut = 0.9 * (1 - 0.5 * std::pow(0.96, 3)), ut1 = 0.9 * (1 - 0.5 * std::pow(0.96, 4));
    V wn = w;
    for (int64_t i = 0; i < n; ++i) {
      double mh = ut1 * ma[i] / (1 - up * ut1) + (1 - ut) * g[i] / (1 - up);
      double vh = va[i] / (1 - std::pow(0.999, 3));
      wn[i] = (float)(w[i] - mh * p.lr / (std::sqrt(vh) + p.epsilon));
    }
    Dev W3(w), M3(m), V3(v);
    s = B->adam_update(W3.f(), M3.f(), V3.f(), G2.f(), n, p, T.f(), true);
    check("nadam w", s, W3.get(), wn, 1e-5f);
    // rmsprop centered with momentum
    OptimizerParams r;
    r.lr = 0.01f; r.rho = 0.9f; r.momentum = 0.5f; r.centered = true;
    V wr = w, msr = v, momr = m, mgr = m;
    for (int64_t i = 0; i < n; ++i) {
      msr[i] = r.rho * v[i] + (1 - r.rho) * g[i] * g[i];
      mgr[i] = r.rho * m[i] + (1 - r.rho) * g[i];
      float inc = r.lr * g[i] / std::sqrt(msr[i] - mgr[i] * mgr[i] + r.epsilon);
      momr[i] = r.momentum * m[i] + inc;
      wr[i] = w[i] - momr[i];
    }
    Dev W4(w), MS(v), MOM(m), MG(m);
    s = B->rmsprop_update(W4.f(), MS.f(), MOM.f(), MG.f(), G2.f(), n, r);
    check("rmsprop centered momentum w", s, W4.get(), wr, 1e-5f);
  }
}

}  // namespace

int main() {
  CudaInfo info = cuda_probe();
  printf("cuda: compiled=%d available=%d device=%s cc=%d.%d cudnn=%d cublas=%d driver=%d runtime=%d\n",
         info.compiled, info.available, info.device_name.c_str(), info.cc_major, info.cc_minor,
         info.cudnn_version, info.cublas_version, info.driver_version, info.runtime_version);
  printf("cudnn: %s\ncublas: %s\n", info.cudnn_path.c_str(), info.cublas_path.c_str());
  B = cuda_backend();
  if (!B) {
    info = cuda_probe();
    printf("skipped: no CUDA device (%s)\n0 passed, 0 failed\n", info.reason.c_str());
    return 0;
  }
  for (int strict = 1; strict >= 0; --strict) {
    cuda_set_options(!strict, false, false);
    printf("-- %s\n", strict ? "strict fp32" : "tf32 allowed");
    test_conv("conv 3x3 same s1", {2, 9, 11, 5}, {3, 3, 5, 7}, 1, Padding::kSame, false);
    test_conv("conv 3x3 same s2 (asymmetric)", {2, 10, 12, 4}, {3, 3, 4, 6}, 2, Padding::kSame, false);
    test_conv("conv 5x5 valid s1 dil2", {1, 13, 13, 3}, {5, 5, 3, 4}, 1, Padding::kValid, false, 2);
    test_conv("depthwise 3x3 same s1 x2", {2, 8, 8, 6}, {3, 3, 6, 2}, 1, Padding::kSame, true);
    test_conv("depthwise 3x3 same s2", {2, 9, 9, 8}, {3, 3, 8, 1}, 2, Padding::kSame, true);
    test_matmul(false, false, 1, false, false);
    test_matmul(true, false, 3, true, false);
    test_matmul(false, true, 4, false, true);
    test_matmul(true, true, 2, true, true);
  }
  cuda_set_options(true, true, false);
  printf("-- autotune\n");
  test_conv("autotuned conv 3x3 same s2", {4, 16, 16, 8}, {3, 3, 8, 16}, 2, Padding::kSame, false);
  cuda_set_options(true, false, false);
  test_batchnorm();
  for (PoolKind k : {PoolKind::kMax, PoolKind::kAvg}) {
    test_pool(k, 2, 2, Padding::kValid);
    test_pool(k, 3, 2, Padding::kSame);
    test_pool(k, 3, 1, Padding::kSame);
  }
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd}) {
    test_reduce(3, 50, 1, op);
    test_reduce(2, 10, 7, op);
  }
  test_reduce(1, 1 << 20, 1, ReduceOp::kSum);   // two-pass rows
  test_reduce(1, 100000, 16, ReduceOp::kMean);  // two-pass columns (bias-gradient shape)
  test_misc();
  // out of memory becomes a clear error
  void* big = nullptr;
  Status s = B->allocate(&big, size_t(1) << 50);
  bool oom_ok = !s.is_ok() && s.code() == StatusCode::kOutOfMemory;
  printf("%s out-of-memory status: %s\n", oom_ok ? "ok  " : "FAIL", s.message().c_str());
  oom_ok ? ++passed : ++failed;
  s = B->synchronize();
  if (!s.is_ok()) { printf("FAIL synchronize: %s\n", s.message().c_str()); ++failed; }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
