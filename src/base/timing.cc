#include "base/timing.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>

namespace qcal {

double Percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(samples.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, samples.size() - 1);
  return samples[lo] + (pos - static_cast<double>(lo)) * (samples[hi] - samples[lo]);
}

LatencySummary SummarizeLatencies(const std::vector<double>& ms) {
  LatencySummary s;
  if (ms.empty()) return s;
  s.median_ms = Percentile(ms, 0.5);
  s.p10_ms = Percentile(ms, 0.1);
  s.p90_ms = Percentile(ms, 0.9);
  s.min_ms = *std::min_element(ms.begin(), ms.end());
  s.max_ms = *std::max_element(ms.begin(), ms.end());
  s.mean_ms = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  return s;
}

Result<std::vector<double>> TimeRuns(int warmup, int runs, const std::function<Status()>& f,
                                     double max_seconds) {
  for (int i = 0; i < warmup; ++i)
    QCAL_RETURN_IF_ERROR(f().WithContext("warm-up run " + std::to_string(i + 1)));
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(std::max(runs, 0)));
  double total_ms = 0;
  for (int i = 0; i < runs; ++i) {
    if (max_seconds > 0 && ms.size() >= 3 && total_ms >= 1000.0 * max_seconds) break;
    auto t0 = std::chrono::steady_clock::now();
    QCAL_RETURN_IF_ERROR(f().WithContext("timed run " + std::to_string(i + 1)));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    total_ms += ms.back();
  }
  return ms;
}

double LoadAverage1m() {
  double load[1];
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

double PeakRssMiB() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<float> RandomUniformFloats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace {
std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}
}  // namespace

std::string BenchReportJson(const BenchReport& r) {
  LatencySummary s = SummarizeLatencies(r.times_ms);
  std::vector<std::pair<std::string, std::string>> fields = {
      {"runtime", JsonString(r.runtime)},
      {"model", JsonString(r.model)},
      {"batch", std::to_string(r.batch)},
      {"threads", std::to_string(r.threads)},
      {"warmup", std::to_string(r.warmup)},
      {"runs", std::to_string(r.times_ms.size())},
      {"median_ms", Num(s.median_ms)},
      {"p10_ms", Num(s.p10_ms)},
      {"p90_ms", Num(s.p90_ms)},
      {"min_ms", Num(s.min_ms)},
      {"max_ms", Num(s.max_ms)},
      {"mean_ms", Num(s.mean_ms)},
      {"images_per_s", Num(s.median_ms > 0 ? static_cast<double>(r.batch) * 1000.0 / s.median_ms : 0)},
      {"load_avg_1m_before", Num(r.load_avg_before)},
      {"load_avg_1m_after", Num(r.load_avg_after)},
      {"peak_rss_mib", Num(PeakRssMiB())},
  };
  std::string samples = "[";
  for (size_t i = 0; i < r.times_ms.size(); ++i) samples += (i ? ", " : "") + Num(r.times_ms[i]);
  fields.push_back({"times_ms", samples + "]"});
  fields.insert(fields.end(), r.extra.begin(), r.extra.end());
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    out += (i ? ",\n  " : "\n  ") + JsonString(fields[i].first) + ": " + fields[i].second;
  }
  return out + "\n}\n";
}

}  // namespace qcal
