#include "quant/config/quant_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/file.h"
#include "quant/algorithms/registry.h"
#include "quant/algorithms/weights.h"

namespace qcal {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kBinChoices[] = {1024, 2048, 4096, 8192};

std::string Where(const std::string& layer, const std::string& key) {
  return layer.empty() ? "config key '" + key + "'" : "layer '" + layer + "', key '" + key + "'";
}

Status RangeError(const std::string& layer, const std::string& key, const std::string& allowed,
                  const std::string& got) {
  return InvalidArgument(Where(layer, key) + ": " + got + " is not allowed (allowed: " + allowed + ")");
}

std::string Num(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

}  // namespace

bool QuantConfig::Asymmetric(const std::string& layer) const {
  auto it = layers.find(layer);
  if (it != layers.end() && it->second.act.asymmetric) return *it->second.act.asymmetric;
  return activation_offset;
}

Status ValidateLayerConfig(const std::string& layer, const LayerQuantConfig& lc) {
  const auto& a = lc.act;
  if (a.num_bits != 8) return RangeError(layer, "activation_quant_params.num_bits", "8", std::to_string(a.num_bits));
  if (!quant::FindActivationAlgorithm(a.act_algo)) {
    return RangeError(layer, "activation_quant_params.act_algo", quant::ActivationAlgorithmNames(),
                      "'" + a.act_algo + "'");
  }
  for (auto [key, v] : {std::pair{"max_percentile", a.max_percentile}, {"min_percentile", a.min_percentile}}) {
    if (!(v > 0.5 && v <= 1.0)) {
      return RangeError(layer, std::string("activation_quant_params.") + key, "(0.5, 1]", Num(v));
    }
  }
  if (!(a.search_range_start > 0 && a.search_range_start < a.search_range_end)) {
    return RangeError(layer, "activation_quant_params.search_range", "0 < start < end",
                      "[" + Num(a.search_range_start) + ", " + Num(a.search_range_end) + "]");
  }
  double span = a.search_range_end - a.search_range_start;
  if (!(a.search_step > 0 && a.search_step <= span)) {
    return RangeError(layer, "activation_quant_params.search_step", "(0, " + Num(span) + "]", Num(a.search_step));
  }
  if (span / a.search_step > 100000) {
    return RangeError(layer, "activation_quant_params.search_step", "at most 100000 search steps", Num(a.search_step));
  }
  bool bins_ok = !a.num_of_bins;
  for (int b : kBinChoices) bins_ok |= a.num_of_bins == b;
  if (!bins_ok) {
    return RangeError(layer, "activation_quant_params.num_of_bins", "1024, 2048, 4096, 8192",
                      std::to_string(*a.num_of_bins));
  }
  if (!(a.percentile > 50 && a.percentile <= 100)) {
    return RangeError(layer, "activation_quant_params.percentile", "(50, 100]", Num(a.percentile));
  }
  if (!quant::IsSupportedWeightBits(lc.wts.num_bits)) {
    return RangeError(layer, "weight_quant_params.num_bits", quant::kSupportedWeightBitsText,
                      std::to_string(lc.wts.num_bits));
  }
  if (lc.wts.wts_algo != "arq_quantize") {
    return RangeError(layer, "weight_quant_params.wts_algo", "arq_quantize", "'" + lc.wts.wts_algo + "'");
  }
  return Status::Ok();
}

quant::ActivationParams ToActivationParams(const ActivationQuantParams& a, bool asymmetric) {
  const quant::ActivationAlgorithm* algo = quant::FindActivationAlgorithm(a.act_algo);
  quant::ActivationParams p = algo ? algo->defaults : quant::ActivationParams{};
  // Symmetric-only algorithms (kl) quantize symmetrically whatever activation_offset says.
  p.with_offset = asymmetric && (!algo || algo->supports_asymmetric);
  p.max_percentile = a.max_percentile;
  p.min_percentile = a.min_percentile;
  p.search_start = a.search_range_start;
  p.search_end = a.search_range_end;
  p.search_step = a.search_step;
  p.percentile = a.percentile;
  if (a.num_of_bins) p.num_bins = *a.num_of_bins;
  return p;
}

Result<QuantConfig> CreateQuantConfig(const Graph& graph, const CreateConfigOptions& options) {
  if (options.batch_num <= 0) return RangeError("", "batch_num", "an integer > 0", std::to_string(options.batch_num));
  if (!quant::IsSupportedWeightBits(options.weight_bits)) {
    return RangeError("", "weight_quant_params.num_bits", quant::kSupportedWeightBitsText,
                      std::to_string(options.weight_bits));
  }
  LayerScan scan = ScanQuantizableLayers(graph);
  std::set<std::string> skip(options.skip_layers.begin(), options.skip_layers.end());
  std::set<std::string> names;
  for (const auto& l : scan.layers) names.insert(l.name);
  for (const auto& s : skip) {
    if (names.count(s)) continue;
    std::string all;
    for (const auto& l : scan.layers) all += (all.empty() ? "" : ", ") + l.name;
    return InvalidArgument("skip_layers names '" + s + "', which is not a quantizable layer of the model " +
                           "(quantizable layers: " + all + ")");
  }
  QuantConfig c;
  c.batch_num = options.batch_num;
  c.activation_offset = options.activation_offset;
  for (const auto& l : scan.layers) {
    LayerQuantConfig lc;
    lc.quant_enable = !skip.count(l.name);
    lc.wts.channel_wise = l.rule->channel_wise_ok;
    lc.wts.num_bits = options.weight_bits;
    c.layers[l.name] = lc;
    c.layer_order.push_back(l.name);
  }
  return c;
}

Status SetActivationAlgorithm(QuantConfig* config, const std::string& act_algo) {
  for (const auto& name : config->layer_order) {
    LayerQuantConfig& lc = config->layers.at(name);
    lc.act.act_algo = act_algo;
    QCAL_RETURN_IF_ERROR(ValidateLayerConfig(name, lc));
  }
  return Status::Ok();
}

std::string ActivationAlgorithmSummary(const QuantConfig& config) {
  std::set<std::string> algos;
  for (const auto& [name, lc] : config.layers) {
    if (lc.quant_enable) algos.insert(lc.act.act_algo);
  }
  if (algos.empty()) return "none";
  return algos.size() == 1 ? *algos.begin() : "mixed";
}

namespace {

Json LayerToJson(const LayerQuantConfig& lc) {
  const auto& a = lc.act;
  Json act = {{"num_bits", a.num_bits}, {"act_algo", a.act_algo}};
  if (a.act_algo == "ifmr") {
    act["max_percentile"] = a.max_percentile;
    act["min_percentile"] = a.min_percentile;
    act["search_range"] = {a.search_range_start, a.search_range_end};
    act["search_step"] = a.search_step;
  } else if (a.act_algo == "percentile") {
    act["percentile"] = a.percentile;
  } else if (a.act_algo != "minmax") {
    const quant::ActivationAlgorithm* algo = quant::FindActivationAlgorithm(a.act_algo);
    act["num_of_bins"] = a.num_of_bins ? *a.num_of_bins : (algo ? algo->defaults.num_bins : 0);
  }
  if (a.asymmetric) act["asymmetric"] = *a.asymmetric;
  Json w = {{"num_bits", lc.wts.num_bits}, {"wts_algo", lc.wts.wts_algo}, {"channel_wise", lc.wts.channel_wise}};
  return Json{{"quant_enable", lc.quant_enable}, {"activation_quant_params", act}, {"weight_quant_params", w}};
}

// Typed field readers: each error names the key and layer.
template <typename T>
Status Read(const Json& obj, const char* key, const std::string& layer, const std::string& prefix, T* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  bool ok;
  if constexpr (std::is_same_v<T, bool>) {
    ok = it->is_boolean();
  } else if constexpr (std::is_same_v<T, int>) {
    ok = it->is_number_integer();
  } else if constexpr (std::is_same_v<T, double>) {
    ok = it->is_number();
  } else {
    ok = it->is_string();
  }
  if (!ok) return InvalidArgument(Where(layer, prefix + key) + ": wrong type (" + it->dump() + ")");
  *out = it->get<T>();
  return Status::Ok();
}

Status CheckKeys(const Json& obj, std::initializer_list<const char*> allowed, const std::string& layer,
                 const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (const char* a : allowed) known |= it.key() == a;
    if (!known) return InvalidArgument(Where(layer, prefix + it.key()) + ": unknown key");
  }
  return Status::Ok();
}

Status ActFromJson(const Json& j, const std::string& layer, ActivationQuantParams* a) {
  const std::string p = "activation_quant_params.";
  if (!j.is_object()) return InvalidArgument(Where(layer, "activation_quant_params") + ": expected an object");
  QCAL_RETURN_IF_ERROR(CheckKeys(j,
                                 {"num_bits", "act_algo", "max_percentile", "min_percentile", "search_range",
                                  "search_step", "num_of_bins", "asymmetric", "percentile"},
                                 layer, p));
  QCAL_RETURN_IF_ERROR(Read(j, "num_bits", layer, p, &a->num_bits));
  QCAL_RETURN_IF_ERROR(Read(j, "act_algo", layer, p, &a->act_algo));
  QCAL_RETURN_IF_ERROR(Read(j, "max_percentile", layer, p, &a->max_percentile));
  QCAL_RETURN_IF_ERROR(Read(j, "min_percentile", layer, p, &a->min_percentile));
  QCAL_RETURN_IF_ERROR(Read(j, "search_step", layer, p, &a->search_step));
  if (j.contains("num_of_bins")) {
    int bins = 0;
    QCAL_RETURN_IF_ERROR(Read(j, "num_of_bins", layer, p, &bins));
    a->num_of_bins = bins;
  }
  QCAL_RETURN_IF_ERROR(Read(j, "percentile", layer, p, &a->percentile));
  if (j.contains("search_range")) {
    const Json& r = j["search_range"];
    if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number()) {
      return InvalidArgument(Where(layer, p + "search_range") + ": expected [start, end]");
    }
    a->search_range_start = r[0].get<double>();
    a->search_range_end = r[1].get<double>();
  }
  if (j.contains("asymmetric")) {
    bool v = false;
    QCAL_RETURN_IF_ERROR(Read(j, "asymmetric", layer, p, &v));
    a->asymmetric = v;
  }
  return Status::Ok();
}

Status LayerFromJson(const Json& j, const std::string& layer, LayerQuantConfig* lc) {
  if (!j.is_object()) return InvalidArgument("layer '" + layer + "': expected an object");
  QCAL_RETURN_IF_ERROR(CheckKeys(j, {"quant_enable", "activation_quant_params", "weight_quant_params"}, layer, ""));
  QCAL_RETURN_IF_ERROR(Read(j, "quant_enable", layer, "", &lc->quant_enable));
  if (j.contains("activation_quant_params")) {
    QCAL_RETURN_IF_ERROR(ActFromJson(j["activation_quant_params"], layer, &lc->act));
  }
  if (j.contains("weight_quant_params")) {
    const Json& w = j["weight_quant_params"];
    const std::string p = "weight_quant_params.";
    if (!w.is_object()) return InvalidArgument(Where(layer, "weight_quant_params") + ": expected an object");
    QCAL_RETURN_IF_ERROR(CheckKeys(w, {"num_bits", "wts_algo", "channel_wise"}, layer, p));
    QCAL_RETURN_IF_ERROR(Read(w, "num_bits", layer, p, &lc->wts.num_bits));
    QCAL_RETURN_IF_ERROR(Read(w, "wts_algo", layer, p, &lc->wts.wts_algo));
    QCAL_RETURN_IF_ERROR(Read(w, "channel_wise", layer, p, &lc->wts.channel_wise));
  }
  return ValidateLayerConfig(layer, *lc);
}

}  // namespace

std::string QuantConfigToJson(const QuantConfig& c) {
  Json j = {{"version", c.version},
            {"batch_num", c.batch_num},
            {"activation_offset", c.activation_offset},
            {"joint_quant", c.joint_quant},
            {"do_fusion", c.do_fusion},
            {"skip_fusion_layers", c.skip_fusion_layers}};
  for (const auto& name : c.layer_order) j[name] = LayerToJson(c.layers.at(name));
  return j.dump(2) + "\n";
}

Result<QuantConfig> QuantConfigFromJson(const std::string& text, const std::string& origin) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return Corrupt(origin + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
  if (!j.is_object()) return Corrupt(origin + ": the config must be a JSON object");
  QuantConfig c;
  const std::set<std::string> globals = {"version", "batch_num", "activation_offset", "joint_quant",
                                         "do_fusion", "skip_fusion_layers"};
  auto wrap = [&](Status s) { return s.WithContext(origin); };
  QCAL_RETURN_IF_ERROR(wrap(Read(j, "version", "", "", &c.version)));
  QCAL_RETURN_IF_ERROR(wrap(Read(j, "batch_num", "", "", &c.batch_num)));
  QCAL_RETURN_IF_ERROR(wrap(Read(j, "activation_offset", "", "", &c.activation_offset)));
  QCAL_RETURN_IF_ERROR(wrap(Read(j, "joint_quant", "", "", &c.joint_quant)));
  QCAL_RETURN_IF_ERROR(wrap(Read(j, "do_fusion", "", "", &c.do_fusion)));
  if (c.version != 1) return wrap(RangeError("", "version", "1", std::to_string(c.version)));
  if (c.batch_num <= 0) return wrap(RangeError("", "batch_num", "an integer > 0", std::to_string(c.batch_num)));
  if (j.contains("skip_fusion_layers")) {
    const Json& s = j["skip_fusion_layers"];
    if (!s.is_array()) return wrap(InvalidArgument("config key 'skip_fusion_layers': expected a list of layer names"));
    for (const auto& v : s) {
      if (!v.is_string()) return wrap(InvalidArgument("config key 'skip_fusion_layers': entries must be strings"));
      c.skip_fusion_layers.push_back(v.get<std::string>());
    }
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (globals.count(it.key())) continue;
    LayerQuantConfig lc;
    QCAL_RETURN_IF_ERROR(wrap(LayerFromJson(it.value(), it.key(), &lc)));
    c.layers[it.key()] = lc;
    c.layer_order.push_back(it.key());
  }
  return c;
}

Status SaveQuantConfig(const QuantConfig& config, const std::string& path) {
  return WriteFileAtomic(path, QuantConfigToJson(config));
}

Result<QuantConfig> LoadQuantConfig(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return QuantConfigFromJson(text, path);
}

Status ValidateQuantConfig(const QuantConfig& config, const Graph& graph) {
  LayerScan scan = ScanQuantizableLayers(graph);
  std::map<std::string, const QuantizableLayer*> by_name;
  for (const auto& l : scan.layers) by_name[l.name] = &l;
  for (const auto& name : config.layer_order) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      std::string why = "no such layer in the model";
      for (const auto& s : scan.skipped) if (s.name == name) why = s.op_type + " that cannot be quantized: " + s.reason;
      return InvalidArgument("config layer '" + name + "': " + why);
    }
    const LayerQuantConfig& lc = config.layers.at(name);
    QCAL_RETURN_IF_ERROR(ValidateLayerConfig(name, lc));
    if (lc.wts.channel_wise && !it->second->rule->channel_wise_ok) {
      return InvalidArgument("layer '" + name + "', key 'weight_quant_params.channel_wise': true is not allowed for " +
                             it->second->op_type + " (only Conv and ConvTranspose have per-channel weight scales)");
    }
  }
  for (const auto& s : config.skip_fusion_layers) {
    if (!graph.FindNode(s)) return InvalidArgument("config key 'skip_fusion_layers': no layer named '" + s + "'");
  }
  return Status::Ok();
}

}  // namespace qcal
