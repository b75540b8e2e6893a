// qcal quantize: the one-shot PTQ workflow (create config or load one, init,
// quantize, calibrate on --data, save the fake-quant and deploy models).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>

#include "base/file.h"
#include "base/log.h"
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

Status Calibrate(QuantSession& session, const data::DataSource& source, const Graph& graph, int batch_size) {
  data::Batcher batcher(source, batch_size);
  int want = session.config().batch_num;
  int have = static_cast<int>(std::min<int64_t>(want, batcher.num_batches()));
  if (have < want) {
    LogWarning("the data gives " + std::to_string(batcher.num_batches()) + " batches of " +
               std::to_string(batch_size) + ", fewer than batch_num=" + std::to_string(want));
  }
  auto start = std::chrono::steady_clock::now();
  int64_t images = 0;
  for (int b = 0; b < have; ++b) {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher.GetBatch(b));
    images += batch.data.dim(0);
    QCAL_RETURN_IF_ERROR(session.Calibrate({{graph.inputs[0].name, batch.data}}));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char line[128];
    std::snprintf(line, sizeof line, "calibration batch %d/%d (%lld images, %.1f images/s)", b + 1, want,
                  static_cast<long long>(images), secs > 0 ? images / secs : 0.0);
    LogInfo(line);
  }
  return Status::Ok();
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
  QCAL_ASSIGN_OR_RETURN(QuantConfig config, MakeConfig(f, graph));
  QCAL_ASSIGN_OR_RETURN(SaveType type, SaveTypeFromName(f.save_type));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, graph));
  LogInfo("calibration data: " + source->Describe());
  std::string record = f.record.empty() ? f.save_path + "_record.txt" : f.record;
  SessionOptions so;
  so.algorithm_summary = f.act_algo.empty() ? "config" : f.act_algo;
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(record));
  SavedFiles files;
  QCAL_RETURN_IF_ERROR(KeepRecordOnFailure(record, [&]() -> Status {
    QCAL_ASSIGN_OR_RETURN(auto session, QuantSession::Init(config, graph, record, so));
    QCAL_RETURN_IF_ERROR(session->QuantizeModel());
    QCAL_RETURN_IF_ERROR(Calibrate(*session, *source, graph, f.batch_size));
    return SaveModel(*session, type, f.save_path, &files);
  }));
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
  return [f]() {
    Status st = Quantize(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("quantize", "Calibrate a model on data and save INT8 fake-quant and deploy models", Setup);

}  // namespace qcal::cli
