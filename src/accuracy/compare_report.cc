#include "accuracy/compare_report.h"

#include <cmath>
#include <cstdio>

namespace qcal::accuracy {
namespace {

using Json = nlohmann::ordered_json;

std::string Num(double v, const char* fmt) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

Json Finite(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json ErrorJson(const LayerError& l, double threshold) {
  Json j = {{"name", l.name},
            {"op_type", l.op_type},
            {"output", l.value},
            {"cosine", l.output.Cosine()},
            {"sqnr_db", Finite(l.output.SqnrDb())},
            {"max_abs_error", l.output.MaxAbsError()},
            {"below_threshold", l.output.Cosine() < threshold}};
  if (l.alone) {
    j["alone_cosine"] = l.alone->Cosine();
    j["alone_sqnr_db"] = Finite(l.alone->SqnrDb());
  }
  if (l.weight) {
    j["weight_cosine"] = l.weight->Cosine();
    j["weight_sqnr_db"] = Finite(l.weight->SqnrDb());
  }
  return j;
}

}  // namespace

std::string FormatCompareTable(const CompareReport& report, double threshold) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-40s %-14s %10s %9s %11s %10s %10s %9s\n", "rank", "layer", "op", "cosine",
                "SQNR dB", "max |err|", "alone cos", "w cosine", "w SQNR");
  out += line;
  int rank = 0, below = 0;
  for (const LayerError* l : WorstFirst(report)) {
    bool flag = l->output.Cosine() < threshold;
    below += flag;
    std::snprintf(line, sizeof line, "%4d  %-40s %-14s %10s %9s %11s %10s %10s %9s%s\n", ++rank, l->name.c_str(),
                  l->op_type.c_str(), Num(l->output.Cosine(), "%.6f").c_str(), Num(l->output.SqnrDb(), "%.2f").c_str(),
                  Num(l->output.MaxAbsError(), "%.4g").c_str(),
                  l->alone ? Num(l->alone->Cosine(), "%.6f").c_str() : "-",
                  l->weight ? Num(l->weight->Cosine(), "%.6f").c_str() : "-",
                  l->weight ? Num(l->weight->SqnrDb(), "%.2f").c_str() : "-", flag ? "  <-- below" : "");
    out += line;
  }
  for (const auto& o : report.outputs) {
    std::snprintf(line, sizeof line, "%4s  %-40s %-14s %10s %9s %11s\n", "out", o.name.c_str(), "model output",
                  Num(o.output.Cosine(), "%.6f").c_str(), Num(o.output.SqnrDb(), "%.2f").c_str(),
                  Num(o.output.MaxAbsError(), "%.4g").c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "%lld samples; %d of %zu layers below cosine %.4g\n",
                static_cast<long long>(report.samples), below, report.layers.size(), threshold);
  out += line;
  return out;
}

Json CompareReportJson(const CompareReport& report, double threshold) {
  Json layers = Json::array(), outputs = Json::array();
  for (const LayerError* l : WorstFirst(report)) layers.push_back(ErrorJson(*l, threshold));
  for (const auto& o : report.outputs) outputs.push_back(ErrorJson(o, threshold));
  return Json{{"samples", report.samples}, {"cosine_threshold", threshold}, {"layers", layers}, {"outputs", outputs}};
}

}  // namespace qcal::accuracy
