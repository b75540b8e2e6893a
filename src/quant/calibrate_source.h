// The calibration loop over a data source: what AMCT's user does between
// quantize_model and save_model (batch_num inferences), shared by the CLI and
// the public API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "data/data_source.h"
#include "quant/session.h"

namespace qcal {

// Calibration throughput: seconds count everything a batch costs (reading and
// preprocessing it, the forward pass with observers, the parameter search).
struct CalibrationStats {
  int batches = 0;
  int64_t images = 0;
  double seconds = 0;       // whole calibration loop
  double data_seconds = 0;  // of which reading / preprocessing batches
};

// Feeds min(batch_num, available) batches of `batch_size` samples from `source`
// to the session's input `input_name`, logging progress. Warns when the data
// gives fewer than batch_num batches (save then names the layers without
// factors). Returns the number of batches fed.
Result<int> CalibrateFromSource(QuantSession& session, const data::DataSource& source, const std::string& input_name,
                                int64_t batch_size, CalibrationStats* stats = nullptr);

// The whole calibration of `graph` (one input) for `config` on `source`, as quantize, calibrate
// and auto-calibrate run it: QuantSession::Init (record created or emptied), QuantizeModel,
// CalibrateFromSource. The record holds the factors after it.
Result<std::unique_ptr<QuantSession>> CalibrateOnData(const Graph& graph, const QuantConfig& config,
                                                      const data::DataSource& source, int64_t batch_size,
                                                      const std::string& record, const SessionOptions& options = {},
                                                      CalibrationStats* stats = nullptr);

}  // namespace qcal
