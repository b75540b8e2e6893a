// Dead code elimination: removes nodes none of whose outputs reach a graph
// output, then initializers and value infos nothing uses any more.
#pragma once

#include "ir/graph.h"

namespace qcal {

struct DeadCodeStats {
  int removed_nodes = 0;
  int removed_initializers = 0;
};

Status EliminateDeadCode(Graph& graph, DeadCodeStats* stats = nullptr);

}  // namespace qcal
