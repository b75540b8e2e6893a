// Activation layout planning (Layout in kernels/registry.h).
//
// Optimized kernels may pass 4-D activations to each other in a non-plain
// layout (float32: kNChw8c, int8 / uint8: kNhwc) instead of reordering to NCHW
// after every node. A value is planned in it only when
//   - its producer's kernel ProducesBlocked(that output),
//   - every consumer's kernel AcceptsBlocked(that input) (a value without
//     consumers, not a graph output, takes what its producer writes),
//   - its planned type has a non-plain layout (NonPlainLayout) and a static 4-D shape, and
//   - it is not in `keep_plain` (graph outputs, values the caller asked for).
// A float32 value that cannot be kNChw8c is planned kNhwc under the same rules
// with ProducesFloatNhwc / AcceptsFloatNhwc. Last, a kernel's tied output and
// input (LayoutTiedInput) both become kPlain unless both are non-plain. All
// values of a node whose kernel TiesAllLayouts take one layout: the blocked one
// if all may, else float kNhwc if all may, else kPlain.
// Everything else stays kPlain, so reference kernels, graph outputs and
// observers only ever see NCHW tensors and no reorder nodes are needed.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kernels/registry.h"

namespace qcal {

// The layouts one node's kernel reads and writes (one per node input / output).
struct NodeLayouts {
  std::vector<Layout> inputs, outputs;
};

// One NodeLayouts per node of `graph` (kernels[i] runs graph.nodes[i]; types has
// every non-constant value's planned type).
std::vector<NodeLayouts> PlanLayouts(const Graph& graph, const std::vector<std::unique_ptr<Kernel>>& kernels,
                                     const std::map<std::string, TensorType>& types,
                                     const std::set<std::string>& keep_plain);

// Number of values planned in a non-plain layout (logs, tests).
int CountBlocked(const std::vector<NodeLayouts>& plan);

}  // namespace qcal
