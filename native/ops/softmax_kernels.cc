// Softmax family over the last axis: Softmax / LogSoftmax (x), SoftmaxGrad /
// LogSoftmaxGrad (dy, y), and SparseSoftmaxCrossEntropy(logits, labels) -> loss, dlogits.
#include "kernel.h"

namespace cn {
namespace {

void rows_cols(const Shape& s, int64_t* rows, int64_t* cols) {
  *cols = s.empty() ? 1 : s.back();
  *rows = *cols ? num_elements(s) / *cols : 0;
}

template <bool log>
Status k_softmax(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("softmax", 1, 1));
  CN_RETURN_IF_ERROR(expect_dtype("softmax", "logits", c.inputs[0], DType::kFloat32));
  int64_t rows, cols;
  rows_cols(c.inputs[0]->shape, &rows, &cols);
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &y));
  return c.backend->softmax(y->f32(), c.inputs[0]->f32(), rows, cols, log);
}

template <bool log>
Status k_softmax_grad(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("softmaxGrad", 2, 2));
  if (c.inputs[0]->shape != c.inputs[1]->shape) return invalid_argument("softmaxGrad: dy and y shapes differ");
  int64_t rows, cols;
  rows_cols(c.inputs[0]->shape, &rows, &cols);
  BufferPtr dx;
  CN_RETURN_IF_ERROR(c.output(0, c.inputs[0]->shape, DType::kFloat32, &dx));
  return c.backend->softmax_backward(dx->f32(), c.inputs[0]->f32(), c.inputs[1]->f32(), rows, cols, log);
}

Status k_sparse_xent(KernelContext& c) {
  CN_RETURN_IF_ERROR(c.expect_inputs("sparseSoftmaxCrossEntropy", 2, 2));
  const BufferPtr &logits = c.inputs[0], &labels = c.inputs[1];
  CN_RETURN_IF_ERROR(expect_dtype("sparseSoftmaxCrossEntropy", "logits", logits, DType::kFloat32));
  CN_RETURN_IF_ERROR(expect_dtype("sparseSoftmaxCrossEntropy", "labels", labels, DType::kInt32));
  int64_t rows, cols;
  rows_cols(logits->shape, &rows, &cols);
  Shape lead(logits->shape.begin(), logits->shape.end() - 1);
  if (labels->size() != rows)
    return invalid_argument("sparseSoftmaxCrossEntropy: expected labels of shape " + shape_str(lead) +
                            " but received " + shape_str(labels->shape));
  BufferPtr loss, grad;
  CN_RETURN_IF_ERROR(c.output(0, lead, DType::kFloat32, &loss));
  CN_RETURN_IF_ERROR(c.output(1, logits->shape, DType::kFloat32, &grad));
  return c.backend->sparse_softmax_cross_entropy(loss->f32(), grad->f32(), logits->f32(), labels->i32(), rows, cols);
}

}  // namespace

CN_REGISTER_KERNEL("Softmax", k_softmax<false>);
CN_REGISTER_KERNEL("LogSoftmax", k_softmax<true>);
CN_REGISTER_KERNEL("SoftmaxGrad", k_softmax_grad<false>);
CN_REGISTER_KERNEL("LogSoftmaxGrad", k_softmax_grad<true>);
CN_REGISTER_KERNEL("SparseSoftmaxCrossEntropy", k_sparse_xent);

}  // namespace cn
