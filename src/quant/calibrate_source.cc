#include "quant/calibrate_source.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/log.h"

namespace qcal {

Result<int> CalibrateFromSource(QuantSession& session, const data::DataSource& source, const std::string& input_name,
                                int64_t batch_size, CalibrationStats* stats) {
  CalibrationStats local;
  CalibrationStats& st = stats ? *stats : local;
  if (batch_size <= 0) return InvalidArgument("calibration batch size must be > 0, got " + std::to_string(batch_size));
  data::Batcher batcher(source, batch_size);
  int want = session.config().batch_num;
  int have = static_cast<int>(std::min<int64_t>(want, batcher.num_batches()));
  if (have < want) {
    LogWarning("the data gives " + std::to_string(batcher.num_batches()) + " batches of " +
               std::to_string(batch_size) + ", fewer than batch_num=" + std::to_string(want));
  }
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto start = Clock::now();
  for (int b = 0; b < have; ++b) {
    const auto load_start = Clock::now();
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    st.data_seconds += seconds_since(load_start);
    st.images += batch.data.dim(0);
    st.batches = b + 1;
    QCAL_RETURN_IF_ERROR(session.Calibrate({{input_name, batch.data}}));
    st.seconds = seconds_since(start);
    char line[128];
    std::snprintf(line, sizeof line, "calibration batch %d/%d (%lld images, %.1f images/s)", b + 1, want,
                  static_cast<long long>(st.images), st.seconds > 0 ? st.images / st.seconds : 0.0);
    LogInfo(line);
  }
  QCAL_RETURN_IF_ERROR(session.FlushRecord());  // the progress of the last batches, if the data ran out
  return have;
}

Result<std::unique_ptr<QuantSession>> CalibrateOnData(const Graph& graph, const QuantConfig& config,
                                                      const data::DataSource& source, int64_t batch_size,
                                                      const std::string& record, const SessionOptions& options,
                                                      CalibrationStats* stats) {
  if (graph.inputs.size() != 1) {
    return Unsupported("calibration from a data source feeds one model input; this model has " +
                       std::to_string(graph.inputs.size()));
  }
  LogInfo("calibration data: " + source.Describe());
  SessionOptions session_options = options;
  if (session_options.batch_size == 0) session_options.batch_size = batch_size;
  QCAL_ASSIGN_OR_RETURN(auto session, QuantSession::Init(config, graph, record, session_options));
  QCAL_RETURN_IF_ERROR(session->QuantizeModel());
  QCAL_RETURN_IF_ERROR(CalibrateFromSource(*session, source, graph.inputs[0].name, batch_size, stats).status());
  return session;
}

}  // namespace qcal
