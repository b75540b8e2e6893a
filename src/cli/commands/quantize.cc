// qcal quantize: the one-shot PTQ workflow (create config or load one, init,
// quantize, calibrate on --data, save the fake-quant and deploy models).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/timing.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "exporters/save_model.h"
#include "quant/session.h"

namespace qcal::cli {
namespace {

struct QuantizeFlags {
  ModelFlags model;
  DataFlags data;
  int batch_num = 1;
  int batch_size = 16;
  std::string save_path;
  std::string config;
  std::string record;
  std::string save_type = "both";
  std::string act_algo;
  std::vector<std::string> skip_layers;
  bool symmetric = false;
  int threads = 0;
  std::string report_json;
};

// Calibration throughput: images/s counts everything a batch costs (reading and
// preprocessing it, the forward pass with observers, the final parameter search).
struct CalibrationStats {
  int batches = 0;
  int64_t images = 0;
  double seconds = 0;       // whole calibration loop
  double data_seconds = 0;  // of which reading / preprocessing batches
};

Result<QuantConfig> MakeConfig(const QuantizeFlags& f, const Graph& graph) {
  if (!f.config.empty()) return LoadQuantConfig(f.config);
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, CreateQuantConfig(graph, {f.skip_layers, f.batch_num, !f.symmetric}));
  if (!f.act_algo.empty()) {
    for (auto& [name, lc] : c.layers) lc.act.act_algo = f.act_algo;
  }
  for (const auto& name : c.layer_order) QCAL_RETURN_IF_ERROR(ValidateLayerConfig(name, c.layers.at(name)));
  return c;
}

Status Calibrate(QuantSession& session, const data::DataSource& source, const Graph& graph, int batch_size,
                 CalibrationStats* stats) {
  data::Batcher batcher(source, batch_size);
  int want = session.config().batch_num;
  int have = static_cast<int>(std::min<int64_t>(want, batcher.num_batches()));
  if (have < want) {
    LogWarning("the data gives " + std::to_string(batcher.num_batches()) + " batches of " +
               std::to_string(batch_size) + ", fewer than batch_num=" + std::to_string(want));
  }
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const auto start = Clock::now();
  for (int b = 0; b < have; ++b) {
    const auto load_start = Clock::now();
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    stats->data_seconds += seconds_since(load_start);
    stats->images += batch.data.dim(0);
    stats->batches = b + 1;
    QCAL_RETURN_IF_ERROR(session.Calibrate({{graph.inputs[0].name, batch.data}}));
    stats->seconds = seconds_since(start);
    char line[128];
    std::snprintf(line, sizeof line, "calibration batch %d/%d (%lld images, %.1f images/s)", b + 1, want,
                  static_cast<long long>(stats->images), stats->seconds > 0 ? stats->images / stats->seconds : 0.0);
    LogInfo(line);
  }
  return Status::Ok();
}

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
                              {"act_algo", f.act_algo.empty() ? "config" : f.act_algo},
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

Status Quantize(const QuantizeFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(QuantConfig config, MakeConfig(f, graph));
  QCAL_ASSIGN_OR_RETURN(SaveType type, SaveTypeFromName(f.save_type));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, graph));
  LogInfo("calibration data: " + source->Describe());
  std::string record = f.record.empty() ? f.save_path + "_record.txt" : f.record;
  SessionOptions so;
  so.algorithm_summary = f.act_algo.empty() ? "config" : f.act_algo;
  so.threads = f.threads;
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(record));
  QCAL_ASSIGN_OR_RETURN(auto session, QuantSession::Init(config, graph, record, so));
  QCAL_RETURN_IF_ERROR(session->QuantizeModel());
  CalibrationStats stats;
  QCAL_RETURN_IF_ERROR(Calibrate(*session, *source, graph, f.batch_size, &stats));
  QCAL_RETURN_IF_ERROR(ReportCalibration(f, stats));
  SavedFiles files;
  QCAL_RETURN_IF_ERROR(SaveModel(*session, type, f.save_path, &files));
  std::printf("record: %s\n", record.c_str());
  if (!files.fake_quant_model.empty()) std::printf("fake-quant model: %s\n", files.fake_quant_model.c_str());
  if (!files.deploy_model.empty()) std::printf("deploy model: %s\n", files.deploy_model.c_str());
  std::printf("report: %s\n", files.quant_json.c_str());
  return Status::Ok();
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<QuantizeFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, false);
  sub.add_option("--batch-num", f->batch_num, "Calibration batches (AMCT batch_num)")->check(CLI::PositiveNumber);
  sub.add_option("--batch-size", f->batch_size, "Images per calibration batch")->check(CLI::PositiveNumber);
  sub.add_option("--save-path", f->save_path, "Output prefix P: writes P_fake_quant_model.onnx, "
                                             "P_deploy_model.onnx, P_quant.json")->required();
  sub.add_option("--config", f->config, "Quantization config JSON (from create-config); overrides "
                                       "--batch-num, --skip-layers, --act-algo, --symmetric");
  sub.add_option("--record", f->record, "Record file (default P_record.txt)");
  sub.add_option("--save-type", f->save_type, "fakequant, deploy or both");
  sub.add_option("--act-algo", f->act_algo, "Activation algorithm for every layer: ifmr (default), hfmg, minmax, "
                                           "percentile, kl, mse");
  sub.add_option("--skip-layers", f->skip_layers, "Layers to keep in float");
  sub.add_flag("--symmetric", f->symmetric, "Symmetric activations (activation_offset false)");
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
