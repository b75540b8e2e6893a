#include "quant/weight_quant.h"

#include "quant/algorithms/weights.h"

namespace qcal {
namespace {

// Copies a row-major tensor with its first two axes swapped when axis == 1
// (swapping is its own inverse given the swapped shape); axis 0 copies.
template <typename T>
std::vector<T> ChannelsFirst(const T* src, const Shape& shape, int axis) {
  std::vector<T> out(static_cast<size_t>(NumElements(shape)));
  if (axis == 0) {
    std::copy(src, src + out.size(), out.begin());
    return out;
  }
  int64_t a = shape[0], b = shape[1], inner = NumElements(shape) / (a * b);
  for (int64_t i = 0; i < a; ++i) {
    for (int64_t j = 0; j < b; ++j) {
      const T* from = src + (i * b + j) * inner;
      std::copy(from, from + inner, out.begin() + (j * a + i) * inner);
    }
  }
  return out;
}

Shape ChannelsFirstShape(Shape s, int axis) {
  if (axis == 1) std::swap(s[0], s[1]);
  return s;
}

Status CheckFloat(const Tensor& w, const QuantizableLayer& layer) {
  if (w.dtype() == DataType::kFloat32) return Status::Ok();
  return InvalidArgument("layer '" + layer.name + "': weight is not float32");
}

// `rows`: the weight as [channels, rest] (ChannelsFirst).
Result<WeightQuantResult> Quantize(const Tensor& w, const std::vector<float>& rows,
                                   const QuantizableLayer& layer,
                                   const std::vector<quant::QuantParams>& params, int num_bits) {
  const int axis = layer.weight_axis;
  QCAL_ASSIGN_OR_RETURN(std::vector<int8_t> q,
                        quant::QuantizeWeights(rows, layer.channels, params, num_bits));
  int64_t inner = w.numel() / layer.channels;
  std::vector<float> fq_rows(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    size_t c = params.size() == 1 ? 0 : i / static_cast<size_t>(inner);
    fq_rows[i] = static_cast<float>(q[i]) * params[c].scale;
  }
  Shape rows_shape = ChannelsFirstShape(w.shape(), axis);
  std::vector<int8_t> q_back = ChannelsFirst(q.data(), rows_shape, axis);
  std::vector<float> fq_back = ChannelsFirst(fq_rows.data(), rows_shape, axis);
  WeightQuantResult r;
  for (const auto& p : params) r.scale_w.push_back(p.scale);
  r.weight_q = Tensor::FromVector<int8_t>(q_back, w.shape());
  r.fake_quant = Tensor::FromVector<float>(fq_back, w.shape());
  return r;
}

}  // namespace

Result<WeightQuantResult> ArqQuantizeWeight(const Tensor& w, const QuantizableLayer& layer, bool channel_wise,
                                            int num_bits) {
  QCAL_RETURN_IF_ERROR(CheckFloat(w, layer));
  std::vector<float> rows = ChannelsFirst(w.data<float>(), w.shape(), layer.weight_axis);
  auto params = quant::ArqCalibrate(rows, layer.channels, channel_wise, num_bits);
  if (!params.ok()) return params.status().WithContext("layer '" + layer.name + "' (arq_quantize)");
  return Quantize(w, rows, layer, *params, num_bits);
}

Result<WeightQuantResult> QuantizeWeightWithScales(const Tensor& w, const QuantizableLayer& layer,
                                                   const std::vector<float>& scale_w, int num_bits) {
  QCAL_RETURN_IF_ERROR(CheckFloat(w, layer));
  if (scale_w.size() != 1 && static_cast<int64_t>(scale_w.size()) != layer.channels) {
    return InvalidArgument("layer '" + layer.name + "': scale_w has " + std::to_string(scale_w.size()) +
                           " values, expected 1 or " + std::to_string(layer.channels) + " (output channels)");
  }
  std::vector<quant::QuantParams> params;
  for (float s : scale_w) params.push_back({s, 0});
  std::vector<float> rows = ChannelsFirst(w.data<float>(), w.shape(), layer.weight_axis);
  Status fits = quant::CheckWeightScales(rows, layer.channels, params, num_bits);
  if (!fits.ok()) return fits.WithContext("layer '" + layer.name + "' (record scale_w)");
  return Quantize(w, rows, layer, params, num_bits);
}

}  // namespace qcal
