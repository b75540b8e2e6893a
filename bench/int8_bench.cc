// FP32 vs INT8 latency of a model and its deploy (QDQ) model.
//
//   qcal_int8_bench <fp32.onnx> <deploy.onnx> <batch> [threads] [reps]
//
// Runs, each loaded with LoadModel: the FP32 model; the deploy model with the
// int8 fusion (QcalQConv / QcalQMatMul); the deploy model without it (QDQ on
// float kernels). Prints best-of-reps ms per batch and per image, the number of
// fused layers with their providers, and the int8 run's time per op type.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include "kernels/threads.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"

namespace qcal {
namespace {

using Clock = std::chrono::steady_clock;

Tensor Random(const Shape& shape) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t(DataType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

struct Timing {
  double best_ms = 1e30;
  std::map<std::string, double> per_op_ms;  // of the best run
};

Result<Timing> Time(const std::string& path, bool fuse, int64_t batch, int reps, std::string* info) {
  LoadOptions opts;
  opts.fuse_quantized_ops = fuse;
  QCAL_ASSIGN_OR_RETURN(Graph g, LoadModel({path, ""}, opts));
  const ValueInfo& in = g.inputs.at(0);
  Shape shape = *in.shape;
  shape[0] = batch;
  QCAL_ASSIGN_OR_RETURN(auto ex, Executor::Create(g, {{in.name, shape}}));
  std::map<std::string, int> fused;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op_type.rfind("QcalQ", 0) == 0) fused[g.nodes[i].op_type + "/" + ex->providers()[i]]++;
  }
  for (const auto& [k, n] : fused) *info += " " + k + " x" + std::to_string(n);
  const Tensor x = Random(shape);
  Timing t;
  std::map<std::string, double> ops;
  Clock::time_point last;
  ex->SetObserver([&](const Node& n, const std::vector<const Tensor*>&) {
    const auto now = Clock::now();
    ops[n.op_type] += std::chrono::duration<double, std::milli>(now - last).count();
    last = now;
    return Status::Ok();
  });
  TensorMap out;
  for (int r = 0; r <= reps; ++r) {  // run 0 warms up
    ops.clear();
    const auto t0 = Clock::now();
    last = t0;
    QCAL_RETURN_IF_ERROR(ex->Run({{in.name, x}}, &out));
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (r > 0 && ms < t.best_ms) t.best_ms = ms, t.per_op_ms = ops;
  }
  return t;
}

int Main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: qcal_int8_bench <fp32.onnx> <deploy.onnx> <batch> [threads] [reps]\n");
    return 2;
  }
  const int64_t batch = std::atoll(argv[3]);
  const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
  const int reps = argc > 5 ? std::atoi(argv[5]) : 20;
  SetNumThreads(threads);
  struct Run {
    const char* label;
    const char* path;
    bool fuse;
  } runs[] = {{"fp32", argv[1], true}, {"int8", argv[2], true}, {"qdq-float", argv[2], false}};
  for (const Run& r : runs) {
    std::string info;
    auto t = Time(r.path, r.fuse, batch, reps, &info);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
      return 1;
    }
    std::printf("%-10s batch %3lld threads %d  %9.3f ms/batch  %8.4f ms/image %s\n", r.label,
                (long long)batch, threads, t->best_ms, t->best_ms / static_cast<double>(batch), info.c_str());
    if (std::string(r.label) != "fp32") {
      std::string line;
      for (const auto& [op, ms] : t->per_op_ms) {
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s %.3f", op.c_str(), ms);
        line += buf;
      }
      std::printf("           per op (ms):%s\n", line.c_str());
    }
  }
  return 0;
}

}  // namespace
}  // namespace qcal

int main(int argc, char** argv) { return qcal::Main(argc, argv); }
