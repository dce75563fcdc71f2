// Random kernels with counter-based generators: DropoutMask (attrs shape, rate, seed)
// and RandomUniform / RandomNormal (attrs shape, a, b, seed). Inside a compiled plan the
// seed is mixed with the run index, so each training step draws a fresh mask.
#include "kernel.h"
#include "typed_kernels.h"

namespace cn {
namespace {

uint64_t effective_seed(const KernelContext& c) {
  uint64_t s = (uint64_t)c.a().i("seed");
  return c.run_index ? s ^ (0x9E3779B97F4A7C15ull * c.run_index) : s;
}

Status k_dropout_mask(KernelContext& c) {
  if (!c.backend && !c.inputs.empty()) c.backend = c.inputs[0]->backend();
  if (!c.backend) return invalid_argument("dropoutMask: no backend");
  double rate = c.a().f("rate");
  if (rate < 0 || rate >= 1) return invalid_argument("dropout: expected rate in [0, 1) but received " + std::to_string(rate));
  BufferPtr m;
  CN_RETURN_IF_ERROR(c.output(0, c.a().ints("shape"), DType::kFloat32, &m));
  return c.backend->dropout_mask(m->f32(), m->size(), (float)rate, effective_seed(c));
}

template <bool normal>
Status k_random(KernelContext& c) {
  if (!c.backend) return invalid_argument("random: no backend");
  BufferPtr y;
  CN_RETURN_IF_ERROR(c.output(0, c.a().ints("shape"), DType::kFloat32, &y));
  return c.backend->random(y->f32(), y->size(), normal, (float)c.a().f("a"), (float)c.a().f("b", 1),
                           effective_seed(c));
}

}  // namespace

CN_REGISTER_KERNEL("DropoutMask", k_dropout_mask);
CN_REGISTER_KERNEL("RandomUniform", k_random<false>);
CN_REGISTER_KERNEL("RandomNormal", k_random<true>);
// DropoutMask reads only x's backend (attr shape gives the mask's), so x may be bfloat16 or
// float16; the mask stays float32, and x * mask (Mul with a float32 operand) keeps x's dtype.
const auto kReduced = {DType::kBFloat16, DType::kFloat16};
CN_REGISTER_TYPED_KERNEL("DropoutMask", kReduced, true, k_dropout_mask);

}  // namespace cn
