// host_reduced_test: runs the per-thread code of the cuda kernels on bfloat16 / float16
// storage on the host (kernels/half_types.h, elementwise_body.h, softmax_body.h, and
// pool_body.h / batchnorm_body.h instantiated on Bf16 and Fp16), and compares with float64
// references written here from the definitions:
//   - conversions: every bf16 and fp16 value widens exactly; floats round to nearest even
//     (checked against a float64 rounding, near every halfway point), overflow to infinity,
//     NaN stays NaN, -0 stays -0, fp16 subnormals;
//   - unary ops and gradients, binary ops with broadcasting and a float32 operand, the conv /
//     matmul epilogue, the filter relayout, 16-bit padding and cropping, softmax and
//     log-softmax and their gradients, pooling, batch norm: the result is the float64 value
//     of the op on the rounded inputs, within one rounding of the storage type (plus the
//     float error of the formula where it has one).
// Over 500 lines on purpose: g++ builds each selftest file alone, and the 16-bit variants of
// every kernel family share the references and the rounding model at the top.
// No GPU and no CUDA toolkit needed: g++ alone builds it (test/cuda-host-kernels.test.ts does,
// and reads the closing "N passed, N failed" line).
//   g++ -std=c++17 -O2 -Inative native/cuda/selftest/host_reduced_test.cc -o /tmp/t && /tmp/t
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../kernels/batchnorm_body.h"
#include "../kernels/elementwise_body.h"
#include "../kernels/pool_body.h"
#include "../kernels/softmax_body.h"

using namespace cn::cuda::k;

namespace {

int passed = 0, failed = 0;

void expect(bool ok, const std::string& what) {
  if (ok) ++passed;
  else ++failed, printf("FAIL %s\n", what.c_str());
}

// The storage type's format: precision p (significand bits with the implicit one), the
// smallest normal exponent, the largest finite value.
template <typename T>
struct Format;
template <>
struct Format<Bf16> {
  static constexpr int p = 8, emin = -126;
  static double max() { return std::ldexp(2.0 - std::ldexp(1.0, -7), 127); }
  static const char* name() { return "bfloat16"; }
};
template <>
struct Format<Fp16> {
  static constexpr int p = 11, emin = -14;
  static double max() { return 65504.0; }
  static const char* name() { return "float16"; }
};

// v rounded to T in float64: nearest, ties to even; beyond the largest finite value by half
// an ulp or more: infinity.
template <typename T>
double round_ref(double v) {
  if (std::isnan(v) || std::isinf(v) || v == 0) return v;
  int e = std::ilogb(v);
  if (e < Format<T>::emin) e = Format<T>::emin;
  const double q = std::ldexp(1.0, e - (Format<T>::p - 1));
  const double r = std::nearbyint(v / q) * q;  // default rounding: to nearest even
  return std::fabs(r) > Format<T>::max() ? std::copysign(INFINITY, v) : r;
}

// One ulp of T at |v| (the spacing of T's values there).
template <typename T>
double ulp(double v) {
  int e = v == 0 || !std::isfinite(v) ? Format<T>::emin : std::ilogb(v);
  if (e < Format<T>::emin) e = Format<T>::emin;
  return std::ldexp(1.0, e - (Format<T>::p - 1));
}

// The value of T's bits, decoded in float64 from the format (not through to_f).
template <typename T>
double decode_ref(uint16_t bits) {
  const int mbits = Format<T>::p - 1, ebits = 15 - mbits;
  const int bias = (1 << (ebits - 1)) - 1;
  const int e = (bits >> mbits) & ((1 << ebits) - 1), m = bits & ((1 << mbits) - 1);
  const double sign = bits & 0x8000 ? -1.0 : 1.0;
  if (e == (1 << ebits) - 1) return m ? NAN : sign * INFINITY;
  if (e == 0) return sign * std::ldexp((double)m, 1 - bias - mbits);
  return sign * std::ldexp((double)(m | (1 << mbits)), e - bias - mbits);
}

template <typename T>
void test_conversions() {
  const std::string name = Format<T>::name();
  // Every value widens exactly, and rounds back to itself.
  int bad_widen = 0, bad_back = 0;
  for (uint32_t b = 0; b < 65536; ++b) {
    const T v{(uint16_t)b};
    const double want = decode_ref<T>((uint16_t)b);
    const float got = to_f(v);
    if (std::isnan(want) ? !std::isnan(got) : (double)got != want || std::signbit(got) != std::signbit(want))
      ++bad_widen;
    const T back = from_f<T>(got);
    if (std::isnan(want) ? !std::isnan(to_f(back)) : back.bits != v.bits) ++bad_back;
  }
  expect(bad_widen == 0, name + ": " + std::to_string(bad_widen) + " of 65536 values widen wrongly");
  expect(bad_back == 0, name + ": " + std::to_string(bad_back) + " of 65536 values do not round back to themselves");
  // Floats round to nearest even: around every value's upper neighbour's halfway point (one
  // float ulp below, at, above), plus random floats over the whole range.
  int bad = 0, tried = 0;
  std::string first;
  auto check_one = [&](float f) {
    ++tried;
    const double want = round_ref<T>((double)f);
    const float got = to_f(from_f<T>(f));
    const bool ok = std::isnan(want) ? std::isnan(got) : (double)got == want && std::signbit(got) == std::signbit(want);
    if (!ok && bad++ == 0) {
      char buf[160];
      snprintf(buf, sizeof buf, " (first: %.9g -> %.9g, want %.9g)", f, got, want);
      first = buf;
    }
  };
  for (uint32_t b = 0; b < 65536; ++b) {
    const double v = decode_ref<T>((uint16_t)b);
    if (!std::isfinite(v)) continue;
    const double next = v + (std::signbit(v) ? -1 : 1) * ulp<T>(std::fabs(v) * (1 + 1e-12));
    const float mid = (float)((v + next) / 2);  // exact in float: 16-bit formats have few bits
    check_one(mid);
    check_one(std::nextafter(mid, 0.f));
    check_one(std::nextafter(mid, mid * 2));
    check_one((float)v);
  }
  std::mt19937 gen(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 2000000; ++i) {
    uint32_t u = bits(gen);
    float f;
    std::memcpy(&f, &u, 4);
    check_one(f);
  }
  for (float f : {0.f, -0.f, INFINITY, -INFINITY, NAN, -NAN, 65504.f, 65519.99f, 65520.f, 1e-8f, -3e-8f, 5.96e-8f,
                  2.98e-8f, 2.99e-8f, 3.4e38f, 3.3961776e38f, -3.3961776e38f, 1.17e-38f, 1e-45f})
    check_one(f);
  expect(bad == 0, name + ": " + std::to_string(bad) + " of " + std::to_string(tried) + " floats round wrongly" + first);
  // NaN stays a quiet NaN with its sign.
  const T qn = from_f<T>(-NAN);
  expect(std::isnan(to_f(qn)) && std::signbit(to_f(qn)), name + ": -NaN keeps NaN and its sign");
}

// A 16-bit buffer whose data() is 16-byte aligned plus `offset` elements (offset 1: only
// 2-byte aligned, so the kernels take one element per thread).
template <typename T>
struct Buf {
  std::vector<T> store;
  T* p;
  Buf(size_t n, int offset) : store(n + 16) {
    auto base = reinterpret_cast<uintptr_t>(store.data());
    p = reinterpret_cast<T*>((base + 15) & ~uintptr_t(15)) + offset;
  }
};

// Every thread of a grid-stride loop with `stride` threads (the items are independent).
template <typename F>
void run_threads(int64_t stride, F f) {
  for (int64_t t = 0; t < stride; ++t) f(t, stride);
}

// got (T) against the float64 reference want: within `ulps` of T's ulp at want, plus rel
// (relative) and abs; NaN where want is NaN, infinities equal.
template <typename T>
void check(const std::string& what, const T* got, const std::vector<double>& want, double ulps, double rel = 0,
           double abs = 0) {
  double worst = 0;
  size_t at = 0;
  bool ok = true;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = to_f(got[i]), w = want[i];
    if (std::isnan(w) || std::isinf(w)) {
      const bool same = std::isnan(w) ? std::isnan(g) : g == w;
      if (!same && ok) ok = false, at = i;
      continue;
    }
    const double tol = ulps * ulp<T>(std::fabs(w)) + rel * std::fabs(w) + abs;
    const double e = std::fabs(g - w) / tol;
    if (!(e <= worst)) worst = e, at = i;
  }
  ok = ok && worst <= 1.0;
  if (!ok)
    printf("FAIL %s [%s]: error %.3g of the tolerance at %zu (got %.9g want %.9g)\n", what.c_str(), Format<T>::name(),
           worst, at, want.empty() ? 0.0 : (double)to_f(got[at]), want.empty() ? 0.0 : want[at]);
  ok ? ++passed : ++failed;
}

template <typename T>
std::vector<double> widen(const T* p, size_t n) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = to_f(p[i]);
  return v;
}

template <typename T>
void fill_random(T* p, size_t n, std::mt19937& gen, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  for (size_t i = 0; i < n; ++i) p[i] = from_f<T>((float)u(gen));
}

double unary_ref(int op, double x, double alpha) {
  const double sa = 1.6732632423543772, ss = 1.0507009873554805;
  switch (op) {
    case ew::kRelu: return x > 0 ? x : 0;
    case ew::kSigmoid: return 1 / (1 + std::exp(-x));
    case ew::kTanh: return std::tanh(x);
    case ew::kExp: return std::exp(x);
    case ew::kLog: return std::log(x);
    case ew::kNeg: return -x;
    case ew::kSqrt: return std::sqrt(x);
    case ew::kRsqrt: return 1 / std::sqrt(x);
    case ew::kSquare: return x * x;
    case ew::kAbs: return std::fabs(x);
    case ew::kReciprocal: return 1 / x;
    case ew::kSign: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case ew::kFloor: return std::floor(x);
    case ew::kCeil: return std::ceil(x);
    case ew::kRound: return std::nearbyint(x);
    case ew::kLog1p: return std::log1p(x);
    case ew::kSoftplus: return std::log1p(std::exp(x));
    case ew::kElu: return x > 0 ? x : alpha * std::expm1(x);
    case ew::kSelu: return x > 0 ? ss * x : ss * sa * std::expm1(x);
    case ew::kRelu6: return std::fmin(std::fmax(x, 0), 6);
    case ew::kStep: return x > 0 ? 1 : alpha;
    case ew::kSin: return std::sin(x);
    case ew::kCos: return std::cos(x);
  }
  return NAN;
}

double unary_grad_ref(int op, double g, double r, double alpha) {
  const double sa = 1.6732632423543772, ss = 1.0507009873554805;
  switch (op) {
    case ew::gRelu: return r > 0 ? g : 0;
    case ew::gSigmoid: return g * r * (1 - r);
    case ew::gTanh: return g * (1 - r * r);
    case ew::gElu: return r > 0 ? g : g * (r + alpha);
    case ew::gSelu: return r > 0 ? g * ss : g * (r + ss * sa);
    case ew::gRelu6: return r > 0 && r < 6 ? g : 0;
  }
  return NAN;
}

template <typename T>
void test_elementwise() {
  std::mt19937 gen(11);
  const int64_t n = 1003;
  for (int offset : {0, 1}) {
    const std::string off = offset ? " (offset 1)" : "";
    Buf<T> x(n, offset), y(n, offset), g(n, offset), r(n, offset);
    for (int op = ew::kRelu; op <= ew::kCos; ++op) {
      const bool positive = op == ew::kLog || op == ew::kSqrt || op == ew::kRsqrt || op == ew::kReciprocal;
      fill_random(x.p, n, gen, positive ? 0.05 : -4.0, 4.0);
      const float alpha = 0.7f;
      run_threads(97, [&](int64_t t, int64_t s) { ew::unary_thread<T>(y.p, x.p, n, op, alpha, t, s); });
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i) want[i] = unary_ref(op, to_f(x.p[i]), alpha);
      // One rounding of T, plus float's error in the formula (a few float ulps; sin / cos of
      // arguments up to 4 and the exponentials have the largest).
      check("unary op " + std::to_string(op) + off, y.p, want, 1.0, 1e-6, 1e-7);
    }
    for (int op = ew::gRelu; op <= ew::gRelu6; ++op) {
      fill_random(g.p, n, gen, -2.0, 2.0);
      fill_random(r.p, n, gen, op == ew::gRelu6 ? -1.0 : -0.99, op == ew::gRelu6 ? 7.0 : 0.99);
      run_threads(97, [&](int64_t t, int64_t s) { ew::unary_grad_thread<T>(y.p, g.p, r.p, n, op, 1.f, t, s); });
      std::vector<double> want(n);
      for (int64_t i = 0; i < n; ++i) want[i] = unary_grad_ref(op, to_f(g.p[i]), to_f(r.p[i]), 1.0);
      check("unary grad op " + std::to_string(op) + off, y.p, want, 1.0, 1e-6, 1e-7);
    }
  }
  // The four-per-thread loops (Note [vector 16-bit elementwise]) give the scalar loops'
  // results bit for bit, over whole vectors (the launcher's tail is the scalar loop).
  {
    const int64_t nv = 250, m = 4 * nv;
    Buf<T> x(m, 0), g(m, 0), y1(m, 0), y2(m, 0);
    std::vector<float> f(m), f1(m), f2(m);
    fill_random(x.p, m, gen, 0.05, 4.0);
    fill_random(g.p, m, gen, -2.0, 2.0);
    for (int64_t i = 0; i < m; ++i) f[i] = (float)(std::sin(i * 0.37) * 70000.0);  // overflows fp16 too
    bool same = true;
    auto eq = [&](const T* a, const T* b) {
      for (int64_t i = 0; i < m; ++i) same = same && a[i].bits == b[i].bits;
    };
    for (int op = ew::kRelu; op <= ew::kCos; ++op) {
      run_threads(37, [&](int64_t t, int64_t st) { ew::unary_vec_thread<T>(y1.p, x.p, nv, op, 0.5f, t, st); });
      run_threads(37, [&](int64_t t, int64_t st) { ew::unary_thread<T>(y2.p, x.p, m, op, 0.5f, t, st); });
      eq(y1.p, y2.p);
    }
    for (int op = ew::gRelu; op <= ew::gRelu6; ++op) {
      run_threads(37, [&](int64_t t, int64_t st) { ew::unary_grad_vec_thread<T>(y1.p, g.p, x.p, nv, op, 1.f, t, st); });
      run_threads(37, [&](int64_t t, int64_t st) { ew::unary_grad_thread<T>(y2.p, g.p, x.p, m, op, 1.f, t, st); });
      eq(y1.p, y2.p);
    }
    for (int op : {ew::bAdd, ew::bSub, ew::bMul, ew::bDiv, ew::bMaximum, ew::bMinimum}) {
      ew::Map flat;
      flat.rank = 1;
      flat.shape[0] = m;
      flat.a_strides[0] = flat.b_strides[0] = 1;
      run_threads(37, [&](int64_t t, int64_t st) { ew::binary_vec_thread<T, T, float>(y1.p, x.p, f.data(), op, nv, t, st); });
      run_threads(37, [&](int64_t t, int64_t st) { ew::binary_thread<T, T, float>(y2.p, x.p, f.data(), op, m, flat, t, st); });
      eq(y1.p, y2.p);
    }
    run_threads(37, [&](int64_t t, int64_t st) { ew::cast_vec_thread<T, float>(y1.p, f.data(), nv, t, st); });
    run_threads(37, [&](int64_t t, int64_t st) { ew::cast_thread<T, float>(y2.p, f.data(), m, t, st); });
    eq(y1.p, y2.p);
    run_threads(37, [&](int64_t t, int64_t st) { ew::cast_vec_thread<float, T>(f1.data(), y1.p, nv, t, st); });
    run_threads(37, [&](int64_t t, int64_t st) { ew::cast_thread<float, T>(f2.data(), y1.p, m, t, st); });
    for (int64_t i = 0; i < m; ++i) same = same && (f1[i] == f2[i] || (std::isnan(f1[i]) && std::isnan(f2[i])));
    expect(same, std::string("vector loops equal the scalar loops bit for bit [") + Format<T>::name() + "]");
  }
  // The residual join: relu(a + b) and its gradient equal add, then relu (bit for bit).
  {
    const int64_t m = 517;
    Buf<T> a(m, 1), bb(m, 1), out(m, 1), sum(m, 1), ref(m, 1), dx(m, 1);
    fill_random(a.p, m, gen, -2.0, 2.0);
    fill_random(bb.p, m, gen, -2.0, 2.0);
    ew::Map flat;
    flat.rank = 1;
    flat.shape[0] = m;
    flat.a_strides[0] = flat.b_strides[0] = 1;
    run_threads(31, [&](int64_t t, int64_t st) { ew::add_relu_thread<T>(out.p, a.p, bb.p, m, t, st); });
    run_threads(31, [&](int64_t t, int64_t st) { ew::binary_thread<T, T, T>(sum.p, a.p, bb.p, ew::bAdd, m, flat, t, st); });
    run_threads(31, [&](int64_t t, int64_t st) { ew::unary_thread<T>(ref.p, sum.p, m, ew::kRelu, 0.f, t, st); });
    bool same = true;
    for (int64_t i = 0; i < m; ++i) same = same && to_f(out.p[i]) == to_f(ref.p[i]);
    run_threads(31, [&](int64_t t, int64_t st) { ew::add_relu_grad_thread<T>(dx.p, a.p, bb.p, out.p, m, t, st); });
    run_threads(31, [&](int64_t t, int64_t st) { ew::unary_grad_thread<T>(ref.p, sum.p, out.p, m, ew::gRelu, 0.f, t, st); });
    for (int64_t i = 0; i < m; ++i) same = same && to_f(dx.p[i]) == to_f(ref.p[i]);
    expect(same, std::string("add + relu and its gradient equal add, then relu [") + Format<T>::name() + "]");
  }
  // NaN and infinities go through (as the float32 kernels' functions treat them).
  {
    T in[4] = {from_f<T>(NAN), from_f<T>(INFINITY), from_f<T>(-INFINITY), from_f<T>(-0.f)}, out[4];
    ew::unary_thread<T>(out, in, 4, ew::kNeg, 0.f, 0, 1);
    expect(std::isnan(to_f(out[0])) && to_f(out[1]) == -INFINITY && to_f(out[2]) == INFINITY && to_f(out[3]) == 0.f &&
               !std::signbit(to_f(out[3])),
           std::string("neg of NaN, inf, -inf, -0 [") + Format<T>::name() + "]");
    ew::unary_thread<T>(out, in, 4, ew::kRelu, 0.f, 0, 1);
    expect(to_f(out[1]) == INFINITY && to_f(out[2]) == 0.f && to_f(out[3]) == 0.f,
           std::string("relu of inf, -inf, -0 [") + Format<T>::name() + "]");
  }
}

// out = a (op) b with broadcasting: out [2, 3, 5, 7]; a full, b [3, 1, 7] (or the reverse),
// either operand float32.
template <typename T, typename Ta, typename Tb>
void binary_case(int op, bool b_small, const std::string& label) {
  std::mt19937 gen(13 + op);
  const int64_t shape[4] = {2, 3, 5, 7}, n = 2 * 3 * 5 * 7;
  const int64_t small_shape[4] = {1, 3, 1, 7};
  ew::Map map;
  map.rank = 4;
  int64_t full_stride = 1, small_stride = 1;
  for (int d = 3; d >= 0; --d) {
    map.shape[d] = shape[d];
    const int64_t fs = full_stride, ss = small_shape[d] == 1 ? 0 : small_stride;
    map.a_strides[d] = b_small ? fs : ss;
    map.b_strides[d] = b_small ? ss : fs;
    full_stride *= shape[d];
    small_stride *= small_shape[d];
  }
  const int64_t na = b_small ? n : 21, nb = b_small ? 21 : n;
  std::vector<Ta> a(na);
  std::vector<Tb> b(nb);
  std::vector<T> out(n);
  fill_random(a.data(), na, gen, -3, 3);
  fill_random(b.data(), nb, gen, 0.25, 3);  // no division by values near zero
  run_threads(61, [&](int64_t t, int64_t s) { ew::binary_thread<T, Ta, Tb>(out.data(), a.data(), b.data(), op, n, map, t, s); });
  std::vector<double> want(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = 3; d >= 0; --d) {
      ia += (rest % shape[d]) * map.a_strides[d];
      ib += (rest % shape[d]) * map.b_strides[d];
      rest /= shape[d];
    }
    const double u = to_f(a[ia]), v = to_f(b[ib]);
    switch (op) {
      case ew::bAdd: want[i] = u + v; break;
      case ew::bSub: want[i] = u - v; break;
      case ew::bMul: want[i] = u * v; break;
      case ew::bDiv: want[i] = u / v; break;
      case ew::bMaximum: want[i] = std::fmax(u, v); break;
      case ew::bMinimum: want[i] = std::fmin(u, v); break;
      case ew::bSquaredDifference: want[i] = (u - v) * (u - v); break;
      case ew::bGreater: want[i] = u > v; break;
    }
  }
  check("binary op " + std::to_string(op) + " " + label, out.data(), want, 1.0, 1e-7);
}

template <typename T>
void test_binary() {
  for (int op : {ew::bAdd, ew::bSub, ew::bMul, ew::bDiv, ew::bMaximum, ew::bMinimum, ew::bSquaredDifference,
                 ew::bGreater})
    for (bool b_small : {true, false}) {
      const std::string side = b_small ? "b broadcast" : "a broadcast";
      binary_case<T, T, T>(op, b_small, side);
      binary_case<T, float, T>(op, b_small, side + ", a float32");
      binary_case<T, T, float>(op, b_small, side + ", b float32");
    }
}

template <typename T>
void test_epilogue_and_layout() {
  std::mt19937 gen(17);
  const int64_t rows = 37, cols = 12, n = rows * cols;
  std::vector<T> in(n), biasr(cols), y(n);
  std::vector<float> in_f(n), bias_f(cols), y_f(n);
  fill_random(in.data(), n, gen, -2, 2);
  fill_random(biasr.data(), cols, gen, -1, 1);
  for (int64_t i = 0; i < n; ++i) in_f[i] = (float)std::ldexp((double)((int)(gen() % 2001) - 1000), -9);
  for (int64_t i = 0; i < cols; ++i) bias_f[i] = (float)(0.001 * (int)(gen() % 1001) - 0.5);
  for (bool relu : {false, true}) {
    const std::string tag = relu ? " + relu" : "";
    // y (T) = in (T) + bias (float32)
    run_threads(29, [&](int64_t t, int64_t s) {
      ew::bias_act_thread<T, T, float>(y.data(), in.data(), bias_f.data(), n, cols, relu, t, s);
    });
    std::vector<double> want(n);
    for (int64_t i = 0; i < n; ++i) {
      double v = (double)to_f(in[i]) + bias_f[i % cols];
      want[i] = relu && v < 0 ? 0 : v;
    }
    check("bias (float32) on reduced" + tag, y.data(), want, 0.5, 1e-7);
    // y (float32) = in (float32, a matmul's product) + bias (T): one rounding only (of float)
    run_threads(29, [&](int64_t t, int64_t s) {
      ew::bias_act_thread<float, float, T>(y_f.data(), in_f.data(), biasr.data(), n, cols, relu, t, s);
    });
    for (int64_t i = 0; i < n; ++i) {
      double v = (double)in_f[i] + to_f(biasr[i % cols]);
      want[i] = relu && v < 0 ? 0 : v;
    }
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(y_f[i] - want[i]));
    expect(worst <= 1e-6, std::string("bias (reduced) into float32") + tag + " [" + Format<T>::name() + "]");
    // y (float32) = in (T) widened, no bias: a convolution's float32 output
    run_threads(29, [&](int64_t t, int64_t s) {
      ew::bias_act_thread<float, T, float>(y_f.data(), in.data(), nullptr, n, cols, relu, t, s);
    });
    bool exact = true;
    for (int64_t i = 0; i < n; ++i) {
      const float v = to_f(in[i]);
      exact = exact && y_f[i] == (relu && v < 0 ? 0.f : v);
    }
    expect(exact, std::string("reduced widened into float32") + tag + " [" + Format<T>::name() + "]");
  }
  // transpose [rows, cols] -> [cols, rows], T -> T exactly and T -> float32 exactly
  std::vector<T> tt(n);
  std::vector<float> tf(n);
  run_threads(23, [&](int64_t t, int64_t s) { ew::transpose_thread<T, T>(tt.data(), in.data(), rows, cols, t, s); });
  run_threads(23, [&](int64_t t, int64_t s) { ew::transpose_thread<float, T>(tf.data(), in.data(), rows, cols, t, s); });
  bool ok = true;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      ok = ok && tt[c * rows + r].bits == in[r * cols + c].bits && tf[c * rows + r] == to_f(in[r * cols + c]);
  expect(ok, std::string("filter relayout (and widening) [") + Format<T>::name() + "]");
  // casts through the typed loop
  std::vector<T> c16(n);
  std::vector<float> back(n);
  run_threads(19, [&](int64_t t, int64_t s) { ew::cast_thread<T, float>(c16.data(), in_f.data(), n, t, s); });
  run_threads(19, [&](int64_t t, int64_t s) { ew::cast_thread<float, T>(back.data(), c16.data(), n, t, s); });
  ok = true;
  for (int64_t i = 0; i < n; ++i) ok = ok && (double)back[i] == round_ref<T>(in_f[i]);
  expect(ok, std::string("cast loop float32 -> reduced -> float32 [") + Format<T>::name() + "]");
}

void test_pad_crop() {
  // [2, 5, 4, 3] into [2, 7, 6, 3] at top 1, left 2; then back.
  ew::Window w{2, 3, 7, 6, 5, 4, 1, 2};
  const int64_t ns = 2 * 5 * 4 * 3, nb = 2 * 7 * 6 * 3;
  std::vector<uint16_t> small(ns), big(nb, 0xffff), back(ns, 0xffff);
  for (int64_t i = 0; i < ns; ++i) small[i] = (uint16_t)(i + 1);
  run_threads(31, [&](int64_t t, int64_t s) { ew::pad_thread(big.data(), small.data(), w, t, s); });
  bool ok = true;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t y = 0; y < 7; ++y)
      for (int64_t x = 0; x < 6; ++x)
        for (int64_t c = 0; c < 3; ++c) {
          const bool inside = y >= 1 && y < 6 && x >= 2 && x < 6;
          const uint16_t want = inside ? small[((n * 5 + y - 1) * 4 + x - 2) * 3 + c] : 0;
          ok = ok && big[((n * 7 + y) * 6 + x) * 3 + c] == want;
        }
  expect(ok, "16-bit zero padding into the padded input");
  run_threads(31, [&](int64_t t, int64_t s) { ew::crop_thread(back.data(), big.data(), w, t, s); });
  expect(back == small, "16-bit crop of the padded gradient");
}

template <typename T>
void test_softmax() {
  std::mt19937 gen(19);
  for (int64_t cols : {1, 5, 32, 33, 100, 1000})
    for (bool log : {false, true}) {
      const int64_t rows = 7, n = rows * cols;
      std::vector<T> x(n), y(n), dy(n), dx(n);
      std::vector<float> yf(n);
      fill_random(x.data(), n, gen, -6, 6);
      fill_random(dy.data(), n, gen, -1, 1);
      const std::string tag = std::string(log ? "log-softmax" : "softmax") + " cols " + std::to_string(cols);
      std::vector<double> want(n), wgrad(n);
      for (int64_t r = 0; r < rows; ++r) {
        // The kernel's phases for 32 lanes, reduced in the warp's butterfly order.
        float m[32], s[32];
        for (int l = 0; l < 32; ++l) m[l] = sm::lane_max(x.data() + r * cols, cols, l, 32);
        for (int o = 16; o > 0; o >>= 1) {
          float nm[32];
          for (int l = 0; l < 32; ++l) nm[l] = std::fmax(m[l], m[l ^ o]);
          std::copy(nm, nm + 32, m);
        }
        for (int l = 0; l < 32; ++l) s[l] = sm::lane_sum_exp(x.data() + r * cols, cols, l, 32, m[0]);
        for (int o = 16; o > 0; o >>= 1) {
          float ns[32];
          for (int l = 0; l < 32; ++l) ns[l] = s[l] + s[l ^ o];
          std::copy(ns, ns + 32, s);
        }
        for (int l = 0; l < 32; ++l) {
          sm::lane_write(y.data() + r * cols, x.data() + r * cols, cols, l, 32, m[0], s[0], log);
          sm::lane_write(yf.data() + r * cols, x.data() + r * cols, cols, l, 32, m[0], s[0], log);
        }
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < cols; ++j) mx = std::fmax(mx, to_f(x[r * cols + j]));
        for (int64_t j = 0; j < cols; ++j) sum += std::exp(to_f(x[r * cols + j]) - mx);
        for (int64_t j = 0; j < cols; ++j) {
          const double v = to_f(x[r * cols + j]) - mx;
          want[r * cols + j] = log ? v - std::log(sum) : std::exp(v) / sum;
        }
        // Backward from the kernel's own y.
        float acc[32];
        for (int l = 0; l < 32; ++l) acc[l] = sm::lane_dot(dy.data() + r * cols, y.data() + r * cols, cols, l, 32, log);
        for (int o = 16; o > 0; o >>= 1) {
          float na[32];
          for (int l = 0; l < 32; ++l) na[l] = acc[l] + acc[l ^ o];
          std::copy(na, na + 32, acc);
        }
        for (int l = 0; l < 32; ++l)
          sm::lane_grad(dx.data() + r * cols, dy.data() + r * cols, y.data() + r * cols, cols, l, 32, acc[0], log);
        double dot = 0;
        for (int64_t j = 0; j < cols; ++j) {
          const double g = to_f(dy[r * cols + j]), v = to_f(y[r * cols + j]);
          dot += log ? g : g * v;
        }
        for (int64_t j = 0; j < cols; ++j) {
          const double g = to_f(dy[r * cols + j]), v = to_f(y[r * cols + j]);
          wgrad[r * cols + j] = log ? g - std::exp(v) * dot : v * (g - dot);
        }
      }
      check(tag, y.data(), want, 1.0, 1e-6, 1e-7);
      // float32 output: no rounding to T at all (Note [softmax in float])
      std::vector<float> gotf(yf);
      double worst = 0;
      for (int64_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(gotf[i] - want[i]) / (1e-6 + std::fabs(want[i])));
      expect(worst <= 2e-5, tag + " into float32 [" + Format<T>::name() + "]: rel err " + std::to_string(worst));
      // The gradient is a difference of terms of size |dy| |y|: compared at that scale.
      check(tag + " gradient", dx.data(), wgrad, 1.0, 1e-5, 1e-5 * (log ? 1 : 0.1));
    }
}

// Pooling on T against float64 pooling of the rounded inputs (first maximum wins, averages
// exclude padding), both widths, both index types.
template <typename T, typename I, int W>
void pool_case(int64_t nn, int64_t h, int64_t w, int64_t c, int64_t k, int64_t s, int64_t pt, int64_t pl, int offset) {
  const int64_t oh = (h + 2 * pt - k) / s + 1, ow = (w + 2 * pl - k) / s + 1;
  const int64_t in = nn * h * w * c, out = nn * oh * ow * c;
  std::mt19937 gen((unsigned)(h * 31 + c + k + offset));
  Buf<T> x(in, offset), y(out, offset), dy(out, offset), dx(in, offset);
  fill_random(x.p, in, gen, -2, 2);
  fill_random(dy.p, out, gen, -1, 1);
  const pool::Geom<I> d{(I)nn, (I)h, (I)w, (I)c, (I)oh, (I)ow, (I)k, (I)k, (I)s, (I)s, (I)pt, (I)pl};
  std::vector<double> ymax(out, 0), yavg(out, 0), dxmax(in, 0), dxavg(in, 0);
  for (int64_t n = 0; n < nn; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t ch = 0; ch < c; ++ch) {
          const int64_t o = ((n * oh + oy) * ow + ox) * c + ch;
          int64_t best = -1, count = 0;
          double sum = 0;
          std::vector<int64_t> cells;
          for (int64_t i = 0; i < k; ++i)
            for (int64_t j = 0; j < k; ++j) {
              const int64_t hh = oy * s - pt + i, ww = ox * s - pl + j;
              if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
              const int64_t at = ((n * h + hh) * w + ww) * c + ch;
              if (best < 0 || to_f(x.p[at]) > to_f(x.p[best])) best = at;
              sum += to_f(x.p[at]);
              cells.push_back(at);
              ++count;
            }
          if (best >= 0) ymax[o] = to_f(x.p[best]), dxmax[best] += to_f(dy.p[o]);
          if (count) {
            yavg[o] = sum / count;
            for (int64_t at : cells) dxavg[at] += to_f(dy.p[o]) / count;
          }
        }
  const std::string tag = "pool x [" + std::to_string(nn) + "," + std::to_string(h) + "," + std::to_string(w) + "," +
                          std::to_string(c) + "] k" + std::to_string(k) + " s" + std::to_string(s) + " W" +
                          std::to_string(W) + (sizeof(I) == 4 ? " int32" : " int64") + (offset ? " offset 1" : "");
  std::vector<int> at(out);
  for (int max = 0; max < 2; ++max) {
    run_threads(53, [&](int64_t t, int64_t st) { pool::forward_thread<I, W>(y.p, x.p, d, max, out / W, t, st); });
    check((max ? "max " : "avg ") + tag, y.p, max ? ymax : yavg, max ? 0 : 1.0, 1e-7);
    int* a = max ? at.data() : nullptr;
    if (a) run_threads(53, [&](int64_t t, int64_t st) { pool::argmax_thread<I, W>(a, x.p, d, out / W, t, st); });
    run_threads(53, [&](int64_t t, int64_t st) { pool::backward_thread<I, W>(dx.p, dy.p, a, d, in / W, t, st); });
    check((max ? "max grad " : "avg grad ") + tag, dx.p, max ? dxmax : dxavg, 1.0, 1e-6);
  }
}

template <typename T>
void test_pool() {
  for (int offset : {0, 1}) {
    pool_case<T, int, 1>(2, 8, 8, 4, 2, 2, 0, 0, offset);
    pool_case<T, int64_t, 1>(2, 9, 9, 3, 3, 2, 1, 1, offset);
    if (pool::width(4, Buf<T>(1, offset).p, nullptr, nullptr, nullptr, sizeof(T)) == 4) {
      pool_case<T, int, 4>(2, 8, 8, 4, 2, 2, 0, 0, offset);
      pool_case<T, int64_t, 4>(1, 10, 10, 8, 3, 2, 1, 1, offset);
    }
  }
  expect(pool::width(4, Buf<T>(1, 0).p, nullptr, nullptr, nullptr, sizeof(T)) == 4 &&
             pool::width(4, Buf<T>(1, 4).p, nullptr, nullptr, nullptr, sizeof(T)) == 4 &&
             pool::width(4, Buf<T>(1, 1).p, nullptr, nullptr, nullptr, sizeof(T)) == 1,
         std::string("pool width for 8-byte aligned 16-bit arrays [") + Format<T>::name() + "]");
}

// Batch norm on T (x, y, dy, dx) with float32 statistics and parameters, against float64.
template <typename T, int W>
void bn_case(int64_t rows, int64_t c, int offset, float center) {
  const int64_t n = rows * c;
  std::mt19937 gen((unsigned)(rows * 7 + c + offset));
  Buf<T> x(n, offset), y(n, offset), dy(n, offset), dx(n, offset);
  fill_random(x.p, n, gen, center - 2, center + 2);
  fill_random(dy.p, n, gen, -1, 1);
  std::vector<float> gamma(c), beta(c), mean(c), var(c), scale(c), s_dy(c), s_dyd(c), dgamma(c), dbeta(c), coeff(3 * c);
  for (int64_t i = 0; i < c; ++i) gamma[i] = 1.f + 0.01f * (float)(i % 37), beta[i] = 0.02f * (float)(i % 11) - 0.1f;
  const float eps = 1e-3f;
  const std::string tag = "batch norm rows " + std::to_string(rows) + " c " + std::to_string(c) + " W" +
                          std::to_string(W) + (offset ? " offset 1" : "") + " center " + std::to_string((int)center);
  // moments: partials with a small grid, then the warp finish (serially: its order is tested
  // in host_batchnorm_test)
  int64_t splits = bn::splits_for(rows, c / W);
  std::vector<double> part(2 * splits * c);
  auto sums = [&](float* o0, float* o1, const T* dyp, int kind) {
    run_threads(41, [&](int64_t t, int64_t st) {
      bn::partials_thread<W>(part.data(), part.data() + splits * c, x.p, dyp, mean.data(), (const float*)nullptr,
                             (const float*)nullptr, rows, c, splits, kind, t, st);
    });
    for (int64_t ch = 0; ch < c; ++ch) {
      double a = 0, b = 0;
      for (int64_t sp = 0; sp < splits; ++sp) a += part[sp * c + ch], b += part[splits * c + sp * c + ch];
      bn::finish_store(o0, o1, x.p, rows, ch, a, b, kind);
    }
  };
  sums(mean.data(), var.data(), (const T*)nullptr, bn::kMoments);
  std::vector<double> rm(c, 0), rv(c, 0);
  for (int64_t i = 0; i < n; ++i) rm[i % c] += to_f(x.p[i]);
  for (auto& m : rm) m /= rows;
  for (int64_t i = 0; i < n; ++i) rv[i % c] += std::pow(to_f(x.p[i]) - rm[i % c], 2);
  for (auto& v : rv) v /= rows;
  double wm = 0, wv = 0;
  for (int64_t ch = 0; ch < c; ++ch)
    wm = std::fmax(wm, std::fabs(mean[ch] - rm[ch]) / (1 + std::fabs(rm[ch]))),
    wv = std::fmax(wv, std::fabs(var[ch] - rv[ch]) / (1e-3 + rv[ch]));
  expect(wm <= 1e-6 && wv <= 1e-5, "float32 moments of reduced x, " + tag + " [" + Format<T>::name() + "]");
  // Column sums (a convolution's bias gradient on 16-bit dy) from the same pass.
  std::vector<float> colsum(c);
  sums(colsum.data(), nullptr, (const T*)nullptr, bn::kColumnSums);
  double wc = 0;
  for (int64_t ch = 0; ch < c; ++ch) {
    double want = 0, mag = 0;
    for (int64_t r = 0; r < rows; ++r) want += to_f(x.p[r * c + ch]), mag += std::fabs(to_f(x.p[r * c + ch]));
    wc = std::fmax(wc, std::fabs(colsum[ch] - want) / (1e-30 + 1e-7 * mag + 6e-8 * std::fabs(want)));
  }
  expect(wc <= 1.0, "float32 column sums of reduced x, " + tag + " [" + Format<T>::name() + "]");
  for (int64_t ch = 0; ch < c; ++ch) bn::scale_item(scale.data(), var.data(), gamma.data(), ch, eps);
  run_threads(41, [&](int64_t t, int64_t st) {
    bn::normalize_thread<W>(y.p, x.p, (const T*)nullptr, mean.data(), scale.data(), beta.data(), false, n / W, c / W,
                            false, t, st);
  });
  std::vector<double> ry(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ch = i % c;
    ry[i] = (to_f(x.p[i]) - (double)mean[ch]) / std::sqrt((double)var[ch] + eps) * gamma[ch] + beta[ch];
  }
  check("normalize " + tag, y.p, ry, 1.0, 1e-5);
  sums(s_dy.data(), s_dyd.data(), dy.p, bn::kGradSums);
  for (int64_t ch = 0; ch < c; ++ch)
    bn::param_grads_item(dgamma.data(), dbeta.data(), coeff.data(), s_dy.data(), s_dyd.data(), var.data(),
                         gamma.data(), c, ch, eps, 1.f / (float)rows);
  std::vector<double> sdy(c, 0), sdyd(c, 0), rdx(n);
  for (int64_t i = 0; i < n; ++i)
    sdy[i % c] += to_f(dy.p[i]), sdyd[i % c] += to_f(dy.p[i]) * (to_f(x.p[i]) - (double)mean[i % c]);
  double wg = 0;
  for (int64_t ch = 0; ch < c; ++ch) {
    const double inv = 1 / std::sqrt((double)var[ch] + eps);
    wg = std::fmax(wg, std::fabs(dbeta[ch] - sdy[ch]) / (1 + std::fabs(sdy[ch])));
    wg = std::fmax(wg, std::fabs(dgamma[ch] - sdyd[ch] * inv) / (1 + std::fabs(sdyd[ch] * inv)));
  }
  expect(wg <= 1e-5, "float32 dgamma / dbeta from reduced x, dy, " + tag + " [" + Format<T>::name() + "]");
  run_threads(41, [&](int64_t t, int64_t st) {
    bn::backward_data_thread<W>(dx.p, dy.p, x.p, mean.data(), coeff.data(), (const float*)nullptr,
                                (const float*)nullptr, n / W, c / W, c, false, t, st);
  });
  for (int64_t i = 0; i < n; ++i) {
    const int64_t ch = i % c;
    const double inv = 1 / std::sqrt((double)var[ch] + eps);
    rdx[i] = gamma[ch] * inv *
             (to_f(dy.p[i]) - sdy[ch] / rows - (to_f(x.p[i]) - (double)mean[ch]) * inv * inv * sdyd[ch] / rows);
  }
  check("dx " + tag, dx.p, rdx, 1.0, 1e-4, 1e-5);
}

template <typename T>
void test_batchnorm() {
  for (int offset : {0, 1}) {
    for (int64_t c : {1, 3, 4, 64, 1030}) {
      for (int64_t rows : {3, 17, 200}) {
        bn_case<T, 1>(rows, c, offset, 0.f);
        if (bn::width(c, Buf<T>(1, offset).p, nullptr, nullptr, sizeof(T)) == 4) bn_case<T, 4>(rows, c, offset, 0.f);
      }
    }
  }
  bn_case<T, 4>(500, 8, 0, 100.f);  // far from zero: the shifted moments on reduced inputs
}

template <typename T>
void test_all() {
  test_conversions<T>();
  test_elementwise<T>();
  test_binary<T>();
  test_epilogue_and_layout<T>();
  test_softmax<T>();
  test_pool<T>();
  test_batchnorm<T>();
}

}  // namespace

int main() {
  test_all<Bf16>();
  test_all<Fp16>();
  test_pad_crop();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
