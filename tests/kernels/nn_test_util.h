// Helpers for the conv/pool/gemm kernel tests: build a node, run it through the
// registry (inference + reference kernel), random data, comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/registry.h"

namespace qcal::testing {

inline Node MakeNode(const std::string& op, size_t num_inputs, Attributes attrs = {}, size_t num_outputs = 1) {
  Node n;
  n.name = "n";
  n.op_type = op;
  for (size_t i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  n.attrs = std::move(attrs);
  return n;
}

// Runs inference on the given types; returns the output types or the error.
inline Result<std::vector<TensorType>> InferTypes(const Node& node, const std::vector<TensorType>& inputs,
                                                  std::vector<const Tensor*> consts = {}, int64_t opset = 13) {
  OpContext ctx{node, inputs, consts, opset};
  ctx.const_inputs.resize(inputs.size(), nullptr);
  std::vector<TensorType> out;
  QCAL_RETURN_IF_ERROR(KernelRegistry::Global().Infer(ctx, out));
  return out;
}

// Evaluates the node and checks that the kernel's output shape equals the inferred one.
inline Result<Tensor> RunOne(const Node& node, const std::vector<const Tensor*>& inputs, int64_t opset = 13) {
  QCAL_ASSIGN_OR_RETURN(auto outs, EvaluateNode(node, inputs, opset));
  std::vector<TensorType> types;
  for (const Tensor* t : inputs) types.push_back(t ? TensorType{t->dtype(), t->shape()} : TensorType{});
  QCAL_ASSIGN_OR_RETURN(auto inferred, InferTypes(node, types, inputs, opset));
  EXPECT_EQ(inferred[0].shape, outs[0].shape()) << "inferred shape differs from the kernel's";
  EXPECT_EQ(inferred[0].dtype, outs[0].dtype());
  return outs[0];
}

inline Tensor RandomFloat(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

template <typename T>
Tensor RandomInt(const Shape& shape, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  Tensor t(DataTypeOf<T>::value, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(dist(rng));
  return t;
}

// Element-wise |a - b| <= atol + rtol * |b|, with the first mismatches reported.
inline ::testing::AssertionResult AllClose(const Tensor& a, const Tensor& b, double atol = 1e-5,
                                           double rtol = 1e-5) {
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << "shape " << ShapeToString(a.shape()) << " vs "
                                         << ShapeToString(b.shape());
  }
  int bad = 0;
  std::string msg;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.GetAsDouble(i), y = b.GetAsDouble(i);
    bool ok = std::fabs(x - y) <= atol + rtol * std::fabs(y) || (std::isnan(x) && std::isnan(y));
    if (!ok && bad++ < 5) msg += " [" + std::to_string(i) + "] " + std::to_string(x) + " vs " + std::to_string(y);
  }
  if (bad) return ::testing::AssertionFailure() << bad << " mismatches:" << msg;
  return ::testing::AssertionSuccess();
}

// Row-major multi-index helpers for the naive references.
inline int64_t Offset(const Shape& shape, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (size_t i = 0; i < shape.size(); ++i) off = off * shape[i] + idx[i];
  return off;
}
// Advances idx over `shape` in row-major order; false after the last index.
inline bool NextIndex(const Shape& shape, std::vector<int64_t>& idx) {
  for (size_t i = shape.size(); i-- > 0;) {
    if (++idx[i] < shape[i]) return true;
    idx[i] = 0;
  }
  return false;
}

}  // namespace qcal::testing
