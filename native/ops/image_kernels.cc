// Image kernels: ResizeBilinear(x) with attrs size [h, w], alignCorners,
// halfPixelCenters (TensorFlow semantics), and ResizeBilinearGrad(dy, x).
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

}  // namespace

CN_REGISTER_KERNEL("ResizeBilinear", k_resize);
CN_REGISTER_KERNEL("ResizeBilinearGrad", k_resize_grad);

}  // namespace cn
