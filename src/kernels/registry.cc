#include "kernels/registry.h"

#include <algorithm>

namespace qcal {

Shape BlockedShape(const Shape& nchw, int64_t block) {
  return {nchw[0], (nchw[1] + block - 1) / block, nchw[2], nchw[3], block};
}

int64_t LayoutBlock(Layout l) {
  switch (l) {
    case Layout::kNChw8c:
      return 8;
    case Layout::kNChw16c:
      return 16;
    default:
      return 0;
  }
}

Shape NhwcShape(const Shape& nchw) { return {nchw[0], nchw[2], nchw[3], nchw[1]}; }

Shape PhysicalShape(const Shape& nchw, Layout l) {
  switch (l) {
    case Layout::kNChw8c:
    case Layout::kNChw16c:
      return BlockedShape(nchw, LayoutBlock(l));
    case Layout::kNhwc:
      return NhwcShape(nchw);
    default:
      return nchw;
  }
}

Layout NonPlainLayout(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32:
      return FloatBlockedLayout();
    case DataType::kInt8:
    case DataType::kUint8:
      return Layout::kNhwc;
    default:
      return Layout::kPlain;
  }
}

Status Kernel::SetLayouts(const std::vector<Layout>& inputs, const std::vector<Layout>& outputs) {
  for (const auto* layouts : {&inputs, &outputs}) {
    for (Layout l : *layouts) {
      if (l != Layout::kPlain) return Internal("this kernel only handles plain (NCHW) tensors");
    }
  }
  return Status::Ok();
}

KernelRegistry& KernelRegistry::Global() {
  static KernelRegistry* r = new KernelRegistry();
  return *r;
}

bool KernelRegistry::RegisterOp(const OpDef& def) {
  ops_.emplace(std::string(def.op_type), def);
  return true;
}

bool KernelRegistry::RegisterKernel(const KernelDef& def) {
  auto& v = kernels_[std::string(def.op_type)];
  v.push_back(def);
  std::stable_sort(v.begin(), v.end(),
                   [](const KernelDef& a, const KernelDef& b) { return a.priority > b.priority; });
  return true;
}

const OpDef* KernelRegistry::FindOp(std::string_view op_type) const {
  auto it = ops_.find(std::string(op_type));
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::OpTypes() const {
  std::vector<std::string> v;
  for (const auto& [k, d] : ops_) v.push_back(k);
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<const KernelDef*> KernelRegistry::KernelsFor(std::string_view op_type) const {
  std::vector<const KernelDef*> v;
  auto it = kernels_.find(std::string(op_type));
  if (it != kernels_.end())
    for (const auto& k : it->second) v.push_back(&k);
  return v;
}

namespace {
std::string DescribeInputs(const OpContext& ctx) {
  std::string s;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    if (i) s += ", ";
    s += ctx.inputs[i].present() ? std::string(DataTypeName(ctx.inputs[i].dtype)) : "none";
  }
  return s;
}
}  // namespace

void KernelRegistry::SetProviderEnabled(std::string_view provider, bool enabled) {
  if (provider == "ref") return;  // the reference kernels are the fallback for everything
  auto it = std::find(disabled_providers_.begin(), disabled_providers_.end(), provider);
  if (enabled && it != disabled_providers_.end()) disabled_providers_.erase(it);
  if (!enabled && it == disabled_providers_.end()) disabled_providers_.emplace_back(provider);
}

bool KernelRegistry::ProviderEnabled(std::string_view provider) const {
  return std::find(disabled_providers_.begin(), disabled_providers_.end(), provider) ==
         disabled_providers_.end();
}

std::string_view KernelRegistry::SelectedProvider(const OpContext& ctx) const {
  for (const KernelDef* k : KernelsFor(ctx.node.op_type)) {
    if (!ProviderEnabled(k->provider)) continue;
    if (!k->supports || k->supports(ctx)) return k->provider;
  }
  return "";
}

Result<std::unique_ptr<Kernel>> KernelRegistry::CreateKernel(const OpContext& ctx) const {
  auto kernels = KernelsFor(ctx.node.op_type);
  if (kernels.empty()) return Unsupported("no kernel for op type " + ctx.where());
  for (const KernelDef* k : kernels) {
    if (!ProviderEnabled(k->provider)) continue;
    if (k->supports && !k->supports(ctx)) continue;
    return k->create(ctx);
  }
  return Unsupported(ctx.where() + ": no kernel supports input types (" + DescribeInputs(ctx) + ")");
}

Result<std::unique_ptr<Kernel>> KernelRegistry::CreateKernelFromProvider(const OpContext& ctx,
                                                                         std::string_view provider) const {
  // The provider's highest-priority kernel that supports the node (a provider may
  // register several, e.g. dnnl's int8 GEMV above its matmul).
  bool registered = false;
  for (const KernelDef* k : KernelsFor(ctx.node.op_type)) {
    if (k->provider != provider) continue;
    registered = true;
    if (!k->supports || k->supports(ctx)) return k->create(ctx);
  }
  if (registered) {
    return Unsupported(ctx.where() + ": the " + std::string(provider) + " kernel does not support this node");
  }
  return NotFound(ctx.where() + ": no " + std::string(provider) + " kernel is registered");
}

Status KernelRegistry::Infer(const OpContext& ctx, std::vector<TensorType>& outputs) const {
  const OpDef* def = FindOp(ctx.node.op_type);
  if (!def) return Unsupported("unsupported op type " + ctx.where());
  int nin = static_cast<int>(ctx.node.inputs.size());
  int nout = static_cast<int>(ctx.node.outputs.size());
  if (nin < def->min_inputs || (def->max_inputs >= 0 && nin > def->max_inputs)) {
    return InvalidArgument(ctx.where() + " has " + std::to_string(nin) + " inputs, expected " +
                           std::to_string(def->min_inputs) + ".." +
                           (def->max_inputs < 0 ? std::string("any") : std::to_string(def->max_inputs)));
  }
  if (nout < def->min_outputs || (def->max_outputs >= 0 && nout > def->max_outputs)) {
    return InvalidArgument(ctx.where() + " has " + std::to_string(nout) + " outputs, expected " +
                           std::to_string(def->min_outputs) + ".." +
                           (def->max_outputs < 0 ? std::string("any") : std::to_string(def->max_outputs)));
  }
  for (int i = 0; i < def->min_inputs && i < nin; ++i) {
    if (!ctx.inputs[static_cast<size_t>(i)].present()) {
      return InvalidArgument(ctx.where() + ": required input " + std::to_string(i) + " is missing");
    }
  }
  outputs.assign(ctx.node.outputs.size(), TensorType{});
  return def->infer(ctx, outputs).WithContext(ctx.where());
}

namespace {
class FunctionKernel : public Kernel {
 public:
  FunctionKernel(const Node& node, KernelFn fn, bool writes_all)
      : node_(node), fn_(fn), writes_all_(writes_all) {}
  Status Run(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) override {
    return fn_(node_, inputs, outputs);
  }
  bool WritesAllOutputs() const override { return writes_all_; }

 private:
  Node node_;  // a copy: kernels outlive the graph they were made from
  KernelFn fn_;
  bool writes_all_;
};
}  // namespace

std::unique_ptr<Kernel> MakeFunctionKernel(const Node& node, KernelFn fn, bool writes_all_outputs) {
  return std::make_unique<FunctionKernel>(node, fn, writes_all_outputs);
}

Result<std::vector<Tensor>> EvaluateNode(const Node& node, const std::vector<const Tensor*>& inputs,
                                         int64_t opset) {
  OpContext ctx{node, {}, inputs, opset};
  for (const Tensor* t : inputs) {
    ctx.inputs.push_back(t ? TensorType{t->dtype(), t->shape()} : TensorType{});
  }
  std::vector<TensorType> types;
  QCAL_RETURN_IF_ERROR(KernelRegistry::Global().Infer(ctx, types));
  QCAL_ASSIGN_OR_RETURN(auto kernel, KernelRegistry::Global().CreateKernel(ctx));
  std::vector<Tensor> outputs(node.outputs.size());
  QCAL_RETURN_IF_ERROR(kernel->Run(inputs, outputs).WithContext(node.Describe()));
  return outputs;
}

}  // namespace qcal
