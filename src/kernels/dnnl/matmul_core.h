// oneDNN matmul shared by the Gemm and MatMul kernels:
//   Y[b.., M, N] = alpha * (A[b.., M, K] x B[b.., K, N]) (+ bias[1.., 1, N])
// A, B and Y have the same rank (callers pad with leading 1s); batch dims of A
// and B are equal or 1 (broadcast). B may be stored transposed ([.., N, K]).
// Constant B is reordered into the primitive's preferred layout once
// (PackedWeights); primitives are cached per (A shape, B shape).
#pragma once

#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/dnnl_common.h"

namespace qcal::dnnl_kernels {

struct MatMulShape {
  Dims a, b, y;          // logical dims, same rank >= 2; b is [.., K, N]
  bool trans_b = false;  // B's memory is [.., N, K]
  bool bias = false;     // a [N] bias row is added (alpha must then be 1)
  float alpha = 1.0f;
  bool operator==(const MatMulShape&) const = default;
};

class MatMulCore {
 public:
  // const_b: B's constant value (prepacked on first use), or nullptr.
  explicit MatMulCore(const Tensor* const_b) {
    if (const_b) const_b_ = *const_b;
  }
  bool b_is_constant() const { return const_b_.has_value(); }

  // Runs one product; b is ignored when B is constant. Not reentrant per instance (locks).
  Status Run(const MatMulShape& s, const float* a, const float* b, const float* bias, float* y);
  // Creates the primitive (and packs constant B) ahead of the first Run.
  Status Prepare(const MatMulShape& s);

 private:
  // Created once per problem; Run only rebinds the data pointers.
  struct Plan {
    BoundMemory a, b, y, bias;  // b: runtime B only
    dnnl::memory packed_b;      // constant B in the primitive's layout
    BoundPrimitive prim;
  };
  Result<Plan*> PlanFor(const MatMulShape& s);
  Plan MakePlan(const MatMulShape& s);

  std::optional<Tensor> const_b_;
  std::optional<dnnl::memory> user_b_;
  PackedWeights packed_;
  std::map<std::vector<int64_t>, Plan> plans_;
  Plan* last_plan_ = nullptr;  // the plan of the last run, for last_shape_ / last_threads_
  MatMulShape last_shape_;
  int last_threads_ = -1;
  std::mutex mu_;
};

}  // namespace qcal::dnnl_kernels
