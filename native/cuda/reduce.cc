// CudaBackend reductions on [outer, reduce, inner] views, argmax and one_hot
// (kernels/reduce.cu).
#include "cuda_backend.h"
#include "kernels/kernels.h"

namespace cn {

namespace {
std::string reduce_ctx(const char* op, const ReduceParams& p) {
  return std::string(op) + " [outer=" + std::to_string(p.outer) + ", reduce=" +
         std::to_string(p.reduce) + ", inner=" + std::to_string(p.inner) + "]";
}
}  // namespace

Status CudaBackend::reduce(float* out, const float* in, ReduceOp op, const ReduceParams& p) {
  if (p.outer < 0 || p.reduce < 0 || p.inner < 0) return invalid_argument(reduce_ctx("reduce: negative size", p));
  if (p.outer * p.inner == 0) return Status::ok();
  cuda::Scratch part;
  CN_RETURN_IF_ERROR(scratch(&part, sizeof(float) * cuda::k::reduce_scratch(p.outer, p.reduce, p.inner)));
  CN_LAUNCH_CHECK(cuda::k::reduce(stream_, out, in, p.outer, p.reduce, p.inner, (int)op, part.f32()),
                  reduce_ctx("reduce", p));
  return Status::ok();
}

Status CudaBackend::argmax(int32_t* out, const float* in, const ReduceParams& p) {
  if (p.outer < 0 || p.reduce < 0 || p.inner < 0) return invalid_argument(reduce_ctx("argmax: negative size", p));
  if (p.reduce == 0 && p.outer * p.inner > 0) return invalid_argument(reduce_ctx("argmax: empty axis", p));
  CN_LAUNCH_CHECK(cuda::k::argmax(stream_, out, in, p.outer, p.reduce, p.inner), reduce_ctx("argmax", p));
  return Status::ok();
}

Status CudaBackend::one_hot(float* out, const int32_t* indices, int64_t n, int64_t depth,
                            float on_value, float off_value) {
  if (n < 0 || depth < 0) return invalid_argument("one_hot: negative size");
  if (n * depth == 0) return Status::ok();
  CN_LAUNCH_CHECK(cuda::k::one_hot(stream_, out, indices, n, depth, on_value, off_value),
                  "one_hot n=" + std::to_string(n) + " depth=" + std::to_string(depth));
  return Status::ok();
}

}  // namespace cn
