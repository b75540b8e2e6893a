// BatchNorm / Scale folding ("do_fusion"): a Conv, ConvTranspose or Gemm with a
// constant weight whose only consumer is an inference BatchNormalization, or a
// Mul / Add by a per-output-channel constant (Caffe Scale layers), absorbs it:
//   W'[c] = W[c] * s[c],   b'[c] = (b[c] - mean[c]) * s[c] + beta[c],
//   s[c] = gamma[c] / sqrt(var[c] + eps).
// The absorbing node keeps its name; the folded node is removed.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qcal {

struct FoldOptions {
  std::set<std::string> skip_layers;  // layer (node) names that must not absorb anything
};

struct Fusion {
  std::string layer;                // the Conv/ConvTranspose/Gemm node
  std::vector<std::string> folded;  // names of the nodes folded into it, in order
};

// Folds repeatedly until nothing changes. Returns what was fused into which layer.
Result<std::vector<Fusion>> FoldBatchNorm(Graph& graph, const FoldOptions& options = {});

}  // namespace qcal
