#include "quant/config/simple_cfg.h"

#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "base/file.h"
#include "base/text_format.h"
#include "quant/rules.h"

namespace qcal {
namespace {

using pbtext::Token;

// Layer types of the cfg -> qcal op types (ONNX names map to themselves).
const std::map<std::string, std::vector<std::string>>& LayerTypes() {
  static const std::map<std::string, std::vector<std::string>> types = {
      {"Conv", {"Conv"}},
      {"ConvTranspose", {"ConvTranspose"}},
      {"Gemm", {"Gemm"}},
      {"MatMul", {"MatMul"}},
      {"AveragePool", {"AveragePool"}},
      {"Convolution", {"Conv"}},            // Caffe
      {"Deconvolution", {"ConvTranspose"}},  // Caffe
      {"InnerProduct", {"Gemm", "MatMul"}},  // Caffe
      {"Pooling", {"AveragePool"}},          // Caffe (AVE pooling; MAX is never quantized)
  };
  return types;
}

// Fields AMCT has that qcal does not implement: a clear error instead of "unknown key".
const std::map<std::string, std::string>& Unsupported() {
  static const std::map<std::string, std::string> fields = {
      {"nuq_config", "non-uniform quantization (NUQ) is not supported by qcal"},
      {"tensor_quantize", "tensor-only quantization is not supported by qcal"},
      {"fakequant_precision_mode", "FORCE_FP16_QUANT is not supported by qcal"},
      {"conv_calibration_config", "deprecated in AMCT; use override_layer_types { layer_type: \"Conv\" ... }"},
      {"fc_calibration_config", "deprecated in AMCT; use override_layer_types { layer_type: \"Gemm\" ... }"},
      {"nuq_quantize", "non-uniform quantization (NUQ) is not supported by qcal"},
  };
  return fields;
}

std::string Num(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

CfgPosition At(const Token& t) { return {t.line, t.col}; }

class CfgParser : public pbtext::Parser {
 public:
  CfgParser(std::string_view text, const std::string& origin) : pbtext::Parser(text, origin), origin_(origin) {}

  Result<SimpleCfg> Parse() {
    SimpleCfg cfg;
    cfg.origin = origin_;
    QCAL_RETURN_IF_ERROR(Advance());
    Seen seen;
    QCAL_RETURN_IF_ERROR(ParseFields("", [&](const Token& name) { return TopField(name, cfg, seen); }));
    return cfg;
  }

 private:
  using Seen = std::set<std::string>;
  using Handler = std::function<Status(const Token& name)>;
  struct Field {
    bool repeated;
    Handler parse;
  };

  // InvalidArgument "<origin>:<line>:<col>: <msg>".
  Status Bad(const Token& t, const std::string& msg) const {
    return InvalidArgument(origin_ + ":" + std::to_string(t.line) + ":" + std::to_string(t.col) + ": " + msg);
  }

  // Dispatches one field through `table`; unknown and repeated-once fields are errors.
  Status Dispatch(const Token& name, const std::map<std::string, Field>& table, const std::string& where,
                  Seen& seen) {
    auto it = table.find(name.text);
    if (it == table.end()) {
      if (auto u = Unsupported().find(name.text); u != Unsupported().end()) {
        return Bad(name, where + ": key '" + name.text + "': " + u->second);
      }
      std::vector<std::string> allowed;
      for (const auto& [k, f] : table) allowed.push_back(k);
      return Bad(name, where + ": unknown key '" + name.text + "' (allowed: " + Join(allowed) + ")");
    }
    if (!it->second.repeated && !seen.insert(name.text).second) {
      return Bad(name, where + ": key '" + name.text + "' is given twice");
    }
    return it->second.parse(name);
  }

  // ---- scalar fields

  Status Bool(const Token& name, std::optional<bool>* out) {
    return ParseScalars(name, false, [&](const Token& v) -> Status {
      QCAL_ASSIGN_OR_RETURN(*out, pbtext::ToBool(v, lexer()));
      return Status::Ok();
    });
  }

  Status Names(const Token& name, std::vector<CfgName>* out) {
    return ParseScalars(name, true, [&](const Token& v) -> Status {
      QCAL_ASSIGN_OR_RETURN(std::string s, pbtext::ToString(v, lexer()));
      out->push_back({s, At(v)});
      return Status::Ok();
    });
  }

  Status String(const Token& name, std::string* out, CfgPosition* where) {
    return ParseScalars(name, false, [&](const Token& v) -> Status {
      QCAL_ASSIGN_OR_RETURN(*out, pbtext::ToString(v, lexer()));
      *where = At(v);
      return Status::Ok();
    });
  }

  // A real in the range `ok` accepts; errors name the context, key and range.
  Status Real(const Token& name, const std::string& where, const std::string& key, bool (*ok)(double),
              const char* allowed, std::optional<double>* out) {
    return ParseScalars(name, false, [&](const Token& v) -> Status {
      QCAL_ASSIGN_OR_RETURN(double d, pbtext::ToDouble(v, lexer()));
      if (!ok(d)) return Bad(v, where + ": " + key + ": " + v.text + " is not allowed (allowed: " + allowed + ")");
      *out = d;
      return Status::Ok();
    });
  }

  // An integer from `choices`.
  Status Choice(const Token& name, const std::string& where, const std::string& key, std::vector<int> choices,
                std::optional<int>* out) {
    return ParseScalars(name, false, [&](const Token& v) -> Status {
      QCAL_ASSIGN_OR_RETURN(int64_t n, pbtext::ToInt(v, lexer(), std::numeric_limits<int32_t>::min(),
                                                      std::numeric_limits<int32_t>::max()));
      std::vector<std::string> names;
      for (int c : choices) names.push_back(std::to_string(c));
      for (int c : choices) {
        if (n == c) {
          *out = c;
          return Status::Ok();
        }
      }
      return Bad(v, where + ": " + key + ": " + v.text + " is not allowed (allowed: " + Join(names) + ")");
    });
  }

  // dst_type: INT8 (AMCT's only activation type), as an enum name or a string.
  Status DstType(const Token& name, const std::string& where, const std::string& key) {
    return ParseScalars(name, false, [&](const Token& v) -> Status {
      if (v.text != "INT8") return Bad(v, where + ": " + key + ": '" + v.text + "' is not allowed (allowed: INT8)");
      return Status::Ok();
    });
  }

  // ---- messages

  Status TopField(const Token& name, SimpleCfg& cfg, Seen& seen) {
    const std::string top = "top level";
    std::map<std::string, Field> table = {
        {"batch_num", {false, [&](const Token& n) {
                         std::optional<int> v;
                         return ParseScalars(n, false, [&](const Token& t) -> Status {
                           QCAL_ASSIGN_OR_RETURN(int64_t b, pbtext::ToInt(t, lexer(), std::numeric_limits<int64_t>::min(),
                                                                          std::numeric_limits<int64_t>::max()));
                           if (b <= 0 || b > std::numeric_limits<int32_t>::max()) {
                             return Bad(t, "batch_num: " + t.text + " is not allowed (allowed: an integer > 0)");
                           }
                           cfg.batch_num = static_cast<int>(b);
                           return Status::Ok();
                         });
                       }}},
        {"activation_offset", {false, [&](const Token& n) { return Bool(n, &cfg.activation_offset); }}},
        {"joint_quant", {false, [&](const Token& n) { return Bool(n, &cfg.joint_quant); }}},
        {"do_fusion", {false, [&](const Token& n) { return Bool(n, &cfg.do_fusion); }}},
        {"skip_layers", {true, [&](const Token& n) { return Names(n, &cfg.skip_layers); }}},
        {"skip_layer_types", {true, [&](const Token& n) { return Names(n, &cfg.skip_layer_types); }}},
        {"skip_fusion_layers", {true, [&](const Token& n) { return Names(n, &cfg.skip_fusion_layers); }}},
        {"common_config", {false, [&](const Token& n) {
                             cfg.common.emplace();
                             return Calibration(n, "common_config", &*cfg.common);
                           }}},
        {"override_layer_types", {true, [&](const Token& n) {
                                    return Override(n, "override_layer_types", "layer_type", &cfg.type_overrides);
                                  }}},
        {"override_layer_configs", {true, [&](const Token& n) {
                                      return Override(n, "override_layer_configs", "layer_name",
                                                      &cfg.layer_overrides);
                                    }}},
    };
    return Dispatch(name, table, top, seen);
  }

  // override_layer_types { layer_type: "T" calibration_config { ... } } (or layer_name).
  Status Override(const Token& open, const std::string& kind, const std::string& key, std::vector<CfgOverride>* out) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage(open.text));
    CfgOverride o;
    bool has_settings = false;
    Seen seen;
    std::map<std::string, Field> table = {
        {key, {false, [&](const Token& n) { return String(n, &o.name, &o.where); }}},
        {"calibration_config", {false, [&](const Token& n) {
                                  has_settings = true;
                                  std::string ctx = kind + (o.name.empty() ? "" : " '" + o.name + "'");
                                  return Calibration(n, ctx, &o.settings);
                                }}},
    };
    QCAL_RETURN_IF_ERROR(ParseFields(close, [&](const Token& n) { return Dispatch(n, table, kind, seen); }));
    if (o.name.empty()) return Bad(open, kind + ": '" + key + "' is required");
    if (!has_settings) return Bad(open, kind + " '" + o.name + "': 'calibration_config' is required");
    o.settings.context = kind + " '" + o.name + "'";
    for (const auto& prev : *out) {
      if (prev.name == o.name) {
        return Bad(open, kind + ": '" + o.name + "' is given twice (first at line " +
                             std::to_string(prev.where.line) + ")");
      }
    }
    out->push_back(std::move(o));
    return Status::Ok();
  }

  // calibration_config { arq_quantize {...} ifmr_quantize {...} | hfmg_quantize {...} }
  Status Calibration(const Token& open, const std::string& ctx, CalibrationSettings* s) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage(open.text));
    s->where = At(open);
    s->context = ctx;
    Seen seen;
    Token algo_token;
    std::map<std::string, Field> table = {
        {"arq_quantize", {false, [&](const Token& n) { return Arq(n, ctx, s); }}},
        {"ifmr_quantize", {false, [&](const Token& n) { return ActAlgo(n, ctx, "ifmr", s, &algo_token); }}},
        {"hfmg_quantize", {false, [&](const Token& n) { return ActAlgo(n, ctx, "hfmg", s, &algo_token); }}},
    };
    return ParseFields(close, [&](const Token& n) { return Dispatch(n, table, ctx, seen); });
  }

  Status Arq(const Token& open, const std::string& ctx, CalibrationSettings* s) {
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage(open.text));
    Seen seen;
    std::map<std::string, Field> table = {
        {"channel_wise",
         {false,
          [&](const Token& n) {
            s->channel_wise_where = At(n);
            return Bool(n, &s->channel_wise);
          }}},
        {"quant_bits",
         {false,
          [&](const Token& n) {
            return Choice(n, ctx, "arq_quantize.quant_bits", {7, 8}, &s->quant_bits);
          }}},
    };
    return ParseFields(close, [&](const Token& n) { return Dispatch(n, table, ctx + ": arq_quantize", seen); });
  }

  // ifmr_quantize / hfmg_quantize: selects the activation algorithm and its parameters.
  Status ActAlgo(const Token& open, const std::string& ctx, const std::string& algo, CalibrationSettings* s,
                 Token* first) {
    if (s->act_algo) {
      return Bad(open, ctx + ": ifmr_quantize and hfmg_quantize exclude each other (the other one is at line " +
                           std::to_string(first->line) + ")");
    }
    *first = open;
    s->act_algo = algo;
    QCAL_ASSIGN_OR_RETURN(std::string close, OpenMessage(open.text));
    const std::string block = algo + "_quantize";
    auto key = [&](const char* k) { return block + "." + k; };
    auto positive = [](double v) { return v > 0; };
    auto percentile = [](double v) { return v > 0.5 && v <= 1.0; };
    Seen seen;
    std::map<std::string, Field> table = {
        {"asymmetric", {false, [&](const Token& n) { return Bool(n, &s->asymmetric); }}},
        {"dst_type", {false, [&](const Token& n) { return DstType(n, ctx, key("dst_type")); }}},
    };
    if (algo == "ifmr") {
      table["search_range_start"] = {false, [&](const Token& n) {
                                       return Real(n, ctx, key("search_range_start"), positive, "> 0",
                                                   &s->search_range_start);
                                     }};
      table["search_range_end"] = {false, [&](const Token& n) {
                                     return Real(n, ctx, key("search_range_end"), positive, "> 0",
                                                 &s->search_range_end);
                                   }};
      table["search_step"] = {false, [&](const Token& n) {
                                return Real(n, ctx, key("search_step"), positive, "> 0", &s->search_step);
                              }};
      table["max_percentile"] = {false, [&](const Token& n) {
                                   return Real(n, ctx, key("max_percentile"), percentile, "(0.5, 1]",
                                               &s->max_percentile);
                                 }};
      table["min_percentile"] = {false, [&](const Token& n) {
                                   return Real(n, ctx, key("min_percentile"), percentile, "(0.5, 1]",
                                               &s->min_percentile);
                                 }};
    } else {
      table["num_of_bins"] = {false, [&](const Token& n) {
                                return Choice(n, ctx, key("num_of_bins"), {1024, 2048, 4096, 8192}, &s->num_of_bins);
                              }};
    }
    QCAL_RETURN_IF_ERROR(ParseFields(close, [&](const Token& n) { return Dispatch(n, table, ctx + ": " + block, seen); }));
    if (s->search_range_start && s->search_range_end && !(*s->search_range_start < *s->search_range_end)) {
      return Bad(open, ctx + ": " + key("search_range_start") + " " + Num(*s->search_range_start) +
                           " must be below search_range_end " + Num(*s->search_range_end) +
                           " (allowed: 0 < start < end)");
    }
    return Status::Ok();
  }

  std::string origin_;
};

// ----------------------------------------------------------------- applying

std::string Where(const SimpleCfg& cfg, CfgPosition p) {
  return cfg.origin + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
}

void ApplyActivation(const CalibrationSettings& s, ActivationQuantParams* a) {
  if (s.act_algo) a->act_algo = *s.act_algo;
  if (s.search_range_start) a->search_range_start = *s.search_range_start;
  if (s.search_range_end) a->search_range_end = *s.search_range_end;
  if (s.search_step) a->search_step = *s.search_step;
  if (s.max_percentile) a->max_percentile = *s.max_percentile;
  if (s.min_percentile) a->min_percentile = *s.min_percentile;
  if (s.num_of_bins) a->num_of_bins = *s.num_of_bins;
  if (s.asymmetric) a->asymmetric = *s.asymmetric;
}

// channel_wise from common_config applies where the layer allows it; from an
// override it is applied as written (and true on a Gemm is an error).
Status ApplyChannelWise(const SimpleCfg& cfg, const CalibrationSettings& s, bool is_common,
                        const QuantizableLayer& l, LayerQuantConfig* lc) {
  if (!s.channel_wise) return Status::Ok();
  if (*s.channel_wise && !l.rule->channel_wise_ok) {
    if (is_common) return Status::Ok();
    return InvalidArgument(Where(cfg, s.channel_wise_where) + ": " + s.context +
                           ": arq_quantize.channel_wise: true is not allowed for layer '" + l.name + "' (" +
                           l.op_type + "; allowed: false — only Conv and ConvTranspose have per-channel weight scales)");
  }
  lc->wts.channel_wise = *s.channel_wise;
  return Status::Ok();
}

Status CheckTypes(const SimpleCfg& cfg, const std::vector<CfgName>& types, const std::string& key) {
  for (const auto& t : types) {
    if (!LayerTypes().count(t.name)) {
      return InvalidArgument(Where(cfg, t.where) + ": " + key + ": '" + t.name +
                             "' is not a quantizable layer type (allowed: " + LayerTypeNames() + ")");
    }
  }
  return Status::Ok();
}

Status CheckLayers(const SimpleCfg& cfg, const std::vector<CfgName>& names, const std::string& key,
                   const LayerScan& scan) {
  std::vector<std::string> all;
  std::set<std::string> known;
  for (const auto& l : scan.layers) {
    all.push_back(l.name);
    known.insert(l.name);
  }
  for (const auto& n : names) {
    if (known.count(n.name)) continue;
    std::string why = "no such layer in the model";
    for (const auto& s : scan.skipped) {
      if (s.name == n.name) why = s.op_type + " that cannot be quantized: " + s.reason;
    }
    return InvalidArgument(Where(cfg, n.where) + ": " + key + " '" + n.name + "': " + why +
                           " (quantizable layers: " + Join(all) + ")");
  }
  return Status::Ok();
}

std::vector<CfgName> NamesOf(const std::vector<CfgOverride>& overrides) {
  std::vector<CfgName> names;
  for (const auto& o : overrides) names.push_back({o.name, o.where});
  return names;
}

}  // namespace

bool LayerTypeMatches(const std::string& cfg_type, const std::string& op_type) {
  auto it = LayerTypes().find(cfg_type);
  if (it == LayerTypes().end()) return false;
  for (const auto& t : it->second) {
    if (t == op_type) return true;
  }
  return false;
}

std::string LayerTypeNames() {
  std::vector<std::string> names;
  for (const auto& [k, v] : LayerTypes()) names.push_back(k);
  return Join(names);
}

Result<SimpleCfg> ParseSimpleCfg(std::string_view text, const std::string& origin) {
  return CfgParser(text, origin).Parse();
}

Result<QuantConfig> QuantConfigFromSimpleCfg(const SimpleCfg& cfg, const Graph& graph) {
  LayerScan scan = ScanQuantizableLayers(graph);
  QCAL_RETURN_IF_ERROR(CheckLayers(cfg, cfg.skip_layers, "skip_layers", scan));
  QCAL_RETURN_IF_ERROR(CheckLayers(cfg, NamesOf(cfg.layer_overrides), "override_layer_configs layer_name", scan));
  QCAL_RETURN_IF_ERROR(CheckTypes(cfg, cfg.skip_layer_types, "skip_layer_types"));
  QCAL_RETURN_IF_ERROR(CheckTypes(cfg, NamesOf(cfg.type_overrides), "override_layer_types layer_type"));
  for (const auto& s : cfg.skip_fusion_layers) {
    if (!graph.FindNode(s.name)) {
      return InvalidArgument(Where(cfg, s.where) + ": skip_fusion_layers: no layer named '" + s.name + "'");
    }
  }
  CreateConfigOptions opts;
  for (const auto& s : cfg.skip_layers) opts.skip_layers.push_back(s.name);
  opts.batch_num = cfg.batch_num.value_or(1);
  opts.activation_offset = cfg.activation_offset.value_or(true);
  QCAL_ASSIGN_OR_RETURN(QuantConfig c, CreateQuantConfig(graph, opts));
  c.joint_quant = cfg.joint_quant.value_or(false);
  c.do_fusion = cfg.do_fusion.value_or(true);
  for (const auto& s : cfg.skip_fusion_layers) c.skip_fusion_layers.push_back(s.name);

  for (const auto& l : scan.layers) {
    LayerQuantConfig& lc = c.layers.at(l.name);
    for (const auto& t : cfg.skip_layer_types) lc.quant_enable &= !LayerTypeMatches(t.name, l.op_type);
    // Lowest precedence first; each block overwrites the fields it sets.
    std::vector<const CalibrationSettings*> blocks;
    if (cfg.common) blocks.push_back(&*cfg.common);
    for (const auto& o : cfg.type_overrides) {
      if (LayerTypeMatches(o.name, l.op_type)) blocks.push_back(&o.settings);
    }
    for (const auto& o : cfg.layer_overrides) {
      if (o.name == l.name) blocks.push_back(&o.settings);
    }
    for (const CalibrationSettings* b : blocks) {
      ApplyActivation(*b, &lc.act);
      if (b->quant_bits) lc.wts.num_bits = *b->quant_bits;
      QCAL_RETURN_IF_ERROR(ApplyChannelWise(cfg, *b, b == &*cfg.common, l, &lc));
    }
    Status st = ValidateLayerConfig(l.name, lc);
    if (!st.ok()) {
      std::string from = blocks.empty() ? cfg.origin
                                        : Where(cfg, blocks.back()->where) + " (" + blocks.back()->context + ")";
      return st.WithContext(from);
    }
  }
  QCAL_RETURN_IF_ERROR(ValidateQuantConfig(c, graph).WithContext(cfg.origin));
  return c;
}

Result<QuantConfig> LoadSimpleCfg(const std::string& path, const Graph& graph) {
  QCAL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  QCAL_ASSIGN_OR_RETURN(SimpleCfg cfg, ParseSimpleCfg(text, path));
  return QuantConfigFromSimpleCfg(cfg, graph);
}

}  // namespace qcal
