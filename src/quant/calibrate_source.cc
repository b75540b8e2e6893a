#include "quant/calibrate_source.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/log.h"

namespace qcal {

Result<int> CalibrateFromSource(QuantSession& session, const data::DataSource& source, const std::string& input_name,
                                int64_t batch_size) {
  if (batch_size <= 0) return InvalidArgument("calibration batch size must be > 0, got " + std::to_string(batch_size));
  data::Batcher batcher(source, batch_size);
  int want = session.config().batch_num;
  int have = static_cast<int>(std::min<int64_t>(want, batcher.num_batches()));
  if (have < want) {
    LogWarning("the data gives " + std::to_string(batcher.num_batches()) + " batches of " +
               std::to_string(batch_size) + ", fewer than batch_num=" + std::to_string(want));
  }
  auto start = std::chrono::steady_clock::now();
  int64_t images = 0;
  for (int b = 0; b < have; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    images += batch.data.dim(0);
    QCAL_RETURN_IF_ERROR(session.Calibrate({{input_name, batch.data}}));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char line[128];
    std::snprintf(line, sizeof line, "calibration batch %d/%d (%lld images, %.1f images/s)", b + 1, want,
                  static_cast<long long>(images), secs > 0 ? images / secs : 0.0);
    LogInfo(line);
  }
  return have;
}

}  // namespace qcal
