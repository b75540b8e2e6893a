#include "exporters/save_model.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/log.h"
#include "exporters/onnx_writer.h"
#include "quant/algorithms/weights.h"
#include "quant/materialize.h"
#include "quant/record/record.h"
#include "quant/weight_quant.h"

namespace qcal {
namespace {

using Json = nlohmann::ordered_json;

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

Status CheckNotEmpty(const quant::ScaleOffsetRecord& rec, const std::string& path) {
  if (!rec.empty()) return Status::Ok();
  return FailedPrecondition("record file " + Quoted(path) +
                            " is empty: no layer has quantization factors.\n"
                            "Fix: run calibration first (qcal calibrate / qcal quantize, or QuantizeModel and "
                            "batch_num Calibrate calls), or pass the record file that calibration wrote");
}

Status CheckKnownLayers(const quant::ScaleOffsetRecord& rec, const Graph& g, const std::string& path) {
  std::set<std::string> known;
  for (const auto& l : ScanQuantizableLayers(g).layers) known.insert(l.name);
  std::vector<std::string> unknown;
  for (const auto& [key, r] : rec.entries()) if (!known.count(key)) unknown.push_back(key);
  if (unknown.empty()) return Status::Ok();
  std::string list;
  for (size_t i = 0; i < unknown.size() && i < 8; ++i) list += (i ? ", " : "") + Quoted(unknown[i]);
  if (unknown.size() > 8) list += ", ... (" + std::to_string(unknown.size()) + " in all)";
  return InvalidArgument("record file " + Quoted(path) + " has factors for layers that are not quantizable layers "
                         "of this model: " + list + ".\nWas the record written for another model? Use the record "
                         "that calibration of this model wrote");
}

// Every enabled layer must have complete, shape-matching factors; lists all problems at once.
Status CheckLayerFactors(const SaveInputs& in, const quant::ScaleOffsetRecord& rec, const std::string& path) {
  std::string missing, mismatched;
  int n_missing = 0;
  for (const auto& l : in.layers) {
    const quant::LayerRecord* r = rec.Find(l.name);
    if (!r || !r->scale_d || !r->offset_d) {
      ++n_missing;
      missing += "\n  layer \"" + l.name + "\" (" + l.op_type + "): ";
      auto it = in.batch_counts.find(l.name);
      missing += it == in.batch_counts.end()
                     ? "no calibration progress recorded"
                     : "calibration saw " + std::to_string(it->second) + " of batch_num=" +
                           std::to_string(in.config->batch_num) + " batches";
    } else if (!l.weight_value.empty() && r->scale_w.empty() && !in.arq_if_scale_w_missing) {
      mismatched += "\n  layer \"" + l.name + "\": no scale_w/offset_w";
    }
    if (r && !r->scale_w.empty() && !l.weight_value.empty()) {
      Status st = quant::CheckWeightChannels(l.name, *r, l.channels);
      if (!st.ok()) mismatched += "\n  " + st.message();
    }
  }
  if (n_missing) {
    return FailedPrecondition(
        "cannot save: " + std::to_string(n_missing) + " of " + std::to_string(in.layers.size()) +
        " quantized layers have no activation factors (scale_d, offset_d) in record file " + Quoted(path) + ":" +
        missing + "\nFix: feed at least batch_num=" + std::to_string(in.config->batch_num) +
        " calibration batches (more data or a smaller batch size), or lower batch_num in the config, or skip "
        "these layers (quant_enable: false / --skip-layers)");
  }
  if (!mismatched.empty()) {
    return InvalidArgument("record file " + Quoted(path) + " does not match this model:" + mismatched +
                           "\nWas the record written for another model?");
  }
  return Status::Ok();
}

Result<LayerPlan> PlanLayer(const SaveInputs& in, const QuantizableLayer& l, const quant::LayerRecord& r) {
  LayerPlan p;
  p.layer = l;
  p.act = {*r.scale_d, *r.offset_d};
  if (l.weight_value.empty()) return p;
  const Tensor& w = in.folded->initializers.at(l.weight_value);
  const WeightQuantParams& wts = in.config->layers.at(l.name).wts;
  WeightQuantResult q;
  if (r.scale_w.empty()) {
    QCAL_ASSIGN_OR_RETURN(q, ArqQuantizeWeight(w, l, wts.channel_wise, wts.num_bits));
  } else {
    QCAL_ASSIGN_OR_RETURN(q, QuantizeWeightWithScales(w, l, r.scale_w, wts.num_bits));
  }
  p.scale_w = q.scale_w;
  p.weight_q = q.weight_q;
  if (!l.bias_value.empty()) {
    std::vector<float> b = in.folded->initializers.at(l.bias_value).ToFloatVector();
    QCAL_ASSIGN_OR_RETURN(std::vector<int32_t> bq, quant::QuantizeBias(b, p.act.scale, p.scale_w, l.name));
    p.bias_q = Tensor::FromVector<int32_t>(bq, {static_cast<int64_t>(bq.size())});
  }
  return p;
}

Json QuantReport(const SaveInputs& in, const QuantPlan& plan, const std::string& record_path) {
  std::map<std::string, std::vector<std::string>> fused;
  for (const auto& f : in.fusions) fused[f.layer] = f.folded;
  Json layers = Json::array();
  for (const auto& lp : plan.layers) {
    const auto& a = in.config->layers.at(lp.layer.name).act;
    Json j = {{"name", lp.layer.name}, {"op_type", lp.layer.op_type}, {"quantized", true},
              {"act_algo", a.act_algo}, {"scale_d", lp.act.scale}, {"offset_d", lp.act.offset}};
    if (!lp.scale_w.empty()) {
      j["weight_bits"] = in.config->layers.at(lp.layer.name).wts.num_bits;
      j["scale_w"] = lp.scale_w;
    }
    if (fused.count(lp.layer.name)) j["fused"] = fused[lp.layer.name];
    layers.push_back(j);
  }
  for (const auto& s : in.skipped) {
    Json j = {{"name", s.name}, {"op_type", s.op_type}, {"quantized", false}, {"reason", s.reason}};
    if (fused.count(s.name)) j["fused"] = fused[s.name];
    layers.push_back(j);
  }
  return Json{{"qcal_version", QCAL_VERSION}, {"record", record_path}, {"batch_num", in.config->batch_num},
              {"activation_offset", in.config->activation_offset}, {"layers", layers}};
}

}  // namespace

Result<SaveInputs> PrepareSaveInputs(const QuantConfig& config, const Graph& graph, Graph* folded) {
  QCAL_RETURN_IF_ERROR(ValidateQuantConfig(config, graph));
  SaveInputs in;
  *folded = graph;
  if (config.do_fusion) {
    FoldOptions fo;
    fo.skip_layers.insert(config.skip_fusion_layers.begin(), config.skip_fusion_layers.end());
    QCAL_ASSIGN_OR_RETURN(in.fusions, FoldBatchNorm(*folded, fo));
  }
  LayerScan scan = ScanQuantizableLayers(*folded);
  for (auto& l : scan.layers) {
    auto it = config.layers.find(l.name);
    if (it != config.layers.end() && it->second.quant_enable) {
      in.layers.push_back(std::move(l));
    } else {
      in.skipped.push_back({l.name, l.op_type, it == config.layers.end() ? "not in the config" : "quant_enable is false"});
    }
  }
  for (auto& s : scan.skipped) in.skipped.push_back(std::move(s));
  in.folded = folded;
  in.config = &config;
  return in;
}

Result<QuantPlan> BuildQuantPlan(const SaveInputs& in, const std::string& record_path) {
  QCAL_ASSIGN_OR_RETURN(quant::ScaleOffsetRecord rec, quant::ReadRecordFile(record_path));
  QCAL_RETURN_IF_ERROR(CheckNotEmpty(rec, record_path));
  QCAL_RETURN_IF_ERROR(CheckKnownLayers(rec, *in.folded, record_path));
  QCAL_RETURN_IF_ERROR(CheckLayerFactors(in, rec, record_path));
  QuantPlan plan;
  for (const auto& l : in.layers) {
    QCAL_ASSIGN_OR_RETURN(LayerPlan p, PlanLayer(in, l, *rec.Find(l.name)));
    plan.layers.push_back(std::move(p));
  }
  return plan;
}

Status SaveQuantizedModels(const SaveInputs& in, const std::string& record_path, SaveType type,
                           const std::string& prefix, SavedFiles* saved) {
  if (prefix.empty()) return InvalidArgument("save path prefix is empty (e.g. out/model)");
  QCAL_ASSIGN_OR_RETURN(QuantPlan plan, BuildQuantPlan(in, record_path));
  SavedFiles files;
  std::vector<std::pair<std::string, std::string>> outputs;
  auto add_model = [&](QuantModelKind kind, const std::string& path) -> Status {
    QCAL_ASSIGN_OR_RETURN(Graph g, MaterializeQuantizedGraph(*in.folded, plan, kind));
    QCAL_ASSIGN_OR_RETURN(std::string bytes, SerializeOnnx(g));
    outputs.push_back({path, std::move(bytes)});
    return Status::Ok();
  };
  if (type != SaveType::kDeploy) {
    files.fake_quant_model = prefix + "_fake_quant_model.onnx";
    QCAL_RETURN_IF_ERROR(add_model(QuantModelKind::kFakeQuant, files.fake_quant_model));
  }
  if (type != SaveType::kFakeQuant) {
    files.deploy_model = prefix + "_deploy_model.onnx";
    QCAL_RETURN_IF_ERROR(add_model(QuantModelKind::kDeploy, files.deploy_model));
  }
  files.quant_json = prefix + "_quant.json";
  outputs.push_back({files.quant_json, QuantReport(in, plan, record_path).dump(2) + "\n"});
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(prefix));
  QCAL_RETURN_IF_ERROR(WriteFilesAtomic(outputs));
  for (const auto& [path, bytes] : outputs) LogInfo("The model file is saved in " + path);
  if (saved) *saved = files;
  return Status::Ok();
}

Status SaveModel(const QuantSession& session, SaveType type, const std::string& prefix, SavedFiles* saved) {
  if (!session.quantized()) return FailedPrecondition("save_model called before QuantizeModel");
  QCAL_RETURN_IF_ERROR(session.FlushRecord());  // the checks below read the record file
  SaveInputs in;
  in.folded = &session.folded_graph();
  in.config = &session.config();
  in.layers = session.layers();
  in.fusions = session.fusions();
  for (const auto& [name, n] : session.LayerBatchCounts()) in.batch_counts[name] = n;
  for (const auto& s : ScanQuantizableLayers(session.folded_graph()).skipped) in.skipped.push_back(s);
  for (const auto& name : session.config().layer_order) {
    if (!session.config().layers.at(name).quant_enable) in.skipped.push_back({name, "", "quant_enable is false"});
  }
  return SaveQuantizedModels(in, session.record_path(), type, prefix, saved);
}

namespace {

// Save from a record file alone: `arq_if_scale_w_missing` for convert_model.
Status SaveFromRecordFile(const QuantConfig& config, const Graph& graph, const std::string& record_path,
                          SaveType type, const std::string& prefix, SavedFiles* saved, bool arq_if_scale_w_missing) {
  QuantConfig effective = config;
  // Progress comments and batch_num, if the record came from a qcal calibration.
  auto rec = quant::ReadRecordFile(record_path);
  if (rec.ok() && rec->header.batch_num > 0 && rec->header.batch_num != config.batch_num) {
    LogInfo("record file '" + record_path + "' was calibrated with batch_num=" +
               std::to_string(rec->header.batch_num) + ", the config says " + std::to_string(config.batch_num) + "; using the record's");
    effective.batch_num = static_cast<int>(rec->header.batch_num);
  }
  Graph folded;
  QCAL_ASSIGN_OR_RETURN(SaveInputs in, PrepareSaveInputs(effective, graph, &folded));
  in.arq_if_scale_w_missing = arq_if_scale_w_missing;
  if (rec.ok()) {
    for (const auto& [name, n] : rec->header.layer_batches) in.batch_counts[name] = n;
  }
  return SaveQuantizedModels(in, record_path, type, prefix, saved);
}

}  // namespace

Status SaveModelFromRecord(const QuantConfig& config, const Graph& graph, const std::string& record_path,
                           SaveType type, const std::string& prefix, SavedFiles* saved) {
  return SaveFromRecordFile(config, graph, record_path, type, prefix, saved, false);
}

Status ConvertModel(const QuantConfig& config, const Graph& graph, const std::string& record_path, SaveType type,
                    const std::string& prefix, SavedFiles* saved) {
  return SaveFromRecordFile(config, graph, record_path, type, prefix, saved, true);
}

}  // namespace qcal
