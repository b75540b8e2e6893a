// In-place outputs (Kernel::InPlaceInput): a residual FusedConv writes Y into
// the buffer of its sum input Z when Z dies at that node. The executor must
// take the buffer only when nothing else reads it (X is Z, Z is read later);
// every case must equal the reference kernels within the dnnl tolerance, with
// blocked and plain layouts, after a batch-size change and at 1 and 2 threads.
#include <gtest/gtest.h>

#include "kernels/dnnl_test_util.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"
#include "support/testdata.h"

namespace qcal {
namespace {

using testing::Agree;
using testing::RandomFloat;

Node Conv3x3(const std::string& name, const std::string& x, const std::string& w, const std::string& y) {
  Node n{name, "Conv", "", {x, w}, {y}, {}};
  n.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  return n;
}

Node Relu(const std::string& x, const std::string& y) { return Node{"relu_" + y, "Relu", "", {x}, {y}, {}}; }

// x -> c1 -> relu -> a -> c2 -> relu -> b -> c3 (+ z_of_c3) -> relu -> s -> c4 -> y.
// `z_of_c3` is a (dies at c3: in place), or b (X is Z: refused). With
// `read_a_later`, a also feeds c5 -> y2 after c3 (not dying: refused).
Graph ResidualGraph(const std::string& z_of_c3, bool read_a_later) {
  Graph g;
  g.name = "residual";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 8, 7, 6}});
  for (int i = 1; i <= 5; ++i) {
    g.initializers["w" + std::to_string(i)] = RandomFloat({8, 8, 3, 3}, static_cast<uint32_t>(i));
  }
  g.nodes = {Conv3x3("c1", "x", "w1", "t1"),
             Relu("t1", "a"),
             Conv3x3("c2", "a", "w2", "t2"),
             Relu("t2", "b"),
             Conv3x3("c3", "b", "w3", "t3"),
             Node{"add", "Add", "", {"t3", z_of_c3}, {"u"}, {}},
             Relu("u", "s"),
             Conv3x3("c4", "s", "w4", "y")};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  if (read_a_later) {
    g.nodes.push_back(Conv3x3("c5", "a", "w5", "y2"));
    g.outputs.push_back({"y2", DataType::kFloat32, std::nullopt});
  }
  return g;
}

TensorMap RunReference(const Graph& g, const Tensor& x) {
  KernelRegistry::Global().SetProviderEnabled("dnnl", false);
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  KernelRegistry::Global().SetProviderEnabled("dnnl", true);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  EXPECT_TRUE((*ex)->Run({{"x", x}}, &out).ok());
  return out;
}

// Runs batches 1, 1, 3, 1 on one executor; every result must equal the
// reference, and in_place_outputs() must be `want_in_place` on every run.
void CheckRuns(const Graph& g, ExecutorOptions options, int want_in_place) {
  SCOPED_TRACE("threads " + std::to_string(options.threads) + ", blocked " +
               std::to_string(options.blocked_layout));
  auto ex = Executor::Create(g, {{"x", {1, 8, 7, 6}}}, options);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  uint32_t seed = 100;
  for (int64_t n : {1, 1, 3, 1}) {
    const Tensor x = RandomFloat({n, 8, 7, 6}, ++seed);
    TensorMap got;
    ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
    EXPECT_EQ((*ex)->in_place_outputs(), want_in_place) << "batch " << n;
    const TensorMap want = RunReference(g, x);
    for (const auto& [name, t] : want) {
      ASSERT_TRUE(got.count(name)) << name;
      EXPECT_TRUE(Agree(got.at(name), t)) << name << ", batch " << n << ", run " << seed;
    }
  }
}

void CheckAllModes(const Graph& g, int want_in_place) {
  for (int threads : {1, 2}) {
    for (bool blocked : {true, false}) {
      ExecutorOptions options;
      options.threads = threads;
      options.blocked_layout = blocked;
      CheckRuns(g, options, want_in_place);
    }
  }
}

TEST(InPlaceTest, ResidualConvWritesIntoItsDyingSumInput) {
  CheckAllModes(ResidualGraph("a", /*read_a_later=*/false), 1);
}

TEST(InPlaceTest, NotWhenTheSumInputIsAlsoTheConvInput) {
  CheckAllModes(ResidualGraph("b", /*read_a_later=*/false), 0);
}

TEST(InPlaceTest, NotWhenTheSumInputIsReadLater) {
  CheckAllModes(ResidualGraph("a", /*read_a_later=*/true), 0);
}

// A Reshape view of the sum input, read after c3, shares Z's buffer: Y must
// not be written into it (plain layouts: Z is read by a reference kernel).
TEST(InPlaceTest, NotWhileAViewSharesTheBuffer) {
  Graph g = ResidualGraph("a", false);
  g.initializers["shape"] = Tensor::FromVector<int64_t>({-1, 8, 7, 6}, {4});
  g.nodes.insert(g.nodes.begin() + 2, Node{"view", "Reshape", "", {"a", "shape"}, {"a_view"}, {}});
  g.nodes.push_back(Conv3x3("c5", "a_view", "w5", "y2"));
  g.outputs.push_back({"y2", DataType::kFloat32, std::nullopt});
  for (int threads : {1, 2}) {
    ExecutorOptions options;
    options.threads = threads;
    options.blocked_layout = false;
    CheckRuns(g, options, 0);
  }
}

// ResNet-20 (9 residual sums): with plain layouts every Z dies at its fused
// conv and runs in place. With blocked layouts the sums whose Z and Y differ in
// layout cannot: the stage transitions (Z from the shortcut's plain Pad) and
// the last block of a stage (Y read by the plain Slice). Results must not
// depend on it.
TEST(InPlaceTest, ResNet20ResidualBlocks) {
  auto g = LoadModel({testing::TestData("cifar10_resnet_akamaster/cifar10_resnet20.onnx"), ""});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Tensor x = RandomFloat({1, 3, 32, 32}, 3);
  TensorMap with, without;
  for (bool blocked : {true, false}) {
    ExecutorOptions options;
    options.blocked_layout = blocked;
    auto ex = Executor::Create(*g, {{"input", x.shape()}}, options);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    ASSERT_TRUE((*ex)->Run({{"input", x}}, blocked ? &with : &without).ok());
    EXPECT_GE((*ex)->in_place_outputs(), blocked ? 4 : 9) << "blocked " << blocked;
  }
  EXPECT_TRUE(Agree(with.at("logits"), without.at("logits")));
}

}  // namespace
}  // namespace qcal
