// --preprocess specs, then the pipeline on a small image.
#include "data/preprocess.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pre = qcal::data::ParsePreprocessSpec(qcal::fuzz::Bytes(data, size));
  qcal::fuzz::CheckError(pre.status());
  if (!pre.ok()) return 0;
  qcal::data::Image img{5, 7, 3, std::vector<float>(5 * 7 * 3, 100.0f)};
  qcal::fuzz::CheckError(qcal::data::Preprocess(img, *pre, "fuzz.img").status());
  return 0;
}
