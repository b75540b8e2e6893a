// Executor: runs a Graph on qcal's CPU kernels.
//
// Create keeps the graph as given and, unless options.fuse is off, an inference
// copy with BatchNorm folded into convs and Conv + Add + activation chains fused
// (passes/fuse_conv.h). Prepare (Create / Reshape) infers concrete shapes for the
// given input shapes, creates one kernel per node (kernels pack their weights
// then) and numbers every value (slots). Run binds inputs, executes nodes in
// order, returns each intermediate buffer to a pool after its last use (so a
// steady-state Run with unchanged shapes reuses buffers instead of allocating),
// and calls the observer hook after every node. Run re-prepares automatically
// when input shapes change (e.g. a different batch size).
//
// While an observer is attached the executor runs the unfused graph, so the
// observer sees every node and every intermediate value of the graph as given,
// unless options.observed_values names the values the observer reads: then it
// keeps running the fused graph, in which those values stay real node outputs
// (calibration uses this: it reads only the inputs of quantizable layers).
//
// Activations passed between optimized kernels may stay in a blocked layout
// (runtime/layout_plan.h) unless options.blocked_layout is off,
// QCAL_BLOCKED_LAYOUT=0 is set, or an observer is attached; graph outputs and
// extra outputs are always plain NCHW.
//
// QCAL_PROFILE=1 in the environment makes every executor time each node and
// print per-op-type totals to stderr when it is destroyed (ProfileReport());
// QCAL_PROFILE=nodes adds one line per node (CPU time of the calling thread and
// wall time, name, op, provider, layouts of the inputs and outputs), most CPU first.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
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
  // Also keep these intermediate values in Run's output map (never fused away).
  std::vector<std::string> extra_outputs;
  // Inference fusions (BatchNorm folding, Conv + Add + activation). Not applied
  // while an observer is attached, unless observed_values is set.
  bool fuse = true;
  // With `fuse`: ShuffleNet's Concat -> Reshape -> Transpose -> Reshape [-> Split]
  // becomes one ChannelShuffle (passes/fuse_channel_shuffle.h). QCAL_FUSE_SHUFFLE=0
  // switches it off (A/B runs).
  bool fuse_channel_shuffle = true;
  // The values an attached observer needs to see. Non-empty: the fused graph
  // runs also under an observer, with these values never fused away, and
  // without BatchNorm folding (observed values keep the graph's own
  // arithmetic). The observer is then called for the nodes of executed_graph().
  std::vector<std::string> observed_values;
  // Time every node (also switched on by QCAL_PROFILE=1).
  bool profile = false;
  // Keep activations between kernels that support it in oneDNN's blocked
  // layout (QCAL_BLOCKED_LAYOUT=0 switches it off). Not applied while an
  // observer is attached, unless observer_order_free is set.
  bool blocked_layout = true;
  // The observer only uses the multiset of each observed value's elements
  // (min/max, histograms, sorted values), not their order or shape: observed
  // values may then stay in a non-plain layout as long as it holds exactly the
  // logical elements (no padding: a float32 value's channels a multiple of 8);
  // other observed values stay plain. The observer sees the physical tensor.
  bool observer_order_free = false;
};

class Executor {
 public:
  ~Executor();
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

  // Attaching (or removing) an observer switches between the unfused and the
  // fused graph; the next Reshape or Run prepares accordingly.
  void SetObserver(NodeObserver observer) { observer_ = std::move(observer); }
  // The graph as given to Create.
  const Graph& graph() const { return source_; }
  // The graph being executed (fused unless an observer is attached or fuse is off).
  const Graph& executed_graph() const { return *exec_; }
  // Concrete shape of every value of graph() for the currently prepared input shapes.
  const std::map<std::string, TensorType>& value_types() const { return types_; }
  // Provider name ("ref", "dnnl", ...) of the kernel chosen for each node of executed_graph().
  const std::vector<std::string>& providers() const { return providers_; }
  // Number of values of executed_graph() kept in a blocked layout at the current preparation.
  int blocked_values() const { return blocked_values_; }
  // Outputs the last Run wrote into the buffer of an input that died at their
  // node (Kernel::InPlaceInput), e.g. a FusedConv's Y into its sum input Z.
  int in_place_outputs() const { return in_place_outputs_; }
  // Per-op-type time totals (empty unless profiling).
  std::string ProfileReport() const;

 private:
  // One node ready to run: where its inputs come from and where outputs go.
  struct Step {
    std::vector<int> in_slots;             // -1: omitted or constant
    std::vector<const Tensor*> in_consts;  // initializer, when constant
    std::vector<int> out_slots;            // -1: output not used (empty name)
    std::vector<TensorType> out_types;     // planned dtype/shape (static ones get pooled buffers)
    std::vector<int> release;              // slots whose last use is this node
    std::vector<int> in_place;             // per output: a dying input slot whose buffer it may take, or -1
  };

  explicit Executor(Graph graph, ExecutorOptions options);
  Status Prepare(const std::map<std::string, Shape>& input_shapes);
  Status PrepareKernels(const std::map<std::string, TensorType>& exec_types);
  // Plans every value's layout (layout_plan.h), tells the kernels and sizes blocked outputs.
  Status ApplyLayouts(const std::map<std::string, TensorType>& exec_types);
  void PlanSlots();
  void PlanInPlace();
  Status CheckInputs(const TensorMap& inputs, bool* shapes_changed) const;
  bool WantFused() const { return fused_ && (!observer_ || !options_.observed_values.empty()); }
  bool WantBlocked() const {
    return options_.blocked_layout && (!observer_ || (options_.observer_order_free && WantFused()));
  }
  // Output tensors for a step: pooled buffers for planned static shapes.
  void AcquireOutputs(const Step& step, bool writes_all, std::vector<Tensor>& outs,
                      std::vector<std::shared_ptr<uint8_t[]>>& given);
  void Recycle(Tensor& t);
  std::shared_ptr<uint8_t[]> TakeFromPool(size_t bytes);

  Graph source_;
  std::unique_ptr<Graph> fused_;  // inference copy (nullptr: fusion off)
  const Graph* exec_ = &source_;
  ExecutorOptions options_;
  NodeObserver observer_;
  std::map<std::string, Shape> prepared_shapes_;
  bool prepared_fused_ = false;
  bool prepared_blocked_ = false;
  int blocked_values_ = 0;
  std::map<std::string, TensorType> types_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  std::vector<std::string> providers_;

  std::unordered_map<std::string, int> slot_of_;  // every non-constant value of exec_
  std::vector<Step> steps_;
  std::vector<Tensor> slots_;
  std::vector<std::pair<size_t, std::shared_ptr<uint8_t[]>>> pool_;  // free buffers and their byte sizes
  int in_place_outputs_ = 0;

  std::string NodeProfileReport() const;
  struct ProfileEntry {
    double ms = 0;
    double cpu_ms = 0;  // calling thread's CPU time (per-node profile only)
    int64_t calls = 0;
  };
  std::map<std::string, ProfileEntry> profile_;  // by "op_type (provider)"
  std::vector<ProfileEntry*> node_profile_;      // per step, into profile_
  std::vector<ProfileEntry> per_node_;           // per step (QCAL_PROFILE=nodes)
  std::vector<std::string> node_labels_;         // per step: "name op (provider) layouts"
  bool profile_nodes_ = false;
  int64_t profiled_runs_ = 0;
};

}  // namespace qcal
