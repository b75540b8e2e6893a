// Helpers for the quantized-op kernel tests: build a node, run it through the
// registry (inference + reference kernel), random integer tensors.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "kernels/registry.h"

namespace qcal::quant_testing {

inline Node QNode(const std::string& op, size_t num_inputs, Attributes attrs = {}, size_t num_outputs = 1) {
  Node n;
  n.name = "q";
  n.op_type = op;
  for (size_t i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  n.attrs = std::move(attrs);
  return n;
}

// Runs inference from the input types only (no constants).
inline Result<std::vector<TensorType>> InferFromTypes(const Node& node,
                                                      const std::vector<TensorType>& inputs) {
  OpContext ctx{node, inputs, std::vector<const Tensor*>(inputs.size(), nullptr), 21};
  std::vector<TensorType> out;
  QCAL_RETURN_IF_ERROR(KernelRegistry::Global().Infer(ctx, out));
  return out;
}

// Evaluates the node (inference + ref kernel) and checks that the kernel's
// outputs have the inferred dtype and shape. Returns all outputs.
inline Result<std::vector<Tensor>> RunAll(const Node& node, const std::vector<const Tensor*>& inputs) {
  QCAL_ASSIGN_OR_RETURN(auto outs, EvaluateNode(node, inputs, 21));
  std::vector<TensorType> types;
  for (const Tensor* t : inputs) types.push_back(t ? TensorType{t->dtype(), t->shape()} : TensorType{});
  QCAL_ASSIGN_OR_RETURN(auto inferred, InferFromTypes(node, types));
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(inferred[i].shape, outs[i].shape()) << "output " << i << ": inferred shape differs";
    EXPECT_EQ(inferred[i].dtype, outs[i].dtype()) << "output " << i << ": inferred dtype differs";
  }
  return outs;
}

inline Result<Tensor> RunNode(const Node& node, const std::vector<const Tensor*>& inputs) {
  QCAL_ASSIGN_OR_RETURN(auto outs, RunAll(node, inputs));
  return outs[0];
}

// Uniform random integers in [lo, hi] as a tensor of T.
template <typename T>
Tensor RandomInts(const Shape& shape, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  Tensor t(DataTypeOf<T>::value, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(dist(rng));
  return t;
}

inline std::vector<int64_t> Ints(const Tensor& t) { return t.ToInt64Vector(); }

}  // namespace qcal::quant_testing
