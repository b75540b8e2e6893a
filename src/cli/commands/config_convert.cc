// qcal create-config (AMCT create_quant_config) and qcal convert (AMCT
// convert_model: quantized models from a record the user supplies).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands/command.h"
#include "cli/commands/model_flags.h"
#include "cli/commands/quant_flags.h"
#include "cli/commands/record_save.h"

namespace qcal::cli {
namespace {

struct CreateConfigFlags {
  ModelFlags model;
  ConfigFlags config;
  std::string output;
};

Status CreateConfig(const CreateConfigFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, MakeConfig(f.config, graph));
  QCAL_RETURN_IF_ERROR(SaveQuantConfig(c, f.output));
  std::printf("config with %zu quantizable layers: %s\n", c.layer_order.size(), f.output.c_str());
  return Status::Ok();
}

std::function<int()> SetupCreateConfig(CLI::App& sub) {
  auto f = std::make_shared<CreateConfigFlags>();
  AddModelFlags(sub, f->model);
  sub.add_option("--output", f->output, "Config JSON to write")->required();
  AddConfigFlags(sub, f->config, false);
  return [f]() {
    Status st = CreateConfig(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

std::function<int()> SetupConvert(CLI::App& sub) {
  auto f = std::make_shared<RecordSaveFlags>();
  AddRecordSaveFlags(sub, *f, "Record file with scale_d/offset_d (scale_w optional: ARQ otherwise)");
  return RecordSaveCommand(f, ConvertModel);
}

}  // namespace

QCAL_REGISTER_COMMAND("create-config", "Write the quantization config (JSON) listing every quantizable layer",
                      SetupCreateConfig);
QCAL_REGISTER_COMMAND("convert", "Build quantized models from a record you supply (no calibration)", SetupConvert);

}  // namespace qcal::cli
