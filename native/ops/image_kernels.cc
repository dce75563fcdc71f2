// Image kernels: ResizeBilinear(x) with attrs size [h, w], alignCorners,
// halfPixelCenters (TensorFlow semantics), and ResizeBilinearGrad(dy, x);
// ImageProjectiveTransform(images, transforms [n or 1, 8]) with attrs interpolation
// ('nearest' | 'bilinear'), fillMode ('reflect' | 'wrap' | 'constant' | 'nearest'),
// fillValue and outputShape [h, w] (TensorFlow's ImageProjectiveTransformV3).
#include "kernel.h"

namespace cn {
namespace {

Status resize_params(KernelContext& c, const Shape& x, ResizeParams* p) {
  if (x.size() != 4) return invalid_argument("resizeBilinear: expected images of rank 4 (NHWC) but received shape " + shape_str(x));
  auto size = c.a().ints("size");
  if (size.size() != 2 || size[0] < 1 || size[1] < 1)
    return invalid_argument("resizeBilinear: expected size [newHeight, newWidth] >= 1 but received " + shape_str(size));
  p->n = x[0]; p->in_h = x[1]; p->in_w = x[2]; p->c = x[3];
  p->out_h = size[0]; p->out_w = size[1];
  p->align_corners = c.a().b("alignCorners");
  p->half_pixel_centers = c.a().b("halfPixelCenters", true);
  if (p->align_corners && p->half_pixel_centers)
    return invalid_argument("resizeBilinear: alignCorners and halfPixelCenters cannot both be true");
  return Status::ok();
}

Status k_resize(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("resizeBilinear", 1, 1));
  ResizeParams p;
  CN_RETURN_IF_ERROR(resize_params(c, c.inputs[0]->shape, &p));
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, {p.n, p.out_h, p.out_w, p.c}, DType::kFloat32, &y));
  return c.backend->resize_bilinear(y->f32(), c.inputs[0]->f32(), p);
}

Status k_resize_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("resizeBilinearGrad", 2, 2));
  ResizeParams p;
  CN_RETURN_IF_ERROR(resize_params(c, c.inputs[1]->shape, &p));
  if (c.inputs[0]->shape != Shape{p.n, p.out_h, p.out_w, p.c})
    return invalid_argument("resizeBilinearGrad: dy shape " + shape_str(c.inputs[0]->shape) + " does not match size");
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[1]->shape, DType::kFloat32, &dx));
  return c.backend->resize_bilinear_backward(dx->f32(), c.inputs[0]->f32(), p);
}

Status k_projective(KernelContext& c) {
  const char* op = "transform";
  CN_RETURN_IF_ERROR(c.expect_inputs(op, 2, 2));
  const Shape& x = c.inputs[0]->shape;
  const Shape& t = c.inputs[1]->shape;
  if (x.size() != 4) return invalid_argument(std::string(op) + ": expected images of rank 4 (NHWC) but received shape " + shape_str(x));
  if (t.size() != 2 || t[1] != 8 || (t[0] != x[0] && t[0] != 1))
    return invalid_argument(std::string(op) + ": expected transforms of shape [" + std::to_string(x[0]) + ", 8] or [1, 8] but received " + shape_str(t));
  if (c.inputs[0]->dtype != DType::kFloat32 || c.inputs[1]->dtype != DType::kFloat32)
    return invalid_argument(std::string(op) + ": expected float32 images and transforms");
  ProjectiveParams p;
  p.n = x[0]; p.h = x[1]; p.w = x[2]; p.c = x[3];
  auto size = c.a().ints("outputShape");
  if (!size.empty() && (size.size() != 2 || size[0] < 1 || size[1] < 1))
    return invalid_argument(std::string(op) + ": expected outputShape [height, width] >= 1 but received " + shape_str(size));
  p.out_h = size.empty() ? p.h : size[0];
  p.out_w = size.empty() ? p.w : size[1];
  p.per_image = t[0] == x[0];
  const std::string interp = c.a().s("interpolation", "nearest");
  if (interp != "nearest" && interp != "bilinear")
    return invalid_argument(std::string(op) + ": expected interpolation 'nearest' or 'bilinear' but received '" + interp + "'");
  p.bilinear = interp == "bilinear";
  const std::string mode = c.a().s("fillMode", "constant");
  if (mode == "reflect") p.fill_mode = FillMode::kReflect;
  else if (mode == "wrap") p.fill_mode = FillMode::kWrap;
  else if (mode == "constant") p.fill_mode = FillMode::kConstant;
  else if (mode == "nearest") p.fill_mode = FillMode::kNearest;
  else return invalid_argument(std::string(op) + ": expected fillMode 'reflect', 'wrap', 'constant' or 'nearest' but received '" + mode + "'");
  p.fill_value = (float)c.a().f("fillValue", 0.0);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, {p.n, p.out_h, p.out_w, p.c}, DType::kFloat32, &y));
  if (y->size() == 0) return Status::ok();
  return c.backend->projective_transform(y->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), p);
}

}  // namespace

CN_REGISTER_KERNEL("ImageProjectiveTransform", k_projective);
CN_REGISTER_KERNEL("ResizeBilinear", k_resize);
CN_REGISTER_KERNEL("ResizeBilinearGrad", k_resize_grad);

}  // namespace cn
