#include "accuracy/quantized_model.h"

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

}  // namespace qcal::accuracy
