// Calibration algorithms by name, so a config can pick one per layer.
//
// Activation algorithms: ifmr, hfmg (AMCT), minmax, percentile, kl, mse.
// Each entry says which statistic the observer must collect (which may depend
// on symmetric vs asymmetric), its default parameters, a validator and the pure
// calibration function. Weight algorithms: arq_quantize.
//
// Typical use by an observer:
//   const ActivationAlgorithm* algo = FindActivationAlgorithm(name);   // nullptr: unknown
//   ActivationParams params = algo->defaults; params.with_offset = ...;   // + config overrides
//   QCAL_RETURN_IF_ERROR(algo->validate(params));
//   StatisticRequest need = RequiredStatistic(*algo, params);            // what to collect
//   ... collect MinMaxStats / Histogram(need.num_bins, mode) / RawValueStore ...
//   Result<QuantParams> q = algo->calibrate(CollectedStatistics{...}, params);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quant/algorithms/ifmr.h"
#include "quant/algorithms/quant_params.h"
#include "quant/algorithms/statistics.h"

namespace qcal::quant {

enum class Statistic {
  kMinMax,        // MinMaxStats
  kHistogram,     // Histogram, Mode::kSigned
  kAbsHistogram,  // Histogram, Mode::kAbsolute
  kRawValues,     // RawValueStore
};
const char* StatisticName(Statistic s);

// Union of all activation-algorithm parameters (names follow AMCT's config keys).
struct ActivationParams {
  bool with_offset = true;  // asymmetric (AMCT activation_offset default)
  // ifmr
  double max_percentile = 0.999999;
  double min_percentile = 0.999999;
  double search_start = 0.7;
  double search_end = 1.3;
  double search_step = 0.01;
  // histogram algorithms
  int num_bins = 0;              // hfmg num_of_bins; kl/percentile/mse histogram size
  double percentile = 99.99;     // percentile, in percent
  int num_quantized_bins = 128;  // kl
};

IfmrParams ToIfmrParams(const ActivationParams& p);

// Statistics handed to calibrate(); only the one the algorithm requested must be set.
struct CollectedStatistics {
  const MinMaxStats* minmax = nullptr;
  const Histogram* histogram = nullptr;
  std::span<const float> raw;
  bool has_raw = false;
};

struct StatisticRequest {
  Statistic kind;
  int num_bins = 0;  // for histograms
};

struct ActivationAlgorithm {
  std::string_view name;
  std::string_view summary;
  bool supports_symmetric;
  bool supports_asymmetric;
  Statistic symmetric_statistic;
  Statistic asymmetric_statistic;
  ActivationParams defaults;
  // Parameter names (config keys) the algorithm reads, besides with_offset.
  std::vector<std::string_view> param_names;
  Status (*validate)(const ActivationParams&);
  Result<QuantParams> (*calibrate)(const CollectedStatistics&, const ActivationParams&);
};

std::span<const ActivationAlgorithm> ActivationAlgorithms();
const ActivationAlgorithm* FindActivationAlgorithm(std::string_view name);
// "ifmr, hfmg, minmax, percentile, kl, mse" (for error messages).
std::string ActivationAlgorithmNames();
StatisticRequest RequiredStatistic(const ActivationAlgorithm& algo, const ActivationParams& p);

struct WeightAlgorithm {
  std::string_view name;
  std::string_view summary;
  Result<std::vector<QuantParams>> (*calibrate)(std::span<const float> weights, int64_t out_channels,
                                                bool channel_wise, int num_bits);
};
std::span<const WeightAlgorithm> WeightAlgorithms();
const WeightAlgorithm* FindWeightAlgorithm(std::string_view name);

}  // namespace qcal::quant
