// Geometry of the pure data-movement ops, shared by the reference kernels and
// the optimized copies in kernels/x86/ (which must move exactly the same elements).
#pragma once

#include <vector>

#include "kernels/ref/common.h"

namespace qcal::ref {

// Transpose's permutation for a tensor of `rank` (attribute 'perm', default reversed dims).
Result<std::vector<int64_t>> TransposePerm(const Node& node, size_t rank);

// The elements one kernel copies: output index i reads the input element at
// base + sum(i[d] * strides[d]) (strides in elements; the output is contiguous).
struct StridedCopy {
  Shape shape;
  int64_t base = 0;
  std::vector<int64_t> strides;
};

// Transpose of x by `perm` / Slice of x by the node's inputs as a strided copy.
StridedCopy TransposeCopy(const Shape& x, const std::vector<int64_t>& perm);
Result<StridedCopy> SliceCopy(const std::vector<const Tensor*>& inputs);

}  // namespace qcal::ref
