// qcal auto-calibrate: AMCT's accuracy_based_auto_calibration. Calibrates once,
// ranks layers by output cosine, binary-searches how many of the most
// sensitive layers to keep in FP32 so top-1 drops at most --max-drop points.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "accuracy/auto_calibration.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "cli/commands/quant_flags.h"

namespace qcal::cli {
namespace {

struct AutoCalibrateFlags {
  ModelFlags model;
  DataFlags data;  // calibration data; --labels and preprocessing apply to --eval-data too
  std::string eval_data, save_path, config, act_algo, save_type = "both";
  std::vector<std::string> skip_layers;
  bool symmetric = false;
  double max_drop = 0.5;
  int batch_num = 1, weight_bits = 8;
  int64_t batch_size = 16, eval_batch_size = 64, eval_limit = 0;
};

Result<QuantConfig> StartConfig(const AutoCalibrateFlags& f, const Graph& graph) {
  if (!f.config.empty()) return LoadQuantConfig(f.config);
  QCAL_ASSIGN_OR_RETURN(QuantConfig c,
                        CreateQuantConfig(graph, {f.skip_layers, f.batch_num, !f.symmetric, f.weight_bits}));
  for (auto& [name, lc] : c.layers) {
    if (!f.act_algo.empty()) lc.act.act_algo = f.act_algo;
    QCAL_RETURN_IF_ERROR(ValidateLayerConfig(name, lc));
  }
  return c;
}

Status AutoCalibrate(const AutoCalibrateFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph fp32, LoadModelFromFlags(f.model));
  accuracy::AutoCalibrationOptions o;
  QCAL_ASSIGN_OR_RETURN(o.config, StartConfig(f, fp32));
  QCAL_ASSIGN_OR_RETURN(o.save_type, SaveTypeFromName(f.save_type));
  DataFlags calib_flags = f.data, eval_flags = f.data;
  calib_flags.labels.clear();
  eval_flags.data = f.eval_data;
  QCAL_ASSIGN_OR_RETURN(auto calib, OpenData(calib_flags, fp32));
  QCAL_ASSIGN_OR_RETURN(auto eval, OpenData(eval_flags, fp32));
  if (!eval->has_labels()) return InvalidArgument("--eval-data " + f.eval_data + " has no labels; give --labels");
  o.calib_batch_size = f.batch_size;
  o.eval.batch_size = f.eval_batch_size;
  o.eval.limit = f.eval_limit;
  o.max_drop_points = f.max_drop;
  o.prefix = f.save_path;
  QCAL_ASSIGN_OR_RETURN(accuracy::AutoCalibrationResult r, accuracy::RunAutoCalibration(fp32, *calib, *eval, o));
  std::printf("FP32 top-1: %.2f%% (%lld images)\n", 100 * r.fp32_top1, static_cast<long long>(r.eval_images));
  std::printf("%4s %9s %11s  %s\n", "k", "top-1", "drop", "within limit");
  for (const auto& s : r.search.history) {
    std::printf("%4d %8.2f%% %+10.2f  %s\n", s.k, 100 * s.top1, 100 * (s.top1 - r.fp32_top1),
                s.satisfied ? "yes" : "no");
  }
  std::printf("kept in FP32 (%zu of %zu layers):", r.fp32_layers.size(), r.ranking.size());
  for (const auto& l : r.fp32_layers) std::printf(" %s", l.c_str());
  std::printf("\nconfig: %s\nreport: %s\nrecord: %s\n", r.final_config.c_str(), r.report.c_str(), r.record.c_str());
  if (!r.models.fake_quant_model.empty()) std::printf("fake-quant model: %s\n", r.models.fake_quant_model.c_str());
  if (!r.models.deploy_model.empty()) std::printf("deploy model: %s\n", r.models.deploy_model.c_str());
  return Status::Ok();
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<AutoCalibrateFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, true);
  sub.add_option("--eval-data", f->eval_data, "Labeled data for top-1 (same preprocessing as --data)")->required();
  sub.add_option("--max-drop", f->max_drop, "Allowed top-1 drop in points (e.g. 0.5)")->check(CLI::NonNegativeNumber);
  sub.add_option("--eval-limit", f->eval_limit, "Evaluate on the first N images of --eval-data only");
  sub.add_option("--eval-batch-size", f->eval_batch_size, "Images per evaluation batch")->check(CLI::PositiveNumber);
  sub.add_option("--batch-num", f->batch_num, "Calibration batches (AMCT batch_num)")->check(CLI::PositiveNumber);
  sub.add_option("--batch-size", f->batch_size, "Images per calibration batch")->check(CLI::PositiveNumber);
  sub.add_option("--save-path", f->save_path, "Output prefix P: P_final_config.json, P_auto_calibration.json, "
                                             "P_record.txt and the models")->required();
  sub.add_option("--config", f->config,
                 "Starting config JSON (its enabled layers are the candidates); overrides "
                 "--batch-num, --skip-layers, --act-algo, --symmetric, --weight-bits");
  sub.add_option("--save-type", f->save_type, "fakequant, deploy or both");
  sub.add_option("--act-algo", f->act_algo, "Activation algorithm for every layer (default ifmr)");
  sub.add_option("--skip-layers", f->skip_layers, "Layers always kept in float");
  sub.add_flag("--symmetric", f->symmetric, "Symmetric activations (activation_offset false)");
  AddWeightBitsFlag(sub, f->weight_bits);
  return [f]() {
    Status st = AutoCalibrate(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("auto-calibrate", "Keep the most sensitive layers in FP32 until top-1 is within --max-drop",
                      Setup);

}  // namespace qcal::cli
