// Attribute schemas: for each registered kernel, the attributes it reads (name, type,
// required or optional), and the check that refuses anything else at dispatch (Note
// [attribute check at dispatch] in kernel.h). The same table is declared in TypeScript
// (lib/kernels/kernel_names.ts); the addon exports this one (kernelSchemas()) and
// test/kernel-contract.test.ts checks that the two agree.
//
// Note [optional attributes]: an attribute is optional exactly where its kernel gives its
// absence a meaning (relu off, strides 1, epsilon 1e-3, ...); the kernels keep those defaults.
// A required one is refused when missing instead of silently reading 0 or an empty list.
#include <algorithm>

#include "kernel.h"

namespace cn {
namespace {

constexpr AttrType N = AttrType::kNumber, B = AttrType::kBool, S = AttrType::kString, I = AttrType::kInts;
AttrSpec req(const char* name, AttrType t) { return {name, t, true}; }
AttrSpec opt(const char* name, AttrType t) { return {name, t, false}; }

using Specs = std::vector<AttrSpec>;

Specs concat(Specs a, const Specs& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<KernelSchema> build() {
  std::vector<KernelSchema> t;
  auto add = [&](std::initializer_list<const char*> kernels, const Specs& attrs) {
    for (const char* k : kernels) t.push_back({k, attrs});
  };
  // elementwise_kernels.cc
  add({"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Sqrt", "Rsqrt", "Square", "Abs", "Reciprocal", "Sign", "Floor",
       "Ceil", "Round", "Log1p", "Softplus", "Selu", "Relu6", "Step", "Sin", "Cos"},
      {});
  add({"Elu", "EluGrad"}, {opt("alpha", N)});
  add({"ReluGrad", "SigmoidGrad", "TanhGrad", "SeluGrad", "Relu6Grad", "AddRelu", "AddReluGrad"}, {});
  add({"Add", "Sub", "Mul", "Div", "Maximum", "Minimum", "Pow", "SquaredDifference", "Equal", "NotEqual", "Greater",
       "GreaterEqual", "Less", "LessEqual", "FloorDiv", "Mod", "Select", "Copy", "Assign", "AssignAdd"},
      {});
  add({"Cast"}, {req("dtype", S)});
  add({"Fill"}, {req("shape", I), req("value", N), opt("dtype", S)});
  // conv_kernels.cc
  const Specs window = {opt("strides", I), opt("dilations", I), opt("pad", S), opt("pads", I)};
  add({"Conv2D", "DepthwiseConv2D"}, concat(window, {opt("relu", B)}));
  add({"Conv2DBackpropInput", "DepthwiseConv2DBackpropInput"}, concat(window, {req("inputShape", I)}));
  add({"Conv2DBackpropFilter", "DepthwiseConv2DBackpropFilter"}, concat(window, {req("filterShape", I), opt("bias", B)}));
  // pool_kernels.cc
  add({"MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad", "MaxPoolGradGrad"},
      {req("poolSize", I), opt("strides", I), opt("pad", S)});
  // batchnorm_kernels.cc
  add({"BatchNormTrain", "BatchNormInfer", "BatchNormGrad"}, {opt("epsilon", N), opt("relu", B)});
  // lrn_kernels.cc
  add({"LRN", "LRNGrad"}, {opt("depthRadius", N), opt("bias", N), opt("alpha", N), opt("beta", N)});
  // matmul_kernels.cc
  add({"MatMul"}, {opt("transposeA", B), opt("transposeB", B), opt("relu", B)});
  // movement_kernels.cc
  add({"Reshape"}, {req("shape", I)});
  add({"Transpose"}, {req("perm", I)});
  add({"Concat"}, {req("axis", N)});
  add({"Slice"}, {req("begin", I), req("size", I)});
  add({"Pad"}, {req("before", I), req("after", I), opt("value", N)});
  // optimizer_kernels.cc
  add({"MovingAverageUpdate"}, {req("momentum", N)});
  add({"SGDUpdate"}, {req("learningRate", N), opt("momentum", N), opt("nesterov", B)});
  add({"AdamUpdate"}, {req("learningRate", N), req("beta1", N), req("beta2", N), req("epsilon", N), opt("nadam", B)});
  add({"RMSPropUpdate"},
      {req("learningRate", N), req("rho", N), opt("momentum", N), req("epsilon", N), opt("centered", B)});
  // random_kernels.cc
  add({"DropoutMask"}, {req("shape", I), req("rate", N), req("seed", N)});
  add({"RandomUniform", "RandomNormal"}, {req("shape", I), req("a", N), req("b", N), req("seed", N)});
  // reduce_kernels.cc
  add({"Sum", "Mean", "Max", "Min", "Prod"}, {req("axes", I), opt("keepDims", B)});
  add({"ArgMax"}, {req("axis", N)});
  add({"OneHot"}, {req("depth", N), opt("onValue", N), opt("offValue", N)});
  // softmax_kernels.cc
  add({"Softmax", "LogSoftmax", "SoftmaxGrad", "LogSoftmaxGrad", "SparseSoftmaxCrossEntropy"}, {});
  // image_kernels.cc
  add({"ResizeBilinear", "ResizeBilinearGrad"}, {req("size", I), opt("alignCorners", B), opt("halfPixelCenters", B)});
  add({"ImageProjectiveTransform"},
      {opt("outputShape", I), opt("interpolation", S), opt("fillMode", S), opt("fillValue", N)});
  return t;
}

bool kind_matches(AttrType t, const AttrValue& v) {
  switch (t) {
    case AttrType::kNumber: return v.kind == AttrValue::kNumber;
    case AttrType::kBool: return v.kind == AttrValue::kBool;
    case AttrType::kString: return v.kind == AttrValue::kString;
    case AttrType::kInts: return v.kind == AttrValue::kList;
  }
  return false;
}

const char* value_kind_name(const AttrValue& v) {
  switch (v.kind) {
    case AttrValue::kNumber: return "number";
    case AttrValue::kBool: return "boolean";
    case AttrValue::kString: return "string";
    case AttrValue::kList: return "number[]";
  }
  return "?";
}

}  // namespace

const std::vector<KernelSchema>& kernel_schemas() {
  static const std::vector<KernelSchema> t = build();
  return t;
}

const KernelSchema* find_schema(const std::string& kernel) {
  for (const KernelSchema& s : kernel_schemas())
    if (kernel == s.kernel) return &s;
  return nullptr;
}

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kNumber: return "number";
    case AttrType::kBool: return "boolean";
    case AttrType::kString: return "string";
    case AttrType::kInts: return "number[]";
  }
  return "?";
}

Status check_attrs(const KernelSchema& schema, const Attrs& attrs) {
  const std::string k = schema.kernel;
  // Sorted, so that a message names the same attribute whatever the map's order.
  std::vector<const std::string*> names;
  for (const auto& kv : attrs.values) names.push_back(&kv.first);
  std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* name : names) {
    const AttrValue& v = attrs.values.at(*name);
    auto spec = std::find_if(schema.attrs.begin(), schema.attrs.end(), [&](const AttrSpec& s) { return *name == s.name; });
    if (spec == schema.attrs.end()) {
      std::string known;
      for (const AttrSpec& s : schema.attrs) known += (known.empty() ? "" : ", ") + std::string(s.name);
      return invalid_argument(k + ": unknown attribute '" + *name + "' (" +
                              (known.empty() ? std::string("it takes none") : "expected one of " + known) + ")");
    }
    if (!kind_matches(spec->type, v))
      return invalid_argument(k + ": expected attribute '" + *name + "' of type " + attr_type_name(spec->type) +
                              " but received " + value_kind_name(v));
  }
  for (const AttrSpec& s : schema.attrs)
    if (s.required && !attrs.has(s.name)) return invalid_argument(k + ": missing attribute '" + s.name + "'");
  attrs.checked = &schema;
  return Status::ok();
}

}  // namespace cn
