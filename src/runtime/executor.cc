#include "runtime/executor.h"

#include <set>
#include <unordered_map>

#include "passes/shape_inference.h"

namespace qcal {

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
      return InvalidArgument("input shape given for '" + name + "', which is not a graph input (inputs: " +
                             names + ")");
    }
  }
  std::unique_ptr<Executor> ex(new Executor(graph, std::move(options)));
  std::map<std::string, Shape> shapes;
  for (const auto& in : ex->graph_.inputs) {
    auto it = input_shapes.find(in.name);
    Shape s = it != input_shapes.end() ? it->second : in.shape.value_or(Shape{});
    if (it != input_shapes.end() && in.shape && in.shape->size() != s.size()) {
      return InvalidArgument("input '" + in.name + "': shape " + ShapeToString(s) + " has rank " +
                             std::to_string(s.size()) + " but the model declares " + ShapeToString(*in.shape));
    }
    for (auto& d : s) if (d < 0) d = 1;
    shapes[in.name] = s;
  }
  QCAL_RETURN_IF_ERROR(ex->Prepare(shapes));
  return ex;
}

Status Executor::Prepare(const std::map<std::string, Shape>& input_shapes) {
  Graph g = graph_;
  for (auto& in : g.inputs) {
    in.shape = input_shapes.at(in.name);
    if (in.dtype == DataType::kUndefined) {
      return InvalidArgument("graph input '" + in.name + "' has no data type");
    }
  }
  QCAL_RETURN_IF_ERROR(InferShapes(g));
  types_.clear();
  for (const auto& in : g.inputs) types_[in.name] = {in.dtype, *in.shape};
  for (const auto& [name, vi] : g.value_info) types_[name] = {vi.dtype, vi.shape.value_or(Shape{})};
  for (const auto& out : g.outputs) types_[out.name] = {out.dtype, out.shape.value_or(Shape{})};
  // Refuse absurd shapes (a hostile model or --input-shape) before any kernel allocates.
  for (const auto& [name, type] : types_) {
    QCAL_RETURN_IF_ERROR(CheckTensorAllocation(type.dtype, type.shape, "value '" + name + "'"));
  }

  kernels_.clear();
  providers_.clear();
  const KernelRegistry& reg = KernelRegistry::Global();
  for (const Node& node : graph_.nodes) {
    OpContext ctx{node, {}, {}, graph_.opset};
    for (const auto& in : node.inputs) {
      const Tensor* c = in.empty() ? nullptr : graph_.FindInitializer(in);
      ctx.const_inputs.push_back(c);
      if (in.empty()) {
        ctx.inputs.push_back({});
      } else if (c) {
        ctx.inputs.push_back({c->dtype(), c->shape()});
      } else {
        ctx.inputs.push_back(types_.at(in));
      }
    }
    providers_.emplace_back(reg.SelectedProvider(ctx));
    QCAL_ASSIGN_OR_RETURN(auto kernel, reg.CreateKernel(ctx));
    kernels_.push_back(std::move(kernel));
  }

  // Last use of every non-initializer value; graph outputs and extras are kept.
  std::set<std::string> keep;
  for (const auto& o : graph_.outputs) keep.insert(o.name);
  for (const auto& o : options_.extra_outputs) keep.insert(o);
  std::unordered_map<std::string, size_t> last_use;
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    for (const auto& in : graph_.nodes[i].inputs) last_use[in] = i;
    for (const auto& out : graph_.nodes[i].outputs) last_use.emplace(out, i);  // unused outputs die at once
  }
  release_after_.assign(graph_.nodes.size(), {});
  for (const auto& [name, i] : last_use) {
    if (!name.empty() && !keep.count(name) && !graph_.IsInitializer(name)) release_after_[i].push_back(name);
  }
  prepared_shapes_ = input_shapes;
  return Status::Ok();
}

Status Executor::Reshape(const std::map<std::string, Shape>& input_shapes) {
  std::map<std::string, Shape> shapes = prepared_shapes_;
  for (const auto& [name, shape] : input_shapes) {
    if (!shapes.count(name)) return InvalidArgument("'" + name + "' is not an input of the model");
    shapes[name] = shape;
  }
  if (shapes == prepared_shapes_) return Status::Ok();
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
      for (const auto& in : graph_.inputs) names += (names.empty() ? "" : ", ") + in.name;
      return InvalidArgument("'" + name + "' is not an input of the model (inputs: " + names + ")");
    }
  }
  for (const auto& in : graph_.inputs) {
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

Status Executor::Run(const TensorMap& inputs, TensorMap* outputs) {
  bool changed = false;
  QCAL_RETURN_IF_ERROR(CheckInputs(inputs, &changed));
  if (changed) {
    std::map<std::string, Shape> shapes;
    for (const auto& [name, t] : inputs) shapes[name] = t.shape();
    QCAL_RETURN_IF_ERROR(Prepare(shapes).WithContext("re-preparing for new input shapes"));
  }
  std::unordered_map<std::string, Tensor> env;
  for (const auto& [name, t] : inputs) env[name] = t;
  std::vector<const Tensor*> in_ptrs;
  std::vector<const Tensor*> out_ptrs;
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const Node& node = graph_.nodes[i];
    in_ptrs.clear();
    for (const auto& in : node.inputs) {
      if (in.empty()) {
        in_ptrs.push_back(nullptr);
      } else if (const Tensor* c = graph_.FindInitializer(in)) {
        in_ptrs.push_back(c);
      } else {
        in_ptrs.push_back(&env.at(in));
      }
    }
    std::vector<Tensor> outs(node.outputs.size());
    QCAL_RETURN_IF_ERROR(kernels_[i]->Run(in_ptrs, outs).WithContext("running " + node.Describe()));
    out_ptrs.clear();
    for (size_t o = 0; o < outs.size(); ++o) {
      if (node.outputs[o].empty()) continue;
      out_ptrs.push_back(&(env[node.outputs[o]] = std::move(outs[o])));
    }
    if (observer_) QCAL_RETURN_IF_ERROR(observer_(node, out_ptrs));
    for (const auto& name : release_after_[i]) env.erase(name);
  }
  outputs->clear();
  for (const auto& o : graph_.outputs) {
    if (const Tensor* c = graph_.FindInitializer(o.name)) {
      (*outputs)[o.name] = *c;
    } else if (auto it = inputs.find(o.name); it != inputs.end()) {
      (*outputs)[o.name] = it->second;
    } else {
      (*outputs)[o.name] = env.at(o.name);
    }
  }
  for (const auto& o : options_.extra_outputs) {
    auto it = env.find(o);
    if (it == env.end()) return NotFound("requested value '" + o + "' is not computed by the graph");
    (*outputs)[o] = it->second;
  }
  return Status::Ok();
}

}  // namespace qcal
