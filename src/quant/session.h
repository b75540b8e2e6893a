// The PTQ workflow, mirroring AMCT's steps:
//   QuantSession::Init(config, graph, record)   record file created or emptied
//   QuantizeModel()   BN/Scale folding, ARQ weight quantization (scale_w/offset_w
//                     into the record), activation observers attached
//   Calibrate(batch)  x batch_num: stream user data through qcal's runtime
// then exporters/save_model.h: SaveModel(session, kind, prefix) checks the record
// and writes the fake-quant / deploy models; ConvertModel() does the same for a
// record the user supplies (no calibration).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/fold_batchnorm.h"
#include "quant/config/quant_config.h"
#include "quant/observer.h"
#include "quant/plan.h"
#include "runtime/executor.h"

namespace qcal {

enum class SaveType { kFakeQuant, kDeploy, kBoth };
Result<SaveType> SaveTypeFromName(const std::string& name);  // fakequant | deploy | both (any case)

struct SessionOptions {
  // Upper bound for IFMR's raw-value stores (all layers together). 0: half of
  // the machine's physical memory.
  uint64_t ifmr_memory_limit = 0;
  int threads = 0;
  // Calibration batch size when known up front (0: unknown): the calibration
  // executor is then prepared for it once, in QuantizeModel, instead of for
  // batch 1 there and again at the first batch.
  int64_t batch_size = 0;
  std::string algorithm_summary;  // for the record header, e.g. "ifmr"; "": ActivationAlgorithmSummary
};

// Paths written by SaveModel for a prefix P.
struct SavedFiles {
  std::string fake_quant_model;  // P_fake_quant_model.onnx
  std::string deploy_model;      // P_deploy_model.onnx
  std::string quant_json;        // P_quant.json
};

class QuantSession {
 public:
  // `graph` is the FP32 model as loaded (qcal IR). The record file is created
  // (or emptied) now, with its parent directories.
  static Result<std::unique_ptr<QuantSession>> Init(const QuantConfig& config, Graph graph,
                                                    const std::string& record_path,
                                                    SessionOptions options = {});

  ~QuantSession();  // writes a progress record that is not on disk yet (FlushRecord), best effort

  Status QuantizeModel();
  // One calibration batch: every graph input by name (batch-major). The
  // record file shows the progress (batches per layer) at most
  // kProgressRecordInterval behind; the batch that completes calibration
  // writes the complete record (flushed to the disk).
  Status Calibrate(const TensorMap& batch);
  // Writes the progress record if batches ran since the record file was last
  // written. SaveModel and CalibrateFromSource call it; so does the destructor.
  Status FlushRecord() const;
  static constexpr std::chrono::milliseconds kProgressRecordInterval{1000};

  int batches_seen() const { return batches_; }
  bool quantized() const { return quantized_; }
  const std::string& record_path() const { return record_path_; }
  // Layers enabled for quantization (after folding), graph order.
  const std::vector<QuantizableLayer>& layers() const { return layers_; }
  const QuantConfig& config() const { return config_; }
  // The float graph after folding (what the quantized models are built from).
  const Graph& folded_graph() const { return folded_; }
  const std::vector<Fusion>& fusions() const { return fusions_; }
  // Batches each enabled layer's observer has seen (for messages and tests).
  std::map<std::string, int> LayerBatchCounts() const;

 private:
  QuantSession(QuantConfig config, Graph graph, std::string record_path, SessionOptions options);
  Status QuantizeWeights();
  Status AttachObservers();
  Status PrepareObservers(const TensorMap& batch);
  Status RunBatch(const TensorMap& batch);
  // Observe, then (in the final batch) FinishEarly.
  Status ObserveOne(ActivationObserver& obs, const Tensor& t);
  Status FinishLayers();
  // sync false: a progress record (replaced by a later one), not flushed to the disk.
  Status WriteRecord(bool sync = true) const;

  QuantConfig config_;
  Graph original_;
  Graph folded_;
  std::string record_path_;
  SessionOptions options_;
  std::vector<Fusion> fusions_;
  std::vector<QuantizableLayer> layers_;    // enabled layers, graph order
  std::map<std::string, LayerPlan> plans_;  // by layer: weights now, activations after calibration
  std::map<std::string, std::unique_ptr<ActivationObserver>> observers_;  // by tensor
  std::map<std::string, bool> layer_done_;
  std::unique_ptr<Executor> executor_;
  bool quantized_ = false;
  bool split_batches_ = false;  // fixed-batch model fed larger batches: run per sample
  // The running batch is the last one and each tensor arrives in one part: an
  // observer finishes as soon as it has its data (ActivationObserver::FinishEarly).
  bool finish_on_observe_ = false;
  int batches_ = 0;
  // The record file lags the batches run (progress not written yet), and when it was last written.
  mutable bool record_stale_ = false;
  mutable std::chrono::steady_clock::time_point record_written_;
};

}  // namespace qcal
