// Kernel registry: backend-agnostic op definitions. A kernel validates its inputs,
// builds the shared param struct, allocates outputs and calls one Backend method.
// Eager calls from JS and compiled plans both run kernels through this table.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "../core/buffer.h"

namespace cn {

// One attribute value, as parsed from a plain JS object: numbers, booleans, strings and
// arrays of numbers.
struct AttrValue {
  enum Kind { kNumber, kBool, kString, kList } kind = kNumber;
  double number = 0;
  bool boolean = false;
  std::string str;
  std::vector<double> list;
};

struct KernelSchema;

class Attrs {
 public:
  std::unordered_map<std::string, AttrValue> values;
  // The schema these values last passed (check_attrs), so a plan step's attributes are
  // checked on its first run only.
  mutable const KernelSchema* checked = nullptr;
  bool has(const std::string& k) const { return values.count(k) > 0; }
  int64_t i(const std::string& k, int64_t def = 0) const;
  double f(const std::string& k, double def = 0) const;
  bool b(const std::string& k, bool def = false) const;
  std::string s(const std::string& k, const std::string& def = "") const;
  std::vector<int64_t> ints(const std::string& k) const;
};

struct KernelContext {
  const char* kernel = "kernel";    // the running kernel's name, for error messages
  Backend* backend = nullptr;       // backend of the inputs (or from attrs for creation ops)
  std::vector<BufferPtr> inputs;
  const Attrs* attrs = nullptr;
  std::vector<BufferPtr> outputs;   // may hold reusable buffers from a previous plan run
  uint64_t run_index = 0;           // plan run counter, 0 for eager calls (varies dropout seeds)

  const Attrs& a() const { return *attrs; }
  // Reuses outputs[i] when it has the same shape and dtype, else allocates a new buffer.
  Status output(size_t i, const Shape& shape, DType dtype, BufferPtr* out);
  // Checks the input count and that every input lives on one backend.
  Status expect_inputs(const char* kernel, size_t min_count, size_t max_count);
};

using KernelFn = Status (*)(KernelContext&);

// ---- attribute schemas (kernel_schema.cc): the attributes each kernel takes
enum class AttrType { kNumber, kBool, kString, kInts };
struct AttrSpec {
  const char* name;
  AttrType type;
  bool required;
};
struct KernelSchema {
  const char* kernel;
  std::vector<AttrSpec> attrs;
};
const std::vector<KernelSchema>& kernel_schemas();
const KernelSchema* find_schema(const std::string& kernel);  // nullptr when none
const char* attr_type_name(AttrType t);                       // as lib/kernels/kernel_names.ts spells it
// Refuses an attribute the schema does not name, one of the wrong type and a missing
// required one: "Conv2D: unknown attribute 'strdes' ...", "Conv2D: missing attribute 'inputShape'".
Status check_attrs(const KernelSchema& schema, const Attrs& attrs);

// Note [attribute check at dispatch]: a registered kernel is its body behind the check of its
// attribute schema, so every caller of kernel_table()[id].fn(ctx) (eager runs, plan steps,
// the profiler) checks the attributes in this one place; no kernel reads a misspelled or
// missing attribute as its default.
struct CheckedKernel {
  KernelFn body = nullptr;
  const char* name = "";
  const KernelSchema* schema = nullptr;  // nullptr: the kernel has no schema (refused)
  Status operator()(KernelContext& c) const;
};

struct KernelDef {
  std::string name;
  CheckedKernel fn;
};

int register_kernel(const char* name, KernelFn fn);
const std::vector<KernelDef>& kernel_table();
int find_kernel(const std::string& name);  // -1 when unknown

Status expect_dtype(const char* kernel, const char* arg, const BufferPtr& b, DType d);
Status expect_rank(const char* kernel, const char* arg, const BufferPtr& b, size_t rank);
Status parse_padding(const Attrs& a, Padding* padding, std::vector<int64_t>* pads);

}  // namespace cn

#define CN_KERNEL_CONCAT2(a, b) a##b
#define CN_KERNEL_CONCAT(a, b) CN_KERNEL_CONCAT2(a, b)
// Registers fn under name at load time.
#define CN_REGISTER_KERNEL(name, fn) \
  static const int CN_KERNEL_CONCAT(cn_kernel_reg_, __LINE__) = ::cn::register_kernel(name, fn)
