// Quantization config JSON. A config that parses must serialize to JSON that
// parses back to the same text.
#include "fuzz_util.h"
#include "quant/config/quant_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = qcal::QuantConfigFromJson(std::string(qcal::fuzz::Bytes(data, size)), "fuzz.json");
  qcal::fuzz::CheckError(config.status());
  if (!config.ok()) return 0;
  std::string json = qcal::QuantConfigToJson(*config);
  auto again = qcal::QuantConfigFromJson(json, "serialized");
  if (!again.ok()) qcal::fuzz::Fail("a serialized config does not parse: " + again.status().message());
  if (qcal::QuantConfigToJson(*again) != json) qcal::fuzz::Fail("config changed in a round trip:\n" + json);
  return 0;
}
