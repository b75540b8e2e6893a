// Caffe weights (binary NetParameter) imported with the LeNet prototxt.
#include "frontends/caffe/caffe_importer.h"
#include "fuzz_util.h"
#include "runtime/model_loader.h"

namespace {
std::string* g_prototxt;
}

void qcal::fuzz::SetUp() {
  g_prototxt = new std::string(qcal::fuzz::ReadFixture(QCAL_FUZZ_PROTOTXT));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto graph = qcal::ImportCaffeBuffers(*g_prototxt, "lenet.prototxt", qcal::fuzz::Bytes(data, size),
                                        "fuzz.caffemodel");
  qcal::fuzz::CheckError(graph.status());
  if (!graph.ok()) return 0;
  qcal::fuzz::CheckError(qcal::PrepareModel(*graph, {}, "lenet.prototxt"));
  return 0;
}
