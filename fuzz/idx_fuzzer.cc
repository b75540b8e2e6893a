// MNIST idx files. Byte 0 selects the variant: bit 0 = gzip-compressed,
// bit 1 = idx3 images (then every image is preprocessed like a data source
// does), else idx1 labels. The rest is the file.
#include "data/idx_reader.h"
#include "data/preprocess.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool gz = data[0] & 1, images = data[0] & 2;
  std::string bytes(qcal::fuzz::Bytes(data + 1, size - 1));
  if (gz) {
    auto inflated = qcal::data::Gunzip(bytes, "fuzz.gz");
    qcal::fuzz::CheckError(inflated.status());
    if (!inflated.ok()) return 0;
    bytes = std::move(*inflated);
  }
  auto t = qcal::data::ParseIdx(bytes, "fuzz-idx", images ? 3 : 1);
  qcal::fuzz::CheckError(t.status());
  if (!t.ok() || !images) return 0;
  const int64_t h = t->dim(1), w = t->dim(2);
  for (int64_t i = 0; i < std::min<int64_t>(t->dim(0), 4); ++i) {
    const uint8_t* px = t->data<uint8_t>() + i * h * w;
    qcal::data::Image img{h, w, 1, std::vector<float>(px, px + h * w)};
    qcal::fuzz::CheckError(qcal::data::Preprocess(img, {}, "fuzz-idx").status());
  }
  return 0;
}
