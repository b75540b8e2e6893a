#include "cli/commands/quant_flags.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/log.h"
#include "quant/config/simple_cfg.h"

namespace qcal::cli {

void AddConfigFlags(CLI::App& sub, ConfigFlags& f, bool json_config) {
  CLI::Option* cfg =
      sub.add_option("--calibration-config", f.calibration_config,
                     "AMCT simplified config (quant.cfg, protobuf text: batch_num, skip_layers, "
                     "common_config, override_layer_types, override_layer_configs, ...); see "
                     "docs/config_format.md. Replaces --batch-num, --skip-layers, --act-algo, "
                     "--symmetric, --weight-bits");
  if (json_config) {
    CLI::Option* json = sub.add_option("--config", f.config,
                                       "Quantization config JSON (from create-config). Replaces --batch-num, "
                                       "--skip-layers, --act-algo, --symmetric, --weight-bits");
    json->excludes(cfg);
    cfg->excludes(json);
  }
  f.replaced = {
      sub.add_option("--batch-num", f.batch_num, "Calibration batches (AMCT batch_num; default 1)")
          ->check(CLI::PositiveNumber),
      sub.add_option("--skip-layers", f.skip_layers, "Quantizable layers to keep in float"),
      sub.add_option(
          "--act-algo", f.act_algo,
          "Activation algorithm for every layer: ifmr (default), hfmg, minmax, percentile, kl, mse"),
      sub.add_flag("--symmetric", f.symmetric, "Symmetric activations (activation_offset false)"),
      AddWeightBitsFlag(sub, f.weight_bits),
  };
}

CLI::Option* AddWeightBitsFlag(CLI::App& sub, int& weight_bits) {
  return sub
      .add_option("--weight-bits", weight_bits,
                  "Weight bits of every layer (weight_quant_params.num_bits): 8 (default) or 7. 7-bit "
                  "weights lie in [-63, 63], which keeps int8 convolutions exact and fast on CPUs without "
                  "VNNI (AVX2)")
      ->check(CLI::IsMember({7, 8}));
}

Result<QuantConfig> MakeConfig(const ConfigFlags& f, const Graph& graph) {
  const std::string& file = !f.config.empty() ? f.config : f.calibration_config;
  if (!file.empty()) {
    for (const CLI::Option* o : f.replaced) {
      if (o->count()) LogWarning(o->get_name() + " is ignored: the config file " + file + " sets it");
    }
    return !f.config.empty() ? LoadQuantConfig(f.config) : LoadSimpleCfg(f.calibration_config, graph);
  }
  QCAL_ASSIGN_OR_RETURN(QuantConfig c,
                        CreateQuantConfig(graph, {f.skip_layers, f.batch_num, !f.symmetric, f.weight_bits}));
  if (!f.act_algo.empty()) QCAL_RETURN_IF_ERROR(SetActivationAlgorithm(&c, f.act_algo));
  return c;
}

void PrintSavedFiles(const SavedFiles& files) {
  if (!files.fake_quant_model.empty()) std::printf("fake-quant model: %s\n", files.fake_quant_model.c_str());
  if (!files.deploy_model.empty()) std::printf("deploy model: %s\n", files.deploy_model.c_str());
  std::printf("report: %s\n", files.quant_json.c_str());
}

}  // namespace qcal::cli
