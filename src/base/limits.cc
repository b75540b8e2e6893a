#include "base/limits.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include "base/log.h"

namespace qcal {
namespace {

// Parses "123", "64K", "16M", "4G"; -1 when malformed.
int64_t ParseAmount(const std::string& s) {
  if (s.empty()) return -1;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || v <= 0) return -1;
  int shift = 0;
  std::string suffix(end);
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M" || suffix == "m") {
    shift = 20;
  } else if (suffix == "G" || suffix == "g") {
    shift = 30;
  } else if (!suffix.empty()) {
    return -1;
  }
  if (v > (INT64_MAX >> shift)) return -1;
  return static_cast<int64_t>(v) << shift;
}

void OverrideFromEnv(const char* name, int64_t* field) {
  const char* value = std::getenv(name);
  if (value == nullptr) return;
  int64_t v = ParseAmount(value);
  if (v < 0) {
    LogWarning(std::string("ignoring ") + name + "='" + value +
               "': expected a positive integer, optionally with a K, M or G suffix");
    return;
  }
  *field = v;
}

ResourceLimits FromEnvironment() {
  ResourceLimits l;
  OverrideFromEnv("QCAL_MAX_TENSOR_BYTES", &l.max_tensor_bytes);
  OverrideFromEnv("QCAL_MAX_TOTAL_WEIGHT_BYTES", &l.max_total_weight_bytes);
  OverrideFromEnv("QCAL_MAX_NODES", &l.max_nodes);
  OverrideFromEnv("QCAL_MAX_IMAGE_PIXELS", &l.max_image_pixels);
  return l;
}

std::mutex g_mu;
ResourceLimits& Current() {
  static ResourceLimits limits = FromEnvironment();
  return limits;
}

}  // namespace

const ResourceLimits& GetResourceLimits() {
  std::lock_guard<std::mutex> lock(g_mu);
  return Current();
}

ResourceLimits SetResourceLimits(const ResourceLimits& limits) {
  std::lock_guard<std::mutex> lock(g_mu);
  ResourceLimits old = Current();
  Current() = limits;
  return old;
}

Status CheckLimit(std::string_view what, int64_t amount, int64_t limit, std::string_view unit,
                  std::string_view env_name) {
  if (amount >= 0 && amount <= limit) return Status::Ok();
  std::string have = amount < 0 ? "more than 2^63 " + std::string(unit) : std::to_string(amount) + " " + std::string(unit);
  return OutOfRange(std::string(what) + ": " + have + " exceeds the limit of " + std::to_string(limit) + " " +
                    std::string(unit) + " (" + std::string(env_name) +
                    "); the file is corrupt or hostile, or set " + std::string(env_name) +
                    " higher if it is genuine");
}

Status CheckTensorBytes(std::string_view what, int64_t bytes) {
  return CheckLimit(what, bytes, GetResourceLimits().max_tensor_bytes, "bytes", "QCAL_MAX_TENSOR_BYTES");
}

Status CheckNodeCount(std::string_view what, int64_t nodes) {
  return CheckLimit(what, nodes, GetResourceLimits().max_nodes, "nodes", "QCAL_MAX_NODES");
}

}  // namespace qcal
