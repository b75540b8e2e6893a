// Batch-1 float latency of one model (developer tool; `qcal bench` is the product command).
//
//   qcal_fp32_latency <model> [threads] [reps] [nofuse]
//
// Loads like the CLI (LoadModel: constant folding, DCE), runs one warm-up and
// `reps` timed runs, prints the median and minimum wall time and the median
// process CPU time. QCAL_PROFILE=1 adds the executor's per-op-type profile.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/threads.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"

namespace qcal {
namespace {

int Main(const char* path, int threads, int reps, bool fuse) {
  SetNumThreads(threads);
  auto graph = LoadModel({path, ""});
  if (!graph.ok()) {
    std::fprintf(stderr, "%s\n", graph.status().ToString().c_str());
    return 1;
  }
  const ValueInfo& in = graph->inputs.at(0);
  Shape shape = in.shape.value_or(Shape{});
  for (auto& d : shape) d = d < 0 ? 1 : d;
  shape[0] = 1;
  Tensor x(DataType::kFloat32, shape);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = dist(rng);
  ExecutorOptions options;
  options.threads = threads;
  options.fuse = fuse;
  auto exec = Executor::Create(*graph, {{in.name, shape}}, options);
  if (!exec.ok()) {
    std::fprintf(stderr, "%s\n", exec.status().ToString().c_str());
    return 1;
  }
  TensorMap outputs;
  std::vector<double> wall, cpu;
  for (int i = 0; i <= reps; ++i) {
    const std::clock_t c0 = std::clock();
    const auto t0 = std::chrono::steady_clock::now();
    Status st = (*exec)->Run({{in.name, x}}, &outputs);
    const auto t1 = std::chrono::steady_clock::now();
    const std::clock_t c1 = std::clock();
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    if (i == 0) continue;  // warm-up
    wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    cpu.push_back(1000.0 * static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("qcal %s threads %d%s: median %.3f ms, min %.3f ms, median cpu %.3f ms\n", path, threads,
              fuse ? "" : " (no fusion)", wall[wall.size() / 2], wall[0], cpu[cpu.size() / 2]);
  return 0;
}

}  // namespace
}  // namespace qcal

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: qcal_fp32_latency <model> [threads] [reps] [nofuse]\n");
    return 2;
  }
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 50;
  const bool fuse = !(argc > 4 && std::strcmp(argv[4], "nofuse") == 0);
  return qcal::Main(argv[1], threads, reps, fuse);
}
