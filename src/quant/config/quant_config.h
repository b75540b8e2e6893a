// The quantization config (AMCT's create_quant_config JSON): global settings
// plus one entry per quantizable layer. Field names and defaults follow AMCT.
// Format documented in docs/config_format.md.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "quant/algorithms/registry.h"
#include "quant/rules.h"

namespace qcal {

struct ActivationQuantParams {
  int num_bits = 8;
  std::string act_algo = "ifmr";  // ifmr | hfmg | minmax | percentile | kl | mse
  double max_percentile = 0.999999;  // IFMR
  double min_percentile = 0.999999;  // IFMR
  double search_range_start = 0.7;   // IFMR
  double search_range_end = 1.3;     // IFMR
  double search_step = 0.01;         // IFMR
  std::optional<int> num_of_bins;    // hfmg/kl/mse/percentile histogram bins; unset: the algorithm's default
  double percentile = 99.99;         // percentile method, in percent
  std::optional<bool> asymmetric;    // unset: follows the global activation_offset
};

struct WeightQuantParams {
  int num_bits = 8;  // 8, or 7: weights in [-63, 63] (exact fast int8 on CPUs without VNNI)
  std::string wts_algo = "arq_quantize";
  bool channel_wise = true;
};

struct LayerQuantConfig {
  bool quant_enable = true;
  ActivationQuantParams act;
  WeightQuantParams wts;
};

struct QuantConfig {
  int version = 1;
  int batch_num = 1;
  bool activation_offset = true;
  bool joint_quant = false;
  bool do_fusion = true;
  std::vector<std::string> skip_fusion_layers;
  // Layer name -> settings, in graph order (the order of `layer_order`).
  std::map<std::string, LayerQuantConfig> layers;
  std::vector<std::string> layer_order;

  // Whether a layer quantizes activations asymmetrically (per-layer setting wins).
  bool Asymmetric(const std::string& layer) const;
};

struct CreateConfigOptions {
  std::vector<std::string> skip_layers;  // quantizable layers to keep in float
  int batch_num = 1;
  bool activation_offset = true;
  int weight_bits = 8;  // weight_quant_params.num_bits of every layer: 8 or 7
};

// A config listing every quantizable layer of `graph` (after BN folding the
// layer set is the same: folding never removes a quantizable layer). Unknown
// skip_layers are an error listing the quantizable layer names.
Result<QuantConfig> CreateQuantConfig(const Graph& graph, const CreateConfigOptions& options);

// JSON text (2-space indent, deterministic key order) and back. Parsing checks
// types and ranges; each error names the key, the layer and the allowed range.
std::string QuantConfigToJson(const QuantConfig& config);
Result<QuantConfig> QuantConfigFromJson(const std::string& text, const std::string& origin);
Status SaveQuantConfig(const QuantConfig& config, const std::string& path);
Result<QuantConfig> LoadQuantConfig(const std::string& path);

// Checks a config against the graph it will quantize: every layer entry names
// a quantizable layer, channel_wise only where the op allows it, algorithm
// names known, values in range.
Status ValidateQuantConfig(const QuantConfig& config, const Graph& graph);

// Range/enum checks for one layer's settings (also used by the simplified cfg).
Status ValidateLayerConfig(const std::string& layer, const LayerQuantConfig& lc);

// Sets every layer's act_algo (e.g. --act-algo) and validates each layer.
Status SetActivationAlgorithm(QuantConfig* config, const std::string& act_algo);

// The record header's algorithm label: the enabled layers' act_algo when they
// all agree, "mixed" when they differ, "none" when no layer is enabled.
std::string ActivationAlgorithmSummary(const QuantConfig& config);

// The algorithm parameters a layer's config selects.
quant::ActivationParams ToActivationParams(const ActivationQuantParams& a, bool asymmetric);

}  // namespace qcal
