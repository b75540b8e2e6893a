#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>

#include "base/limits.h"
#include "base/log.h"
#include "kernels/threads.h"
#include "passes/fold_batchnorm.h"
#include "passes/fuse_channel_shuffle.h"
#include "passes/fuse_conv.h"
#include "passes/shape_inference.h"
#include "runtime/layout_plan.h"

namespace qcal {
namespace {

// CPU time of the calling thread (the per-node profile: unlike wall time it
// does not grow when other processes share the cores; kernels running on
// more threads than the caller are undercounted).
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

bool EnvIsSet(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

bool EnvIsZero(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "0") == 0;
}

// The inference copy: BatchNorm folded into convs (not when values are
// observed), then Conv chains and channel shuffles fused; outputs, extras and observed values stay.
Result<std::unique_ptr<Graph>> MakeFusedGraph(const Graph& graph, const ExecutorOptions& options) {
  auto fused = std::make_unique<Graph>(graph);
  if (options.observed_values.empty()) {
    FoldOptions fold;  // a layer whose own output must stay visible absorbs nothing
    const std::set<std::string> extras(options.extra_outputs.begin(), options.extra_outputs.end());
    for (const Node& n : graph.nodes) {
      if (!n.outputs.empty() && extras.count(n.outputs[0])) fold.skip_layers.insert(n.name);
    }
    QCAL_RETURN_IF_ERROR(FoldBatchNorm(*fused, fold).status());
  }
  ConvFusionOptions fo;
  for (const auto& o : graph.outputs) fo.keep_values.insert(o.name);
  fo.keep_values.insert(options.extra_outputs.begin(), options.extra_outputs.end());
  fo.keep_values.insert(options.observed_values.begin(), options.observed_values.end());
  fo.exact_add = !options.observed_values.empty();
  QCAL_RETURN_IF_ERROR(InferShapes(*fused));
  QCAL_RETURN_IF_ERROR(FuseConvForInference(*fused, fo));
  if (options.fuse_channel_shuffle) QCAL_RETURN_IF_ERROR(FuseChannelShuffle(*fused, {fo.keep_values}));
  return fused;
}

// Shapes of every value of `g` with its inputs fixed to `input_shapes`.
Result<std::map<std::string, TensorType>> ValueTypes(const Graph& graph,
                                                     const std::map<std::string, Shape>& input_shapes) {
  Graph g = graph;
  for (auto& in : g.inputs) {
    in.shape = input_shapes.at(in.name);
    if (in.dtype == DataType::kUndefined) {
      return InvalidArgument("graph input '" + in.name + "' has no data type");
    }
  }
  QCAL_RETURN_IF_ERROR(InferShapes(g));
  std::map<std::string, TensorType> types;
  for (const auto& in : g.inputs) types[in.name] = {in.dtype, *in.shape};
  for (const auto& [name, vi] : g.value_info) types[name] = {vi.dtype, vi.shape.value_or(Shape{})};
  for (const auto& out : g.outputs) types[out.name] = {out.dtype, out.shape.value_or(Shape{})};
  return types;
}

// Whether t's non-plain layout (if any) holds exactly its logical elements.
bool SameElementsWhenNonPlain(const TensorType& t) {
  const Layout l = NonPlainLayout(t.dtype);
  return l == Layout::kPlain || t.shape.size() != 4 || !ShapeIsStatic(t.shape) ||
         NumElements(PhysicalShape(t.shape, l)) == NumElements(t.shape);
}

const char* LayoutLetter(Layout l) {
  static const std::pair<Layout, const char*> kLetters[] = {
      {Layout::kNChw8c, "8c"}, {Layout::kNChw16c, "16c"}, {Layout::kNhwc, "nhwc"}};
  for (const auto& [layout, letter] : kLetters) {
    if (layout == l) return letter;
  }
  return "p";
}

// "name Op (provider) [in,in -> out]" for the per-node profile.
std::string NodeLabel(const Node& node, std::string_view provider, const NodeLayouts& l) {
  std::string s = node.name + " " + node.op_type + " (" + std::string(provider) + ") [";
  for (size_t i = 0; i < l.inputs.size(); ++i) s += std::string(i ? "," : "") + LayoutLetter(l.inputs[i]);
  s += " ->";
  for (Layout o : l.outputs) s += std::string(" ") + LayoutLetter(o);
  return s + "]";
}

size_t PooledBytes(const TensorType& t) {
  return (static_cast<size_t>(NumElements(t.shape)) * DataTypeSize(t.dtype) + 63) / 64 * 64;
}

}  // namespace

Executor::Executor(Graph graph, ExecutorOptions options)
    : source_(std::move(graph)), options_(std::move(options)) {
  options_.profile = options_.profile || EnvIsSet("QCAL_PROFILE");
  const char* p = std::getenv("QCAL_PROFILE");
  profile_nodes_ = p && std::strcmp(p, "nodes") == 0;
  options_.blocked_layout = options_.blocked_layout && !EnvIsZero("QCAL_BLOCKED_LAYOUT");
  options_.fuse_channel_shuffle = options_.fuse_channel_shuffle && !EnvIsZero("QCAL_FUSE_SHUFFLE");
}

Executor::~Executor() {
  if (options_.profile && profiled_runs_ > 0) std::fputs(ProfileReport().c_str(), stderr);
}

Result<std::unique_ptr<Executor>> Executor::Create(const Graph& graph,
                                                   const std::map<std::string, Shape>& input_shapes,
                                                   ExecutorOptions options) {
  QCAL_RETURN_IF_ERROR(VerifyGraph(graph));
  for (const auto& [name, shape] : input_shapes) {
    bool found = false;
    for (const auto& in : graph.inputs) found |= in.name == name;
    if (!found) {
      std::string names;
      for (const auto& in : graph.inputs) names += (names.empty() ? "" : ", ") + in.name;
      return InvalidArgument("input shape given for '" + name +
                             "', which is not a graph input (inputs: " + names + ")");
    }
  }
  std::unique_ptr<Executor> ex(new Executor(graph, std::move(options)));
  std::map<std::string, Shape> shapes;
  for (const auto& in : ex->source_.inputs) {
    auto it = input_shapes.find(in.name);
    Shape s = it != input_shapes.end() ? it->second : in.shape.value_or(Shape{});
    if (it != input_shapes.end() && in.shape && in.shape->size() != s.size()) {
      return InvalidArgument("input '" + in.name + "': shape " + ShapeToString(s) + " has rank " +
                             std::to_string(s.size()) + " but the model declares " +
                             ShapeToString(*in.shape));
    }
    for (auto& d : s)
      if (d < 0) d = 1;
    shapes[in.name] = s;
  }
  if (ex->options_.fuse) {
    auto fused = MakeFusedGraph(ex->source_, ex->options_);
    if (fused.ok()) {
      ex->fused_ = std::move(*fused);
    } else {  // an optimization only: run the graph as given
      LogWarning("inference fusions skipped: " + fused.status().ToString());
    }
  }
  QCAL_RETURN_IF_ERROR(ex->Prepare(shapes));
  return ex;
}

Status Executor::Prepare(const std::map<std::string, Shape>& input_shapes) {
  // Kernels may create their primitives now; oneDNN's keep the thread count of creation.
  ScopedNumThreads threads(options_.threads);
  QCAL_ASSIGN_OR_RETURN(types_, ValueTypes(source_, input_shapes));
  // Refuse absurd shapes (a hostile model or --input-shape) before any kernel allocates.
  for (const auto& [name, type] : types_) {
    QCAL_RETURN_IF_ERROR(CheckTensorAllocation(type.dtype, type.shape, "value '" + name + "'"));
  }
  const bool fused = WantFused();
  exec_ = fused ? fused_.get() : &source_;
  std::map<std::string, TensorType> exec_types;
  if (fused) {
    QCAL_ASSIGN_OR_RETURN(exec_types, ValueTypes(*exec_, input_shapes));
  } else {
    exec_types = types_;
  }
  QCAL_RETURN_IF_ERROR(PrepareKernels(exec_types));
  QCAL_RETURN_IF_ERROR(ApplyLayouts(exec_types));
  PlanSlots();
  prepared_shapes_ = input_shapes;
  prepared_fused_ = fused;
  prepared_blocked_ = WantBlocked();
  return Status::Ok();
}

Status Executor::PrepareKernels(const std::map<std::string, TensorType>& exec_types) {
  kernels_.clear();
  providers_.clear();
  steps_.assign(exec_->nodes.size(), {});
  const KernelRegistry& reg = KernelRegistry::Global();
  for (size_t i = 0; i < exec_->nodes.size(); ++i) {
    const Node& node = exec_->nodes[i];
    OpContext ctx{node, {}, {}, exec_->opset};
    for (const auto& in : node.inputs) {
      const Tensor* c = in.empty() ? nullptr : exec_->FindInitializer(in);
      ctx.const_inputs.push_back(c);
      if (in.empty()) {
        ctx.inputs.push_back({});
      } else if (c) {
        ctx.inputs.push_back({c->dtype(), c->shape()});
      } else {
        ctx.inputs.push_back(exec_types.at(in));
      }
    }
    for (const auto& out : node.outputs) {
      auto it = exec_types.find(out);
      steps_[i].out_types.push_back(it != exec_types.end() ? it->second : TensorType{});
    }
    providers_.emplace_back(reg.SelectedProvider(ctx));
    QCAL_ASSIGN_OR_RETURN(auto kernel, reg.CreateKernel(ctx));
    kernels_.push_back(std::move(kernel));
  }
  node_profile_.clear();
  for (size_t i = 0; i < exec_->nodes.size(); ++i) {
    node_profile_.push_back(&profile_[exec_->nodes[i].op_type + " (" + providers_[i] + ")"]);
  }
  return Status::Ok();
}

Status Executor::ApplyLayouts(const std::map<std::string, TensorType>& exec_types) {
  std::vector<NodeLayouts> plan(exec_->nodes.size());
  if (WantBlocked()) {
    std::set<std::string> keep_plain(options_.extra_outputs.begin(), options_.extra_outputs.end());
    for (const auto& o : exec_->outputs) keep_plain.insert(o.name);
    if (options_.observer_order_free) {  // observed values may not gain padding (observer or not yet)
      for (const auto& v : options_.observed_values) {
        auto it = exec_types.find(v);
        if (it == exec_types.end() || !SameElementsWhenNonPlain(it->second)) keep_plain.insert(v);
      }
    }
    plan = PlanLayouts(*exec_, kernels_, exec_types, keep_plain);
  }
  blocked_values_ = CountBlocked(plan);
  per_node_.assign(exec_->nodes.size(), {});
  node_labels_.clear();
  for (size_t i = 0; i < exec_->nodes.size(); ++i) {
    const Node& node = exec_->nodes[i];
    NodeLayouts& l = plan[i];
    l.inputs.resize(node.inputs.size(), Layout::kPlain);
    l.outputs.resize(node.outputs.size(), Layout::kPlain);
    QCAL_RETURN_IF_ERROR(
        kernels_[i]->SetLayouts(l.inputs, l.outputs).WithContext("preparing " + node.Describe()));
    node_labels_.push_back(NodeLabel(node, providers_[i], l));
    for (size_t o = 0; o < l.outputs.size(); ++o) {
      TensorType& t = steps_[i].out_types[o];
      t.shape = PhysicalShape(t.shape, l.outputs[o]);
    }
  }
  return Status::Ok();
}

// Numbers every non-constant value and records, per node, its input/output
// slots and the slots whose last use it is (graph outputs and extras are kept).
void Executor::PlanSlots() {
  slot_of_.clear();
  auto slot = [&](const std::string& name) {
    auto [it, added] = slot_of_.emplace(name, static_cast<int>(slot_of_.size()));
    return it->second;
  };
  for (const auto& in : exec_->inputs) slot(in.name);
  std::vector<int> last_use;
  for (size_t i = 0; i < exec_->nodes.size(); ++i) {
    const Node& node = exec_->nodes[i];
    Step& step = steps_[i];
    step.in_slots.clear();
    step.in_consts.clear();
    step.out_slots.clear();
    for (const auto& in : node.inputs) {
      const Tensor* c = in.empty() ? nullptr : exec_->FindInitializer(in);
      step.in_consts.push_back(c);
      step.in_slots.push_back(in.empty() || c ? -1 : slot(in));
    }
    for (const auto& out : node.outputs) step.out_slots.push_back(out.empty() ? -1 : slot(out));
    last_use.resize(slot_of_.size(), -1);
    for (int s : step.in_slots) {
      if (s >= 0) last_use[s] = static_cast<int>(i);
    }
    for (int s : step.out_slots) {
      if (s >= 0 && last_use[s] < 0) last_use[s] = static_cast<int>(i);  // unused outputs die at once
    }
  }
  std::set<int> keep;
  for (const auto& in : exec_->inputs) keep.insert(slot_of_.at(in.name));  // owned by the caller
  for (const auto& o : exec_->outputs) {
    if (auto it = slot_of_.find(o.name); it != slot_of_.end()) keep.insert(it->second);
  }
  for (const auto& o : options_.extra_outputs) {
    if (auto it = slot_of_.find(o); it != slot_of_.end()) keep.insert(it->second);
  }
  for (size_t s = 0; s < last_use.size(); ++s) {
    if (last_use[s] >= 0 && !keep.count(static_cast<int>(s)))
      steps_[last_use[s]].release.push_back(static_cast<int>(s));
  }
  slots_.assign(slot_of_.size(), Tensor());
  PlanInPlace();
}

// Per output, the input slot whose buffer it may take (Kernel::InPlaceInput):
// the input must die at this node and not be read through another input too.
void Executor::PlanInPlace() {
  for (size_t i = 0; i < steps_.size(); ++i) {
    Step& step = steps_[i];
    step.in_place.assign(step.out_slots.size(), -1);
    for (size_t o = 0; o < step.out_slots.size(); ++o) {
      const int k = kernels_[i]->InPlaceInput(o);
      if (k < 0 || static_cast<size_t>(k) >= step.in_slots.size() || step.in_slots[k] < 0) continue;
      const int s = step.in_slots[k];
      const bool dies = std::find(step.release.begin(), step.release.end(), s) != step.release.end();
      if (dies && std::count(step.in_slots.begin(), step.in_slots.end(), s) == 1) step.in_place[o] = s;
    }
  }
}

Status Executor::Reshape(const std::map<std::string, Shape>& input_shapes) {
  std::map<std::string, Shape> shapes = prepared_shapes_;
  for (const auto& [name, shape] : input_shapes) {
    if (!shapes.count(name)) return InvalidArgument("'" + name + "' is not an input of the model");
    shapes[name] = shape;
  }
  if (shapes == prepared_shapes_ && prepared_fused_ == WantFused() && prepared_blocked_ == WantBlocked()) {
    return Status::Ok();
  }
  std::map<std::string, Shape> old = prepared_shapes_;
  Status st = Prepare(shapes);
  if (!st.ok()) QCAL_RETURN_IF_ERROR(Prepare(old));  // stay usable at the old shapes
  return st;
}

Status Executor::CheckInputs(const TensorMap& inputs, bool* shapes_changed) const {
  *shapes_changed = false;
  for (const auto& [name, t] : inputs) {
    if (!prepared_shapes_.count(name)) {
      std::string names;
      for (const auto& in : source_.inputs) names += (names.empty() ? "" : ", ") + in.name;
      return InvalidArgument("'" + name + "' is not an input of the model (inputs: " + names + ")");
    }
  }
  for (const auto& in : source_.inputs) {
    auto it = inputs.find(in.name);
    if (it == inputs.end()) return InvalidArgument("model input '" + in.name + "' was not given");
    const Tensor& t = it->second;
    if (t.dtype() != in.dtype) {
      return InvalidArgument("input '" + in.name + "' has data type " + std::string(DataTypeName(t.dtype())) +
                             ", the model expects " + std::string(DataTypeName(in.dtype)));
    }
    if (in.shape) {
      bool ok = in.shape->size() == t.shape().size();
      for (size_t d = 0; ok && d < t.shape().size(); ++d) {
        int64_t want = (*in.shape)[d];
        // A fixed batch dim (dim 0) may be overridden; other fixed dims must match.
        ok = want < 0 || want == t.shape()[d] || d == 0;
      }
      if (!ok) {
        return InvalidArgument("input '" + in.name + "' has shape " + ShapeToString(t.shape()) +
                               ", the model expects " + ShapeToString(*in.shape));
      }
    }
    if (prepared_shapes_.at(in.name) != t.shape()) *shapes_changed = true;
  }
  return Status::Ok();
}

void Executor::AcquireOutputs(const Step& step, bool writes_all, std::vector<Tensor>& outs,
                              std::vector<std::shared_ptr<uint8_t[]>>& given) {
  outs.assign(step.out_types.size(), Tensor());
  given.assign(step.out_types.size(), nullptr);
  for (size_t o = 0; o < step.out_types.size(); ++o) {
    const TensorType& t = step.out_types[o];
    if (step.out_slots[o] < 0 || !t.present() || !ShapeIsStatic(t.shape)) continue;
    if (step.in_place[o] >= 0) {
      const Tensor& in = slots_[step.in_place[o]];
      // use_count 1: only the slot holds the buffer (no view, observer or caller copy).
      if (in.storage() && in.storage().use_count() == 1 && in.dtype() == t.dtype && in.shape() == t.shape) {
        outs[o] = in;  // released (not pooled) with the input's slot: the output then holds it too
        ++in_place_outputs_;
        continue;
      }
    }
    const size_t bytes = PooledBytes(t);
    given[o] = TakeFromPool(bytes);
    if (!given[o]) continue;  // the kernel allocates; the buffer joins the pool when released
    if (!writes_all) std::memset(given[o].get(), 0, bytes);
    outs[o] = Tensor(t.dtype, t.shape, given[o]);
  }
}

std::shared_ptr<uint8_t[]> Executor::TakeFromPool(size_t bytes) {
  for (size_t i = 0; i < pool_.size(); ++i) {
    if (pool_[i].first != bytes) continue;
    std::shared_ptr<uint8_t[]> buffer = std::move(pool_[i].second);
    std::swap(pool_[i], pool_.back());
    pool_.pop_back();
    return buffer;
  }
  return nullptr;
}

// Returns t's buffer to the pool when nothing else (an alias, the caller) holds it.
void Executor::Recycle(Tensor& t) {
  if (!t.empty() && t.storage() && t.storage().use_count() == 1) {
    const size_t bytes = (t.nbytes() + 63) / 64 * 64;
    pool_.emplace_back(bytes, t.storage());
  }
  t = Tensor();
}

Status Executor::Run(const TensorMap& inputs, TensorMap* outputs) {
  ScopedNumThreads threads(options_.threads);
  bool changed = false;
  QCAL_RETURN_IF_ERROR(CheckInputs(inputs, &changed));
  if (changed || prepared_fused_ != WantFused() || prepared_blocked_ != WantBlocked()) {
    std::map<std::string, Shape> shapes;
    for (const auto& [name, t] : inputs) shapes[name] = t.shape();
    QCAL_RETURN_IF_ERROR(Prepare(shapes).WithContext("re-preparing for new input shapes"));
  }
  for (auto& s : slots_) s = Tensor();
  for (const auto& [name, t] : inputs) slots_[slot_of_.at(name)] = t;
  in_place_outputs_ = 0;
  std::vector<const Tensor*> in_ptrs, out_ptrs;
  std::vector<Tensor> outs;
  std::vector<std::shared_ptr<uint8_t[]>> given;
  for (size_t i = 0; i < exec_->nodes.size(); ++i) {
    const Node& node = exec_->nodes[i];
    const Step& step = steps_[i];
    in_ptrs.clear();
    for (size_t k = 0; k < step.in_slots.size(); ++k) {
      in_ptrs.push_back(step.in_slots[k] >= 0 ? &slots_[step.in_slots[k]] : step.in_consts[k]);
    }
    AcquireOutputs(step, kernels_[i]->WritesAllOutputs(), outs, given);
    const auto t0 =
        options_.profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    const double cpu0 = profile_nodes_ ? ThreadCpuMs() : 0;
    if (Status st = kernels_[i]->Run(in_ptrs, outs); !st.ok()) {
      return st.WithContext("running " + node.Describe());  // the message is built only on failure
    }
    if (options_.profile) {
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      node_profile_[i]->ms += ms;
      ++node_profile_[i]->calls;
      per_node_[i].ms += ms;
      if (profile_nodes_) per_node_[i].cpu_ms += ThreadCpuMs() - cpu0;
      ++per_node_[i].calls;
    }
    out_ptrs.clear();
    for (size_t o = 0; o < outs.size(); ++o) {
      // A kernel that replaced the given buffer (e.g. a view of its input) leaves it unused.
      if (given[o] && outs[o].storage() != given[o])
        pool_.emplace_back(PooledBytes(step.out_types[o]), given[o]);
      if (step.out_slots[o] < 0) continue;
      Tensor& dst = slots_[step.out_slots[o]];
      dst = std::move(outs[o]);
      out_ptrs.push_back(&dst);
    }
    given.clear();
    if (observer_) QCAL_RETURN_IF_ERROR(observer_(node, out_ptrs));
    for (int s : step.release) Recycle(slots_[s]);
  }
  if (options_.profile) ++profiled_runs_;
  outputs->clear();
  for (const auto& o : source_.outputs) {
    if (const Tensor* c = exec_->FindInitializer(o.name)) {
      (*outputs)[o.name] = *c;
    } else if (auto it = inputs.find(o.name); it != inputs.end()) {
      (*outputs)[o.name] = it->second;
    } else {
      (*outputs)[o.name] = slots_[slot_of_.at(o.name)];
    }
  }
  for (const auto& o : options_.extra_outputs) {
    auto it = slot_of_.find(o);
    if (it == slot_of_.end() || slots_[it->second].empty()) {
      return NotFound("requested value '" + o + "' is not computed by the graph");
    }
    (*outputs)[o] = slots_[it->second];
  }
  for (auto& s : slots_) s = Tensor();  // the caller owns the outputs now
  return Status::Ok();
}

std::string Executor::ProfileReport() const {
  if (profiled_runs_ == 0) return "";
  std::vector<std::pair<double, std::string>> rows;
  double total = 0;
  for (const auto& [key, e] : profile_) {
    if (e.calls == 0) continue;
    rows.push_back({e.ms, key});
    total += e.ms;
  }
  std::sort(rows.rbegin(), rows.rend());
  char line[256];
  std::snprintf(line, sizeof line, "qcal profile: %lld runs, %.3f ms per run in kernels\n",
                static_cast<long long>(profiled_runs_), total / static_cast<double>(profiled_runs_));
  std::string report = line;
  for (const auto& [ms, key] : rows) {
    const ProfileEntry& e = profile_.at(key);
    std::snprintf(line, sizeof line, "  %-32s %9.3f ms/run %5.1f %%  %6lld nodes/run %8.1f us/node\n",
                  key.c_str(), ms / static_cast<double>(profiled_runs_), 100.0 * ms / std::max(total, 1e-9),
                  static_cast<long long>(e.calls / profiled_runs_),
                  1000.0 * ms / static_cast<double>(e.calls));
    report += line;
  }
  return profile_nodes_ ? report + NodeProfileReport() : report;
}

std::string Executor::NodeProfileReport() const {
  std::vector<std::pair<double, size_t>> rows;
  double cpu_total = 0;
  for (size_t i = 0; i < per_node_.size() && i < node_labels_.size(); ++i) {
    if (per_node_[i].calls > 0) rows.push_back({per_node_[i].cpu_ms, i});
    cpu_total += per_node_[i].cpu_ms;
  }
  std::sort(rows.rbegin(), rows.rend());
  const double runs = static_cast<double>(profiled_runs_);
  char line[512];
  std::snprintf(line, sizeof line,
                "qcal profile per node: %.3f ms/run CPU of the calling thread; most CPU first "
                "(us/run: CPU, wall; [input layouts -> output layouts]):\n",
                cpu_total / runs);
  std::string report = line;
  for (const auto& [cpu, i] : rows) {
    std::snprintf(line, sizeof line, "  %8.1f %8.1f  %s\n", 1000.0 * cpu / runs,
                  1000.0 * per_node_[i].ms / runs, node_labels_[i].c_str());
    report += line;
  }
  return report;
}

}  // namespace qcal
