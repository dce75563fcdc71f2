// Pooling kernels: MaxPool, AvgPool and their gradients (attrs poolSize, strides, pad).
#include "kernel.h"

namespace cn {
namespace {

Status pool_params(KernelContext& c, const std::string& k, PoolKind kind, const Shape& x, Pool2DParams* p) {
  auto size = c.a().ints("poolSize");
  auto strides = c.a().ints("strides");
  if (size.size() != 2) return invalid_argument(k + ": expected poolSize of length 2");
  if (strides.empty()) strides = size;
  if (strides.size() != 2) return invalid_argument(k + ": expected strides of length 2");
  Padding pad;
  std::vector<int64_t> pads;
  CN_RETURN_IF_ERROR(parse_padding(c.a(), &pad, &pads));
  if (pad == Padding::kExplicit) return invalid_argument(k + ": pad must be 'same' or 'valid'");
  return make_pool2d_params(p, kind, x, size[0], size[1], strides[0], strides[1], pad);
}

Status pool_forward(KernelContext& c, PoolKind kind) {
  const char* k = kind == PoolKind::kMax ? "MaxPool" : "AvgPool";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 1, 1));
  CN_RETURN_IF_ERROR(expect_dtype(k, "x", c.inputs[0], DType::kFloat32));
  Pool2DParams p;
  CN_RETURN_IF_ERROR(pool_params(c, k, kind, c.inputs[0]->shape, &p));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, p.output_shape(), DType::kFloat32, &y));
  return c.backend->pool2d_forward(y->f32(), c.inputs[0]->f32(), p);
}

// inputs: dy, x
Status pool_backward(KernelContext& c, PoolKind kind) {
  const std::string k = kind == PoolKind::kMax ? "MaxPoolGrad" : "AvgPoolGrad";
  CN_RETURN_IF_ERROR(c.expect_inputs(k.c_str(), 2, 2));
  Pool2DParams p;
  CN_RETURN_IF_ERROR(pool_params(c, k, kind, c.inputs[1]->shape, &p));
  if (c.inputs[0]->shape != p.output_shape())
    return invalid_argument(k + ": expected dy of shape " + shape_str(p.output_shape()) +
                            " but received " + shape_str(c.inputs[0]->shape));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, p.input_shape(), DType::kFloat32, &dx));
  return c.backend->pool2d_backward(dx->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), p);
}

// inputs: src (x's shape), x -> y's shape (Note [max-pool gather] in cpu/pool.cc)
Status k_max_grad_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("MaxPoolGradGrad", 2, 2));
  for (int i = 0; i < 2; ++i)
    CN_RETURN_IF_ERROR(expect_dtype("MaxPoolGradGrad", i == 0 ? "src" : "x", c.inputs[i], DType::kFloat32));
  Pool2DParams p;
  CN_RETURN_IF_ERROR(pool_params(c, "MaxPoolGradGrad", PoolKind::kMax, c.inputs[1]->shape, &p));
  if (c.inputs[0]->shape != p.input_shape())
    return invalid_argument("MaxPoolGradGrad: expected src of x's shape " + shape_str(p.input_shape()) +
                            " but received " + shape_str(c.inputs[0]->shape));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, p.output_shape(), DType::kFloat32, &y));
  if (p.n == 0 || p.c == 0) return Status::ok();
  return c.backend->max_pool_gather(y->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), p);
}

Status k_max(KernelContext& c) { return pool_forward(c, PoolKind::kMax); }
Status k_avg(KernelContext& c) { return pool_forward(c, PoolKind::kAvg); }
Status k_max_grad(KernelContext& c) { return pool_backward(c, PoolKind::kMax); }
Status k_avg_grad(KernelContext& c) { return pool_backward(c, PoolKind::kAvg); }

}  // namespace

CN_REGISTER_KERNEL("MaxPool", k_max);
CN_REGISTER_KERNEL("AvgPool", k_avg);
CN_REGISTER_KERNEL("MaxPoolGrad", k_max_grad);
CN_REGISTER_KERNEL("AvgPoolGrad", k_avg_grad);
CN_REGISTER_KERNEL("MaxPoolGradGrad", k_max_grad_grad);

}  // namespace cn
