#include "passes/fold_batchnorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/executor.h"

namespace qcal {
namespace {

Tensor Random(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(g);
  return t;
}

// x -> layer(op) -> BatchNormalization -> Mul(per-channel) -> Add(per-channel) -> y
Graph LayerBnScale(const std::string& op, int64_t group) {
  Graph g;
  g.name = "fold";
  const int64_t cin = 6, cout = 4;
  Node layer{"layer", op, "", {"x", "w", "b"}, {"t0"}, {}};
  Shape x_shape{2, cin, 5, 7};
  if (op == "Conv") {
    g.initializers["w"] = Random({cout, cin / group, 3, 3}, 1);
    layer.attrs.Set("group", group);
    layer.attrs.Set("pads", std::vector<int64_t>{1, 0, 1, 2});
  } else if (op == "ConvTranspose") {
    g.initializers["w"] = Random({cin, cout / group, 3, 2}, 1);
    layer.attrs.Set("group", group);
    layer.attrs.Set("strides", std::vector<int64_t>{2, 1});
  } else {  // Gemm with transB
    x_shape = {3, cin};
    g.initializers["w"] = Random({cout, cin}, 1);
    layer.attrs.Set("transB", int64_t{1});
  }
  g.inputs.push_back({"x", DataType::kFloat32, x_shape});
  g.initializers["b"] = Random({cout}, 2);
  g.initializers["gamma"] = Random({cout}, 3, 0.5f, 2.f);
  g.initializers["beta"] = Random({cout}, 4);
  g.initializers["mean"] = Random({cout}, 5);
  g.initializers["var"] = Random({cout}, 6, 0.1f, 3.f);
  Shape per_channel = op == "Gemm" ? Shape{cout} : Shape{1, cout, 1, 1};
  g.initializers["s"] = Random(per_channel, 7);
  g.initializers["o"] = Random(per_channel, 8);
  Node bn{"bn", "BatchNormalization", "", {"t0", "gamma", "beta", "mean", "var"}, {"t1"}, {}};
  bn.attrs.Set("epsilon", 1e-3f);
  g.nodes = {layer, bn, Node{"scale", "Mul", "", {"t1", "s"}, {"t2"}, {}},
             Node{"shift", "Add", "", {"t2", "o"}, {"y"}, {}}};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  return g;
}

// Runs the graph as given (no inference fusions, which would fold it too).
Tensor RunGraph(const Graph& g, const Tensor& x) {
  ExecutorOptions options;
  options.fuse = false;
  auto ex = Executor::Create(g, {}, options);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  Status st = (*ex)->Run({{"x", x}}, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out["y"];
}

void ExpectFoldsAndAgrees(const std::string& op, int64_t group) {
  Graph g = LayerBnScale(op, group);
  Tensor x = Random(g.inputs[0].shape.value(), 9);
  Tensor before = RunGraph(g, x);
  auto fusions = FoldBatchNorm(g);
  ASSERT_TRUE(fusions.ok()) << fusions.status().ToString();
  ASSERT_EQ(g.nodes.size(), 1u) << DumpGraph(g);
  ASSERT_EQ(fusions->size(), 1u);
  EXPECT_EQ((*fusions)[0].layer, "layer");
  EXPECT_EQ((*fusions)[0].folded, (std::vector<std::string>{"bn", "scale", "shift"}));
  EXPECT_FALSE(g.IsInitializer("gamma"));  // folded constants are gone
  Tensor after = RunGraph(g, x);
  ASSERT_EQ(before.shape(), after.shape());
  for (int64_t i = 0; i < before.numel(); ++i) {
    float b = before.data<float>()[i];
    EXPECT_NEAR(after.data<float>()[i], b, 1e-4f * (1.f + std::fabs(b))) << op << " element " << i;
  }
}

TEST(FoldBatchNormTest, ConvGroupedFoldsBnAndScale) { ExpectFoldsAndAgrees("Conv", 2); }
TEST(FoldBatchNormTest, ConvTransposeGroupedFolds) { ExpectFoldsAndAgrees("ConvTranspose", 2); }
TEST(FoldBatchNormTest, GemmTransBFolds) { ExpectFoldsAndAgrees("Gemm", 1); }

TEST(FoldBatchNormTest, SkipListAndSharedOutputPreventFolding) {
  Graph g = LayerBnScale("Conv", 1);
  FoldOptions opts;
  opts.skip_layers.insert("layer");
  auto f = FoldBatchNorm(g, opts);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty());
  EXPECT_EQ(g.nodes.size(), 4u);

  Graph h = LayerBnScale("Conv", 1);
  h.outputs.push_back({"t0", DataType::kFloat32, std::nullopt});  // conv output also a graph output
  auto f2 = FoldBatchNorm(h);
  ASSERT_TRUE(f2.ok());
  EXPECT_TRUE(f2->empty());
}

}  // namespace
}  // namespace qcal
