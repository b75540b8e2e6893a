// ChannelShuffle (kernels/ref/channel_shuffle.h, kernels/x86/channel_shuffle.cc,
// made by passes/fuse_channel_shuffle.h): the reference kernel equals the ONNX
// ops it replaces, the executor's fused graph equals the unfused one, and the
// x86 kernel equals the reference byte for byte in every mix of NCHW, float
// NHWC and the blocked layouts (nChw8c with AVX2, nChw16c with AVX-512),
// padding ignored on input (NaN) and zeroed on output.
#include "kernels/ref/channel_shuffle.h"

#include <cstring>

#include "kernels/nchw8c_test_util.h"
#include "kernels/x86/x86_common.h"
#include "runtime/executor.h"

namespace qcal::testing {
namespace {

struct Case {
  std::vector<int64_t> in;  // channels per input
  int64_t group;
  std::vector<int64_t> split;  // channels per output; empty: one output (no Split)
  int64_t n = 2, h = 3, w = 5;

  int64_t Channels() const {
    int64_t c = 0;
    for (int64_t x : in) c += x;
    return c;
  }
  std::vector<int64_t> OutChannels() const {
    return split.empty() ? std::vector<int64_t>{Channels()} : split;
  }
  std::string Name() const {
    return ShapeToString(in) + " group " + std::to_string(group) + " split " + ShapeToString(split) + " N " +
           std::to_string(n);
  }
};

const Case kCases[] = {
    {{58, 58}, 2, {58, 58}, 1, 4, 7},  // ShuffleNet-v2 stage 2, small image
    {{116, 116}, 2, {116, 116}, 1, 2, 3},
    {{116, 116}, 2, {}, 1, 3, 2},  // the last unit of a stage: no Split
    {{24, 24}, 2, {24, 24}},
    {{12, 12}, 2, {6, 18}},  // even, unequal parts
    {{6, 6}, 2, {}},
    {{5, 5}, 2, {5, 5}},  // the second part starts on an odd channel
    {{1, 1}, 2, {1, 1}},
    {{6, 6}, 3, {}},
    {{4, 2, 6}, 4, {5, 7}},
    {{20, 20}, 1, {13, 27}},
};

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

std::vector<Tensor> Inputs(const Case& c) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < c.in.size(); ++i) {
    xs.push_back(RandomFloat({c.n, c.in[i], c.h, c.w}, static_cast<uint32_t>(31 + i)));
  }
  return xs;
}

Node ShuffleNode(const Case& c) {
  Node node{"shuffle", "ChannelShuffle", ref::kChannelShuffleDomain, {}, {}, {}};
  for (size_t i = 0; i < c.in.size(); ++i) node.inputs.push_back("x" + std::to_string(i));
  for (size_t o = 0; o < c.OutChannels().size(); ++o) node.outputs.push_back("y" + std::to_string(o));
  node.attrs.Set("group", c.group);
  if (!c.split.empty()) node.attrs.Set("split", c.split);
  return node;
}

// The ONNX ops ChannelShuffle replaces.
Graph OnnxChain(const Case& c) {
  Graph g;
  g.name = "shuffle_chain";
  g.opset = 13;
  Node cat{"cat", "Concat", "", {}, {"cat_out"}, {}};
  cat.attrs.Set("axis", int64_t{1});
  for (size_t i = 0; i < c.in.size(); ++i) {
    const std::string name = "x" + std::to_string(i);
    g.inputs.push_back({name, DataType::kFloat32, Shape{c.n, c.in[i], c.h, c.w}});
    cat.inputs.push_back(name);
  }
  g.initializers["s5"] = Int64s({c.n, c.group, c.Channels() / c.group, c.h, c.w});
  g.initializers["s4"] = Int64s({c.n, c.Channels(), c.h, c.w});
  Node tr{"tr", "Transpose", "", {"r5"}, {"t5"}, {}};
  tr.attrs.Set("perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  const std::string last = c.split.empty() ? "y0" : "r4";
  g.nodes = {cat, Node{"r1", "Reshape", "", {"cat_out", "s5"}, {"r5"}, {}}, tr,
             Node{"r2", "Reshape", "", {"t5", "s4"}, {last}, {}}};
  if (!c.split.empty()) {
    g.initializers["parts"] = Int64s(c.split);
    Node split{"split", "Split", "", {"r4", "parts"}, {}, {}};
    split.attrs.Set("axis", int64_t{1});
    for (size_t o = 0; o < c.split.size(); ++o) split.outputs.push_back("y" + std::to_string(o));
    g.nodes.push_back(split);
  }
  for (size_t o = 0; o < c.OutChannels().size(); ++o) {
    g.outputs.push_back({"y" + std::to_string(o), DataType::kFloat32, std::nullopt});
  }
  return g;
}

::testing::AssertionResult SameBytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << ShapeToString(a.shape()) << " vs " << ShapeToString(b.shape());
  }
  if (std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype())) != 0) {
    return ::testing::AssertionFailure() << "bytes differ";
  }
  return ::testing::AssertionSuccess();
}

std::vector<Tensor> RunReference(const Case& c, const std::vector<Tensor>& xs) {
  std::vector<const Tensor*> in;
  for (const Tensor& x : xs) in.push_back(&x);
  auto k = MakeKernel(ShuffleNode(c), in, std::vector<bool>(in.size(), false), "ref");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  std::vector<Tensor> out(c.OutChannels().size());
  const Status st = (*k)->Run(in, out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(ChannelShuffleTest, ReferenceAndFusedGraphEqualTheOnnxOps) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.Name());
    const std::vector<Tensor> xs = Inputs(c);
    TensorMap feed;
    for (size_t i = 0; i < xs.size(); ++i) feed["x" + std::to_string(i)] = xs[i];
    ExecutorOptions unfused;
    unfused.fuse = false;
    auto onnx = Executor::Create(OnnxChain(c), {}, unfused);
    auto fused = Executor::Create(OnnxChain(c));
    ASSERT_TRUE(onnx.ok() && fused.ok()) << onnx.status().ToString() << fused.status().ToString();
    ASSERT_EQ((*fused)->executed_graph().nodes.size(), 1u);
    EXPECT_EQ((*fused)->executed_graph().nodes[0].op_type, "ChannelShuffle");
    TensorMap want, got;
    ASSERT_TRUE((*onnx)->Run(feed, &want).ok());
    ASSERT_TRUE((*fused)->Run(feed, &got).ok());
    const std::vector<Tensor> ref = RunReference(c, xs);
    for (size_t o = 0; o < ref.size(); ++o) {
      const std::string y = "y" + std::to_string(o);
      EXPECT_TRUE(SameBytes(ref[o], want.at(y))) << "reference kernel, output " << o;
      EXPECT_TRUE(SameBytes(got.at(y), want.at(y))) << "fused graph, output " << o;
    }
  }
}

TEST(ChannelShuffleTest, BadAttributesAreErrorsNotCrashes) {
  const Tensor x = RandomFloat({1, 6, 2, 2}, 1);
  Node node{"s", "ChannelShuffle", ref::kChannelShuffleDomain, {"x", "x"}, {"y0", "y1"}, {}};
  std::vector<const Tensor*> in = {&x, &x};
  for (const auto& [group, split] : std::vector<std::pair<int64_t, std::vector<int64_t>>>{
           {5, {}}, {0, {}}, {2, {6, 7}}, {2, {-1, 13}}, {2, {12}}, {2, {12, INT64_MAX}}}) {
    SCOPED_TRACE("group " + std::to_string(group) + " split " + ShapeToString(split));
    node.attrs = {};
    node.attrs.Set("group", group);
    if (!split.empty()) node.attrs.Set("split", split);
    auto out = EvaluateNode(node, in);
    EXPECT_FALSE(out.ok());
  }
}

struct BlockedLayoutCase {
  Layout layout;
  bool (*available)();
};

// Every mix of NCHW, blocked and NHWC over the values (inputs, then outputs), on both blocked layouts.
TEST(ChannelShuffleTest, X86EqualsReferenceInEveryLayoutMix) {
  const BlockedLayoutCase layouts[] = {{Layout::kNChw8c, x86::HasAvx2}, {Layout::kNChw16c, x86::HasAvx512F}};
  int checked = 0;
  for (const auto& bl : layouts) {
    if (!bl.available()) continue;
    ScopedFloatBlockedLayout pin(bl.layout);
    const int64_t block = LayoutBlock(bl.layout);
    for (const Case& c : kCases) {
      const std::vector<Tensor> xs = Inputs(c);
      std::vector<const Tensor*> in;
      for (const Tensor& x : xs) in.push_back(&x);
      const Node node = ShuffleNode(c);
      ASSERT_EQ(SelectedProvider(node, in, std::vector<bool>(in.size(), false)), "x86");
      const std::vector<Tensor> want = RunReference(c, xs);
      const size_t values = in.size() + want.size();
      const Layout kinds[] = {Layout::kPlain, bl.layout, Layout::kNhwc};
      uint32_t mixes = 1;
      for (size_t v = 0; v < values; ++v) mixes *= 3;
      for (uint32_t mix = 0; mix < mixes; ++mix) {
        SCOPED_TRACE(c.Name() + " block " + std::to_string(block) + " mix " + std::to_string(mix));
        Layouts l;
        for (size_t v = 0, m = mix; v < values; ++v, m /= 3)
          (v < in.size() ? l.in : l.out).push_back(kinds[m % 3]);
        const std::vector<Tensor> got = RunInLayouts(node, in, l, c.OutChannels(), block);
        for (size_t o = 0; o < want.size(); ++o) EXPECT_TRUE(SameBytes(got[o], want[o])) << "output " << o;
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no AVX2 on this CPU";
}

// uint8 / int8 (the int8 graphs' shuffles, below a hoisted QuantizeLinear):
// every mix of NCHW and NHWC.
TEST(ChannelShuffleTest, X86BytesEqualReferenceInEveryNhwcMix) {
  for (DataType t : {DataType::kUint8, DataType::kInt8}) {
    for (const Case& c : kCases) {
      std::vector<Tensor> xs;
      std::vector<const Tensor*> in;
      for (size_t i = 0; i < c.in.size(); ++i) {
        xs.push_back(Tensor(t, {c.n, c.in[i], c.h, c.w}));
        auto* p = static_cast<uint8_t*>(xs.back().raw());
        for (int64_t e = 0; e < xs.back().numel(); ++e) p[e] = static_cast<uint8_t>(e * 37 + i * 101 + 5);
      }
      for (const Tensor& x : xs) in.push_back(&x);
      const Node node = ShuffleNode(c);
      auto r = MakeKernel(node, in, std::vector<bool>(in.size(), false), "ref");
      ASSERT_TRUE(r.ok());
      std::vector<Tensor> want(c.OutChannels().size());
      ASSERT_TRUE((*r)->Run(in, want).ok());
      const size_t values = in.size() + want.size();
      for (uint32_t mask = 0; mask < (1u << values); ++mask) {
        SCOPED_TRACE(c.Name() + " " + std::string(DataTypeName(t)) + " mask " + std::to_string(mask));
        auto k = MakeKernel(node, in, std::vector<bool>(in.size(), false), "x86");
        ASSERT_TRUE(k.ok());
        ASSERT_TRUE((*k)->AcceptsBlocked(0) && (*k)->ProducesBlocked(0));  // NHWC for 8-bit types
        Layouts l;
        for (size_t v = 0; v < values; ++v) {
          (v < in.size() ? l.in : l.out).push_back(mask & (1u << v) ? Layout::kNhwc : Layout::kPlain);
        }
        ASSERT_TRUE((*k)->SetLayouts(l.in, l.out).ok());
        std::vector<Tensor> packed;
        std::vector<const Tensor*> args;
        packed.reserve(in.size());
        for (size_t i = 0; i < in.size(); ++i) {
          if (l.in[i] == Layout::kNhwc) packed.push_back(ToNhwc(*in[i]));
          args.push_back(l.in[i] == Layout::kNhwc ? &packed.back() : in[i]);
        }
        std::vector<Tensor> got(want.size());
        for (size_t o = 0; o < got.size(); ++o) {  // garbage-filled recycled buffers
          got[o] = Tensor(t, PhysicalShape(want[o].shape(), l.out[o]));
          std::memset(got[o].raw(), 0xA5, static_cast<size_t>(got[o].numel()));
        }
        ASSERT_TRUE((*k)->Run(args, got).ok());
        for (size_t o = 0; o < got.size(); ++o) {
          EXPECT_TRUE(SameBytes(l.out[o] == Layout::kNhwc ? FromNhwc(got[o]) : got[o], want[o]))
              << "output " << o;
        }
      }
    }
  }
}

}  // namespace
}  // namespace qcal::testing
