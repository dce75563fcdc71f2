// The bfloat16 / float16 variants of the kernels that support them (Note [reduced
// precision] in typed_kernels.h): the same names, attributes and shape checks as the float32
// kernels, with dtype rules of their own:
//   - Cast, Copy, Reshape, Fill: storage only, bfloat16 and float16;
//   - Conv2D / DepthwiseConv2D(x, filter[, bias]) -> y: x and filter of one reduced dtype,
//     bias float32 or x's; y of x's dtype, or float32 with attr outDtype 'float32';
//   - Conv2DBackpropInput / DepthwiseConv2DBackpropInput(dy, filter) -> dx of dy's dtype;
//   - Conv2DBackpropFilter / DepthwiseConv2DBackpropFilter(x, dy) -> dw (and the bias
//     gradient) in float32;
//   - MatMul(a, b[, bias]) -> c, as Conv2D;
//   - MaxPool / AvgPool and their gradients, the unary ops with a oneDNN eltwise, their
//     gradients, Add/Sub/Mul/Div/Maximum/Minimum (either operand may be float32),
//     Softmax / LogSoftmax and their gradients: outputs of the reduced dtype;
//   - BatchNormTrain / Infer / Grad: x, y, dy, dx reduced; gamma, beta, statistics and the
//     parameter gradients float32; the fused forms too (attr relu; a residual, last input,
//     of x's dtype or float32; BatchNormGrad's beta, input 5, with relu).
#include <algorithm>

#include "../core/reduced_precision.h"
#include "typed_kernels.h"

namespace cn {
namespace {

ReducedPrecisionOps* rp(KernelContext& c) { return c.backend->reduced_precision(); }
TypedPtr tp(const BufferPtr& b) { return b ? TypedPtr(b->raw(), b->dtype) : TypedPtr(); }

const auto kBoth = {DType::kBFloat16, DType::kFloat16};

// The reduced dtype among the inputs (dispatch_kernel found one).
DType reduced_of(const KernelContext& c) {
  for (const auto& b : c.inputs)
    if (is_reduced_precision(b->dtype)) return b->dtype;
  return DType::kBFloat16;
}

Status expect_same(const char* k, const char* arg, const BufferPtr& b, DType t) {
  if (b->dtype != t)
    return invalid_argument(std::string(k) + ": expected " + arg + " of dtype " + dtype_name(t) + " (like x) but received " +
                            dtype_name(b->dtype));
  return Status::ok();
}

// Optional attr outDtype ('float32' or the input's dtype) for outputs a primitive can write
// in either type.
Status out_dtype(KernelContext& c, const char* k, DType in, DType* out) {
  *out = in;
  std::string s = c.a().s("outDtype", "");
  if (s.empty()) return Status::ok();
  DType d;
  if (!parse_any_dtype(s, &d) || (d != DType::kFloat32 && d != in))
    return invalid_argument(std::string(k) + ": expected outDtype 'float32' or '" + dtype_name(in) + "' but received '" + s + "'");
  *out = d;
  return Status::ok();
}

// ---- storage

Status k_cast(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("Cast", 1, 1));
  DType to;
  std::string s = c.a().s("dtype");
  if (!parse_any_dtype(s, &to)) return invalid_argument("Cast: unknown dtype '" + s + "'");
  const BufferPtr& x = c.inputs[0];
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, x->shape, to, &y));
  if (x->dtype == to) return c.backend->copy(y->raw(), x->raw(), x->storage->bytes);
  // One reorder between float32 and a reduced type (oneDNN 2.6 has no bf16 <-> f16 reorder).
  if ((x->dtype == DType::kFloat32 && is_reduced_precision(to)) || (is_reduced_precision(x->dtype) && to == DType::kFloat32))
    return rp(c)->cast(tp(y), tp(x), x->size());
  BufferPtr tmp;
  CN_RETURN_IF_ERROR(make_buffer(&tmp, c.backend, x->shape, DType::kFloat32));
  if (is_reduced_precision(x->dtype) && is_reduced_precision(to)) {  // bf16 <-> f16 through float32 (exact widening)
    CN_RETURN_IF_ERROR(rp(c)->cast(tp(tmp), tp(x), x->size()));
    return rp(c)->cast(tp(y), tp(tmp), x->size());
  }
  // int32 / bool <-> reduced: through float32, so bool keeps its nonzero -> 1 rule.
  if (is_reduced_precision(x->dtype)) {
    CN_RETURN_IF_ERROR(rp(c)->cast(tp(tmp), tp(x), x->size()));
    return c.backend->cast(y->raw(), to, tmp->raw(), DType::kFloat32, x->size());
  }
  CN_RETURN_IF_ERROR(c.backend->cast(tmp->raw(), DType::kFloat32, x->raw(), x->dtype, x->size()));
  return rp(c)->cast(tp(y), tp(tmp), x->size());
}

Status k_copy(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("Copy", 1, 1));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &y));
  return c.backend->copy(y->raw(), c.inputs[0]->raw(), c.inputs[0]->storage->bytes);
}

Status k_reshape(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("Reshape", 1, 1));
  Shape s = c.a().ints("shape");
  for (int64_t d : s)
    if (d < 0) return invalid_argument("Reshape: negative dimension in " + shape_str(s));
  if (num_elements(s) != c.inputs[0]->size())
    return invalid_argument("Reshape: cannot reshape " + shape_str(c.inputs[0]->shape) + " into " + shape_str(s));
  if (c.outputs.empty()) c.outputs.resize(1);
  c.outputs[0] = view_buffer(c.inputs[0], s);
  return Status::ok();
}

// Fill(attrs shape, value, dtype): a float32 fill, then the cast (the value rounds as a cast).
Status k_fill(KernelContext& c) {
  if (!c.backend) return invalid_argument("Fill: no backend");
  DType dt;
  std::string s = c.a().s("dtype");
  if (!parse_any_dtype(s, &dt)) return invalid_argument("Fill: unknown dtype '" + s + "'");
  Shape shape = c.a().ints("shape");
  BufferPtr y, tmp;
  CN_RETURN_IF_ERROR(c.output(0, shape, dt, &y));
  CN_RETURN_IF_ERROR(make_buffer(&tmp, c.backend, shape, DType::kFloat32));
  CN_RETURN_IF_ERROR(c.backend->fill(tmp->raw(), DType::kFloat32, c.a().f("value"), tmp->size()));
  return rp(c)->cast(tp(y), tp(tmp), tmp->size());
}

// ---- convolution

Status conv_params(KernelContext& c, const char* k, const Shape& x, const Shape& f, bool depthwise, Conv2DParams* p) {
  auto strides = c.a().ints("strides");
  auto dil = c.a().ints("dilations");
  if (strides.empty()) strides = {1, 1};
  if (dil.empty()) dil = {1, 1};
  if (strides.size() != 2) return invalid_argument(std::string(k) + ": expected strides of length 2");
  if (dil.size() != 2) return invalid_argument(std::string(k) + ": expected dilations of length 2");
  if (x.size() != 4) return invalid_argument(std::string(k) + ": expected x of rank 4 (NHWC) but received shape " + shape_str(x));
  if (f.size() != 4)
    return invalid_argument(std::string(k) + ": expected filter of rank 4 (" + (depthwise ? "HWCM" : "HWIO") + ") but received shape " +
                            shape_str(f));
  Padding pad;
  std::vector<int64_t> pads;
  CN_RETURN_IF_ERROR(parse_padding(c.a(), &pad, &pads));
  return make_conv2d_params(p, x, f, strides[0], strides[1], dil[0], dil[1], pad, pads, depthwise);
}

// Conv2D, or DepthwiseConv2D (HWCM filter: oneDNN's grouped convolution, bf16_conv.cc).
template <bool depthwise>
Status k_conv2d(KernelContext& c) {
  const char* k = depthwise ? "DepthwiseConv2D" : "Conv2D";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 3));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same(k, "x", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same(k, "filter", c.inputs[1], t));
  Conv2DParams p;
  CN_RETURN_IF_ERROR(conv_params(c, k, c.inputs[0]->shape, c.inputs[1]->shape, depthwise, &p));
  TypedPtr bias;
  if (c.inputs.size() == 3) {
    const BufferPtr& b = c.inputs[2];
    if (b->shape != Shape{p.out_c})
      return invalid_argument(std::string(k) + ": expected bias of shape [" + std::to_string(p.out_c) + "] but received " + shape_str(b->shape));
    if (b->dtype != DType::kFloat32 && b->dtype != t)
      return invalid_argument(std::string(k) + ": expected bias of dtype float32 or " + dtype_name(t) + " but received " + dtype_name(b->dtype));
    bias = tp(b);
    p.has_bias = true;
  }
  p.relu = c.a().b("relu");
  DType yt;
  CN_RETURN_IF_ERROR(out_dtype(c, k, t, &yt));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, p.output_shape(), yt, &y));
  if (depthwise) return rp(c)->depthwise_conv2d_forward(tp(y), tp(c.inputs[0]), tp(c.inputs[1]), bias, p);
  return rp(c)->conv2d_forward(tp(y), tp(c.inputs[0]), tp(c.inputs[1]), bias, p);
}

template <bool depthwise>
Status k_conv2d_bd(KernelContext& c) {
  const char* k = depthwise ? "DepthwiseConv2DBackpropInput" : "Conv2DBackpropInput";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 2));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same(k, "dy", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same(k, "filter", c.inputs[1], t));
  Shape x_shape = c.a().ints("inputShape");
  Conv2DParams p;
  CN_RETURN_IF_ERROR(conv_params(c, k, x_shape, c.inputs[1]->shape, depthwise, &p));
  if (c.inputs[0]->shape != p.output_shape())
    return invalid_argument(std::string(k) + ": expected dy of shape " + shape_str(p.output_shape()) + " but received " +
                            shape_str(c.inputs[0]->shape));
  DType xt;
  CN_RETURN_IF_ERROR(out_dtype(c, k, t, &xt));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, x_shape, xt, &dx));
  if (depthwise) return rp(c)->depthwise_conv2d_backward_data(tp(dx), tp(c.inputs[0]), tp(c.inputs[1]), p);
  return rp(c)->conv2d_backward_data(tp(dx), tp(c.inputs[0]), tp(c.inputs[1]), p);
}

template <bool depthwise>
Status k_conv2d_bf(KernelContext& c) {
  const char* k = depthwise ? "DepthwiseConv2DBackpropFilter" : "Conv2DBackpropFilter";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 2));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same(k, "x", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same(k, "dy", c.inputs[1], t));
  Shape f_shape = c.a().ints("filterShape");
  Conv2DParams p;
  CN_RETURN_IF_ERROR(conv_params(c, k, c.inputs[0]->shape, f_shape, depthwise, &p));
  if (c.inputs[1]->shape != p.output_shape())
    return invalid_argument(std::string(k) + ": expected dy of shape " + shape_str(p.output_shape()) + " but received " +
                            shape_str(c.inputs[1]->shape));
  // Note [float32 weight gradients]: variables are float32 under mixed precision, so the
  // primitive writes their gradients in float32 directly.
  BufferPtr dw, db;
  CN_RETURN_IF_ERROR(c.output(0, f_shape, DType::kFloat32, &dw));
  bool with_bias = !depthwise && c.a().b("bias");
  if (with_bias) CN_RETURN_IF_ERROR(c.output(1, {p.out_c}, DType::kFloat32, &db));
  if (depthwise) return rp(c)->depthwise_conv2d_backward_filter(tp(dw), tp(c.inputs[0]), tp(c.inputs[1]), p);
  return rp(c)->conv2d_backward_filter(tp(dw), with_bias ? tp(db) : TypedPtr(), tp(c.inputs[0]), tp(c.inputs[1]), p);
}

// ---- matmul

Status k_matmul(KernelContext& c) {
  const char* k = "MatMul";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 3));
  DType t = reduced_of(c);
  const BufferPtr &A = c.inputs[0], &B = c.inputs[1];
  CN_RETURN_IF_ERROR(expect_same(k, "a", A, t));
  CN_RETURN_IF_ERROR(expect_same(k, "b", B, t));
  MatMulParams p;
  CN_RETURN_IF_ERROR(make_matmul_params(&p, A->shape, B->shape, c.a().b("transposeA"), c.a().b("transposeB")));
  p.relu = c.a().b("relu");
  TypedPtr bias;
  if (c.inputs.size() == 3) {
    const BufferPtr& b = c.inputs[2];
    if (b->shape != Shape{p.n})
      return invalid_argument("MatMul: expected bias of shape [" + std::to_string(p.n) + "] but received " + shape_str(b->shape));
    if (b->dtype != DType::kFloat32 && b->dtype != t)
      return invalid_argument(std::string("MatMul: expected bias of dtype float32 or ") + dtype_name(t) + " but received " + dtype_name(b->dtype));
    bias = tp(b);
    p.has_bias = true;
  }
  DType ct;
  CN_RETURN_IF_ERROR(out_dtype(c, k, t, &ct));
  Shape out = matmul_output_shape(p);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, ct, &y));
  return rp(c)->matmul(tp(y), tp(A), tp(B), bias, p);
}

// ---- pooling

Status pool_params(KernelContext& c, PoolKind kind, const Shape& x, Pool2DParams* p) {
  auto size = c.a().ints("poolSize");
  auto strides = c.a().ints("strides");
  if (size.size() != 2) return invalid_argument("pool2d: expected poolSize of length 2");
  if (strides.empty()) strides = size;
  if (strides.size() != 2) return invalid_argument("pool2d: expected strides of length 2");
  if (x.size() != 4) return invalid_argument("pool2d: expected x of rank 4 (NHWC) but received shape " + shape_str(x));
  Padding pad;
  std::vector<int64_t> pads;
  CN_RETURN_IF_ERROR(parse_padding(c.a(), &pad, &pads));
  if (pad == Padding::kExplicit) return invalid_argument("pool2d: pad must be 'same' or 'valid'");
  return make_pool2d_params(p, kind, x, size[0], size[1], strides[0], strides[1], pad);
}

template <PoolKind kind>
Status k_pool(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs(kind == PoolKind::kMax ? "MaxPool" : "AvgPool", 1, 1));
  Pool2DParams p;
  CN_RETURN_IF_ERROR(pool_params(c, kind, c.inputs[0]->shape, &p));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, p.output_shape(), c.inputs[0]->dtype, &y));
  return rp(c)->pool2d_forward(tp(y), tp(c.inputs[0]), p);
}

// inputs: dy, x
template <PoolKind kind>
Status k_pool_grad(KernelContext& c) {
  const char* k = kind == PoolKind::kMax ? "MaxPoolGrad" : "AvgPoolGrad";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 2));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same(k, "dy", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same(k, "x", c.inputs[1], t));
  Pool2DParams p;
  CN_RETURN_IF_ERROR(pool_params(c, kind, c.inputs[1]->shape, &p));
  if (c.inputs[0]->shape != p.output_shape())
    return invalid_argument(std::string(k) + ": expected dy of shape " + shape_str(p.output_shape()) + " but received " +
                            shape_str(c.inputs[0]->shape));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, p.input_shape(), t, &dx));
  return rp(c)->pool2d_backward(tp(dx), tp(c.inputs[0]), tp(c.inputs[1]), p);
}

// ---- elementwise

template <UnaryOp op>
Status k_unary(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("unary", 1, 1));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &y));
  return rp(c)->unary(tp(y), tp(c.inputs[0]), c.inputs[0]->size(), op, (float)c.a().f("alpha", 1.0));
}

template <UnaryGradOp op>
Status k_unary_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("unaryGrad", 2, 2));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same("unaryGrad", "dy", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same("unaryGrad", "y", c.inputs[1], t));
  if (c.inputs[0]->shape != c.inputs[1]->shape)
    return invalid_argument("unaryGrad: dy " + shape_str(c.inputs[0]->shape) + " and y " + shape_str(c.inputs[1]->shape) + " differ");
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, t, &dx));
  return rp(c)->unary_grad(tp(dx), tp(c.inputs[0]), tp(c.inputs[1]), c.inputs[0]->size(), op, (float)c.a().f("alpha", 1.0));
}

template <BinaryOp op>
Status k_binary(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("binary", 2, 2));
  DType t = reduced_of(c);
  const BufferPtr &a = c.inputs[0], &b = c.inputs[1];
  for (const BufferPtr* x : {&a, &b})
    if ((*x)->dtype != t && (*x)->dtype != DType::kFloat32)
      return invalid_argument(std::string("binary: expected operands of dtype ") + dtype_name(t) + " or float32 but received " +
                              dtype_name(a->dtype) + " and " + dtype_name(b->dtype));
  BroadcastParams p;
  CN_RETURN_IF_ERROR(make_broadcast_params(&p, a->shape, b->shape));
  Shape out(p.out_shape, p.out_shape + p.rank);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, t, &y));
  return rp(c)->binary(tp(y), tp(a), tp(b), op, a->shape, b->shape, out);
}

// ---- softmax over the last axis

void rows_cols(const Shape& s, int64_t* rows, int64_t* cols) {
  *cols = s.empty() ? 1 : s.back();
  *rows = *cols ? num_elements(s) / *cols : 0;
}

template <bool log>
Status k_softmax(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs(log ? "LogSoftmax" : "Softmax", 1, 1));
  int64_t rows, cols;
  rows_cols(c.inputs[0]->shape, &rows, &cols);
  DType yt;
  CN_RETURN_IF_ERROR(out_dtype(c, log ? "LogSoftmax" : "Softmax", c.inputs[0]->dtype, &yt));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, yt, &y));
  return rp(c)->softmax(tp(y), tp(c.inputs[0]), rows, cols, log);
}

template <bool log>
Status k_softmax_grad(KernelContext& c) {
  const char* k = log ? "LogSoftmaxGrad" : "SoftmaxGrad";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 2));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same(k, "dy", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same(k, "y", c.inputs[1], t));
  if (c.inputs[0]->shape != c.inputs[1]->shape) return invalid_argument(std::string(k) + ": dy and y shapes differ");
  int64_t rows, cols;
  rows_cols(c.inputs[0]->shape, &rows, &cols);
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, t, &dx));
  return rp(c)->softmax_backward(tp(dx), tp(c.inputs[0]), tp(c.inputs[1]), rows, cols, log);
}

// ---- batch norm (x reduced; per-channel tensors float32)

Status bn_params(KernelContext& c, const char* k, size_t x_at, size_t first, size_t last, BatchNormParams* p) {
  const BufferPtr& x = c.inputs[x_at];
  if (x->shape.empty()) return invalid_argument(std::string(k) + ": expected x of rank >= 1");
  p->c = x->shape.back();
  p->rows = p->c ? num_elements(x->shape) / p->c : 0;
  p->epsilon = (float)c.a().f("epsilon", 1e-3);
  p->relu = c.a().b("relu", false);
  for (size_t i = first; i <= last && i < c.inputs.size(); ++i) {
    if (c.inputs[i]->shape != Shape{p->c})
      return invalid_argument(std::string(k) + ": expected parameter " + std::to_string(i) + " of shape [" + std::to_string(p->c) +
                              "] but received " + shape_str(c.inputs[i]->shape));
    CN_RETURN_IF_ERROR(expect_dtype(k, "per-channel parameters (float32 statistics)", c.inputs[i], DType::kFloat32));
  }
  return Status::ok();
}

// The residual input at index at, if given: x's shape, x's dtype or float32.
Status bn_residual(KernelContext& c, const char* k, size_t at, TypedPtr* r) {
  *r = TypedPtr();
  if (c.inputs.size() <= at) return Status::ok();
  const BufferPtr& z = c.inputs[at];
  const BufferPtr& x = c.inputs[0];
  if (z->shape != x->shape || (z->dtype != x->dtype && z->dtype != DType::kFloat32))
    return invalid_argument(std::string(k) + ": expected residual (input " + std::to_string(at) + ") of x's shape " +
                            shape_str(x->shape) + " and dtype " + dtype_name(x->dtype) + " or float32 but received " +
                            shape_str(z->shape) + " " + dtype_name(z->dtype));
  *r = tp(z);
  return Status::ok();
}

Status k_bn_train(KernelContext& c) {
  const char* k = "BatchNormTrain";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 3, 4));
  BatchNormParams p;
  CN_RETURN_IF_ERROR(bn_params(c, k, 0, 1, 2, &p));
  TypedPtr residual;
  CN_RETURN_IF_ERROR(bn_residual(c, k, 3, &residual));
  BufferPtr y, m, v;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &y));
  CN_RETURN_IF_ERROR(c.output(1, {p.c}, DType::kFloat32, &m));
  CN_RETURN_IF_ERROR(c.output(2, {p.c}, DType::kFloat32, &v));
  if (p.relu || residual)
    return rp(c)->batchnorm_forward_training_fused(tp(y), m->f32(), v->f32(), tp(c.inputs[0]), c.inputs[1]->f32(),
                                                   c.inputs[2]->f32(), residual, p);
  return rp(c)->batchnorm_forward_training(tp(y), m->f32(), v->f32(), tp(c.inputs[0]), c.inputs[1]->f32(),
                                           c.inputs[2]->f32(), p);
}

Status k_bn_infer(KernelContext& c) {
  const char* k = "BatchNormInfer";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 5, 6));
  BatchNormParams p;
  CN_RETURN_IF_ERROR(bn_params(c, k, 0, 1, 4, &p));
  TypedPtr residual;
  CN_RETURN_IF_ERROR(bn_residual(c, k, 5, &residual));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &y));
  if (p.relu || residual)
    return rp(c)->batchnorm_forward_inference_fused(tp(y), tp(c.inputs[0]), c.inputs[1]->f32(), c.inputs[2]->f32(),
                                                    c.inputs[3]->f32(), c.inputs[4]->f32(), residual, p);
  return rp(c)->batchnorm_forward_inference(tp(y), tp(c.inputs[0]), c.inputs[1]->f32(), c.inputs[2]->f32(),
                                            c.inputs[3]->f32(), c.inputs[4]->f32(), p);
}

// inputs: dy, x, gamma, batchMean, batchVar[, beta (exactly with relu)]
Status k_bn_grad(KernelContext& c) {
  const char* k = "BatchNormGrad";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 5, 6));
  BatchNormParams p;
  CN_RETURN_IF_ERROR(bn_params(c, k, 1, 2, 5, &p));
  if (p.relu != (c.inputs.size() == 6))
    return invalid_argument(std::string(k) + ": expected beta as input 5 exactly when relu is set, but received " +
                            std::to_string(c.inputs.size()) + " inputs with relu " + (p.relu ? "true" : "false"));
  DType t = reduced_of(c);
  CN_RETURN_IF_ERROR(expect_same(k, "dy", c.inputs[0], t));
  CN_RETURN_IF_ERROR(expect_same(k, "x", c.inputs[1], t));
  if (c.inputs[0]->shape != c.inputs[1]->shape) return invalid_argument(std::string(k) + ": dy and x shapes differ");
  BufferPtr dx, dg, db;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[1]->shape, t, &dx));
  CN_RETURN_IF_ERROR(c.output(1, {p.c}, DType::kFloat32, &dg));
  CN_RETURN_IF_ERROR(c.output(2, {p.c}, DType::kFloat32, &db));
  if (p.relu)
    return rp(c)->batchnorm_backward_relu(tp(dx), dg->f32(), db->f32(), tp(c.inputs[0]), tp(c.inputs[1]),
                                          c.inputs[2]->f32(), c.inputs[5]->f32(), c.inputs[3]->f32(), c.inputs[4]->f32(), p);
  return rp(c)->batchnorm_backward(tp(dx), dg->f32(), db->f32(), tp(c.inputs[0]), tp(c.inputs[1]), c.inputs[2]->f32(),
                                   c.inputs[3]->f32(), c.inputs[4]->f32(), p);
}

}  // namespace

// Storage kernels: bfloat16 and float16 wherever the backend has ReducedPrecisionOps.
CN_REGISTER_TYPED_KERNEL("Cast", kBoth, true, k_cast);
CN_REGISTER_TYPED_KERNEL("Copy", kBoth, true, k_copy);
CN_REGISTER_TYPED_KERNEL("Reshape", kBoth, true, k_reshape);
CN_REGISTER_TYPED_KERNEL("Fill", kBoth, true, k_fill);
// Compute kernels (bfloat16; Note [float16 on the cpu] in native/cpu/bf16_backend.h).
CN_REGISTER_TYPED_KERNEL("Conv2D", kBoth, false, k_conv2d<false>);
CN_REGISTER_TYPED_KERNEL("Conv2DBackpropInput", kBoth, false, k_conv2d_bd<false>);
CN_REGISTER_TYPED_KERNEL("Conv2DBackpropFilter", kBoth, false, k_conv2d_bf<false>);
CN_REGISTER_TYPED_KERNEL("DepthwiseConv2D", kBoth, false, k_conv2d<true>);
CN_REGISTER_TYPED_KERNEL("DepthwiseConv2DBackpropInput", kBoth, false, k_conv2d_bd<true>);
CN_REGISTER_TYPED_KERNEL("DepthwiseConv2DBackpropFilter", kBoth, false, k_conv2d_bf<true>);
CN_REGISTER_TYPED_KERNEL("MatMul", kBoth, false, k_matmul);
CN_REGISTER_TYPED_KERNEL("MaxPool", kBoth, false, k_pool<PoolKind::kMax>);
CN_REGISTER_TYPED_KERNEL("AvgPool", kBoth, false, k_pool<PoolKind::kAvg>);
CN_REGISTER_TYPED_KERNEL("MaxPoolGrad", kBoth, false, k_pool_grad<PoolKind::kMax>);
CN_REGISTER_TYPED_KERNEL("AvgPoolGrad", kBoth, false, k_pool_grad<PoolKind::kAvg>);
#define CN_TYPED_UNARY(name, op) CN_REGISTER_TYPED_KERNEL(name, kBoth, false, k_unary<UnaryOp::op>)
CN_TYPED_UNARY("Relu", kRelu);
CN_TYPED_UNARY("Sigmoid", kSigmoid);
CN_TYPED_UNARY("Tanh", kTanh);
CN_TYPED_UNARY("Exp", kExp);
CN_TYPED_UNARY("Log", kLog);
CN_TYPED_UNARY("Neg", kNeg);
CN_TYPED_UNARY("Sqrt", kSqrt);
CN_TYPED_UNARY("Square", kSquare);
CN_TYPED_UNARY("Abs", kAbs);
CN_TYPED_UNARY("Elu", kElu);
CN_TYPED_UNARY("Relu6", kRelu6);
CN_TYPED_UNARY("Softplus", kSoftplus);
CN_REGISTER_TYPED_KERNEL("ReluGrad", kBoth, false, k_unary_grad<UnaryGradOp::kRelu>);
CN_REGISTER_TYPED_KERNEL("SigmoidGrad", kBoth, false, k_unary_grad<UnaryGradOp::kSigmoid>);
CN_REGISTER_TYPED_KERNEL("TanhGrad", kBoth, false, k_unary_grad<UnaryGradOp::kTanh>);
CN_REGISTER_TYPED_KERNEL("EluGrad", kBoth, false, k_unary_grad<UnaryGradOp::kElu>);
CN_REGISTER_TYPED_KERNEL("Relu6Grad", kBoth, false, k_unary_grad<UnaryGradOp::kRelu6>);
#define CN_TYPED_BINARY(name, op) CN_REGISTER_TYPED_KERNEL(name, kBoth, false, k_binary<BinaryOp::op>)
CN_TYPED_BINARY("Add", kAdd);
CN_TYPED_BINARY("Sub", kSub);
CN_TYPED_BINARY("Mul", kMul);
CN_TYPED_BINARY("Div", kDiv);
CN_TYPED_BINARY("Maximum", kMaximum);
CN_TYPED_BINARY("Minimum", kMinimum);
CN_REGISTER_TYPED_KERNEL("Softmax", kBoth, false, k_softmax<false>);
CN_REGISTER_TYPED_KERNEL("LogSoftmax", kBoth, false, k_softmax<true>);
CN_REGISTER_TYPED_KERNEL("SoftmaxGrad", kBoth, false, k_softmax_grad<false>);
CN_REGISTER_TYPED_KERNEL("LogSoftmaxGrad", kBoth, false, k_softmax_grad<true>);
CN_REGISTER_TYPED_KERNEL("BatchNormTrain", kBoth, false, k_bn_train);
CN_REGISTER_TYPED_KERNEL("BatchNormInfer", kBoth, false, k_bn_infer);
CN_REGISTER_TYPED_KERNEL("BatchNormGrad", kBoth, false, k_bn_grad);

}  // namespace cn
