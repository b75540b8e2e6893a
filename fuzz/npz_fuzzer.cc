// .npz (zip of .npy) bytes.
#include "fuzz_util.h"
#include "ir/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qcal::fuzz::CheckError(qcal::ParseNpz(qcal::fuzz::Bytes(data, size), "fuzz.npz").status());
  return 0;
}
