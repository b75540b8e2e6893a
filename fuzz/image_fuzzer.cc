// Image files (JPEG, PNG, BMP) through the decode API, then preprocessing
// (resize shorter side, center crop, normalization).
#include "data/image_decode.h"
#include "fuzz_util.h"

namespace {
qcal::data::PreprocessOptions* g_pre;
}

void qcal::fuzz::SetUp() {
  auto pre = qcal::data::ParsePreprocessSpec("resize 16; crop 12; bgr; scale 1/255; mean 0.5; std 0.25");
  if (!pre.ok()) qcal::fuzz::Fail(pre.status().message());
  g_pre = new qcal::data::PreprocessOptions(*pre);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto img = qcal::data::DecodeImage(qcal::fuzz::Bytes(data, size), "fuzz.img");
  qcal::fuzz::CheckError(img.status());
  if (!img.ok()) return 0;
  if (static_cast<int64_t>(img->pixels.size()) != img->height * img->width * img->channels) {
    qcal::fuzz::Fail("decoded pixel count does not match the image size");
  }
  qcal::fuzz::CheckError(qcal::data::Preprocess(*img, *g_pre, "fuzz.img").status());
  return 0;
}
