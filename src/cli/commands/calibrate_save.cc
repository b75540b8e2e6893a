// qcal calibrate and qcal save: the one-shot `quantize` split in two steps, as
// AMCT's quantize_model + batch_num inferences (calibrate: writes the record
// only) and save_model (save: checks the record, writes the models).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "base/log.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "cli/commands/quant_flags.h"
#include "cli/commands/record_save.h"
#include "quant/calibrate_source.h"

namespace qcal::cli {
namespace {

struct CalibrateFlags {
  ModelFlags model;
  DataFlags data;
  ConfigFlags config;
  int batch_size = 16;
  std::string record;
};

Status Calibrate(const CalibrateFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(QuantConfig config, MakeConfig(f.config, graph));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, graph));
  QCAL_ASSIGN_OR_RETURN(auto session, CalibrateOnData(graph, config, *source, f.batch_size, f.record));
  int incomplete = 0;
  for (const auto& [layer, n] : session->LayerBatchCounts()) incomplete += n < config.batch_num;
  if (incomplete) {
    LogWarning(std::to_string(incomplete) + " layers saw fewer than batch_num=" + std::to_string(config.batch_num) +
               " batches and have no activation factors; qcal save will refuse this record");
  }
  std::printf("record: %s\n", f.record.c_str());
  return Status::Ok();
}

std::function<int()> SetupCalibrate(CLI::App& sub) {
  auto f = std::make_shared<CalibrateFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, false);
  AddConfigFlags(sub, f->config, true);
  sub.add_option("--batch-size", f->batch_size, "Images per calibration batch (default 16)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--record", f->record, "Record file to write (scale_d/offset_d, scale_w/offset_w per layer)")
      ->required();
  return [f]() {
    Status st = Calibrate(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

std::function<int()> SetupSave(CLI::App& sub) {
  auto f = std::make_shared<RecordSaveFlags>();
  AddRecordSaveFlags(sub, *f, "Record file written by qcal calibrate");
  sub.footer(
      "Give the same model and config flags as to qcal calibrate. Nothing is written unless every quantized "
      "layer has complete factors in the record; a layer without them is listed with the batches its "
      "calibration saw (from the record's '# batches' lines).");
  return RecordSaveCommand(f, SaveModelFromRecord);
}

}  // namespace

QCAL_REGISTER_COMMAND("calibrate", "Calibrate a model on data and write the record file (AMCT quantize_model + "
                                   "batch_num inferences)",
                      SetupCalibrate);
QCAL_REGISTER_COMMAND("save", "Check a record and write the fake-quant and deploy models (AMCT save_model)",
                      SetupSave);

}  // namespace qcal::cli
