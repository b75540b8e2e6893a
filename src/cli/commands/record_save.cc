#include "cli/commands/record_save.h"

#include <CLI/CLI.hpp>

#include "cli/commands/command.h"

namespace qcal::cli {

void AddRecordSaveFlags(CLI::App& sub, RecordSaveFlags& f, const std::string& record_help) {
  AddModelFlags(sub, f.model);
  AddConfigFlags(sub, f.config, true);  // default: every quantizable layer, AMCT defaults
  sub.add_option("--record", f.record, record_help)->required();
  sub.add_option("--save-path", f.save_path,
                 "Output prefix P: writes P_fake_quant_model.onnx, P_deploy_model.onnx, P_quant.json")
      ->required();
  sub.add_option("--save-type", f.save_type, "fakequant, deploy or both (default both)");
}

namespace {

Status SaveFromRecord(const RecordSaveFlags& f, RecordSaver saver) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(QuantConfig config, MakeConfig(f.config, graph));
  QCAL_ASSIGN_OR_RETURN(SaveType type, SaveTypeFromName(f.save_type));
  SavedFiles files;
  QCAL_RETURN_IF_ERROR(saver(config, graph, f.record, type, f.save_path, &files));
  PrintSavedFiles(files);
  return Status::Ok();
}

}  // namespace

std::function<int()> RecordSaveCommand(std::shared_ptr<const RecordSaveFlags> flags, RecordSaver saver) {
  return [flags, saver]() {
    Status st = SaveFromRecord(*flags, saver);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace qcal::cli
