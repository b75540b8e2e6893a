// Executor: runs a Graph on qcal's CPU kernels.
//
// Prepare (Create / Reshape) validates the graph, infers concrete shapes for
// the given input shapes, and creates one kernel per node (kernels pack their
// weights then). Run binds inputs, executes nodes in order, frees each
// intermediate tensor after its last use, and calls the observer hook after
// every node. Run re-prepares automatically when input shapes change (e.g. a
// different batch size).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kernels/registry.h"

namespace qcal {

// Called after each node with its outputs. Returning an error aborts Run.
using NodeObserver = std::function<Status(const Node& node, const std::vector<const Tensor*>& outputs)>;

using TensorMap = std::map<std::string, Tensor>;

struct ExecutorOptions {
  // Threads for the kernels while Run executes (kernels/threads.h); 0: the
  // process setting (SetNumThreads), by default all cores.
  int threads = 0;
  // Also keep these intermediate values in Run's output map.
  std::vector<std::string> extra_outputs;
};

class Executor {
 public:
  // Takes a copy of the graph. `input_shapes` overrides graph input shapes;
  // symbolic dims not overridden become 1.
  static Result<std::unique_ptr<Executor>> Create(const Graph& graph,
                                                  const std::map<std::string, Shape>& input_shapes = {},
                                                  ExecutorOptions options = {});

  // Runs the graph. `inputs` must name every graph input; outputs are graph
  // outputs (plus options.extra_outputs) by name.
  Status Run(const TensorMap& inputs, TensorMap* outputs);

  // Prepares for new input shapes now (Run does this on demand); afterwards
  // value_types() describes every value at these shapes.
  Status Reshape(const std::map<std::string, Shape>& input_shapes);

  void SetObserver(NodeObserver observer) { observer_ = std::move(observer); }
  const Graph& graph() const { return graph_; }
  // Concrete shape of any value for the currently prepared input shapes.
  const std::map<std::string, TensorType>& value_types() const { return types_; }
  // Provider name ("ref", "dnnl", ...) of the kernel chosen for each node.
  const std::vector<std::string>& providers() const { return providers_; }

 private:
  explicit Executor(Graph graph, ExecutorOptions options) : graph_(std::move(graph)), options_(std::move(options)) {}
  Status Prepare(const std::map<std::string, Shape>& input_shapes);
  Status CheckInputs(const TensorMap& inputs, bool* shapes_changed) const;

  Graph graph_;
  ExecutorOptions options_;
  NodeObserver observer_;
  std::map<std::string, Shape> prepared_shapes_;
  std::map<std::string, TensorType> types_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::vector<std::string> providers_;
  // For each node, the values whose last use is that node (freed after it runs).
  std::vector<std::vector<std::string>> release_after_;
};

}  // namespace qcal
