// Resource limits for untrusted inputs (model, weight, data, record and config
// files). Loaders check a declared size against these limits BEFORE they
// allocate, so a hostile or corrupt file gets a clear OutOfRange error instead
// of exhausting memory. All limits are process-wide.
//
// Defaults (generous for real CNNs) can be overridden per run with environment
// variables, read once on first use (a positive integer; K/M/G suffixes =
// 2^10/2^20/2^30, e.g. QCAL_MAX_TENSOR_BYTES=16G):
//
//   field                    env variable                  default
//   max_tensor_bytes         QCAL_MAX_TENSOR_BYTES         4 GiB    one tensor: weight, model input,
//                                                                   intermediate value, data file
//   max_total_weight_bytes   QCAL_MAX_TOTAL_WEIGHT_BYTES   8 GiB    all weights of one model
//   max_nodes                QCAL_MAX_NODES                500000   nodes (ONNX) / layers (Caffe) of a model
//   max_image_pixels         QCAL_MAX_IMAGE_PIXELS         178956970  width * height of one decoded or
//                                                                   resized image (PIL's decompression
//                                                                   bomb limit)
//
// Programs and tests can also set them with SetResourceLimits().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "qcal/status.h"

namespace qcal {

struct ResourceLimits {
  int64_t max_tensor_bytes = int64_t{4} << 30;
  int64_t max_total_weight_bytes = int64_t{8} << 30;
  int64_t max_nodes = 500000;
  int64_t max_image_pixels = 178956970;
};

// The limits in force: defaults, overridden by the environment variables above.
const ResourceLimits& GetResourceLimits();
// Replaces the limits (for programs and tests); returns the previous ones.
ResourceLimits SetResourceLimits(const ResourceLimits& limits);

// Restores the previous limits when it goes out of scope (tests).
class ScopedResourceLimits {
 public:
  explicit ScopedResourceLimits(const ResourceLimits& limits) : saved_(SetResourceLimits(limits)) {}
  ~ScopedResourceLimits() { SetResourceLimits(saved_); }
  ScopedResourceLimits(const ScopedResourceLimits&) = delete;
  ScopedResourceLimits& operator=(const ScopedResourceLimits&) = delete;

 private:
  ResourceLimits saved_;
};

// OutOfRange "<what>: <amount> <unit> exceeds the limit of <limit> (<ENV>); ..."
// when amount > limit; amount < 0 means "too large to count" (overflow).
Status CheckLimit(std::string_view what, int64_t amount, int64_t limit, std::string_view unit,
                  std::string_view env_name);

// Shortcuts for the common limits.
Status CheckTensorBytes(std::string_view what, int64_t bytes);
Status CheckNodeCount(std::string_view what, int64_t nodes);

}  // namespace qcal
