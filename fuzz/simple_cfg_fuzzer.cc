// AMCT's simplified calibration config (quant.cfg text), parsed and applied to
// the bundled Fashion-MNIST CNN (so layer names and types can match).
#include "fuzz_util.h"
#include "quant/config/simple_cfg.h"
#include "runtime/model_loader.h"

namespace {
qcal::Graph* g_graph;
}

void qcal::fuzz::SetUp() {
  auto graph = qcal::LoadModel({QCAL_FUZZ_CNN, ""});
  if (!graph.ok()) qcal::fuzz::Fail(graph.status().message());
  g_graph = new qcal::Graph(std::move(*graph));
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cfg = qcal::ParseSimpleCfg(qcal::fuzz::Bytes(data, size), "fuzz.cfg");
  qcal::fuzz::CheckError(cfg.status());
  if (!cfg.ok()) return 0;
  qcal::fuzz::CheckError(qcal::QuantConfigFromSimpleCfg(*cfg, *g_graph).status());
  return 0;
}
