// Scale/offset record text. A record that parses must format and parse back
// to the same entries and batch counts (the writer's exact round-trip promise;
// the header line is always restamped with qcal's version).
#include "fuzz_util.h"
#include "quant/record/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qcal::quant;
  auto rec = ParseRecord(qcal::fuzz::Bytes(data, size), "fuzz_record.txt");
  qcal::fuzz::CheckError(rec.status());
  if (!rec.ok()) return 0;
  auto text = FormatRecord(*rec);
  if (!text.ok()) qcal::fuzz::Fail("a parsed record does not format: " + text.status().message());
  auto again = ParseRecord(*text, "formatted");
  if (!again.ok()) qcal::fuzz::Fail("a formatted record does not parse: " + again.status().message());
  if (again->entries() != rec->entries() || again->header.layer_batches != rec->header.layer_batches)
    qcal::fuzz::Fail("record changed in a format/parse round trip:\n" + *text);
  return 0;
}
