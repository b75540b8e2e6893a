// Times the oneDNN kernels against the reference kernels.
//
//   qcal_dnnl_bench conv [threads]                       1x64x56x56 3x3 conv 64->64, pads 1
//   qcal_dnnl_bench model <file.onnx> <batch> [threads]  forward time per image, dnnl vs ref
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>

#include "frontends/model_format.h"
#include "kernels/registry.h"
#include "kernels/threads.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

Tensor Random(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Best-of-`reps` milliseconds of f() after one warm-up call. On a shared machine
// wall time is noisy, so the process CPU time of the best run is printed too
// (with 1 thread it is the compute time).
double TimeMs(int reps, const std::function<Status()>& f) {
  Status warm = f();
  if (!warm.ok()) {
    std::fprintf(stderr, "%s\n", warm.ToString().c_str());
    return -1;
  }
  double best = 1e30, best_cpu = 1e30;
  for (int i = 0; i < reps; ++i) {
    const std::clock_t c0 = std::clock();
    auto t0 = std::chrono::steady_clock::now();
    Status st = f();
    auto t1 = std::chrono::steady_clock::now();
    const std::clock_t c1 = std::clock();
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return -1;
    }
    best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
    best_cpu = std::min(best_cpu, 1000.0 * static_cast<double>(c1 - c0) / CLOCKS_PER_SEC);
  }
  std::printf("  [best cpu time %.3f ms] ", best_cpu);
  return best;
}

int BenchConv() {
  Node node;
  node.name = "conv";
  node.op_type = "Conv";
  node.inputs = {"x", "w", "b"};
  node.outputs = {"y"};
  node.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Tensor x = Random({1, 64, 56, 56}, 1), w = Random({64, 64, 3, 3}, 2), b = Random({64}, 3);
  for (const char* provider : {"ref", "dnnl"}) {
    OpContext ctx{
        node, {{x.dtype(), x.shape()}, {w.dtype(), w.shape()}, {b.dtype(), b.shape()}}, {nullptr, &w, &b}};
    auto k = KernelRegistry::Global().CreateKernelFromProvider(ctx, provider);
    if (!k.ok()) {
      std::fprintf(stderr, "%s\n", k.status().ToString().c_str());
      return 1;
    }
    std::vector<Tensor> out(1);
    double ms = TimeMs(std::string(provider) == "ref" ? 3 : 20, [&] { return (*k)->Run({&x, &w, &b}, out); });
    std::printf("conv 1x64x56x56 3x3 64->64  %-4s  %8.3f ms  (%.1f GFLOP/s)\n", provider, ms,
                2.0 * 64 * 64 * 9 * 56 * 56 / (ms * 1e6));
  }
  return 0;
}

int BenchModel(const std::string& path, int64_t batch) {
  auto graph = ImportModel({path, ""});
  if (!graph.ok()) {
    std::fprintf(stderr, "%s\n", graph.status().ToString().c_str());
    return 1;
  }
  const ValueInfo& in = graph->inputs.at(0);
  Shape shape = *in.shape;
  shape[0] = batch;
  Tensor x = Random(shape, 7);
  for (bool dnnl : {false, true}) {
    KernelRegistry::Global().SetProviderEnabled("dnnl", dnnl);
    auto exec = Executor::Create(*graph, {{in.name, shape}});
    if (!exec.ok()) {
      std::fprintf(stderr, "%s\n", exec.status().ToString().c_str());
      return 1;
    }
    TensorMap outputs;
    double ms = TimeMs(dnnl ? 10 : 3, [&] { return (*exec)->Run({{in.name, x}}, &outputs); });
    std::printf("%s batch %lld  %-4s  %8.3f ms/batch  %8.3f ms/image\n", path.c_str(), (long long)batch,
                dnnl ? "dnnl" : "ref", ms, ms / static_cast<double>(batch));
  }
  return 0;
}

}  // namespace
}  // namespace qcal

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "conv";
  if (mode == "conv") {
    if (argc > 2) qcal::SetNumThreads(std::atoi(argv[2]));
    return qcal::BenchConv();
  }
  if (mode == "model" && argc > 3) {
    if (argc > 4) qcal::SetNumThreads(std::atoi(argv[4]));
    return qcal::BenchModel(argv[2], std::atoll(argv[3]));
  }
  std::fprintf(stderr, "usage: qcal_dnnl_bench conv [threads] | model <file.onnx> <batch> [threads]\n");
  return 2;
}
