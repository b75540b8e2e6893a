// Layer-by-layer comparison of an FP32 model and its quantized (fake-quant or
// deploy) model on the same inputs. Both models run side by side batch by
// batch; executor observer hooks stream every quantized layer's output into an
// ErrorAccumulator, so only one batch of FP32 layer outputs is held at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "accuracy/error_metrics.h"
#include "data/data_source.h"
#include "ir/graph.h"
#include "runtime/executor.h"

namespace qcal::accuracy {

struct LayerError {
  std::string name;     // node name (the layer name of configs and records)
  std::string op_type;
  std::string value;    // the compared output value of the quantized model
  ErrorAccumulator output;                // FP32 vs quantized output, all batches (errors of
                                          // earlier layers included)
  // The layer's own error: the quantized layer run on the FP32 input (its
  // activation through the model's QuantizeLinear/DequantizeLinear) vs the FP32
  // output, as AMCT's sensitivity ranking measures it. Unset when the layer's
  // other inputs are not constants.
  std::optional<ErrorAccumulator> alone;
  std::optional<ErrorAccumulator> weight;  // float weight vs dequantized int8 weight
};

struct CompareReport {
  int64_t samples = 0;
  std::vector<LayerError> layers;   // quantized layers, graph order
  std::vector<LayerError> outputs;  // model outputs
};

class ModelComparer {
 public:
  // `fp32` is the float graph the quantized model was built from, after BN
  // folding (node names match); `quantized` a fake-quant or deploy graph. A
  // quantized layer is a node of a quantizable op type whose activation input
  // comes from a DequantizeLinear.
  static Result<std::unique_ptr<ModelComparer>> Create(const Graph& fp32, const Graph& quantized, int threads = 0);

  // Runs both models on one batch (every graph input by name) and accumulates.
  Status AddBatch(const TensorMap& inputs);
  const CompareReport& report() const { return report_; }

 private:
  ModelComparer() = default;
  Status Capture(const Node& node, const std::vector<const Tensor*>& outputs);
  Status Accumulate(const Node& node, const std::vector<const Tensor*>& outputs);

  // What the layer-only error needs: copies of the quantized nodes and their constant inputs.
  struct Isolated {
    Node quantize, dequantize, layer;
    std::vector<Tensor> quantize_in, dequantize_in, layer_in;  // constants; slot 0 / act slot filled per batch
    int act_input = 0;
    std::string act_value;  // the FP32 value the quantizer reads
  };
  Status AddIsolated(size_t index, const Isolated& iso, const Tensor& ref);

  std::unique_ptr<Executor> fp32_, quant_;
  std::vector<std::optional<Isolated>> isolated_;
  std::map<std::string, int> act_uses_;          // FP32 activation value -> layers reading it
  std::map<std::string, Tensor> captured_acts_;  // this batch's FP32 activations still needed
  std::map<std::string, int> act_left_;
  std::map<std::string, size_t> fp32_node_to_layer_, quant_node_to_layer_;
  std::vector<Tensor> captured_;  // this batch's FP32 output per layer
  CompareReport report_;
};

struct CompareOptions {
  int64_t batch_size = 16;
  int64_t limit = 0;  // > 0: only the first `limit` samples
  int threads = 0;
};

// Feeds `source` (model input = graph input 0) to a ModelComparer.
Result<CompareReport> CompareOnData(const Graph& fp32, const Graph& quantized, const data::DataSource& source,
                                    const CompareOptions& options);

// Layers sorted worst first (lowest output cosine; ties keep graph order).
// `alone`: by the layer-only cosine where known (AMCT's sensitivity).
std::vector<const LayerError*> WorstFirst(const CompareReport& report, bool alone = false);

// The first `keep` samples of a batch-major tensor (any dtype).
Tensor FirstSamples(const Tensor& batch, int64_t keep);

}  // namespace qcal::accuracy
