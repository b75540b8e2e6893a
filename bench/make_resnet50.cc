// Writes a ResNet-50-shaped conv stack as ONNX (qcal's own ONNX writer):
// torchvision ResNet-50 v1.5 layer shapes at 224x224 (7x7/2 stem, 3x3/2 max
// pool, bottleneck stages of 3, 4, 6, 3 blocks with the stride on the 3x3 conv
// and 1x1 projection shortcuts, global average pool, 1000-way Gemm), without
// BatchNorm: every conv has a bias instead. Weights are random (He-normal,
// fixed seed; the last conv of each block is scaled down so activations stay
// bounded without BN). Input "input" [N,3,224,224], output "logits" [N,1000].
//
//   qcal_make_resnet50 OUT.onnx [CALIB.npy N]
// CALIB.npy: N random inputs [N,3,224,224], uniform in [-1, 1) (what qcal bench
// feeds), as calibration data for qcal quantize.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "base/timing.h"
#include "exporters/onnx_writer.h"
#include "ir/npy.h"

namespace qcal {
namespace {

class Builder {
 public:
  explicit Builder(uint32_t seed) : rng_(seed) {}

  // Conv (+ Relu) from `x` with `cin` channels; returns the output value name.
  std::string Conv(const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride, bool relu,
                   float weight_gain = 1.0f) {
    const std::string name = "conv" + std::to_string(++convs_);
    const float std_dev = weight_gain * std::sqrt(2.0f / static_cast<float>(cin * k * k));
    AddInit(name + ".weight", {cout, cin, k, k}, std_dev);
    AddInit(name + ".bias", {cout}, 0.01f);
    Node n{name, "Conv", "", {x, name + ".weight", name + ".bias"}, {name + ".out"}, {}};
    n.attrs.Set("kernel_shape", std::vector<int64_t>{k, k});
    n.attrs.Set("strides", std::vector<int64_t>{stride, stride});
    const int64_t p = k / 2;
    n.attrs.Set("pads", std::vector<int64_t>{p, p, p, p});
    graph_.nodes.push_back(std::move(n));
    return relu ? Unary("Relu", name + ".out") : name + ".out";
  }

  std::string Unary(const std::string& op, const std::string& x) {
    const std::string name = op + std::to_string(++others_);
    graph_.nodes.push_back({name, op, "", {x}, {name + ".out"}, {}});
    return name + ".out";
  }

  std::string AddRelu(const std::string& a, const std::string& b) {
    const std::string name = "Add" + std::to_string(++others_);
    graph_.nodes.push_back({name, "Add", "", {a, b}, {name + ".out"}, {}});
    return Unary("Relu", name + ".out");
  }

  std::string Bottleneck(const std::string& x, int64_t cin, int64_t mid, int64_t cout, int64_t stride) {
    std::string y = Conv(x, cin, mid, 1, 1, true);
    y = Conv(y, mid, mid, 3, stride, true);
    y = Conv(y, mid, cout, 1, 1, false, 0.2f);
    const std::string shortcut = (cin != cout || stride != 1) ? Conv(x, cin, cout, 1, stride, false) : x;
    return AddRelu(y, shortcut);
  }

  Graph Build() {
    graph_.name = "resnet50_conv_stack_nobn";
    graph_.inputs.push_back({"input", DataType::kFloat32, Shape{-1, 3, 224, 224}});
    std::string x = Conv("input", 3, 64, 7, 2, true);
    Node pool{"maxpool", "MaxPool", "", {x}, {"maxpool.out"}, {}};
    pool.attrs.Set("kernel_shape", std::vector<int64_t>{3, 3});
    pool.attrs.Set("strides", std::vector<int64_t>{2, 2});
    pool.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
    graph_.nodes.push_back(std::move(pool));
    x = "maxpool.out";
    struct Stage {
      int64_t mid, blocks, stride;
    };
    int64_t cin = 64;
    for (const Stage& s : {Stage{64, 3, 1}, Stage{128, 4, 2}, Stage{256, 6, 2}, Stage{512, 3, 2}}) {
      for (int64_t b = 0; b < s.blocks; ++b) {
        x = Bottleneck(x, cin, s.mid, 4 * s.mid, b == 0 ? s.stride : 1);
        cin = 4 * s.mid;
      }
    }
    x = Unary("GlobalAveragePool", x);
    Node flat{"flatten", "Flatten", "", {x}, {"flatten.out"}, {}};
    flat.attrs.Set("axis", int64_t{1});
    graph_.nodes.push_back(std::move(flat));
    AddInit("fc.weight", {1000, cin}, std::sqrt(1.0f / static_cast<float>(cin)));
    AddInit("fc.bias", {1000}, 0.01f);
    Node fc{"fc", "Gemm", "", {"flatten.out", "fc.weight", "fc.bias"}, {"logits"}, {}};
    fc.attrs.Set("transB", int64_t{1});
    graph_.nodes.push_back(std::move(fc));
    graph_.outputs.push_back({"logits", DataType::kFloat32, Shape{-1, 1000}});
    return graph_;
  }

 private:
  void AddInit(const std::string& name, const Shape& shape, float std_dev) {
    Tensor t(DataType::kFloat32, shape);
    std::normal_distribution<float> dist(0.0f, std_dev);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng_);
    graph_.initializers[name] = std::move(t);
  }

  Graph graph_;
  std::mt19937 rng_;
  int convs_ = 0, others_ = 0;
};

}  // namespace
}  // namespace qcal

namespace qcal {
Status WriteCalibrationData(const std::string& path, int64_t n) {
  Tensor x(DataType::kFloat32, {n, 3, 224, 224});
  std::vector<float> v = RandomUniformFloats(static_cast<size_t>(x.numel()), 2024);
  std::copy(v.begin(), v.end(), x.data<float>());
  return WriteNpyFile(path, x);
}
}  // namespace qcal

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: qcal_make_resnet50 OUT.onnx [CALIB.npy N]\n");
    return 2;
  }
  qcal::Graph g = qcal::Builder(50).Build();
  qcal::Status st = qcal::VerifyGraph(g);
  if (st.ok()) st = qcal::WriteOnnxFile(g, argv[1]);
  if (st.ok() && argc == 4) st = qcal::WriteCalibrationData(argv[2], std::max(1L, std::atol(argv[3])));
  if (!st.ok()) {
    std::fprintf(stderr, "qcal_make_resnet50: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("%s: %zu nodes, %zu initializers\n", argv[1], g.nodes.size(), g.initializers.size());
  return 0;
}
