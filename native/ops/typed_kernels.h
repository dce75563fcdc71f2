// Typed kernels: the bfloat16 / float16 variants of registered kernels, and the one place
// that decides whether a kernel runs on those dtypes (dispatch_kernel).
//
// Note [reduced precision]: the float32/int32 kernel bodies read every buffer as float or
// int, so a bf16/fp16 buffer must never reach them. dispatch_kernel looks at the inputs
// (and a `dtype` attr, for Cast): when one is bfloat16 or float16 it runs the kernel's typed
// variant instead, and refuses with ERR_NOT_SUPPORTED, naming the kernel, the dtype and the
// backend, when
//   - the kernel has no typed variant registered for that dtype (the table below), or
//   - the backend has no ReducedPrecisionOps (cuda, for now), or
//   - the backend cannot compute in that dtype (float16 on oneDNN 2.6's CPU) and the kernel
//     is not a storage kernel (Cast, Copy, Reshape, Fill).
// Eager calls and compiled plans both run kernels through dispatch_kernel.
#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include "kernel.h"

namespace cn {

// A typed variant: which reduced dtypes it takes, and whether it only moves storage (then
// it needs no arithmetic in that dtype from the backend).
struct TypedKernelDef {
  std::string name;
  std::vector<DType> dtypes;
  bool storage_only = false;
  KernelFn fn;
};

int register_typed_kernel(const char* name, std::initializer_list<DType> dtypes, bool storage_only,
                          KernelFn fn);
const std::vector<TypedKernelDef>& typed_kernel_table();

// Runs kernel_table()[id] on ctx, or its typed variant (Note [reduced precision]).
Status dispatch_kernel(int id, KernelContext& ctx);

// "bfloat16" / "float16" / "float32" / "int32" / "bool" / "uint8" -> dtype; false if unknown.
bool parse_any_dtype(const std::string& s, DType* out);

}  // namespace cn

#define CN_REGISTER_TYPED_KERNEL(name, dtypes, storage_only, fn)           \
  static const int CN_KERNEL_CONCAT(cn_typed_kernel_reg_, __LINE__) = \
      ::cn::register_typed_kernel(name, dtypes, storage_only, fn)
