// Agreement testing of the oneDNN kernels (provider "dnnl") against the
// reference kernels (provider "ref"): the same node and inputs run through both.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/nn_test_util.h"

namespace qcal::testing {

// Tolerance of every dnnl-vs-ref comparison: |dnnl - ref| <= 1e-4 * (1 + |ref|).
// (Float sums in a different order: blocked/vectorized accumulation vs the
// reference's loop order.)
inline constexpr double kDnnlTol = 1e-4;

// A context for the node; inputs flagged in `is_const` are passed as constants
// (initializers), the rest only by type.
inline OpContext ContextFor(const Node& node, const std::vector<const Tensor*>& inputs,
                            const std::vector<bool>& is_const) {
  OpContext ctx{node, {}, {}, 13};
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor* t = inputs[i];
    ctx.inputs.push_back(t ? TensorType{t->dtype(), t->shape()} : TensorType{});
    ctx.const_inputs.push_back(t && i < is_const.size() && is_const[i] ? t : nullptr);
  }
  return ctx;
}

inline std::string_view SelectedProvider(const Node& node, const std::vector<const Tensor*>& inputs,
                                         const std::vector<bool>& is_const) {
  return KernelRegistry::Global().SelectedProvider(ContextFor(node, inputs, is_const));
}

inline Result<std::unique_ptr<Kernel>> MakeKernel(const Node& node, const std::vector<const Tensor*>& inputs,
                                                  const std::vector<bool>& is_const,
                                                  std::string_view provider) {
  return KernelRegistry::Global().CreateKernelFromProvider(ContextFor(node, inputs, is_const), provider);
}

inline Result<Tensor> RunKernel(Kernel& k, const std::vector<const Tensor*>& inputs) {
  std::vector<Tensor> out(1);
  QCAL_RETURN_IF_ERROR(k.Run(inputs, out));
  return out[0];
}

// max |a - b| / (1 + |b|) <= tol, reporting the worst element.
inline ::testing::AssertionResult Agree(const Tensor& dnnl, const Tensor& ref, double tol = kDnnlTol) {
  if (dnnl.shape() != ref.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << ShapeToString(dnnl.shape()) << " vs ref " << ShapeToString(ref.shape());
  }
  double worst = 0;
  int64_t at = -1;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double a = dnnl.GetAsDouble(i), b = ref.GetAsDouble(i);
    const double e = std::isnan(a) ? INFINITY : std::fabs(a - b) / (1 + std::fabs(b));
    if (e > worst) worst = e, at = i;
  }
  if (worst > tol) {
    return ::testing::AssertionFailure() << "worst relative error " << worst << " at " << at << ": dnnl "
                                         << dnnl.GetAsDouble(at) << " vs ref " << ref.GetAsDouble(at);
  }
  return ::testing::AssertionSuccess();
}

// Runs the node through the dnnl kernel (which must be the one selected) and the
// ref kernel, and compares the outputs. The node must pass inference first (as in
// the executor), and the dnnl output shape must be the inferred one.
inline void ExpectDnnlAgreesWithRef(const Node& node, const std::vector<const Tensor*>& inputs,
                                    const std::vector<bool>& is_const) {
  std::vector<TensorType> types;
  const Status infer = KernelRegistry::Global().Infer(ContextFor(node, inputs, is_const), types);
  ASSERT_TRUE(infer.ok()) << infer.ToString();
  ASSERT_EQ(SelectedProvider(node, inputs, is_const), "dnnl");
  auto dk = MakeKernel(node, inputs, is_const, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  auto rk = MakeKernel(node, inputs, is_const, "ref");
  ASSERT_TRUE(rk.ok()) << rk.status().ToString();
  auto y = RunKernel(**dk, inputs);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  auto r = RunKernel(**rk, inputs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(y->shape(), types[0].shape);
  EXPECT_TRUE(Agree(*y, *r));
}

}  // namespace qcal::testing
