// AMCT's accuracy_based_auto_calibration: calibrate once with every layer
// quantized, rank layers by sensitivity (cosine of each layer's FP32 output vs
// the output of the same layer quantized alone, fed the FP32 input, on the
// calibration data, lowest first, as AMCT's CosineSimilarity ranking), then binary-search
// the number k of most sensitive layers kept in FP32 until the top-1 drop is
// within the limit. Every candidate reuses the one record: skipping a layer
// does not change the other layers' factors (as in AMCT).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accuracy/topk.h"
#include "data/data_source.h"
#include "ir/graph.h"
#include "quant/config/quant_config.h"
#include "quant/session.h"

namespace qcal::accuracy {

struct SearchStep {
  int k = 0;          // layers kept in FP32 (the k most sensitive)
  double top1 = 0;    // fraction
  bool satisfied = false;
};

struct SearchResult {
  std::optional<int> k;             // smallest satisfying k found; unset: none (even k = n - 1 fails)
  std::vector<SearchStep> history;  // in evaluation order; k = 0 (everything quantized) first
};

// k = 0 first; if it misses the limit, binary search over k in [1, n - 1]
// (unsatisfied -> more layers in float, satisfied -> fewer), keeping the last
// satisfying k. k = n would be the FP32 model and is never a result.
// `evaluate(k)` returns top-1 (fraction); satisfied means
// 100 * (fp32_top1 - top1) <= max_drop_points.
Result<SearchResult> BinarySearchFallback(int num_layers, double fp32_top1, double max_drop_points,
                                          const std::function<Result<double>(int k)>& evaluate);

struct AutoCalibrationOptions {
  QuantConfig config;          // layers enabled here are the candidates
  int64_t calib_batch_size = 16;
  EvalOptions eval;
  double max_drop_points = 0.5;
  std::string prefix;          // P: P_record.txt, P_final_config.json, P_auto_calibration.json, models
  SaveType save_type = SaveType::kBoth;
  int threads = 0;
};

struct RankedLayer {
  std::string name;
  double cosine = 0;         // the layer's own output cosine (quantized layer on FP32 input): the sensitivity
  double output_cosine = 0;  // cosine in the fully quantized model (earlier layers' errors included)
};

struct AutoCalibrationResult {
  double fp32_top1 = 0;
  int64_t eval_images = 0;
  std::vector<RankedLayer> ranking;  // most sensitive first
  SearchResult search;
  std::vector<std::string> fp32_layers;  // the layers the final config keeps in float
  std::string record, final_config, report;
  SavedFiles models;
};

// Runs the whole flow and writes P_record.txt, P_auto_calibration.json and, when
// a satisfying k is found, P_final_config.json and the models (SaveModel's
// atomic writes). When no candidate meets the limit the report is still
// written and an error says so.
Result<AutoCalibrationResult> RunAutoCalibration(const Graph& fp32, const data::DataSource& calib,
                                                 const data::DataSource& eval, const AutoCalibrationOptions& options);

}  // namespace qcal::accuracy
