#include "quant/algorithms/registry.h"

#include <string>

#include "quant/algorithms/hfmg.h"
#include "quant/algorithms/histogram_algos.h"
#include "quant/algorithms/weights.h"

namespace qcal::quant {
namespace {

Status Missing(const char* algo, const char* what) {
  return FailedPrecondition(std::string(algo) + " was given no " + what + " statistic");
}

Status NoValidation(const ActivationParams&) { return Status::Ok(); }

Status ValidateHistogramBins(const ActivationParams& p, int min_bins) {
  if (p.num_bins < min_bins) {
    return InvalidArgument("num_of_bins must be >= " + std::to_string(min_bins) + ", got " +
                           std::to_string(p.num_bins));
  }
  return Status::Ok();
}

// ---- adapters: CollectedStatistics -> the pure functions

Result<QuantParams> RunIfmr(const CollectedStatistics& s, const ActivationParams& p) {
  if (!s.has_raw) return Missing("ifmr", "raw-value");
  return IfmrCalibrate(s.raw, ToIfmrParams(p));
}

Status ValidateIfmr(const ActivationParams& p) { return ValidateIfmrParams(ToIfmrParams(p)); }

Result<QuantParams> RunHfmg(const CollectedStatistics& s, const ActivationParams& p) {
  if (!s.histogram) return Missing("hfmg", "histogram");
  return HfmgCalibrate(*s.histogram, p.with_offset);
}

Status ValidateHfmg(const ActivationParams& p) { return ValidateHfmgBins(p.num_bins); }

Result<QuantParams> RunMinMax(const CollectedStatistics& s, const ActivationParams& p) {
  if (!s.minmax) return Missing("minmax", "min/max");
  if (s.minmax->empty()) return FailedPrecondition("minmax has no calibration data (no batch was collected)");
  return ParamsFromRange(s.minmax->min(), s.minmax->max(), p.with_offset);
}

Result<QuantParams> RunPercentile(const CollectedStatistics& s, const ActivationParams& p) {
  if (!s.histogram) return Missing("percentile", "histogram");
  return PercentileCalibrate(*s.histogram, p.percentile, p.with_offset);
}

Status ValidatePercentile(const ActivationParams& p) {
  if (!(p.percentile > 0 && p.percentile <= 100)) {
    return InvalidArgument("percentile must be in (0, 100], got " + std::to_string(p.percentile));
  }
  return ValidateHistogramBins(p, 1);
}

Result<QuantParams> RunKl(const CollectedStatistics& s, const ActivationParams& p) {
  if (!s.histogram) return Missing("kl", "histogram");
  if (p.with_offset) return InvalidArgument("kl is symmetric only; set asymmetric: false for this layer");
  return KlCalibrate(*s.histogram, p.num_quantized_bins);
}

Status ValidateKl(const ActivationParams& p) {
  if (p.with_offset) return InvalidArgument("kl is symmetric only; set asymmetric: false for this layer");
  if (p.num_quantized_bins < 2) {
    return InvalidArgument("kl num_quantized_bins must be >= 2, got " + std::to_string(p.num_quantized_bins));
  }
  return ValidateHistogramBins(p, p.num_quantized_bins);
}

Result<QuantParams> RunMse(const CollectedStatistics& s, const ActivationParams& p) {
  if (!s.histogram) return Missing("mse", "histogram");
  return MseCalibrate(*s.histogram, p.with_offset);
}

Status ValidateMse(const ActivationParams& p) { return ValidateHistogramBins(p, 1); }

ActivationParams WithBins(int bins, bool with_offset = true) {
  ActivationParams p;
  p.num_bins = bins;
  p.with_offset = with_offset;
  return p;
}

const std::vector<ActivationAlgorithm>& Table() {
  static const std::vector<ActivationAlgorithm> table = {
      {"ifmr",
       "AMCT IFMR: percentile seeds, clip search minimising squared error on the raw values",
       true,
       true,
       Statistic::kRawValues,
       Statistic::kRawValues,
       WithBins(0),
       {"max_percentile", "min_percentile", "search_range", "search_step"},
       ValidateIfmr,
       RunIfmr},
      {"hfmg",
       "AMCT HFMG: merged histogram, L2 search over bin ranges",
       true,
       true,
       Statistic::kHistogram,
       Statistic::kHistogram,
       WithBins(kHfmgDefaultBins),
       {"num_of_bins"},
       ValidateHfmg,
       RunHfmg},
      {"minmax",
       "observed min/max",
       true,
       true,
       Statistic::kMinMax,
       Statistic::kMinMax,
       WithBins(0),
       {},
       NoValidation,
       RunMinMax},
      {"percentile",
       "clip at a percentile of the histogram",
       true,
       true,
       Statistic::kAbsHistogram,
       Statistic::kHistogram,
       WithBins(kDefaultHistogramBins),
       {"percentile", "num_of_bins"},
       ValidatePercentile,
       RunPercentile},
      {"kl",
       "TensorRT/ncnn entropy calibration on a |x| histogram (symmetric only)",
       true,
       false,
       Statistic::kAbsHistogram,
       Statistic::kAbsHistogram,
       WithBins(kDefaultHistogramBins, false),
       {"num_of_bins", "num_quantized_bins"},
       ValidateKl,
       RunKl},
      {"mse",
       "clip range minimising the quantization MSE on the histogram",
       true,
       true,
       Statistic::kAbsHistogram,
       Statistic::kHistogram,
       WithBins(kDefaultHistogramBins),
       {"num_of_bins"},
       ValidateMse,
       RunMse},
  };
  return table;
}

const std::vector<WeightAlgorithm>& WeightTable() {
  static const std::vector<WeightAlgorithm> table = {
      {"arq_quantize",
       "AMCT ARQ: symmetric max|w|/127 (8 bits) or /63 (7 bits) per output channel or per tensor",
       ArqCalibrate},
  };
  return table;
}

}  // namespace

const char* StatisticName(Statistic s) {
  switch (s) {
    case Statistic::kMinMax:
      return "min/max";
    case Statistic::kHistogram:
      return "signed histogram";
    case Statistic::kAbsHistogram:
      return "histogram of |x|";
    case Statistic::kRawValues:
      return "raw values";
  }
  return "?";
}

IfmrParams ToIfmrParams(const ActivationParams& p) {
  return IfmrParams{p.max_percentile, p.min_percentile, p.search_start,
                    p.search_end,     p.search_step,    p.with_offset};
}

std::span<const ActivationAlgorithm> ActivationAlgorithms() { return Table(); }

const ActivationAlgorithm* FindActivationAlgorithm(std::string_view name) {
  for (const auto& a : Table()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string ActivationAlgorithmNames() {
  std::string out;
  for (const auto& a : Table()) out += (out.empty() ? "" : ", ") + std::string(a.name);
  return out;
}

StatisticRequest RequiredStatistic(const ActivationAlgorithm& algo, const ActivationParams& p) {
  return {p.with_offset ? algo.asymmetric_statistic : algo.symmetric_statistic, p.num_bins};
}

std::span<const WeightAlgorithm> WeightAlgorithms() { return WeightTable(); }

const WeightAlgorithm* FindWeightAlgorithm(std::string_view name) {
  for (const auto& a : WeightTable()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace qcal::quant
