// Helpers for op tests: build a node, run its reference kernel, run its
// inference with chosen input types and constants.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/registry.h"

namespace qcal::testing {

// A node with inputs "in0".."inN-1" (an empty name for each index in `omitted`)
// and outputs "out0"..; node name "n".
inline Node MakeNode(const std::string& op, size_t num_inputs, size_t num_outputs = 1, Attributes attrs = {}) {
  Node n;
  n.name = "n";
  n.op_type = op;
  for (size_t i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  n.attrs = std::move(attrs);
  return n;
}

inline Attributes Attrs(std::initializer_list<std::pair<std::string, Attribute>> list) {
  Attributes a;
  for (const auto& [k, v] : list) a.Set(k, v);
  return a;
}

// Runs the node's kernel (after inference) on the inputs; nullptr = omitted input.
inline Result<std::vector<Tensor>> RunOp(const Node& node, const std::vector<const Tensor*>& inputs,
                                       int64_t opset = 13) {
  return EvaluateNode(node, inputs, opset);
}

// Runs a single-output node; on error fails the test and returns an empty tensor.
inline Tensor Run1(const Node& node, const std::vector<const Tensor*>& inputs, int64_t opset = 13) {
  auto r = EvaluateNode(node, inputs, opset);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || r->empty()) return Tensor();
  return (*r)[0];
}

// Static inference: `types` per input (kUndefined = omitted), `consts` the known
// constant inputs (nullptr where not constant; may be shorter than types).
inline Result<std::vector<TensorType>> Infer(const Node& node, std::vector<TensorType> types,
                                             std::vector<const Tensor*> consts = {}, int64_t opset = 13) {
  consts.resize(types.size(), nullptr);
  OpContext ctx{node, std::move(types), std::move(consts), opset};
  std::vector<TensorType> out;
  QCAL_RETURN_IF_ERROR(KernelRegistry::Global().Infer(ctx, out));
  return out;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  if (t.dtype() != DataTypeOf<T>::value) {
    ADD_FAILURE() << "tensor has dtype " << DataTypeName(t.dtype());
    return {};
  }
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

inline Tensor I64(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

// Expects status to be an error whose message contains every fragment.
inline void ExpectError(const Status& st, std::initializer_list<std::string> fragments) {
  ASSERT_FALSE(st.ok()) << "expected an error";
  for (const auto& f : fragments) EXPECT_NE(st.message().find(f), std::string::npos) << st.message();
}

inline void ExpectFloatsNear(const Tensor& t, const std::vector<float>& want, float tol = 1e-6f) {
  ASSERT_EQ(t.dtype(), DataType::kFloat32);
  ASSERT_EQ(static_cast<size_t>(t.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(t.data<float>()[i], want[i], tol) << "element " << i;
}

}  // namespace qcal::testing
