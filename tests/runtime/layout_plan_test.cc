// Blocked activation layouts between oneDNN kernels (runtime/layout_plan.h):
// the planner's rules on fake kernels, and a conv -> conv -> pool -> conv chain
// with odd channel counts whose blocked execution must equal the reference
// kernels (the spec) within the dnnl agreement tolerance.
#include "runtime/layout_plan.h"

#include <gtest/gtest.h>

#include "kernels/dnnl_test_util.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

using testing::Agree;
using testing::RandomFloat;

// A kernel that only declares layout capabilities.
class FakeKernel final : public Kernel {
 public:
  FakeKernel(bool accepts, bool produces) : accepts_(accepts), produces_(produces) {}
  Status Run(const std::vector<const Tensor*>&, std::vector<Tensor>&) override { return Status::Ok(); }
  bool AcceptsBlocked(size_t) const override { return accepts_; }
  bool ProducesBlocked(size_t) const override { return produces_; }

 private:
  bool accepts_, produces_;
};

TEST(LayoutPlanTest, BlocksOnlyValuesEveryConsumerAccepts) {
  Graph g;
  g.nodes = {Node{"a", "A", "", {"x"}, {"v1"}, {}},        Node{"b", "B", "", {"v1"}, {"v2"}, {}},
             Node{"c", "C", "", {"v2", "v1"}, {"v3"}, {}}, Node{"d", "D", "", {"v3"}, {"v4"}, {}},
             Node{"e", "E", "", {"v3"}, {"v5"}, {}},       Node{"f", "F", "", {"v5"}, {"v6"}, {}}};
  std::vector<std::unique_ptr<Kernel>> k;
  k.push_back(std::make_unique<FakeKernel>(true, true));   // a
  k.push_back(std::make_unique<FakeKernel>(true, true));   // b
  k.push_back(std::make_unique<FakeKernel>(true, true));   // c
  k.push_back(std::make_unique<FakeKernel>(false, true));  // d: reads only NCHW
  k.push_back(std::make_unique<FakeKernel>(true, true));   // e
  k.push_back(std::make_unique<FakeKernel>(true, true));   // f
  std::map<std::string, TensorType> types;
  for (const char* v : {"x", "v1", "v2", "v3", "v4", "v5", "v6"})
    types[v] = {DataType::kFloat32, {1, 3, 4, 4}};
  types["v2"].shape = {1, 3, -1, 4};  // not static: stays plain

  // v1: both consumers accept. v2: dynamic shape. v3: d does not accept. v4: no consumer
  // (not a graph output: what its producer writes, blocked).
  // v5: fine. v6: graph output (keep_plain). x: graph input (no producer).
  const auto plan = PlanLayouts(g, k, types, {"v6"});
  const Layout P = Layout::kPlain, B = FloatBlockedLayout();
  EXPECT_EQ(plan[0].inputs, (std::vector<Layout>{P}));
  EXPECT_EQ(plan[0].outputs, (std::vector<Layout>{B}));
  EXPECT_EQ(plan[1].outputs, (std::vector<Layout>{P}));
  EXPECT_EQ(plan[2].inputs, (std::vector<Layout>{P, B}));
  EXPECT_EQ(plan[2].outputs, (std::vector<Layout>{P}));
  EXPECT_EQ(plan[3].outputs, (std::vector<Layout>{B}));
  EXPECT_EQ(plan[4].outputs, (std::vector<Layout>{B}));
  EXPECT_EQ(plan[5].inputs, (std::vector<Layout>{B}));
  EXPECT_EQ(plan[5].outputs, (std::vector<Layout>{P}));
  EXPECT_EQ(CountBlocked(plan), 3);
}

// Capabilities of a kernel in the float-NHWC and tie rules: accepts / produces
// kNChw8c (blocked), float kNhwc, an output tied to input 0, all values tied.
struct Caps {
  bool accepts_blocked, produces_blocked, accepts_nhwc, produces_nhwc, tied;
  bool ties_all = false;
};
class CapsKernel final : public Kernel {
 public:
  explicit CapsKernel(Caps c) : c_(c) {}
  Status Run(const std::vector<const Tensor*>&, std::vector<Tensor>&) override { return Status::Ok(); }
  bool AcceptsBlocked(size_t) const override { return c_.accepts_blocked; }
  bool ProducesBlocked(size_t) const override { return c_.produces_blocked; }
  bool AcceptsFloatNhwc(size_t) const override { return c_.accepts_nhwc; }
  bool ProducesFloatNhwc(size_t) const override { return c_.produces_nhwc; }
  int LayoutTiedInput(size_t) const override { return c_.tied ? 0 : -1; }
  bool TiesAllLayouts() const override { return c_.ties_all; }

 private:
  Caps c_;
};

TEST(LayoutPlanTest, FloatNhwcWhenBlockedIsNotPossibleAndTiesTurnPlainTogether) {
  Graph g;
  g.nodes = {Node{"a", "A", "", {"x"}, {"v1"}, {}},  Node{"b", "B", "", {"v1"}, {"v2"}, {}},
             Node{"c", "C", "", {"v2"}, {"v3"}, {}}, Node{"d", "D", "", {"v3"}, {"v4"}, {}},
             Node{"e", "E", "", {"v4"}, {"v5"}, {}}, Node{"f", "F", "", {"v5"}, {"v6"}, {}}};
  std::vector<std::unique_ptr<Kernel>> k;
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, true, true, false}));   // a: everything
  k.push_back(std::make_unique<CapsKernel>(Caps{true, false, true, true, false}));  // b: writes NHWC only
  k.push_back(std::make_unique<CapsKernel>(Caps{false, true, true, true, true}));   // c: tied, reads NHWC
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, true, true, false}));   // d
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, true, true, true}));    // e: tied
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, false, true, false}));  // f: no NHWC reads
  std::map<std::string, TensorType> types;
  for (const char* v : {"x", "v1", "v2", "v3", "v4", "v5", "v6"})
    types[v] = {DataType::kFloat32, {1, 3, 4, 4}};
  types["v5"].dtype = DataType::kUint8;  // e's output: uint8's own non-plain layout is kNhwc
  const auto plan = PlanLayouts(g, k, types, {"v6"});
  const Layout P = Layout::kPlain, B = FloatBlockedLayout(), N = Layout::kNhwc;
  EXPECT_EQ(plan[0].outputs[0], B);  // v1: blocked wins where both are possible
  EXPECT_EQ(plan[1].outputs[0], N);  // v2: b cannot write blocked
  EXPECT_EQ(plan[2].outputs[0], B);  // v3: c's tie holds (v2 and v3 both non-plain)
  EXPECT_EQ(plan[3].outputs[0], B);  // v4
  EXPECT_EQ(plan[4].outputs[0], N);  // v5: uint8 kNhwc; e's tie holds
  // Now f cannot read v5 non-plain: v5 turns plain, and through e's tie so does v4.
  k[5] = std::make_unique<CapsKernel>(Caps{false, true, false, true, false});
  const auto tied = PlanLayouts(g, k, types, {"v6"});
  EXPECT_EQ(tied[4].outputs[0], P);
  EXPECT_EQ(tied[4].inputs[0], P);
  EXPECT_EQ(tied[2].outputs[0], B);  // unrelated values keep their layouts
}

// A kernel whose values must all share one layout kind (Kernel::TiesAllLayouts).
class TiesAllKernel final : public Kernel {
 public:
  Status Run(const std::vector<const Tensor*>&, std::vector<Tensor>&) override { return Status::Ok(); }
  bool AcceptsBlocked(size_t) const override { return true; }
  bool ProducesBlocked(size_t) const override { return true; }
  bool TiesAllLayouts() const override { return true; }
};

TEST(LayoutPlanTest, TiesAllLayoutsTurnsEveryValuePlainTogether) {
  // a -> v1, b -> v2; s(v1, v2) -> v3, v4; c(v3) -> v5; d(v4) -> v6
  Graph g;
  g.nodes = {Node{"a", "A", "", {"x"}, {"v1"}, {}}, Node{"b", "B", "", {"x"}, {"v2"}, {}},
             Node{"s", "S", "", {"v1", "v2"}, {"v3", "v4"}, {}}, Node{"c", "C", "", {"v3"}, {"v5"}, {}},
             Node{"d", "D", "", {"v4"}, {"v6"}, {}}};
  std::map<std::string, TensorType> types;
  for (const char* v : {"x", "v1", "v2", "v3", "v4", "v5", "v6"})
    types[v] = {DataType::kFloat32, {1, 3, 4, 4}};
  auto kernels = [](bool d_accepts) {
    std::vector<std::unique_ptr<Kernel>> k;
    k.push_back(std::make_unique<FakeKernel>(true, true));
    k.push_back(std::make_unique<FakeKernel>(true, true));
    k.push_back(std::make_unique<TiesAllKernel>());
    k.push_back(std::make_unique<FakeKernel>(true, true));
    k.push_back(std::make_unique<FakeKernel>(d_accepts, true));
    return k;
  };
  const Layout P = Layout::kPlain, B = FloatBlockedLayout();
  const auto all = PlanLayouts(g, kernels(true), types, {"v5", "v6"});
  EXPECT_EQ(all[2].inputs, (std::vector<Layout>{B, B}));
  EXPECT_EQ(all[2].outputs, (std::vector<Layout>{B, B}));
  // d reads only NCHW: v4 is plain, so v1, v2 and v3 turn plain with it.
  const auto none = PlanLayouts(g, kernels(false), types, {"v5", "v6"});
  EXPECT_EQ(none[2].inputs, (std::vector<Layout>{P, P}));
  EXPECT_EQ(none[2].outputs, (std::vector<Layout>{P, P}));
  EXPECT_EQ(CountBlocked(none), 0);
}

// A TiesAllLayouts node whose values cannot all be blocked but can all be float
// NHWC: all NHWC (v1 alone could be blocked, v3 only NHWC).
TEST(LayoutPlanTest, TiesAllLayoutsFallBackToNhwcTogether) {
  // a -> v1, b -> v2; s(v1, v2) -> v3; c(v3) -> v4
  Graph g;
  g.nodes = {Node{"a", "A", "", {"x"}, {"v1"}, {}}, Node{"b", "B", "", {"x"}, {"v2"}, {}},
             Node{"s", "S", "", {"v1", "v2"}, {"v3"}, {}}, Node{"c", "C", "", {"v3"}, {"v4"}, {}}};
  std::map<std::string, TensorType> types;
  for (const char* v : {"x", "v1", "v2", "v3", "v4"}) types[v] = {DataType::kFloat32, {1, 3, 4, 4}};
  std::vector<std::unique_ptr<Kernel>> k;
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, true, true, false}));
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, true, true, false}));
  k.push_back(std::make_unique<CapsKernel>(Caps{true, true, true, true, false, true}));  // s: ties all
  k.push_back(std::make_unique<CapsKernel>(Caps{false, true, true, true, false}));  // c: no blocked reads
  const auto plan = PlanLayouts(g, k, types, {"v4"});
  const Layout N = Layout::kNhwc;
  EXPECT_EQ(plan[2].inputs, (std::vector<Layout>{N, N}));
  EXPECT_EQ(plan[2].outputs, (std::vector<Layout>{N}));
}

Node Conv(const std::string& name, std::vector<std::string> in, const std::string& out, int64_t pad,
          int64_t stride = 1, int64_t group = 1) {
  Node n{name, "Conv", "", std::move(in), {out}, {}};
  n.attrs.Set("pads", std::vector<int64_t>{pad, pad, pad, pad});
  n.attrs.Set("strides", std::vector<int64_t>{stride, stride});
  n.attrs.Set("group", group);
  return n;
}

// x(3) -> c1(13) -> relu -> a1 -> c2(13) + a1 -> sigmoid -> u -> c3(17, stride 2) -> maxpool -> p
//   -> c4(13, 1x1) -> t4 -> depthwise c5(13) -> t5 -> { averagepool -> y1, t5 * 0.5 -> y2 }
//   p -> ReduceMean over H, W (keepdims 0) -> y3 (a global pool reading the blocked p)
// After fusion a1, u, t3, p, t4 can stay blocked; t5 feeds a reference Mul and stays NCHW.
Graph ChainGraph() {
  Graph g;
  g.name = "chain";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3, 11, 10}});
  g.initializers["w1"] = RandomFloat({13, 3, 3, 3}, 1);
  g.initializers["b1"] = RandomFloat({13}, 2);
  g.initializers["w2"] = RandomFloat({13, 13, 3, 3}, 3);
  g.initializers["w3"] = RandomFloat({17, 13, 3, 3}, 4);
  g.initializers["b3"] = RandomFloat({17}, 5);
  g.initializers["w4"] = RandomFloat({13, 17, 1, 1}, 6);
  g.initializers["w5"] = RandomFloat({13, 1, 3, 3}, 7);
  g.initializers["half"] = Tensor::Scalar(0.5f);
  Node pool{"mp", "MaxPool", "", {"t3"}, {"p"}, {}};
  pool.attrs.Set("kernel_shape", std::vector<int64_t>{3, 3});
  pool.attrs.Set("strides", std::vector<int64_t>{2, 2});
  pool.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  Node mean{"mean", "ReduceMean", "", {"p"}, {"y3"}, {}};
  mean.attrs.Set("axes", std::vector<int64_t>{-1, 2});
  mean.attrs.Set("keepdims", int64_t{0});
  Node avg{"ap", "AveragePool", "", {"t5"}, {"y1"}, {}};
  avg.attrs.Set("kernel_shape", std::vector<int64_t>{2, 2});
  g.nodes = {Conv("c1", {"x", "w1", "b1"}, "t1", 1),
             Node{"r1", "Relu", "", {"t1"}, {"a1"}, {}},
             Conv("c2", {"a1", "w2"}, "t2", 1),
             Node{"add", "Add", "", {"t2", "a1"}, {"s"}, {}},
             Node{"sig", "Sigmoid", "", {"s"}, {"u"}, {}},
             Conv("c3", {"u", "w3", "b3"}, "t3", 1, 2),
             pool,
             Conv("c4", {"p", "w4"}, "t4", 0),
             Conv("c5", {"t4", "w5"}, "t5", 1, 1, 13),
             avg,
             Node{"mul", "Mul", "", {"t5", "half"}, {"y2"}, {}},
             mean};
  g.outputs.push_back({"y1", DataType::kFloat32, std::nullopt});
  g.outputs.push_back({"y2", DataType::kFloat32, std::nullopt});
  g.outputs.push_back({"y3", DataType::kFloat32, std::nullopt});
  return g;
}

// Runs the graph on the reference kernels only.
TensorMap RunReference(const Graph& g, const Tensor& x) {
  KernelRegistry::Global().SetProviderEnabled("dnnl", false);
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  KernelRegistry::Global().SetProviderEnabled("dnnl", true);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  TensorMap out;
  EXPECT_TRUE((*ex)->Run({{"x", x}}, &out).ok());
  return out;
}

void ExpectOutputsAgree(const TensorMap& got, const TensorMap& want) {
  for (const char* y : {"y1", "y2", "y3"}) {
    ASSERT_TRUE(got.count(y)) << y;
    EXPECT_TRUE(Agree(got.at(y), want.at(y))) << y;
  }
}

// Odd channel counts block only in nChw8c (oneDNN 2.6 has no AVX-512 JIT kernel
// for them on nChw16c), so these two tests make that the blocked layout.
TEST(BlockedLayoutTest, ChainWithOddChannelsEqualsReference) {
  ScopedFloatBlockedLayout layout(Layout::kNChw8c);
  const Graph g = ChainGraph();
  const Tensor x1 = RandomFloat({1, 3, 11, 10}, 11), x2 = RandomFloat({1, 3, 11, 10}, 12);
  auto ex = Executor::Create(g, {{"x", x1.shape()}});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  // a1, u, t3 (plain 3x3 convs with a JIT nChw8c kernel on any x86 oneDNN picks) at least.
  EXPECT_GE((*ex)->blocked_values(), 3);
  TensorMap got;
  ASSERT_TRUE((*ex)->Run({{"x", x1}}, &got).ok());
  ExpectOutputsAgree(got, RunReference(g, x1));
  // Second run: recycled, uncleared buffers (padding channels included).
  ASSERT_TRUE((*ex)->Run({{"x", x2}}, &got).ok());
  ExpectOutputsAgree(got, RunReference(g, x2));
  // A batch change re-prepares with new primitives and buffer sizes.
  const Tensor x3 = RandomFloat({2, 3, 11, 10}, 13);
  ASSERT_TRUE((*ex)->Run({{"x", x3}}, &got).ok());
  EXPECT_GE((*ex)->blocked_values(), 3);
  ExpectOutputsAgree(got, RunReference(g, x3));
}

TEST(BlockedLayoutTest, ObserverAndOptionOutSeePlainValues) {
  ScopedFloatBlockedLayout layout(Layout::kNChw8c);
  const Graph g = ChainGraph();
  const Tensor x = RandomFloat({1, 3, 11, 10}, 21);
  const TensorMap want = RunReference(g, x);

  ExecutorOptions off;
  off.blocked_layout = false;
  auto plain = Executor::Create(g, {{"x", x.shape()}}, off);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->blocked_values(), 0);
  TensorMap got;
  ASSERT_TRUE((*plain)->Run({{"x", x}}, &got).ok());
  ExpectOutputsAgree(got, want);

  auto ex = Executor::Create(g, {{"x", x.shape()}});
  ASSERT_TRUE(ex.ok());
  std::map<std::string, Shape> seen;
  (*ex)->SetObserver([&](const Node& node, const std::vector<const Tensor*>& outs) -> Status {
    seen[node.outputs[0]] = outs[0]->shape();
    return Status::Ok();
  });
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  EXPECT_EQ((*ex)->blocked_values(), 0);
  EXPECT_EQ(seen.at("a1"), (Shape{1, 13, 11, 10}));
  EXPECT_EQ(seen.at("p"), (Shape{1, 17, 3, 3}));
  ExpectOutputsAgree(got, want);

  (*ex)->SetObserver(nullptr);  // blocked again
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  EXPECT_GE((*ex)->blocked_values(), 3);
  ExpectOutputsAgree(got, want);
}

// The machine's own blocked layout (nChw16c with AVX-512, nChw8c with AVX2) on
// channel counts both blocks divide: x(16) -> conv(32) -> relu -> a ->
// depthwise(32) -> d -> conv(32) + a -> relu -> maxpool -> conv(16, 1x1) -> y1;
// every inner value stays blocked (the depthwise conv reads and writes it
// together: oneDNN's depthwise kernels take no mixed layouts).
TEST(BlockedLayoutTest, MachineLayoutChainEqualsReference) {
  Graph g;
  g.name = "chain16";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{1, 16, 9, 12}});
  g.initializers["w1"] = RandomFloat({32, 16, 3, 3}, 31);
  g.initializers["wd"] = RandomFloat({32, 1, 3, 3}, 35);
  g.initializers["w2"] = RandomFloat({32, 32, 3, 3}, 32);
  g.initializers["w3"] = RandomFloat({16, 32, 1, 1}, 33);
  Node pool{"mp", "MaxPool", "", {"r2"}, {"p"}, {}};
  pool.attrs.Set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.attrs.Set("strides", std::vector<int64_t>{2, 2});
  g.nodes = {Conv("c1", {"x", "w1"}, "t1", 1),
             Node{"r1", "Relu", "", {"t1"}, {"a"}, {}},
             Conv("dw", {"a", "wd"}, "d", 1, 1, 32),
             Conv("c2", {"d", "w2"}, "t2", 1),
             Node{"add", "Add", "", {"t2", "a"}, {"s"}, {}},
             Node{"r2", "Relu", "", {"s"}, {"r2"}, {}},
             pool,
             Conv("c3", {"p", "w3"}, "y1", 0)};
  g.outputs.push_back({"y1", DataType::kFloat32, std::nullopt});
  const Tensor x = RandomFloat({1, 16, 9, 12}, 34);
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_GE((*ex)->blocked_values(), 4);  // a, d, r2 (the fused conv2 output), p
  TensorMap got;
  ASSERT_TRUE((*ex)->Run({{"x", x}}, &got).ok());
  EXPECT_TRUE(Agree(got.at("y1"), RunReference(g, x).at("y1")));
}

}  // namespace
}  // namespace qcal
