// Caffe network definition text, imported with the LeNet weights (so layers
// named like LeNet's get real blobs), then the LoadModel pipeline.
#include "frontends/caffe/caffe_importer.h"
#include "fuzz_util.h"
#include "runtime/model_loader.h"

namespace {
std::string* g_weights;
}

void qcal::fuzz::SetUp() {
  g_weights = new std::string(qcal::fuzz::ReadFixture(QCAL_FUZZ_CAFFEMODEL));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto graph = qcal::ImportCaffeBuffers(qcal::fuzz::Bytes(data, size), "fuzz.prototxt", *g_weights,
                                        "lenet.caffemodel");
  qcal::fuzz::CheckError(graph.status());
  if (!graph.ok()) return 0;
  qcal::fuzz::CheckError(qcal::PrepareModel(*graph, {}, "fuzz.prototxt"));
  return 0;
}
