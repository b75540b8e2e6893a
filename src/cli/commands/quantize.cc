// qcal quantize: the one-shot PTQ workflow (create config or load one, init,
// quantize, calibrate on --data, save the fake-quant and deploy models).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/timing.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "cli/commands/quant_flags.h"
#include "quant/calibrate_source.h"

namespace qcal::cli {
namespace {

struct QuantizeFlags {
  ModelFlags model;
  DataFlags data;
  ConfigFlags config;
  int batch_size = 16;
  std::string save_path;
  std::string record;
  std::string save_type = "both";
  int threads = 0;
  std::string report_json;
};

// Logs the calibration summary and writes it to --report-json when given.
Status ReportCalibration(const QuantizeFlags& f, const CalibrationStats& s) {
  const double per_s = s.seconds > 0 ? static_cast<double>(s.images) / s.seconds : 0.0;
  const double rss = PeakRssMiB();
  char line[200];
  std::snprintf(line, sizeof line,
                "calibration: %lld images in %.2f s (%.1f images/s, data loading %.2f s); peak RSS %.0f MiB",
                static_cast<long long>(s.images), s.seconds, per_s, s.data_seconds, rss);
  LogInfo(line);
  if (f.report_json.empty()) return Status::Ok();
  nlohmann::ordered_json j = {{"model", f.model.model},
                              {"act_algo", f.config.act_algo.empty() ? "config" : f.config.act_algo},
                              {"batch_size", f.batch_size},
                              {"batch_num", s.batches},
                              {"threads", f.threads},
                              {"images", s.images},
                              {"seconds", s.seconds},
                              {"data_seconds", s.data_seconds},
                              {"images_per_s", per_s},
                              {"peak_rss_mib", rss},
                              {"load_avg_1m", LoadAverage1m()}};
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(f.report_json));
  return WriteFileAtomic(f.report_json, j.dump(2) + "\n");
}

// Runs `step`; when it fails, puts the record file back as it was before, so a
// failed run never destroys the record of an earlier one.
Status KeepRecordOnFailure(const std::string& record, const std::function<Status()>& step) {
  auto previous = ReadFile(record);  // not found: nothing to keep
  Status st = step();
  if (st.ok() || !previous.ok()) return st;
  Status restored = WriteFileAtomic(record, *previous);
  LogWarning(restored.ok() ? "kept the previous record file " + record + " (this run failed)"
                           : "could not restore the previous record file: " + restored.message());
  return st;
}

Status Quantize(const QuantizeFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(QuantConfig config, MakeConfig(f.config, graph));
  QCAL_ASSIGN_OR_RETURN(SaveType type, SaveTypeFromName(f.save_type));
  std::string record = f.record.empty() ? f.save_path + "_record.txt" : f.record;
  SavedFiles files;
  QCAL_RETURN_IF_ERROR(KeepRecordOnFailure(record, [&]() -> Status {
    CalibrationStats stats;
    QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, graph));
    SessionOptions options;
    options.threads = f.threads;
    QCAL_ASSIGN_OR_RETURN(auto session,
                          CalibrateOnData(graph, config, *source, f.batch_size, record, options, &stats));
    QCAL_RETURN_IF_ERROR(ReportCalibration(f, stats));
    return SaveModel(*session, type, f.save_path, &files);
  }));
  std::printf("record: %s\n", record.c_str());
  PrintSavedFiles(files);
  return Status::Ok();
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<QuantizeFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, false);
  AddConfigFlags(sub, f->config, true);
  sub.add_option("--batch-size", f->batch_size, "Images per calibration batch (default 16)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--save-path", f->save_path,
                 "Output prefix P: writes P_fake_quant_model.onnx, P_deploy_model.onnx, P_quant.json")
      ->required();
  sub.add_option("--record", f->record, "Record file (default P_record.txt)");
  sub.add_option("--save-type", f->save_type, "fakequant, deploy or both (default both)");
  AddThreadsFlag(sub, f->threads);
  sub.add_option("--report-json", f->report_json,
                 "Write calibration throughput (images/s) and peak memory (RSS) as JSON");
  return [f]() {
    Status st = Quantize(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("quantize", "Calibrate a model on data and save INT8 fake-quant and deploy models", Setup);

}  // namespace qcal::cli
