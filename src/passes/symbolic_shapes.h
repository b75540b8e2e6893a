// Symbolic values of small integer tensors, used by constant folding to fold
// shape arithmetic (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) while the
// batch dimension is still symbolic.
//
// Each element of a tracked tensor (rank 0 or 1, int64/int32) is a known value,
// "dim d of value V", or both (a static dim read by Shape keeps its origin so a
// Reshape can copy it from its input instead of freezing it).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"

namespace qcal {

struct SymElem {
  std::optional<int64_t> value;  // known value
  std::string source;            // value whose dim this is ("" if none)
  int64_t dim = -1;              // which dim of `source`

  bool operator==(const SymElem&) const = default;
};

struct SymTensor {
  DataType dtype = DataType::kInt64;
  bool scalar = false;  // rank 0; otherwise rank 1
  std::vector<SymElem> elems;

  bool FullyKnown() const;
  // Requires FullyKnown().
  Tensor ToTensor() const;
};

using SymMap = std::unordered_map<std::string, SymTensor>;

// Tensors with more elements than this are not tracked.
inline constexpr size_t kMaxSymElems = 64;

// A constant int32/int64 tensor of rank <= 1 as a SymTensor (all values known).
std::optional<SymTensor> SymFromTensor(const Tensor& t);

// Symbolic value of the node's single output, given the symbolic values of its
// inputs (`inputs[i]` is nullptr when input i is not tracked). Shapes of
// non-constant values come from the graph's inputs/value_info. Returns nullopt
// when the op has no rule or the result is not derivable.
std::optional<SymTensor> PropagateSym(const Graph& graph, const Node& node,
                                      const std::vector<const SymTensor*>& inputs);

// For a Reshape (allowzero = 0) whose shape input has symbolic value `shape`:
// the equivalent constant shape, using 0 ("copy from input") for entries that
// are dim i of the Reshape's own data input at position i. nullopt if some
// entry is neither known nor such a dim.
std::optional<Tensor> ResolveReshapeShape(const Node& reshape, const SymTensor& shape);

}  // namespace qcal
