// save_model: check the record, build the QuantPlan from it, materialize and
// write the quantized models. Nothing is written unless every check passes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "passes/fold_batchnorm.h"
#include "quant/config/quant_config.h"
#include "quant/plan.h"
#include "quant/session.h"

namespace qcal {

struct SaveInputs {
  const Graph* folded = nullptr;          // float graph after BN folding
  const QuantConfig* config = nullptr;
  std::vector<QuantizableLayer> layers;   // layers enabled for quantization, graph order
  std::vector<SkippedLayer> skipped;      // for the report: disabled or not quantizable
  std::vector<Fusion> fusions;
  // Batches each layer's observer saw (from the session or the record header);
  // used to explain missing factors.
  std::map<std::string, int64_t> batch_counts;
  // Layers whose record lacks scale_w get ARQ weights (convert_model); when
  // false a missing scale_w is an error.
  bool arq_if_scale_w_missing = false;
};

// Folds (per config) and scans a float graph into SaveInputs (for ConvertModel);
// `folded` receives the folded graph and must outlive the result.
Result<SaveInputs> PrepareSaveInputs(const QuantConfig& config, const Graph& graph, Graph* folded);

// Reads and checks `record_path` and builds the plan for `in.layers` (nothing is
// written; MaterializeQuantizedGraph turns it into an in-memory model).
Result<QuantPlan> BuildQuantPlan(const SaveInputs& in, const std::string& record_path);

// Reads and checks `record_path`, then writes the requested models for `prefix`.
Status SaveQuantizedModels(const SaveInputs& in, const std::string& record_path, SaveType type,
                           const std::string& prefix, SavedFiles* saved);

// AMCT's save_model for a calibrated session: the record the session wrote is
// read back (so edits to it are honoured) and checked first.
Status SaveModel(const QuantSession& session, SaveType type, const std::string& prefix, SavedFiles* saved = nullptr);

// AMCT's save_model for a calibration that ran elsewhere (qcal calibrate, or a
// session in another process): `config` and `graph` as given to the session;
// the record must hold every enabled layer's factors, weights included. A layer
// without activation factors is explained from the record's `# batches` lines
// ("calibration saw 1 of batch_num=2 batches"); batch_num is the record header's
// when it states one.
Status SaveModelFromRecord(const QuantConfig& config, const Graph& graph, const std::string& record_path,
                           SaveType type, const std::string& prefix, SavedFiles* saved = nullptr);

// AMCT's convert_model: quantized models from a record the user supplies (no
// calibration). Activation factors must be in the record; weights use the
// record's scale_w when present and ARQ otherwise.
Status ConvertModel(const QuantConfig& config, const Graph& graph, const std::string& record_path, SaveType type,
                    const std::string& prefix, SavedFiles* saved = nullptr);

}  // namespace qcal
