// Times an ONNX model in ONNX Runtime (CPU execution provider, through the C
// API's C++ wrapper) with the protocol and JSON of `qcal bench`
// (base/timing.h): fixed-seed random float inputs (the same values qcal bench
// feeds), `--warmup` untimed runs, `--runs` timed runs, median / p10 / p90.
//
//   qcal_ort_bench --model M [--batch B] [--threads T] [--warmup N] [--runs N] [--max-seconds S]
//                  [--no-optimize] [--save-optimized FILE] [--profile FILE] [--report-json FILE]
//
// With the default graph optimizations (ORT_ENABLE_ALL) a QDQ deploy model runs
// as ORT's int8 kernels (QLinearConv ...); --no-optimize runs the graph as written.
// --profile FILE writes ORT's profiler trace (Chrome trace JSON; every
// warmup and timed run, per-node "dur" in us for kernel_time events) to FILE.
#include <onnxruntime_cxx_api.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/file.h"
#include "base/timing.h"

namespace qcal {
namespace {

struct Flags {
  std::string model;
  int64_t batch = 1;
  int threads = 0;
  int warmup = 5;
  int runs = 20;
  double max_seconds = 0;
  uint32_t seed = 1;
  bool no_optimize = false;
  std::string save_optimized;
  std::string profile;
  std::string report_json;
};

struct Inputs {
  std::vector<std::string> names;
  std::vector<std::vector<float>> data;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<Ort::Value> values;
};

// One float tensor per model input, batch dim = flags.batch, seeds seed, seed+1, ...
// in input order (as qcal bench does for float inputs).
Result<Inputs> MakeInputs(Ort::Session& session, const Flags& f) {
  Inputs in;
  Ort::AllocatorWithDefaultOptions alloc;
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const size_t n = session.GetInputCount();
  in.data.resize(n);
  for (size_t i = 0; i < n; ++i) {
    in.names.push_back(session.GetInputNameAllocated(i, alloc).get());
    Ort::TypeInfo type = session.GetInputTypeInfo(i);  // owns what `info` views
    auto info = type.GetTensorTypeAndShapeInfo();
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      return Unsupported("input '" + in.names.back() + "' is not float32 (only float inputs are generated)");
    }
    std::vector<int64_t> shape = info.GetShape();
    if (!shape.empty()) shape[0] = f.batch;
    int64_t numel = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] < 0)
        return InvalidArgument("input '" + in.names.back() + "' has an unknown dim " + std::to_string(d));
      numel *= shape[d];
    }
    in.data[i] = RandomUniformFloats(static_cast<size_t>(numel), f.seed + static_cast<uint32_t>(i));
    in.shapes.push_back(shape);
    in.values.push_back(Ort::Value::CreateTensor<float>(mem, in.data[i].data(), in.data[i].size(),
                                                        in.shapes[i].data(), in.shapes[i].size()));
  }
  return in;
}

// Ends ORT's profiling and renames its dated trace file to `path`.
Status MoveProfile(Ort::Session& session, const std::string& path) {
  Ort::AllocatorWithDefaultOptions alloc;
  const std::string written = session.EndProfilingAllocated(alloc).get();
  std::error_code ec;
  std::filesystem::rename(written, path, ec);
  if (ec) return IoError("cannot rename ORT profile '" + written + "' to '" + path + "': " + ec.message());
  return Status::Ok();
}

Status Bench(const Flags& f) {
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "qcal_ort_bench");
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(f.no_optimize ? ORT_DISABLE_ALL : ORT_ENABLE_ALL);
    so.SetIntraOpNumThreads(f.threads);  // 0: ORT's default, one per core
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ORT_SEQUENTIAL);
    if (!f.save_optimized.empty()) so.SetOptimizedModelFilePath(f.save_optimized.c_str());
    if (!f.profile.empty()) so.EnableProfiling(f.profile.c_str());  // ORT appends a date to this prefix
    Ort::Session session(env, f.model.c_str(), so);
    QCAL_ASSIGN_OR_RETURN(Inputs in, MakeInputs(session, f));

    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<std::string> out_names;
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      out_names.push_back(session.GetOutputNameAllocated(i, alloc).get());
    }
    std::vector<const char*> in_c, out_c;
    for (const auto& s : in.names) in_c.push_back(s.c_str());
    for (const auto& s : out_names) out_c.push_back(s.c_str());
    auto run = [&]() -> Status {
      try {
        session.Run(Ort::RunOptions{nullptr}, in_c.data(), in.values.data(), in.values.size(), out_c.data(),
                    out_c.size());
        return Status::Ok();
      } catch (const Ort::Exception& e) {
        return Internal(std::string("ONNX Runtime: ") + e.what());
      }
    };

    BenchReport report;
    report.runtime = "onnxruntime";
    report.model = f.model;
    report.batch = f.batch;
    report.threads = f.threads;
    report.warmup = f.warmup;
    report.load_avg_before = LoadAverage1m();
    QCAL_ASSIGN_OR_RETURN(report.times_ms, TimeRuns(f.warmup, f.runs, run, f.max_seconds));
    report.load_avg_after = LoadAverage1m();
    if (!f.profile.empty()) QCAL_RETURN_IF_ERROR(MoveProfile(session, f.profile));
    report.extra = {{"inputs", JsonString("random")},
                    {"ort_version", JsonString(Ort::GetVersionString())},
                    {"graph_optimization", JsonString(f.no_optimize ? "disabled" : "all")}};
    const std::string json = BenchReportJson(report);
    std::fputs(json.c_str(), stdout);
    return f.report_json.empty() ? Status::Ok() : WriteFileAtomic(f.report_json, json);
  } catch (const Ort::Exception& e) {
    return InvalidArgument("ONNX Runtime failed on '" + f.model + "': " + e.what());
  }
}

}  // namespace
}  // namespace qcal

int main(int argc, char** argv) {
  qcal::Flags f;
  CLI::App app("Time an ONNX model in ONNX Runtime (same protocol and JSON as `qcal bench`)");
  app.add_option("--model", f.model, "ONNX model")->required();
  app.add_option("--batch", f.batch, "Batch size (first dim of every input)")->check(CLI::PositiveNumber);
  app.add_option("--threads", f.threads, "Intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--warmup", f.warmup, "Untimed runs first")->check(CLI::NonNegativeNumber);
  app.add_option("--runs", f.runs, "Timed runs")->check(CLI::PositiveNumber);
  app.add_option("--max-seconds", f.max_seconds,
                 "Stop the timed runs after this many seconds (at least 3 runs)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", f.seed, "Seed of the random inputs");
  app.add_flag("--no-optimize", f.no_optimize,
               "Disable ORT's graph optimizations (no QDQ -> QLinear fusion)");
  app.add_option("--save-optimized", f.save_optimized, "Write the graph ORT actually runs to this file");
  app.add_option("--profile", f.profile,
                 "Write ONNX Runtime's per-node profile (Chrome trace JSON, all runs) to this file");
  app.add_option("--report-json", f.report_json, "Also write the JSON report to this file");
  CLI11_PARSE(app, argc, argv);
  qcal::Status st = qcal::Bench(f);
  if (!st.ok()) {
    std::fprintf(stderr, "[qcal_ort_bench] error: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
