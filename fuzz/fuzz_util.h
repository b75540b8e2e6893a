// Shared setup of the libFuzzer targets: low resource limits (so a fuzz input
// cannot make a legitimate multi-GiB allocation that libFuzzer reports as an
// out-of-memory "crash"), quiet logging, and helpers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/limits.h"
#include "base/log.h"
#include "qcal/status.h"

namespace qcal::fuzz {

// LLVMFuzzerInitialize (fuzz_util.cc) calls Init(), then the target's SetUp().
void SetUp();  // optional per-target setup; the default does nothing

inline void Init() {
  SetLogLevel(LogLevel::kError);
  ResourceLimits limits;
  limits.max_tensor_bytes = int64_t{64} << 20;
  limits.max_total_weight_bytes = int64_t{256} << 20;
  limits.max_nodes = 20000;
  limits.max_image_pixels = int64_t{1} << 20;
  SetResourceLimits(limits);
}

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// An invariant of the code under test does not hold: report like a crash.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what.c_str());
  std::abort();
}

// Every error must carry a message (the "clean error" contract).
inline void CheckError(const Status& s) {
  if (!s.ok() && s.message().empty()) Fail("error status without a message");
}

// Reads a whole file given at build time (fixed halves of two-file formats).
std::string ReadFixture(const char* path);

}  // namespace qcal::fuzz
