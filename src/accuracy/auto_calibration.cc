#include "accuracy/auto_calibration.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "accuracy/compare.h"
#include "accuracy/quantized_model.h"
#include "base/file.h"
#include "base/log.h"
#include "exporters/save_model.h"
#include "quant/calibrate_source.h"

namespace qcal::accuracy {
namespace {

using Json = nlohmann::ordered_json;

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * fraction);
  return buf;
}

// The config with the first k ranked layers disabled.
QuantConfig WithFallback(const QuantConfig& base, const std::vector<RankedLayer>& ranking, int k) {
  QuantConfig c = base;
  for (int i = 0; i < k; ++i) c.layers.at(ranking[static_cast<size_t>(i)].name).quant_enable = false;
  return c;
}

Result<std::vector<RankedLayer>> RankLayers(const Graph& fp32, const QuantConfig& config, const std::string& record,
                                            const data::DataSource& calib, const AutoCalibrationOptions& o) {
  Graph folded;
  QCAL_ASSIGN_OR_RETURN(Graph fq, FakeQuantFromRecord(config, fp32, record, &folded));
  CompareOptions co;
  co.batch_size = o.calib_batch_size;
  co.limit = o.calib_batch_size * config.batch_num;
  co.threads = o.threads;
  QCAL_ASSIGN_OR_RETURN(CompareReport report, CompareOnData(folded, fq, calib, co));
  std::vector<RankedLayer> ranking;
  for (const LayerError* l : WorstFirst(report, true)) {
    ranking.push_back({l->name, l->alone ? l->alone->Cosine() : l->output.Cosine(), l->output.Cosine()});
  }
  return ranking;
}

Json ReportJson(const AutoCalibrationResult& r, const AutoCalibrationOptions& o) {
  Json ranking = Json::array(), history = Json::array();
  for (const auto& l : r.ranking) {
    ranking.push_back({{"layer", l.name}, {"cosine", l.cosine}, {"output_cosine", l.output_cosine}});
  }
  for (const auto& s : r.search.history) {
    Json fallback = Json::array();
    for (int i = 0; i < s.k; ++i) fallback.push_back(r.ranking[static_cast<size_t>(i)].name);
    history.push_back({{"k", s.k}, {"top1", s.top1}, {"drop_points", 100 * (r.fp32_top1 - s.top1)},
                       {"satisfied", s.satisfied}, {"fp32_layers", fallback}});
  }
  Json j = {{"strategy", "BinarySearch"}, {"sensitivity", "CosineSimilarity"},
            {"metric", "top1"},           {"eval_images", r.eval_images},
            {"fp32_top1", r.fp32_top1},   {"max_drop_points", o.max_drop_points},
            {"record", r.record},         {"ranking", ranking},
            {"history", history}};
  if (r.search.k) {
    j["result"] = {{"k", *r.search.k}, {"fp32_layers", r.fp32_layers}, {"config", r.final_config}};
  } else {
    j["result"] = nullptr;
  }
  return j;
}

}  // namespace

Result<SearchResult> BinarySearchFallback(int num_layers, double fp32_top1, double max_drop_points,
                                          const std::function<Result<double>(int k)>& evaluate) {
  SearchResult r;
  auto step = [&](int k) -> Result<bool> {
    QCAL_ASSIGN_OR_RETURN(double top1, evaluate(k));
    bool ok = 100.0 * (fp32_top1 - top1) <= max_drop_points + 1e-9;
    r.history.push_back({k, top1, ok});
    LogInfo("auto-calibration: " + std::to_string(k) + " layer(s) in FP32: top-1 " + Percent(top1) +
            (ok ? " (within the limit)" : " (drop too large)"));
    return ok;
  };
  QCAL_ASSIGN_OR_RETURN(bool all_ok, step(0));
  if (all_ok) {
    r.k = 0;
    return r;
  }
  int lo = 1, hi = num_layers - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    QCAL_ASSIGN_OR_RETURN(bool ok, step(mid));
    if (ok) {
      r.k = mid;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return r;
}

Result<AutoCalibrationResult> RunAutoCalibration(const Graph& fp32, const data::DataSource& calib,
                                                 const data::DataSource& eval, const AutoCalibrationOptions& o) {
  if (o.prefix.empty()) return InvalidArgument("no save path prefix given (e.g. out/model)");
  if (fp32.inputs.size() != 1) return Unsupported("auto-calibration feeds one model input");
  AutoCalibrationResult r;
  r.record = o.prefix + "_record.txt";
  r.report = o.prefix + "_auto_calibration.json";
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(r.record));

  TopKAccuracy base("fp32");
  QCAL_RETURN_IF_ERROR(EvaluateTopK(fp32, eval, o.eval, &base));
  r.fp32_top1 = base.Top1();
  r.eval_images = base.images;
  LogInfo("Accuracy of the original model is " + Percent(r.fp32_top1) + " (" + std::to_string(base.images) +
          " images)");

  SessionOptions so;
  so.threads = o.threads;
  so.algorithm_summary = "auto-calibration";
  QCAL_ASSIGN_OR_RETURN(auto session, CalibrateOnData(fp32, o.config, calib, o.calib_batch_size, r.record, so));

  QCAL_ASSIGN_OR_RETURN(r.ranking, RankLayers(fp32, o.config, r.record, calib, o));
  auto evaluate = [&](int k) -> Result<double> {
    Graph folded;
    QCAL_ASSIGN_OR_RETURN(Graph fq, FakeQuantFromRecord(WithFallback(o.config, r.ranking, k), fp32, r.record, &folded));
    TopKAccuracy acc("k=" + std::to_string(k));
    QCAL_RETURN_IF_ERROR(EvaluateTopK(fq, eval, o.eval, &acc));
    return acc.Top1();
  };
  QCAL_ASSIGN_OR_RETURN(r.search, BinarySearchFallback(static_cast<int>(r.ranking.size()), r.fp32_top1,
                                                       o.max_drop_points, evaluate));
  if (!r.search.k) {
    QCAL_RETURN_IF_ERROR(WriteFileAtomic(r.report, ReportJson(r, o).dump(2) + "\n"));
    return FailedPrecondition("no configuration within the allowed drop of " + std::to_string(o.max_drop_points) +
                              " points was found, even with all but one of " + std::to_string(r.ranking.size()) +
                              " layers in FP32; no model was saved (history in " + r.report + ")");
  }
  int k = *r.search.k;
  for (int i = 0; i < k; ++i) r.fp32_layers.push_back(r.ranking[static_cast<size_t>(i)].name);
  QuantConfig final_config = WithFallback(o.config, r.ranking, k);
  r.final_config = o.prefix + "_final_config.json";
  Graph folded;
  QCAL_ASSIGN_OR_RETURN(SaveInputs in, PrepareSaveInputs(final_config, fp32, &folded));
  for (const auto& [name, n] : session->LayerBatchCounts()) in.batch_counts[name] = n;
  QCAL_RETURN_IF_ERROR(SaveQuantizedModels(in, r.record, o.save_type, o.prefix, &r.models));
  QCAL_RETURN_IF_ERROR(SaveQuantConfig(final_config, r.final_config));
  QCAL_RETURN_IF_ERROR(WriteFileAtomic(r.report, ReportJson(r, o).dump(2) + "\n"));
  return r;
}

}  // namespace qcal::accuracy
