// qcal bench: times a model's forward pass and reports median / p10 / p90.
//
// By default every graph input gets random values from a fixed seed (batch dim
// = --batch); with --data the timed runs walk through real batches of that data
// instead (reading and preprocessing included, as in calibration), which is the
// FP32 baseline for `qcal quantize`'s calibration throughput. The JSON
// (base/timing.h BenchReportJson) is the same one bench/ort_bench prints.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

#include "base/file.h"
#include "base/log.h"
#include "base/timing.h"
#include "cli/commands/command.h"
#include "cli/commands/data_flags.h"
#include "cli/commands/model_flags.h"
#include "runtime/executor.h"

namespace qcal::cli {
namespace {

struct BenchFlags {
  ModelFlags model;
  DataFlags data;  // optional: time real batches instead of random inputs
  int64_t batch = 1;
  int threads = 0;
  int warmup = 5;
  int runs = 20;
  double max_seconds = 0;
  bool profile = false;
  uint32_t seed = 1;
  std::string report_json;
};

// Fills `t` from a fixed-seed generator: floats uniform in [-1, 1), 8-bit
// integers over their whole range, wider integers and bools zero (they are
// usually indices or shapes, where only small values are valid).
void FillRandom(Tensor& t, uint32_t seed) {
  const size_t n = static_cast<size_t>(t.numel());
  if (t.dtype() == DataType::kFloat32) {
    std::vector<float> v = RandomUniformFloats(n, seed);
    std::copy(v.begin(), v.end(), t.data<float>());
    return;
  }
  std::mt19937 rng(seed);
  if (t.dtype() == DataType::kUint8) {
    for (size_t i = 0; i < n; ++i) t.data<uint8_t>()[i] = static_cast<uint8_t>(rng());
  } else if (t.dtype() == DataType::kInt8) {
    for (size_t i = 0; i < n; ++i) t.data<int8_t>()[i] = static_cast<int8_t>(rng());
  }  // other dtypes: Tensor's zero-initialized buffer
}

// Every input's shape with the batch dim set to `batch`; any other unknown dim
// is an error asking for --input-shape.
Result<std::map<std::string, Shape>> BenchShapes(const Graph& g, int64_t batch) {
  std::map<std::string, Shape> shapes;
  for (const auto& in : g.inputs) {
    if (!in.shape)
      return InvalidArgument("input '" + in.name + "' has no shape; give --input-shape " + in.name + ":DIMS");
    Shape shape = *in.shape;
    if (!shape.empty()) shape[0] = batch;
    for (size_t d = 1; d < shape.size(); ++d) {
      if (shape[d] < 0) {
        return InvalidArgument("input '" + in.name + "' has an unknown dim " + std::to_string(d) + " in " +
                               ShapeToString(*in.shape) + "; give --input-shape " + in.name + ":DIMS");
      }
    }
    shapes[in.name] = shape;
  }
  return shapes;
}

TensorMap RandomInputs(const Graph& g, const std::map<std::string, Shape>& shapes, uint32_t seed) {
  TensorMap inputs;
  for (const auto& in : g.inputs) {
    Tensor t(in.dtype, shapes.at(in.name));
    FillRandom(t, seed++);
    inputs[in.name] = std::move(t);
  }
  return inputs;
}

// "dnnl:45,ref:12": how many nodes run on each kernel provider.
std::string ProviderCounts(const Executor& ex) {
  std::map<std::string, int> counts;
  for (const auto& p : ex.providers()) ++counts[p];
  std::string s;
  for (const auto& [name, n] : counts) s += (s.empty() ? "" : ",") + name + ":" + std::to_string(n);
  return s;
}

// --profile: wall time of every node (since the previous node finished, so it
// includes freeing dead tensors), summed per "op_type/provider" over the timed runs.
class OpProfiler {
 public:
  // An attached observer makes the executor run the unfused graph (every node
  // visible), so keys are looked up in the graph it executes when first seen.
  explicit OpProfiler(Executor& ex) {
    ex.SetObserver([this, &ex](const Node& node, const std::vector<const Tensor*>&) {
      const auto now = Clock::now();
      totals_ms_[KeyOf(ex, node)] += std::chrono::duration<double, std::milli>(now - last_).count();
      last_ = now;
      return Status::Ok();
    });
  }
  void StartRun() { last_ = Clock::now(); }
  const std::string& KeyOf(const Executor& ex, const Node& node) {
    auto it = key_.find(node.name);
    if (it != key_.end()) return it->second;
    const auto& nodes = ex.executed_graph().nodes;
    std::string provider = "?";
    for (size_t i = 0; i < nodes.size() && i < ex.providers().size(); ++i) {
      if (nodes[i].name == node.name) provider = ex.providers()[i];
    }
    return key_[node.name] = node.op_type + "/" + provider;
  }
  void Reset() { totals_ms_.clear(); }

  // {"Conv/dnnl": ms per run, ...}, largest first; also printed as a table to stderr.
  std::string Report(int runs) const {
    std::vector<std::pair<double, std::string>> rows;
    double total = 0;
    for (const auto& [key, ms] : totals_ms_) {
      rows.push_back({ms / std::max(runs, 1), key});
      total += ms / std::max(runs, 1);
    }
    std::sort(rows.rbegin(), rows.rend());
    std::string json = "{";
    for (const auto& [ms, key] : rows) {
      std::fprintf(stderr, "%-28s %10.3f ms/run %6.1f %%\n", key.c_str(), ms,
                   total > 0 ? 100 * ms / total : 0.0);
      char v[32];
      std::snprintf(v, sizeof v, "%.4f", ms);
      json += (json.size() > 1 ? ", " : "") + JsonString(key) + ": " + v;
    }
    return json + "}";
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::map<std::string, std::string> key_;
  std::map<std::string, double> totals_ms_;
  Clock::time_point last_ = Clock::now();
};

// The timed function: with --data each call reads the next batch (cycling) and runs it.
Result<std::function<Status()>> MakeRunner(const BenchFlags& f, const Graph& graph,
                                           const std::map<std::string, Shape>& shapes, Executor& ex,
                                           std::shared_ptr<data::DataSource> source) {
  if (!source) {
    TensorMap inputs = RandomInputs(graph, shapes, f.seed);
    return std::function<Status()>([&ex, inputs]() {
      TensorMap out;
      return ex.Run(inputs, &out);
    });
  }
  if (graph.inputs.size() != 1) return InvalidArgument("--data needs a model with one input");
  auto batcher = std::make_shared<data::Batcher>(*source, f.batch);
  if (batcher->num_batches() == 0) return InvalidArgument("--data " + f.data.data + " has no samples");
  auto next = std::make_shared<int64_t>(0);
  const std::string name = graph.inputs[0].name;
  return std::function<Status()>([&ex, source, batcher, next, name]() -> Status {
    QCAL_ASSIGN_OR_RETURN(data::Batch batch, batcher->GetBatch((*next)++ % batcher->num_batches()));
    TensorMap out;
    return ex.Run({{name, batch.data}}, &out);
  });
}

Status Bench(const BenchFlags& f) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, LoadModelFromFlags(f.model));
  std::shared_ptr<data::DataSource> source;
  if (!f.data.data.empty()) {
    QCAL_ASSIGN_OR_RETURN(auto s, OpenData(f.data, graph));
    source = std::move(s);
    LogInfo("data: " + source->Describe());
  }
  QCAL_ASSIGN_OR_RETURN(auto shapes, BenchShapes(graph, f.batch));
  ExecutorOptions options;
  options.threads = f.threads;
  QCAL_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, shapes, options));
  QCAL_ASSIGN_OR_RETURN(auto run, MakeRunner(f, graph, shapes, *executor, source));

  BenchReport report;
  report.runtime = "qcal";
  report.model = f.model.model;
  report.batch = f.batch;
  report.threads = f.threads;
  report.warmup = f.warmup;
  report.load_avg_before = LoadAverage1m();
  std::unique_ptr<OpProfiler> profiler;
  if (f.profile) {
    profiler = std::make_unique<OpProfiler>(*executor);
    run = [&profiler, inner = run]() {
      profiler->StartRun();
      return inner();
    };
  }
  QCAL_RETURN_IF_ERROR(TimeRuns(f.warmup, 0, run).status());
  if (profiler) profiler->Reset();
  QCAL_ASSIGN_OR_RETURN(report.times_ms, TimeRuns(0, f.runs, run, f.max_seconds));
  report.load_avg_after = LoadAverage1m();
  report.extra = {{"inputs", JsonString(source ? "data" : "random")},
                  {"providers", JsonString(ProviderCounts(*executor))}};
  if (source) report.extra.push_back({"data", JsonString(f.data.data)});
  if (profiler)
    report.extra.push_back(
        {"profile_ms_per_run", profiler->Report(static_cast<int>(report.times_ms.size()))});
  const std::string json = BenchReportJson(report);
  std::fputs(json.c_str(), stdout);
  if (f.report_json.empty()) return Status::Ok();
  QCAL_RETURN_IF_ERROR(CreateParentDirectories(f.report_json));
  return WriteFileAtomic(f.report_json, json);
}

std::function<int()> Setup(CLI::App& sub) {
  auto f = std::make_shared<BenchFlags>();
  AddModelFlags(sub, f->model);
  AddDataFlags(sub, f->data, false);
  sub.get_option("--data")->required(false)->description(
      "Time real batches of this data (as qcal quantize reads it) instead of random inputs");
  sub.add_option("--batch", f->batch, "Batch size (the first dim of every input)")
      ->check(CLI::PositiveNumber);
  AddThreadsFlag(sub, f->threads);
  sub.add_option("--warmup", f->warmup, "Untimed runs first")->check(CLI::NonNegativeNumber);
  sub.add_option("--runs", f->runs, "Timed runs")->check(CLI::PositiveNumber);
  sub.add_option("--max-seconds", f->max_seconds,
                 "Stop the timed runs after this many seconds in total (at least 3 runs; 0: no limit)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--seed", f->seed, "Seed of the random inputs");
  sub.add_flag("--profile", f->profile,
               "Also time every node and report ms per run per op type and provider");
  sub.add_option("--report-json", f->report_json, "Also write the JSON report to this file");
  return [f]() {
    Status st = Bench(*f);
    return st.ok() ? 0 : ReportError(st);
  };
}

}  // namespace

QCAL_REGISTER_COMMAND("bench",
                      "Time a model's forward pass (median, p10, p90 latency) on random inputs or data",
                      Setup);

}  // namespace qcal::cli
