// qcal eval: top-1 / top-5 of a classifier and of its quantized models on
// labeled data, side by side, with the same data and preprocessing. Optionally
// writes per-image top-1 predictions (CSV) and logits (.npy per model).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "accuracy/topk.h"
#include "base/file.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "ir/npy.h"

namespace qcal::cli {
namespace {

struct EvalFlags {
  ModelFlags model;
  DataFlags data;
  std::vector<std::string> quantized;
  int batch_size = 64;
  int64_t limit = 0;
  std::string report_json;
  std::string predictions;
  std::string logits_dir;
  int threads = 0;
};

// One evaluated model: `acc.name` is its column ("fp32", "int8_1", ...: CSV column,
// logits file name, progress lines), `name` its table and JSON name ("fp32" or "int8").
struct ModelResult {
  std::string name;
  accuracy::TopKAccuracy acc;
};

Status Evaluate(const Graph& graph, const data::DataSource& source, const EvalFlags& f, ModelResult* r) {
  accuracy::EvalOptions options;
  options.batch_size = f.batch_size;
  options.limit = f.limit;
  options.threads = f.threads;
  options.keep_predictions = !f.predictions.empty();
  options.keep_logits = !f.logits_dir.empty();
  return accuracy::EvaluateTopK(graph, source, options, &r->acc);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

// index,file,label,<top-1 of each model>; the images are the same for every model.
Status WritePredictions(const std::string& path, const std::vector<ModelResult>& results) {
  const accuracy::TopKAccuracy& images = results[0].acc;
  std::string csv = "index,file,label";
  for (const auto& r : results) csv.append(",").append(r.acc.name);
  csv.append("\n");
  for (size_t i = 0; i < images.labels.size(); ++i) {
    csv.append(std::to_string(i)).append(",").append(CsvField(images.origins[i]));
    csv.append(",").append(std::to_string(images.labels[i]));
    for (const auto& r : results) csv.append(",").append(std::to_string(r.acc.predicted[i]));
    csv.append("\n");
  }
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(path));
  return WriteFileAtomic(path, csv);
}

Status WriteLogits(const std::string& dir, const std::vector<ModelResult>& results) {
  for (const auto& r : results) {
    Tensor t(DataType::kFloat32, {r.acc.images, r.acc.classes});
    std::copy(r.acc.logits.begin(), r.acc.logits.end(), t.data<float>());
    std::string path = dir + "/" + r.acc.name + ".npy";
    QCAL_RETURN_IF_ERROR(CreateParentDirectories(path));
    QCAL_RETURN_IF_ERROR(WriteNpyFile(path, t));
  }
  return Status::Ok();
}

Status Report(const EvalFlags& f, const std::vector<ModelResult>& results) {
  std::printf("%-6s %8s %8s %8s  %s\n", "model", "images", "top1", "top5", "path");
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const auto& [name, acc] : results) {
    std::printf("%-6s %8lld %7.2f%% %7.2f%%  %s\n", name.c_str(), static_cast<long long>(acc.images),
                100 * acc.Top1(), 100 * acc.Top5(), acc.path.c_str());
    models.push_back(
        {{"name", name}, {"column", acc.name}, {"path", acc.path}, {"top1", acc.Top1()}, {"top5", acc.Top5()}});
  }
  const accuracy::TopKAccuracy& fp32 = results[0].acc;
  if (results.size() > 1) {
    double d = 100.0 * (double(results[1].acc.top1) - fp32.top1) / std::max<int64_t>(fp32.images, 1);
    std::printf("INT8 - FP32 top-1: %+.2f points\n", d);
  }
  if (!f.report_json.empty()) {
    nlohmann::ordered_json j = {{"images", fp32.images}, {"models", models}};
    QCAL_RETURN_IF_ERROR(WriteFileAtomic(f.report_json, j.dump(2) + "\n"));
  }
  if (!f.predictions.empty()) QCAL_RETURN_IF_ERROR(WritePredictions(f.predictions, results));
  if (!f.logits_dir.empty()) QCAL_RETURN_IF_ERROR(WriteLogits(f.logits_dir, results));
  return Status::Ok();
}

Status Eval(const EvalFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph fp32, LoadModelFromFlags(f.model));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, fp32));
  if (!source->has_labels())
    return InvalidArgument("--data " + f.data.data + " has no labels; give --labels");
  std::vector<ModelResult> results;
  results.push_back({"fp32", accuracy::TopKAccuracy("fp32", f.model.model)});
  QCAL_RETURN_IF_ERROR(Evaluate(fp32, *source, f, &results.back()));
  for (const auto& q : f.quantized) {
    ModelFlags mf;
    mf.model = q;
    QCAL_ASSIGN_OR_RETURN(Graph g, LoadModelFromFlags(mf));
    results.push_back({"int8", accuracy::TopKAccuracy("int8_" + std::to_string(results.size()), q)});
    QCAL_RETURN_IF_ERROR(Evaluate(g, *source, f, &results.back()).WithContext(q));
  }
  return Report(f, results);
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<EvalFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, true);
  sub.add_option("--quantized", f->quantized,
                 "A quantized model (ONNX) to evaluate beside the FP32 one; repeatable");
  sub.add_option("--batch-size", f->batch_size,
                 "Images per batch (models with a fixed batch size run one image "
                 "at a time)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--limit", f->limit, "Evaluate only the first N images");
  sub.add_option("--report-json", f->report_json, "Write the results as JSON");
  sub.add_option("--predictions", f->predictions,
                 "Write per-image top-1 as CSV: index,file,label,fp32,int8_1,... "
                 "(int8_k = the k-th --quantized model)");
  sub.add_option("--logits-dir", f->logits_dir,
                 "Write each model's scores [images, classes] as DIR/fp32.npy, "
                 "DIR/int8_1.npy, ...");
  AddThreadsFlag(sub, f->threads);
  return [f]() {
    Status st = Eval(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("eval", "Top-1/top-5 of a classifier and its quantized models on labeled data", Setup);

}  // namespace qcal::cli
