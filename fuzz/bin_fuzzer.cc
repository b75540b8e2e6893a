// Raw .bin data with an --input-shape, through the data source and batcher.
// Byte 0: data type; byte 1: rank (bits 0-1, +1) and batch dim mode (bits 6-7:
// -1, 1, 2, 3); then one byte per non-batch dim; the rest is the file content.
#include <unistd.h>

#include <cstdio>

#include "data/file_sources.h"
#include "fuzz_util.h"

namespace {
std::string* g_path;
constexpr qcal::DataType kTypes[] = {qcal::DataType::kFloat32, qcal::DataType::kUint8, qcal::DataType::kInt8,
                                     qcal::DataType::kInt32, qcal::DataType::kInt64, qcal::DataType::kBool};
}  // namespace

void qcal::fuzz::SetUp() {
  g_path = new std::string("/tmp/qcal_bin_fuzzer_" + std::to_string(getpid()) + ".bin");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  qcal::data::DataOptions options;
  options.bin_dtype = kTypes[data[0] % std::size(kTypes)];
  const size_t rank = (data[1] & 3) + 1;
  const int64_t batch_modes[] = {-1, 1, 2, 3};
  if (size < 2 + rank) return 0;
  options.input_shape = {batch_modes[data[1] >> 6]};
  for (size_t i = 0; i < rank; ++i) options.input_shape.push_back(data[2 + i]);
  // A plain write: the product's atomic write fsyncs, far too slow per fuzz input.
  FILE* f = std::fopen(g_path->c_str(), "wb");
  if (f == nullptr) qcal::fuzz::Fail("cannot write " + *g_path);
  std::fwrite(data + 2 + rank, 1, size - 2 - rank, f);
  std::fclose(f);
  auto source = qcal::data::OpenBinFiles({*g_path}, "/tmp", {}, options);
  qcal::fuzz::CheckError(source.status());
  if (!source.ok()) return 0;
  qcal::data::Batcher batcher(**source, 2);
  for (int64_t b = 0; b < std::min<int64_t>(batcher.num_batches(), 4); ++b) {
    qcal::fuzz::CheckError(batcher.GetBatch(b).status());
  }
  return 0;
}
