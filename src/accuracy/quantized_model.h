// Building quantized models in memory (for comparison and accuracy search).
#pragma once

#include <string>

#include "ir/graph.h"
#include "quant/config/quant_config.h"
#include "quant/session.h"

namespace qcal::accuracy {

// The fake-quant model of `fp32` for `config` and the factors in `record_path`
// (what convert_model would save, without writing files; layers without
// scale_w in the record get ARQ weights). `folded` receives the BN-folded
// float graph it was built from (the FP32 side of a comparison).
Result<Graph> FakeQuantFromRecord(const QuantConfig& config, const Graph& fp32, const std::string& record_path,
                                  Graph* folded);

}  // namespace qcal::accuracy
