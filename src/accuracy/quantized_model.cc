#include "accuracy/quantized_model.h"

#include <algorithm>

#include "base/log.h"
#include "exporters/save_model.h"
#include "quant/materialize.h"

namespace qcal::accuracy {

Result<Graph> FakeQuantFromRecord(const QuantConfig& config, const Graph& fp32, const std::string& record_path,
                                  Graph* folded) {
  QCAL_ASSIGN_OR_RETURN(SaveInputs in, PrepareSaveInputs(config, fp32, folded));
  in.arq_if_scale_w_missing = true;
  QCAL_ASSIGN_OR_RETURN(QuantPlan plan, BuildQuantPlan(in, record_path));
  return MaterializeQuantizedGraph(*folded, plan, QuantModelKind::kFakeQuant);
}

Status CalibrateOnData(QuantSession& session, const data::DataSource& source, const std::string& input_name,
                       int64_t batch_size) {
  data::Batcher batcher(source, batch_size);
  int64_t want = session.config().batch_num, have = std::min<int64_t>(want, batcher.num_batches());
  if (have < want) {
    LogWarning("the calibration data gives " + std::to_string(batcher.num_batches()) + " batches of " +
               std::to_string(batch_size) + ", fewer than batch_num=" + std::to_string(want));
  }
  for (int64_t b = 0; b < have; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    QCAL_RETURN_IF_ERROR(session.Calibrate({{input_name, batch.data}}));
    LogInfo("calibration batch " + std::to_string(b + 1) + "/" + std::to_string(want));
  }
  return Status::Ok();
}

}  // namespace qcal::accuracy
