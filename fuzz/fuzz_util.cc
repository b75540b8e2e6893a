#include "fuzz_util.h"

#include "base/file.h"

namespace qcal::fuzz {

std::string ReadFixture(const char* path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) Fail("cannot read fixture " + std::string(path) + ": " + bytes.status().message());
  return *bytes;
}

__attribute__((weak)) void SetUp() {}

}  // namespace qcal::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  qcal::fuzz::Init();
  qcal::fuzz::SetUp();
  return 0;
}
