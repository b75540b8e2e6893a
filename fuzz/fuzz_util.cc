#include "fuzz_util.h"

#include "base/file.h"

namespace qcal::fuzz {

std::string ReadFixture(const char* path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) Fail("cannot read fixture " + std::string(path) + ": " + bytes.status().message());
  return *bytes;
}

}  // namespace qcal::fuzz
