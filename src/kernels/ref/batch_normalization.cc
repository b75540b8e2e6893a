// BatchNormalization, inference form (5 inputs, 1 output), float32:
//
//   y[n, c, ...] = (x[n, c, ...] - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]
//
// training_mode = 1 (or the training outputs running_mean / running_var) is
// Unsupported: qcal only runs inference graphs.
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

Status InferBatchNormalization(const OpContext& ctx, std::vector<TensorType>& outputs) {
  if (ctx.node.attrs.GetInt("training_mode", 0) != 0) {
    return Unsupported("training_mode=1 is not supported; export the model in inference mode");
  }
  for (size_t i = 1; i < ctx.node.outputs.size(); ++i) {
    if (!ctx.node.outputs[i].empty()) {
      return Unsupported("the training outputs (running mean/var) are not supported; export in inference mode");
    }
  }
  for (size_t i = 0; i < 5; ++i) QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, i, {DataType::kFloat32}));
  const Shape& x = ctx.inputs[0].shape;
  if (x.size() < 2) return InvalidArgument("input X has shape " + ShapeToString(x) + ", expected [N, C, ...]");
  static const char* kNames[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i < 5; ++i) {
    const Shape& s = ctx.inputs[i].shape;
    if (s.size() != 1 || (s[0] >= 0 && x[1] >= 0 && s[0] != x[1])) {
      return InvalidArgument(std::string("input ") + kNames[i] + " has shape " + ShapeToString(s) + ", expected [" +
                             std::to_string(x[1]) + "] (the channel count of X " + ShapeToString(x) + ")");
    }
  }
  outputs[0] = ctx.inputs[0];
  return Status::Ok();
}

Status RunBatchNormalization(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  const int64_t channels = x.dim(1);
  for (size_t i = 1; i < 5; ++i) {
    if (in[i]->numel() != channels) {
      return InvalidArgument("input " + std::to_string(i) + " has shape " + ShapeToString(in[i]->shape()) +
                             ", expected [" + std::to_string(channels) + "]");
    }
  }
  const float epsilon = node.attrs.GetFloat("epsilon", 1e-5f);
  const float* scale = in[1]->data<float>();
  const float* bias = in[2]->data<float>();
  const float* mean = in[3]->data<float>();
  const float* var = in[4]->data<float>();
  Tensor& y = PrepareOutput(out, 0, DataType::kFloat32, x.shape());
  const int64_t inner = channels > 0 && x.dim(0) > 0 ? x.numel() / (x.dim(0) * channels) : 0;
  const float* src = x.data<float>();
  float* dst = y.data<float>();
  for (int64_t n = 0; n < x.dim(0); ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      // y = x * a + b with a = scale / sqrt(var + eps), b = B - mean * a.
      const float a = scale[c] / std::sqrt(var[c] + epsilon);
      const float b = bias[c] - mean[c] * a;
      for (int64_t i = 0; i < inner; ++i) *dst++ = *src++ * a + b;
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateBatchNormalization(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunBatchNormalization);
}

}  // namespace

QCAL_REGISTER_OP("BatchNormalization", InferBatchNormalization, 5, 5, 1, 3);
QCAL_REGISTER_KERNEL("BatchNormalization", "ref", 0, nullptr, CreateBatchNormalization);

}  // namespace qcal::ref
