// qcal create-config (AMCT create_quant_config) and qcal convert (AMCT
// convert_model: quantized models from a record the user supplies).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands/command.h"
#include "cli/commands/model_flags.h"
#include "exporters/save_model.h"
#include "quant/config/quant_config.h"

namespace qcal::cli {
namespace {

struct CreateConfigFlags {
  ModelFlags model;
  std::string output;
  std::vector<std::string> skip_layers;
  int batch_num = 1;
  bool symmetric = false;
};

Status CreateConfig(const CreateConfigFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, CreateQuantConfig(graph, {f.skip_layers, f.batch_num, !f.symmetric}));
  QCAL_RETURN_IF_ERROR(SaveQuantConfig(c, f.output));
  std::printf("config with %zu quantizable layers: %s\n", c.layer_order.size(), f.output.c_str());
  return Status::Ok();
}

std::function<int()> SetupCreateConfig(CLI::App& sub) {
  auto f = std::make_shared<CreateConfigFlags>();
  AddModelFlags(sub, f->model);
  sub.add_option("--output", f->output, "Config JSON to write")->required();
  sub.add_option("--skip-layers", f->skip_layers, "Quantizable layers to keep in float");
  sub.add_option("--batch-num", f->batch_num, "Calibration batches")->check(CLI::PositiveNumber);
  sub.add_flag("--symmetric", f->symmetric, "activation_offset false (symmetric activations)");
  return [f]() {
    Status st = CreateConfig(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

struct ConvertFlags {
  ModelFlags model;
  std::string config;
  std::string record;
  std::string save_path;
  std::string save_type = "both";
};

Status Convert(const ConvertFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QuantConfig config;
  if (f.config.empty()) {
    QCAL_ASSIGN_OR_RETURN(config, CreateQuantConfig(graph, {}));
  } else {
    QCAL_ASSIGN_OR_RETURN(config, LoadQuantConfig(f.config));
  }
  QCAL_ASSIGN_OR_RETURN(SaveType type, SaveTypeFromName(f.save_type));
  SavedFiles files;
  QCAL_RETURN_IF_ERROR(ConvertModel(config, graph, f.record, type, f.save_path, &files));
  if (!files.fake_quant_model.empty()) std::printf("fake-quant model: %s\n", files.fake_quant_model.c_str());
  if (!files.deploy_model.empty()) std::printf("deploy model: %s\n", files.deploy_model.c_str());
  std::printf("report: %s\n", files.quant_json.c_str());
  return Status::Ok();
}

std::function<int()> SetupConvert(CLI::App& sub) {
  auto f = std::make_shared<ConvertFlags>();
  AddModelFlags(sub, f->model);
  sub.add_option("--record", f->record, "Record file with scale_d/offset_d (scale_w optional: ARQ otherwise)")
      ->required();
  sub.add_option("--config", f->config, "Config JSON (default: every quantizable layer, AMCT defaults)");
  sub.add_option("--save-path", f->save_path, "Output prefix P")->required();
  sub.add_option("--save-type", f->save_type, "fakequant, deploy or both");
  return [f]() {
    Status st = Convert(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("create-config", "Write the quantization config (JSON) listing every quantizable layer",
                      SetupCreateConfig);
QCAL_REGISTER_COMMAND("convert", "Build quantized models from a record you supply (no calibration)", SetupConvert);

}  // namespace qcal::cli
