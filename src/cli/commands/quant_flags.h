// Flags and steps shared by the PTQ subcommands (create-config, quantize,
// calibrate, save, convert): how the quantization config is chosen and the
// lines that report written files. (The calibration itself is CalibrateOnData,
// quant/calibrate_source.h.)
#pragma once

#include <string>
#include <vector>

#include "cli/commands/data_flags.h"
#include "data/data_source.h"
#include "exporters/save_model.h"
#include "ir/graph.h"
#include "quant/config/quant_config.h"
#include "quant/session.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace qcal::cli {

struct ConfigFlags {
  std::string config;              // --config: full JSON config
  std::string calibration_config;  // --calibration-config: AMCT simplified cfg
  int batch_num = 1;
  std::vector<std::string> skip_layers;
  std::string act_algo;
  bool symmetric = false;
  int weight_bits = 8;
  // The flags a config file replaces (to warn when both are given).
  std::vector<CLI::Option*> replaced;
};

// Adds --calibration-config (and --config when `json_config`), which exclude
// each other, plus --batch-num, --skip-layers, --act-algo, --symmetric, --weight-bits.
void AddConfigFlags(CLI::App& sub, ConfigFlags& flags, bool json_config);

// --weight-bits 7|8 (weight_quant_params.num_bits of every layer); also used by auto-calibrate.
CLI::Option* AddWeightBitsFlag(CLI::App& sub, int& weight_bits);

// The config the flags describe for `graph`: --config, else --calibration-config,
// else CreateQuantConfig with --skip-layers/--batch-num/--symmetric/--act-algo/--weight-bits.
Result<QuantConfig> MakeConfig(const ConfigFlags& flags, const Graph& graph);

// Prints "fake-quant model: ...", "deploy model: ...", "report: ..." for what was written.
void PrintSavedFiles(const SavedFiles& files);

}  // namespace qcal::cli
