// Timing helpers shared by `qcal bench`, `qcal quantize` and the ONNX Runtime
// benchmark (bench/ort_bench.cc), so every runtime is measured and reported
// the same way: `warmup` untimed calls, then `runs` timed calls, summarized as
// median / p10 / p90 (linear interpolation between order statistics).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "qcal/status.h"

namespace qcal {

struct LatencySummary {
  double median_ms = 0, p10_ms = 0, p90_ms = 0, min_ms = 0, max_ms = 0, mean_ms = 0;
};

// q in [0, 1] of `samples` (any order; empty gives 0).
double Percentile(std::vector<double> samples, double q);
LatencySummary SummarizeLatencies(const std::vector<double>& ms);

// Calls f() `warmup` times, then times `runs` calls (wall clock, ms each).
// With max_seconds > 0 the timed loop also ends once the timed calls took that
// long in total, after at least 3 of them (for slow models, e.g. reference
// kernels). Stops at the first error.
Result<std::vector<double>> TimeRuns(int warmup, int runs, const std::function<Status()>& f,
                                     double max_seconds = 0);

// 1-minute load average (/proc/loadavg), -1 if unavailable.
double LoadAverage1m();
// Peak resident set size of this process so far (getrusage), in MiB.
double PeakRssMiB();

// `n` floats uniform in [lo, hi) from a fixed-seed generator (same values on every run and runtime).
std::vector<float> RandomUniformFloats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// A latency benchmark's result as one JSON object:
// {"runtime", "model", "batch", "threads", "warmup", "runs", "median_ms", "p10_ms", "p90_ms",
//  "min_ms", "max_ms", "mean_ms", "images_per_s", "load_avg_1m_before", "load_avg_1m_after",
//  "peak_rss_mib", "times_ms": [every timed run], <extra...>}. images_per_s = batch * 1000 / median_ms.
struct BenchReport {
  std::string runtime;  // "qcal", "onnxruntime"
  std::string model;
  int64_t batch = 1;
  int threads = 0;  // 0: runtime default (all cores)
  int warmup = 0;
  std::vector<double> times_ms;
  double load_avg_before = -1, load_avg_after = -1;
  // Extra fields: key and an already-encoded JSON value (use JsonString for text).
  std::vector<std::pair<std::string, std::string>> extra;
};
std::string BenchReportJson(const BenchReport& report);
std::string JsonString(const std::string& s);  // quoted and escaped

}  // namespace qcal
