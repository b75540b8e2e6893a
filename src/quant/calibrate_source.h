// The calibration loop over a data source: what AMCT's user does between
// quantize_model and save_model (batch_num inferences), shared by the CLI and
// the public API.
#pragma once

#include <cstdint>
#include <string>

#include "data/data_source.h"
#include "quant/session.h"

namespace qcal {

// Feeds min(batch_num, available) batches of `batch_size` samples from `source`
// to the session's input `input_name`, logging progress. Warns when the data
// gives fewer than batch_num batches (save then names the layers without
// factors). Returns the number of batches fed.
Result<int> CalibrateFromSource(QuantSession& session, const data::DataSource& source, const std::string& input_name,
                                int64_t batch_size);

}  // namespace qcal
