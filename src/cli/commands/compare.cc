// qcal compare: FP32 vs quantized model layer by layer (cosine, SQNR, max abs
// error of every quantized layer's output, and of its weights), worst first.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "accuracy/compare.h"
#include "accuracy/compare_report.h"
#include "accuracy/quantized_model.h"
#include "base/file.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "passes/fold_batchnorm.h"

namespace qcal::cli {
namespace {

struct CompareFlags {
  ModelFlags model;
  DataFlags data;
  std::string quantized, config, record, report_json;
  int64_t batch_size = 16;
  int64_t limit = 0;
  double threshold = 0.99;
};

// The FP32 side (BN folded as the quantizer folds it) and the quantized side.
Status LoadPair(const CompareFlags& f, const Graph& fp32, Graph* folded, Graph* quantized) {
  std::optional<QuantConfig> config;
  if (!f.config.empty()) {
    QCAL_ASSIGN_OR_RETURN(config, LoadQuantConfig(f.config));
  }
  if (!f.quantized.empty()) {
    ModelFlags mf;
    mf.model = f.quantized;
    QCAL_ASSIGN_OR_RETURN(*quantized, LoadModelFromFlags(mf));
    *folded = fp32;
    if (config && !config->do_fusion) return Status::Ok();
    FoldOptions fo;
    if (config) fo.skip_layers.insert(config->skip_fusion_layers.begin(), config->skip_fusion_layers.end());
    return FoldBatchNorm(*folded, fo).status();
  }
  if (f.record.empty()) return InvalidArgument("give --quantized MODEL, or --record (and optionally --config)");
  if (!config) {
    QCAL_ASSIGN_OR_RETURN(config, CreateQuantConfig(fp32, {}));
  }
  QCAL_ASSIGN_OR_RETURN(*quantized, accuracy::FakeQuantFromRecord(*config, fp32, f.record, folded));
  return Status::Ok();
}

Status Compare(const CompareFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph fp32, LoadModelFromFlags(f.model));
  Graph folded, quantized;
  QCAL_RETURN_IF_ERROR(LoadPair(f, fp32, &folded, &quantized));
  QCAL_ASSIGN_OR_RETURN(auto source, OpenData(f.data, fp32));
  QCAL_ASSIGN_OR_RETURN(accuracy::CompareReport report,
                        accuracy::CompareOnData(folded, quantized, *source, {f.batch_size, f.limit}));
  std::fputs(accuracy::FormatCompareTable(report, f.threshold).c_str(), stdout);
  if (!f.report_json.empty()) {
    QCAL_RETURN_IF_ERROR(CreateParentDirectories(f.report_json));
    QCAL_RETURN_IF_ERROR(
        WriteFileAtomic(f.report_json, accuracy::CompareReportJson(report, f.threshold).dump(2) + "\n"));
  }
  return Status::Ok();
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<CompareFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, false);
  sub.add_option("--quantized", f->quantized, "The fake-quant or deploy ONNX model qcal saved for --model");
  sub.add_option("--record", f->record, "Instead of --quantized: build the fake-quant model from this record");
  sub.add_option("--config", f->config, "Quantization config (with --record: which layers; default all)");
  sub.add_option("--batch-size", f->batch_size, "Images per batch")->check(CLI::PositiveNumber);
  sub.add_option("--limit", f->limit, "Compare on the first N images only");
  sub.add_option("--cosine-threshold", f->threshold, "Flag layers whose output cosine is below this");
  sub.add_option("--report-json", f->report_json, "Write the comparison as JSON");
  return [f]() {
    Status st = Compare(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("compare", "Per-layer error (cosine, SQNR, max abs) of a quantized model against FP32", Setup);

}  // namespace qcal::cli
