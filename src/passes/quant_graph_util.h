// Small graph queries shared by the quantized-graph passes (fuse_quantized_ops,
// hoist_quantize).
#pragma once

#include <cstddef>
#include <string>

#include "ir/graph.h"

namespace qcal {

// True when input i of n is present (not omitted, not beyond the inputs).
inline bool HasInput(const Node& n, size_t i) { return i < n.inputs.size() && !n.inputs[i].empty(); }

// The initializer feeding input i of n, or nullptr.
inline const Tensor* Init(const Graph& g, const Node& n, size_t i) {
  return HasInput(n, i) ? g.FindInitializer(n.inputs[i]) : nullptr;
}

// dtype of a value (initializer or inferred value info); kUndefined when unknown.
inline DataType ValueType(const Graph& g, const std::string& v) {
  if (const Tensor* t = g.FindInitializer(v)) return t->dtype();
  const ValueInfo* vi = g.FindValueInfo(v);
  return vi ? vi->dtype : DataType::kUndefined;
}

inline bool IsQuant8(DataType t) { return t == DataType::kInt8 || t == DataType::kUint8; }

}  // namespace qcal
