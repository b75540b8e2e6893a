// Dropout, inference semantics: output = input (aliasing its buffer); the
// optional second output `mask` is all true (bool, input's shape). Inputs
// ratio and training_mode are accepted; training_mode = true is unsupported
// (qcal only runs inference).
#include <algorithm>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status InferDropout(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32}));
  if (const Tensor* t = ctx.constant(2); t && t->numel() == 1 && t->GetAsInt64(0) != 0) {
    return Unsupported("training_mode=true is not supported (inference only)");
  }
  outputs[0] = ctx.inputs[0];
  if (outputs.size() > 1) outputs[1] = {DataType::kBool, ctx.inputs[0].shape};
  return Status::Ok();
}

Status RunDropout(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  if (in.size() > 2 && in[2] && in[2]->numel() == 1 && in[2]->GetAsInt64(0) != 0) {
    return Unsupported("training_mode=true is not supported (inference only)");
  }
  out[0] = *in[0];
  if (out.size() > 1) {
    Tensor& mask = PrepareOutput(out, 1, DataType::kBool, in[0]->shape());
    std::fill_n(mask.data<bool>(), mask.numel(), true);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateDropout(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunDropout); }

}  // namespace

QCAL_REGISTER_OP("Dropout", InferDropout, 1, 3, 1, 2);
QCAL_REGISTER_KERNEL("Dropout", "ref", 0, nullptr, CreateDropout);

}  // namespace qcal::ref
