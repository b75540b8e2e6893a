#include "passes/constant_folding.h"

#include <set>
#include <string_view>

#include "base/log.h"
#include "kernels/registry.h"
#include "passes/symbolic_shapes.h"

namespace qcal {
namespace {

// Ops that must never be evaluated at load time (non-deterministic).
const std::set<std::string_view> kNeverFold = {
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
};
// Ops kept unless ConstantFoldingOptions::fold_dequantize (Q/DQ structure of quantized models).
const std::set<std::string_view> kQuantizeOps = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"};

class Folder {
 public:
  Folder(Graph& graph, const ConstantFoldingOptions& options) : g_(graph), opt_(options) {}

  // Processes every node in order; returns the indices of nodes to remove.
  Status Run(ConstantFoldingStats* stats) {
    std::vector<bool> remove(g_.nodes.size(), false);
    for (size_t i = 0; i < g_.nodes.size(); ++i) remove[i] = FoldNode(g_.nodes[i]);
    std::vector<Node> kept;
    kept.reserve(g_.nodes.size());
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (!remove[i]) kept.push_back(std::move(g_.nodes[i]));
    }
    g_.nodes = std::move(kept);
    LogDebug("constant folding: " + std::to_string(stats_.folded_nodes) + " nodes folded, " +
             std::to_string(stats_.rewritten_reshapes) + " Reshape shapes made constant");
    if (stats) *stats = stats_;
    return Status::Ok();
  }

 private:
  bool Foldable(const Node& node) const {
    if (kNeverFold.count(node.op_type)) return false;
    if (!opt_.fold_dequantize && kQuantizeOps.count(node.op_type)) return false;
    return true;
  }

  bool AllInputsConstant(const Node& node) const {
    if (node.inputs.empty() && node.op_type != "Constant") return false;
    for (const auto& in : node.inputs) {
      if (!in.empty() && !g_.IsInitializer(in)) return false;
    }
    return true;
  }

  // Symbolic value of a value name (initializers are tracked lazily).
  const SymTensor* Sym(const std::string& name) {
    if (name.empty()) return nullptr;
    auto it = syms_.find(name);
    if (it != syms_.end()) return &it->second;
    const Tensor* t = g_.FindInitializer(name);
    if (!t) return nullptr;
    auto s = SymFromTensor(*t);
    if (!s) return nullptr;
    return &syms_.emplace(name, std::move(*s)).first->second;
  }

  // True when the node's outputs would stay within the size limit.
  bool OutputsFitLimit(const Node& node) const {
    OpContext ctx{node, {}, {}, g_.opset};
    for (const auto& in : node.inputs) {
      const Tensor* t = in.empty() ? nullptr : g_.FindInitializer(in);
      ctx.inputs.push_back(t ? TensorType{t->dtype(), t->shape()} : TensorType{});
      ctx.const_inputs.push_back(t);
    }
    std::vector<TensorType> outs;
    if (!KernelRegistry::Global().Infer(ctx, outs).ok()) return false;
    for (const auto& o : outs) {
      int64_t n = NumElements(o.shape);
      if (n < 0 || n * static_cast<int64_t>(DataTypeSize(o.dtype)) > opt_.max_output_bytes) return false;
    }
    return true;
  }

  bool Evaluate(const Node& node) {
    if (!OutputsFitLimit(node)) return false;
    std::vector<const Tensor*> inputs;
    for (const auto& in : node.inputs) inputs.push_back(in.empty() ? nullptr : g_.FindInitializer(in));
    auto outs = EvaluateNode(node, inputs, g_.opset);
    if (!outs.ok()) {
      LogDebug("constant folding: leaving " + node.Describe() + ": " + outs.status().message());
      return false;
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      SetConstant(node.outputs[i], std::move((*outs)[i]));
    }
    return true;
  }

  void SetConstant(const std::string& name, Tensor t) {
    g_.initializers[name] = std::move(t);
    g_.value_info.erase(name);
  }

  // Gives a Reshape a constant shape input when its computed shape resolves.
  void RewriteReshape(Node& node) {
    if (node.inputs.size() < 2) return;
    const SymTensor* shape = Sym(node.inputs[1]);
    if (!shape) return;
    auto resolved = ResolveReshapeShape(node, *shape);
    if (!resolved) return;
    if (const Tensor* cur = g_.FindInitializer(node.inputs[1])) {
      if (cur->ToInt64Vector() == resolved->ToInt64Vector()) return;
    }
    std::string name = g_.UniqueValueName(node.name + "/shape");
    syms_.erase(name);
    g_.initializers[name] = std::move(*resolved);
    node.inputs[1] = name;
    ++stats_.rewritten_reshapes;
  }

  // Returns true when the node was folded away.
  bool FoldNode(Node& node) {
    if (!Foldable(node)) return false;
    std::optional<SymTensor> sym;
    if (opt_.symbolic) {
      std::vector<const SymTensor*> in_syms;
      for (const auto& in : node.inputs) in_syms.push_back(Sym(in));
      sym = PropagateSym(g_, node, in_syms);
      if (sym) syms_[node.outputs[0]] = *sym;
    }
    if (AllInputsConstant(node) && Evaluate(node)) {
      ++stats_.folded_nodes;
      return true;
    }
    if (sym && sym->FullyKnown()) {
      SetConstant(node.outputs[0], sym->ToTensor());
      ++stats_.folded_nodes;
      return true;
    }
    if (opt_.symbolic && node.op_type == "Reshape") RewriteReshape(node);
    return false;
  }

  Graph& g_;
  const ConstantFoldingOptions& opt_;
  SymMap syms_;
  ConstantFoldingStats stats_;
};

}  // namespace

Status ConstantFolding(Graph& graph, const ConstantFoldingOptions& options, ConstantFoldingStats* stats) {
  return Folder(graph, options).Run(stats);
}

}  // namespace qcal
