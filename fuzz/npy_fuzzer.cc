// .npy bytes. An array that parses must serialize and parse back identically.
#include <cstring>

#include "fuzz_util.h"
#include "ir/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = qcal::ParseNpy(qcal::fuzz::Bytes(data, size), "fuzz.npy");
  qcal::fuzz::CheckError(t.status());
  if (!t.ok()) return 0;
  auto again = qcal::ParseNpy(qcal::SerializeNpy(*t), "serialized");
  if (!again.ok()) qcal::fuzz::Fail("a serialized .npy does not parse: " + again.status().message());
  if (again->dtype() != t->dtype() || again->shape() != t->shape() ||
      (t->nbytes() && std::memcmp(again->raw(), t->raw(), t->nbytes()) != 0)) {
    qcal::fuzz::Fail(".npy changed in a round trip");
  }
  return 0;
}
