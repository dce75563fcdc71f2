// Kernel registry storage, attribute accessors and shared argument checks.
#include "kernel.h"

#include <cmath>

namespace cn {

namespace {
std::vector<KernelDef>& table() {
  static std::vector<KernelDef> t;
  return t;
}
}  // namespace

int register_kernel(const char* name, KernelFn fn) {
  table().push_back({name, CheckedKernel{fn, name, find_schema(name)}});
  return (int)table().size() - 1;
}

Status CheckedKernel::operator()(KernelContext& c) const {
  if (!schema)
    return Status(StatusCode::kInternal, std::string(name) + ": no attribute schema (add it to native/ops/kernel_schema.cc)");
  static const Attrs kNone;
  const Attrs& a = c.attrs ? *c.attrs : kNone;
  if (a.checked != schema) CN_RETURN_IF_ERROR(check_attrs(*schema, a));
  return body(c);
}

const std::vector<KernelDef>& kernel_table() { return table(); }

int find_kernel(const std::string& name) {
  const auto& t = table();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i].name == name) return (int)i;
  return -1;
}

namespace {
// Note [integer attributes]: a JS number becomes an int64 by rounding; NaN and values beyond
// +-2^62 saturate to +-2^62 (llround of them is undefined behaviour), which every size check
// then refuses as above the limits (Note [size limits]) instead of wrapping.
int64_t to_int64(double d) {
  constexpr double kLimit = 4611686018427387904.0;  // 2^62
  if (std::isnan(d)) return -(int64_t(1) << 62);
  if (d >= kLimit) return int64_t(1) << 62;
  if (d <= -kLimit) return -(int64_t(1) << 62);
  return (int64_t)std::llround(d);
}
}  // namespace

int64_t Attrs::i(const std::string& k, int64_t def) const {
  auto it = values.find(k);
  if (it == values.end()) return def;
  if (it->second.kind == AttrValue::kBool) return it->second.boolean ? 1 : 0;
  return to_int64(it->second.number);
}
double Attrs::f(const std::string& k, double def) const {
  auto it = values.find(k);
  return it == values.end() ? def : it->second.number;
}
bool Attrs::b(const std::string& k, bool def) const {
  auto it = values.find(k);
  if (it == values.end()) return def;
  return it->second.kind == AttrValue::kBool ? it->second.boolean : it->second.number != 0;
}
std::string Attrs::s(const std::string& k, const std::string& def) const {
  auto it = values.find(k);
  return it == values.end() ? def : it->second.str;
}
std::vector<int64_t> Attrs::ints(const std::string& k) const {
  std::vector<int64_t> r;
  auto it = values.find(k);
  if (it == values.end()) return r;
  if (it->second.kind == AttrValue::kNumber) return {to_int64(it->second.number)};
  for (double d : it->second.list) r.push_back(to_int64(d));
  return r;
}

Status KernelContext::output(size_t i, const Shape& shape, DType dtype, BufferPtr* out) {
  if (outputs.size() <= i) outputs.resize(i + 1);
  BufferPtr& slot = outputs[i];
  // Note [buffer reuse]: a plan keeps each intermediate's buffer between runs; reuse it
  // only when this slot owns the storage alone (no view or JS tensor shares it).
  if (slot && slot->shape == shape && slot->dtype == dtype && slot->backend() == backend &&
      slot.use_count() == 1 && slot->storage.use_count() == 1) {
    *out = slot;
    return Status::ok();
  }
  CN_RETURN_IF_ERROR(make_buffer(&slot, backend, shape, dtype,
                                 std::string(kernel) + ": output " + std::to_string(i) + " shape"));
  *out = slot;
  return Status::ok();
}

Status KernelContext::expect_inputs(const char* kernel, size_t min_count, size_t max_count) {
  if (inputs.size() < min_count || inputs.size() > max_count)
    return invalid_argument(std::string(kernel) + ": expected " + std::to_string(min_count) +
                            (min_count == max_count ? "" : ".." + std::to_string(max_count)) +
                            " inputs but received " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) return invalid_argument(std::string(kernel) + ": input " + std::to_string(i) + " is disposed");
    if (i == 0) backend = inputs[0]->backend();
    else if (inputs[i]->backend() != backend)
      return invalid_argument(std::string(kernel) + ": inputs live on different backends (" +
                              backend->name() + " and " + inputs[i]->backend()->name() + ")");
  }
  return Status::ok();
}

Status expect_dtype(const char* kernel, const char* arg, const BufferPtr& b, DType d) {
  if (b->dtype != d)
    return invalid_argument(std::string(kernel) + ": expected " + arg + " of dtype " + dtype_name(d) +
                            " but received " + dtype_name(b->dtype));
  return Status::ok();
}

Status expect_rank(const char* kernel, const char* arg, const BufferPtr& b, size_t rank) {
  if (b->shape.size() != rank)
    return invalid_argument(std::string(kernel) + ": expected " + arg + " of rank " + std::to_string(rank) +
                            " but received shape " + shape_str(b->shape));
  return Status::ok();
}

Status parse_padding(const Attrs& a, Padding* padding, std::vector<int64_t>* pads) {
  std::string p = a.s("pad", "valid");
  if (p == "same") *padding = Padding::kSame;
  else if (p == "valid") *padding = Padding::kValid;
  else if (p == "explicit") {
    *padding = Padding::kExplicit;
    *pads = a.ints("pads");
  } else {
    return invalid_argument("pad: expected 'same', 'valid' or 'explicit' but received '" + p + "'");
  }
  return Status::ok();
}

}  // namespace cn
