// Convolution kernels: Conv2D, its two backward passes, and the depthwise family.
// Attributes: strides [sh, sw], dilations [dh, dw], pad 'same'|'valid'|'explicit'
// (+ pads [t, b, l, r]), relu (forward only); backward kernels take the forward's
// inputShape / filterShape.
#include "kernel.h"

namespace cn {
namespace {

Status conv_params(KernelContext& c, const Shape& x, const Shape& f, bool depthwise, Conv2DParams* p) {
  const Attrs& a = c.a();
  auto strides = a.ints("strides");
  auto dil = a.ints("dilations");
  if (strides.empty()) strides = {1, 1};
  if (dil.empty()) dil = {1, 1};
  if (strides.size() != 2) return invalid_argument("conv2d: expected strides of length 2");
  if (dil.size() != 2) return invalid_argument("conv2d: expected dilations of length 2");
  Padding pad;
  std::vector<int64_t> pads;
  CN_RETURN_IF_ERROR(parse_padding(a, &pad, &pads));
  return make_conv2d_params(p, x, f, strides[0], strides[1], dil[0], dil[1], pad, pads, depthwise);
}

Status conv_forward(KernelContext& c, bool depthwise) {
  const char* k = depthwise ? "depthwiseConv2d" : "conv2d";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 3));
  CN_RETURN_IF_ERROR(expect_dtype(k, "x", c.inputs[0], DType::kFloat32));
  CN_RETURN_IF_ERROR(expect_dtype(k, "filter", c.inputs[1], DType::kFloat32));
  Conv2DParams p;
  CN_RETURN_IF_ERROR(conv_params(c, c.inputs[0]->shape, c.inputs[1]->shape, depthwise, &p));
  const float* bias = nullptr;
  if (c.inputs.size() == 3) {
    if (c.inputs[2]->shape != Shape{p.out_c})
      return invalid_argument(std::string(k) + ": expected bias of shape [" + std::to_string(p.out_c) +
                              "] but received " + shape_str(c.inputs[2]->shape));
    bias = c.inputs[2]->f32();
    p.has_bias = true;
  }
  p.relu = c.a().b("relu");
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, p.output_shape(), DType::kFloat32, &y));
  return c.backend->conv2d_forward(y->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), bias, p);
}

Status conv_backward_data(KernelContext& c, bool depthwise) {
  const char* k = depthwise ? "depthwiseConv2dBackpropInput" : "conv2dBackpropInput";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 2));
  Shape x_shape = c.a().ints("inputShape");
  Conv2DParams p;
  CN_RETURN_IF_ERROR(conv_params(c, x_shape, c.inputs[1]->shape, depthwise, &p));
  if (c.inputs[0]->shape != p.output_shape())
    return invalid_argument(std::string(k) + ": expected dy of shape " + shape_str(p.output_shape()) +
                            " but received " + shape_str(c.inputs[0]->shape));
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, x_shape, DType::kFloat32, &dx));
  return c.backend->conv2d_backward_data(dx->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), p);
}

Status conv_backward_filter(KernelContext& c, bool depthwise) {
  const char* k = depthwise ? "depthwiseConv2dBackpropFilter" : "conv2dBackpropFilter";
  CN_RETURN_IF_ERROR(c.expect_inputs(k, 2, 2));
  Shape f_shape = c.a().ints("filterShape");
  Conv2DParams p;
  CN_RETURN_IF_ERROR(conv_params(c, c.inputs[0]->shape, f_shape, depthwise, &p));
  if (c.inputs[1]->shape != p.output_shape())
    return invalid_argument(std::string(k) + ": expected dy of shape " + shape_str(p.output_shape()) +
                            " but received " + shape_str(c.inputs[1]->shape));
  BufferPtr dw, db;
  CN_RETURN_IF_ERROR(c.output(0, f_shape, DType::kFloat32, &dw));
  bool with_bias = c.a().b("bias");
  if (with_bias) CN_RETURN_IF_ERROR(c.output(1, {p.out_c}, DType::kFloat32, &db));
  return c.backend->conv2d_backward_filter(dw->f32(), with_bias ? db->f32() : nullptr,
                                           c.inputs[0]->f32(), c.inputs[1]->f32(), p);
}

Status k_conv2d(KernelContext& c) { return conv_forward(c, false); }
Status k_conv2d_bd(KernelContext& c) { return conv_backward_data(c, false); }
Status k_conv2d_bf(KernelContext& c) { return conv_backward_filter(c, false); }
Status k_dw(KernelContext& c) { return conv_forward(c, true); }
Status k_dw_bd(KernelContext& c) { return conv_backward_data(c, true); }
Status k_dw_bf(KernelContext& c) { return conv_backward_filter(c, true); }

}  // namespace

CN_REGISTER_KERNEL("Conv2D", k_conv2d);
CN_REGISTER_KERNEL("Conv2DBackpropInput", k_conv2d_bd);
CN_REGISTER_KERNEL("Conv2DBackpropFilter", k_conv2d_bf);
CN_REGISTER_KERNEL("DepthwiseConv2D", k_dw);
CN_REGISTER_KERNEL("DepthwiseConv2DBackpropInput", k_dw_bd);
CN_REGISTER_KERNEL("DepthwiseConv2DBackpropFilter", k_dw_bf);

}  // namespace cn
