// Elementwise kernels: one registered kernel per unary op (attr alpha for elu), unary
// gradients (dy, ref), broadcasting binary ops, Select, Cast, Fill, Copy, the in-place
// Assign / AssignAdd used by variables and plans, and the plan fusion's AddRelu(a, b) and
// AddReluGrad(g1, g2, ref) (float32, one shape; see Backend::add_relu).
#include "kernel.h"

namespace cn {
namespace {

DType parse_dtype(const std::string& s, DType def) {
  if (s == "float32") return DType::kFloat32;
  if (s == "int32") return DType::kInt32;
  if (s == "bool" || s == "uint8") return DType::kUint8;
  return def;
}

template <UnaryOp op>
Status k_unary(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("unary", 1, 1));
  CN_RETURN_IF_ERROR(expect_dtype("unary", "x", c.inputs[0], DType::kFloat32));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &y));
  return c.backend->unary(y->f32(), c.inputs[0]->f32(), c.inputs[0]->size(), op,
                          (float)c.a().f("alpha", 1.0));
}

template <UnaryGradOp op>
Status k_unary_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("unaryGrad", 2, 2));
  if (c.inputs[0]->shape != c.inputs[1]->shape)
    return invalid_argument("unaryGrad: dy " + shape_str(c.inputs[0]->shape) + " and y " +
                            shape_str(c.inputs[1]->shape) + " differ");
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &dx));
  return c.backend->unary_grad(dx->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(),
                               c.inputs[0]->size(), op, (float)c.a().f("alpha", 1.0));
}

// All inputs float32 of the first input's shape.
Status same_float_shapes(KernelContext& c, const char* op) {
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    if (c.inputs[i]->dtype != DType::kFloat32)
      return invalid_argument(std::string(op) + ": expected input " + std::to_string(i) + " of dtype float32 but received " +
                              dtype_name(c.inputs[i]->dtype));
    if (c.inputs[i]->shape != c.inputs[0]->shape)
      return invalid_argument(std::string(op) + ": expected input " + std::to_string(i) + " of shape " +
                              shape_str(c.inputs[0]->shape) + " but received " + shape_str(c.inputs[i]->shape));
  }
  return Status::ok();
}

Status k_add_relu(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("addRelu", 2, 2));
  CN_RETURN_IF_ERROR(same_float_shapes(c, "addRelu"));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &y));
  return c.backend->add_relu(y->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), c.inputs[0]->size());
}

Status k_add_relu_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("addReluGrad", 3, 3));
  CN_RETURN_IF_ERROR(same_float_shapes(c, "addReluGrad"));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &dx));
  return c.backend->add_relu_grad(dx->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), c.inputs[2]->f32(),
                                  c.inputs[0]->size());
}

template <BinaryOp op>
Status k_binary(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("binary", 2, 2));
  const BufferPtr &a = c.inputs[0], &b = c.inputs[1];
  if (a->dtype != b->dtype || a->dtype == DType::kUint8)
    return invalid_argument(std::string("binary: expected a and b of one dtype (float32 or int32) but received ") +
                            dtype_name(a->dtype) + " and " + dtype_name(b->dtype));
  BroadcastParams p;
  CN_RETURN_IF_ERROR(make_broadcast_params(&p, a->shape, b->shape));
  Shape out(p.out_shape, p.out_shape + p.rank);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, out, a->dtype, &y));
  return c.backend->binary(y->raw(), a->raw(), b->raw(), a->dtype, op, p);
}

Status k_select(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("where", 3, 3));
  const Shape& s = c.inputs[0]->shape;
  if (c.inputs[1]->shape != s || c.inputs[2]->shape != s)
    return invalid_argument("where: condition, a and b must have one shape");
  for (auto& in : c.inputs) CN_RETURN_IF_ERROR(expect_dtype("where", "input", in, DType::kFloat32));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, s, DType::kFloat32, &y));
  return c.backend->select(y->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), c.inputs[2]->f32(), y->size());
}

Status k_cast(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("cast", 1, 1));
  DType to = parse_dtype(c.a().s("dtype"), DType::kFloat32);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, to, &y));
  return c.backend->cast(y->raw(), to, c.inputs[0]->raw(), c.inputs[0]->dtype, y->size());
}

Status k_copy(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("clone", 1, 1));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, c.inputs[0]->dtype, &y));
  return c.backend->copy(y->raw(), c.inputs[0]->raw(), c.inputs[0]->storage->bytes);
}

// Fill: attrs shape, value, dtype; backend chosen by the caller (c.backend preset).
Status k_fill(KernelContext& c) {
  if (!c.backend) return invalid_argument("fill: no backend");
  DType dt = parse_dtype(c.a().s("dtype", "float32"), DType::kFloat32);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.a().ints("shape"), dt, &y));
  return c.backend->fill(y->raw(), dt, c.a().f("value"), y->size());
}

// Assign(dst, src): copies src into dst's storage in place; no outputs.
Status k_assign(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("assign", 2, 2));
  const BufferPtr &d = c.inputs[0], &s = c.inputs[1];
  if (d->shape != s->shape || d->dtype != s->dtype)
    return invalid_argument("assign: expected value of shape " + shape_str(d->shape) + " " + dtype_name(d->dtype) +
                            " but received " + shape_str(s->shape) + " " + dtype_name(s->dtype));
  return c.backend->copy(d->raw(), s->raw(), d->storage->bytes);
}

// AssignAdd(dst, src): dst += src in place (src broadcast to dst's shape).
Status k_assign_add(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("assignAdd", 2, 2));
  const BufferPtr &d = c.inputs[0], &s = c.inputs[1];
  BroadcastParams p;
  CN_RETURN_IF_ERROR(make_broadcast_params(&p, d->shape, s->shape));
  if (Shape(p.out_shape, p.out_shape + p.rank) != d->shape || d->dtype != s->dtype)
    return invalid_argument("assignAdd: value " + shape_str(s->shape) + " does not broadcast to " + shape_str(d->shape));
  return c.backend->binary(d->raw(), d->raw(), s->raw(), d->dtype, BinaryOp::kAdd, p);
}

}  // namespace

#define CN_UNARY(name, op) CN_REGISTER_KERNEL(name, k_unary<UnaryOp::op>)
CN_UNARY("Relu", kRelu);
CN_UNARY("Sigmoid", kSigmoid);
CN_UNARY("Tanh", kTanh);
CN_UNARY("Exp", kExp);
CN_UNARY("Log", kLog);
CN_UNARY("Neg", kNeg);
CN_UNARY("Sqrt", kSqrt);
CN_UNARY("Rsqrt", kRsqrt);
CN_UNARY("Square", kSquare);
CN_UNARY("Abs", kAbs);
CN_UNARY("Reciprocal", kReciprocal);
CN_UNARY("Sign", kSign);
CN_UNARY("Floor", kFloor);
CN_UNARY("Ceil", kCeil);
CN_UNARY("Round", kRound);
CN_UNARY("Log1p", kLog1p);
CN_UNARY("Softplus", kSoftplus);
CN_UNARY("Elu", kElu);
CN_UNARY("Selu", kSelu);
CN_UNARY("Relu6", kRelu6);
CN_UNARY("Step", kStep);
CN_UNARY("Sin", kSin);
CN_UNARY("Cos", kCos);

CN_REGISTER_KERNEL("ReluGrad", k_unary_grad<UnaryGradOp::kRelu>);
CN_REGISTER_KERNEL("SigmoidGrad", k_unary_grad<UnaryGradOp::kSigmoid>);
CN_REGISTER_KERNEL("TanhGrad", k_unary_grad<UnaryGradOp::kTanh>);
CN_REGISTER_KERNEL("EluGrad", k_unary_grad<UnaryGradOp::kElu>);
CN_REGISTER_KERNEL("SeluGrad", k_unary_grad<UnaryGradOp::kSelu>);
CN_REGISTER_KERNEL("Relu6Grad", k_unary_grad<UnaryGradOp::kRelu6>);
CN_REGISTER_KERNEL("AddRelu", k_add_relu);
CN_REGISTER_KERNEL("AddReluGrad", k_add_relu_grad);

#define CN_BINARY(name, op) CN_REGISTER_KERNEL(name, k_binary<BinaryOp::op>)
CN_BINARY("Add", kAdd);
CN_BINARY("Sub", kSub);
CN_BINARY("Mul", kMul);
CN_BINARY("Div", kDiv);
CN_BINARY("Maximum", kMaximum);
CN_BINARY("Minimum", kMinimum);
CN_BINARY("Pow", kPow);
CN_BINARY("SquaredDifference", kSquaredDifference);
CN_BINARY("Equal", kEqual);
CN_BINARY("NotEqual", kNotEqual);
CN_BINARY("Greater", kGreater);
CN_BINARY("GreaterEqual", kGreaterEqual);
CN_BINARY("Less", kLess);
CN_BINARY("LessEqual", kLessEqual);
CN_BINARY("FloorDiv", kFloorDiv);
CN_BINARY("Mod", kMod);

CN_REGISTER_KERNEL("Select", k_select);
CN_REGISTER_KERNEL("Cast", k_cast);
CN_REGISTER_KERNEL("Copy", k_copy);
CN_REGISTER_KERNEL("Fill", k_fill);
CN_REGISTER_KERNEL("Assign", k_assign);
CN_REGISTER_KERNEL("AssignAdd", k_assign_add);

}  // namespace cn
