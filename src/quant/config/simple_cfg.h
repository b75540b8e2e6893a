// AMCT's simplified calibration config (the `config_defination` / `--calibration_config`
// file, e.g. quant.cfg): protobuf text format of message AMCTConfig
// (calibration_config_{caffe,onnx}.proto), read without protobuf. Format in
// docs/config_format.md, section 2.
//
//   batch_num: 2
//   activation_offset: true
//   skip_layers: "fc2"
//   skip_layer_types: "AveragePool"
//   do_fusion: true
//   skip_fusion_layers: "conv3"
//   common_config { ifmr_quantize { search_range_start: 0.8 search_range_end: 1.2 search_step: 0.02 } }
//   override_layer_types { layer_type: "Gemm" calibration_config { hfmg_quantize { num_of_bins: 2048 } } }
//   override_layer_configs {
//     layer_name: "conv1"
//     calibration_config { arq_quantize { channel_wise: false } ifmr_quantize { max_percentile: 0.9999 } }
//   }
//
// Precedence per layer and per field: override_layer_configs > override_layer_types >
// common_config > CreateQuantConfig defaults.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"
#include "quant/config/quant_config.h"

namespace qcal {

struct CfgPosition {
  int line = 0, col = 0;
};

// One `calibration_config { ... }` block; unset fields keep the lower-precedence value.
struct CalibrationSettings {
  CfgPosition where;                     // of the block
  std::string context;                   // "common_config", "override_layer_types 'Conv'", ...
  std::optional<bool> channel_wise;      // arq_quantize.channel_wise
  CfgPosition channel_wise_where;
  std::optional<int> quant_bits;         // arq_quantize.quant_bits: weight_quant_params.num_bits
  std::optional<std::string> act_algo;   // "ifmr" / "hfmg": which block the config has
  std::optional<double> search_range_start, search_range_end, search_step, max_percentile, min_percentile;
  std::optional<int> num_of_bins;        // hfmg_quantize
  std::optional<bool> asymmetric;        // ifmr_quantize or hfmg_quantize
};

struct CfgName {
  std::string name;
  CfgPosition where;
};

struct CfgOverride {
  std::string name;  // layer_type or layer_name
  CfgPosition where;
  CalibrationSettings settings;
};

// The parsed file, before it meets a model.
struct SimpleCfg {
  std::string origin;  // file name for messages
  std::optional<int> batch_num;
  std::optional<bool> activation_offset, joint_quant, do_fusion;
  std::vector<CfgName> skip_layers, skip_layer_types, skip_fusion_layers;
  std::optional<CalibrationSettings> common;
  std::vector<CfgOverride> type_overrides, layer_overrides;
};

// Syntax errors: Corrupt "<origin>:<line>:<col>: ..."; unknown keys and values
// out of range: InvalidArgument "<origin>:<line>:<col>: <context>: <key>: ... (allowed: ...)".
Result<SimpleCfg> ParseSimpleCfg(std::string_view text, const std::string& origin);

// The full config for `graph`: CreateQuantConfig defaults, then skips and the
// overrides; checked with ValidateLayerConfig / ValidateQuantConfig. Unknown
// layer names and types are errors with the cfg position and the valid names.
Result<QuantConfig> QuantConfigFromSimpleCfg(const SimpleCfg& cfg, const Graph& graph);

// ReadFile + ParseSimpleCfg + QuantConfigFromSimpleCfg.
Result<QuantConfig> LoadSimpleCfg(const std::string& path, const Graph& graph);

// Layer types accepted by skip_layer_types / override_layer_types: qcal's ONNX op
// types of quantizable layers, plus the Caffe names (Convolution, Deconvolution,
// InnerProduct, Pooling) that import as them.
bool LayerTypeMatches(const std::string& cfg_type, const std::string& op_type);
std::string LayerTypeNames();

}  // namespace qcal
