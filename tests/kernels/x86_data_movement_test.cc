// x86 data-movement kernels (Transpose, Concat, Split, Slice; kernels/x86/) are
// copies: every output must be byte-identical to the reference kernel's. The
// channel Concat / Split also run with nChw8c inputs / outputs, checked against
// an independent NCHW <-> nChw8c packing written here.
#include <cmath>
#include <cstring>

#include "kernels/dnnl_test_util.h"
#include "kernels/nchw8c_test_util.h"
#include "kernels/threads.h"
#include "runtime/executor.h"

namespace qcal::testing {
namespace {

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

// Random bytes of any dtype (bool: 0 / 1).
Tensor RandomOf(DataType t, const Shape& shape, uint32_t seed) {
  Tensor x(t, shape);
  auto* p = static_cast<uint8_t*>(x.raw());
  const size_t bytes = static_cast<size_t>(x.numel()) * DataTypeSize(t);
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>((i * 2654435761u + seed * 40503u) >> 7);
  if (t == DataType::kBool)
    for (size_t i = 0; i < bytes; ++i) p[i] &= 1;
  return x;
}

::testing::AssertionResult SameBytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << ShapeToString(a.shape()) << " vs " << ShapeToString(b.shape());
  }
  const size_t n = static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype());
  if (n && std::memcmp(a.raw(), b.raw(), n) != 0) return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

Result<std::vector<Tensor>> RunProvider(const Node& node, const std::vector<const Tensor*>& in,
                                        std::string_view provider) {
  std::vector<bool> is_const(in.size(), false);
  for (size_t i = 1; i < in.size(); ++i) is_const[i] = true;  // shape / index inputs
  QCAL_ASSIGN_OR_RETURN(auto k, MakeKernel(node, in, is_const, provider));
  std::vector<Tensor> out(node.outputs.size());
  QCAL_RETURN_IF_ERROR(k->Run(in, out));
  return out;
}

// x86 is the selected kernel and its outputs equal the reference's byte for byte.
void ExpectSameAsRef(const Node& node, const std::vector<const Tensor*>& in) {
  std::vector<bool> is_const(in.size(), false);
  EXPECT_EQ(SelectedProvider(node, in, is_const), "x86") << node.op_type;
  auto x = RunProvider(node, in, "x86");
  auto r = RunProvider(node, in, "ref");
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(x->size(), r->size());
  for (size_t i = 0; i < r->size(); ++i)
    EXPECT_TRUE(SameBytes((*x)[i], (*r)[i])) << node.op_type << " output " << i;
}

const DataType kTypes[] = {DataType::kFloat32, DataType::kUint8, DataType::kInt8,
                           DataType::kInt32,   DataType::kInt64, DataType::kBool};

TEST(X86DataMovementTest, TransposeMatchesReference) {
  struct Case {
    Shape x;
    std::vector<int64_t> perm;  // empty: default (reversed)
  };
  const std::vector<Case> cases = {{{1, 2, 58, 7, 7}, {0, 2, 1, 3, 4}},  // ShuffleNet channel shuffle
                                   {{3, 2, 5, 3, 4}, {0, 2, 1, 3, 4}},
                                   {{3, 5, 7}, {2, 0, 1}},
                                   {{2, 3, 4, 5}, {0, 1, 3, 2}},
                                   {{1, 4, 1, 3}, {2, 3, 0, 1}},
                                   {{2, 3, 5}, {}},
                                   {{}, {}},
                                   {{4, 0, 3}, {1, 2, 0}},
                                   {{7}, {0}}};
  for (DataType t : kTypes) {
    for (const Case& c : cases) {
      Attributes a;
      if (!c.perm.empty()) a.Set("perm", c.perm);
      const Tensor x = RandomOf(t, c.x, 3);
      SCOPED_TRACE(ShapeToString(c.x) + " " + std::string(DataTypeName(t)));
      ExpectSameAsRef(MakeNode("Transpose", 1, a), {&x});
    }
  }
}

TEST(X86DataMovementTest, LargeCopiesSplitOverTwoThreads) {
  ScopedNumThreads two(2);
  const Tensor x = RandomOf(DataType::kFloat32, {2, 48, 40, 41}, 5);  // 630 KB
  Attributes a;
  a.Set("perm", std::vector<int64_t>{0, 2, 3, 1});
  ExpectSameAsRef(MakeNode("Transpose", 1, a), {&x});
  a.Set("perm", std::vector<int64_t>{1, 0, 2, 3});
  ExpectSameAsRef(MakeNode("Transpose", 1, a), {&x});
  Attributes c;
  c.Set("axis", int64_t{1});
  ExpectSameAsRef(MakeNode("Concat", 2, c), {&x, &x});
  const Tensor parts = Int64s({5, 43});
  ExpectSameAsRef(MakeNode("Split", 2, c, 2), {&x, &parts});
}

TEST(X86DataMovementTest, SliceMatchesReference) {
  struct Case {
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const std::vector<Case> cases = {{{1}, {3}, {1}, {1}},
                                   {{0, 2}, {-1, 100}, {0, 3}, {1, 2}},
                                   {{-1}, {-100}, {2}, {-1}},
                                   {{4, 1}, {0, 6}, {3, 2}, {-2, 3}},
                                   {{0, 0}, {1, 5}, {-4, -3}, {1, 1}},
                                   {{2}, {2}, {1}, {1}}};
  for (DataType t : kTypes) {
    const Tensor x = RandomOf(t, {3, 5, 7, 6}, 9);
    for (const Case& c : cases) {
      const Tensor s = Int64s(c.starts), e = Int64s(c.ends), a = Int64s(c.axes), st = Int64s(c.steps);
      ExpectSameAsRef(MakeNode("Slice", 5), {&x, &s, &e, &a, &st});
    }
  }
}

TEST(X86DataMovementTest, ConcatAndSplitMatchReference) {
  for (DataType t : kTypes) {
    const Tensor a = RandomOf(t, {2, 3, 5, 7}, 1), b = RandomOf(t, {2, 4, 5, 7}, 2);
    const Tensor c = RandomOf(t, {2, 3, 1, 7}, 3), d = RandomOf(t, {2, 0, 5, 7}, 4);
    Attributes ax1, ax2, axm1, ax0;
    ax1.Set("axis", int64_t{1}), ax2.Set("axis", int64_t{2}), axm1.Set("axis", int64_t{-1});
    ax0.Set("axis", int64_t{0});
    ExpectSameAsRef(MakeNode("Concat", 3, ax1), {&a, &b, &d});
    ExpectSameAsRef(MakeNode("Concat", 2, ax2), {&a, &c});
    ExpectSameAsRef(MakeNode("Concat", 2, axm1), {&a, &a});
    ExpectSameAsRef(MakeNode("Concat", 2, ax0), {&a, &a});
    const Tensor p = Int64s({2, 0, 5});
    ExpectSameAsRef(MakeNode("Split", 2, axm1, 3), {&a, &p});
    ExpectSameAsRef(MakeNode("Split", 1, ax0, 2), {&a});
    ExpectSameAsRef(MakeNode("Split", 1, ax1, 3), {&a});
  }
}

// Every mix of layouts (bit i of `mask`: value i blocked) for channel counts `cs`.
TEST(X86DataMovementTest, BlockedChannelConcatAndSplit) {
  ScopedFloatBlockedLayout layout(Layout::kNChw8c);  // the x86 kernels' blocked layout, on any machine
  const std::vector<std::vector<int64_t>> channel_sets = {
      {8, 16}, {16, 8, 24}, {58, 58}, {3, 13, 8}, {12, 5}};
  Attributes ax1;
  ax1.Set("axis", int64_t{1});
  for (const auto& cs : channel_sets) {
    std::vector<Tensor> xs;
    int64_t total = 0;
    for (size_t i = 0; i < cs.size(); ++i) {
      xs.push_back(RandomFloat({2, cs[i], 3, 5}, static_cast<uint32_t>(10 + i)));
      total += cs[i];
    }
    std::vector<const Tensor*> in;
    for (const Tensor& x : xs) in.push_back(&x);
    const Node concat = MakeNode("Concat", cs.size(), ax1);
    auto want = RunProvider(concat, in, "ref");
    ASSERT_TRUE(want.ok());
    const Tensor split_sizes = Int64s(cs);
    const Node split = MakeNode("Split", 2, ax1, cs.size());
    const size_t n = cs.size() + 1;
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
      SCOPED_TRACE(ShapeToString(cs) + " mask " + std::to_string(mask));
      Layouts cl, sl;
      for (size_t i = 0; i < n; ++i) {
        const Layout l = mask & (1u << i) ? Layout::kNChw8c : Layout::kPlain;
        (i < cs.size() ? cl.in : cl.out).push_back(l);
        (i < cs.size() ? sl.out : sl.in).push_back(l);
      }
      sl.in.push_back(Layout::kPlain);  // the 'split' sizes
      auto y = RunInLayouts(concat, in, cl, {total}, 8);
      EXPECT_TRUE(SameBytes(y[0], (*want)[0]));
      auto parts = RunInLayouts(split, {&(*want)[0], &split_sizes}, sl, cs, 8);
      for (size_t i = 0; i < cs.size(); ++i) EXPECT_TRUE(SameBytes(parts[i], xs[i])) << "part " << i;
    }
  }
}

// Small integers as float32: every conv sum below is exact, so the convs give
// the same bits whichever oneDNN kernel (AVX2 nChw8c, AVX-512 nChw16c) runs them.
Tensor SmallIntegers(const Shape& shape, uint32_t seed) {
  Tensor t = RandomFloat(shape, seed, -2.5f, 2.5f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = std::round(t.data<float>()[i]);
  return t;
}

// A ShuffleNet unit: convs -> Concat -> Reshape -> Transpose -> Reshape -> Split -> conv -> Concat.
// With the x86 kernels the conv outputs, split parts and conv input stay nChw8c;
// the outputs equal the all-NCHW run bit for bit (the layout changes are copies).
Graph ShuffleUnit(int64_t c) {
  Graph g;
  g.name = "shuffle";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{1, 16, 6, 7}});
  g.initializers["wa"] = SmallIntegers({c, 16, 1, 1}, 1);
  g.initializers["wb"] = SmallIntegers({c, 16, 3, 3}, 2);
  g.initializers["wc"] = SmallIntegers({c, c, 1, 1}, 3);
  g.initializers["s5"] = Int64s({1, 2, c, 6, 7});
  g.initializers["s4"] = Int64s({1, 2 * c, 6, 7});
  auto conv = [](const std::string& name, std::vector<std::string> in, const std::string& out, int64_t pad) {
    Node n{name, "Conv", "", std::move(in), {out}, {}};
    n.attrs.Set("pads", std::vector<int64_t>{pad, pad, pad, pad});
    return n;
  };
  Node cat1{"cat1", "Concat", "", {"a", "b"}, {"ab"}, {}},
      cat2{"cat2", "Concat", "", {"p0", "cc"}, {"y"}, {}};
  cat1.attrs.Set("axis", int64_t{1});
  cat2.attrs.Set("axis", int64_t{1});
  Node tr{"tr", "Transpose", "", {"r5"}, {"t5"}, {}};
  tr.attrs.Set("perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  Node split{"split", "Split", "", {"r4"}, {"p0", "p1"}, {}};
  split.attrs.Set("axis", int64_t{1});
  g.nodes = {conv("ca", {"x", "wa"}, "a", 0),
             conv("cb", {"x", "wb"}, "b", 1),
             cat1,
             Node{"r1", "Reshape", "", {"ab", "s5"}, {"r5"}, {}},
             tr,
             Node{"r2", "Reshape", "", {"t5", "s4"}, {"r4"}, {}},
             split,
             conv("cc", {"p1", "wc"}, "cc", 0),
             cat2};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  return g;
}

// On nChw16c (AVX-512) machines too: the x86 kernels take blocked values only
// where the blocked layout is nChw8c, so this test makes it that.
// Both as the ONNX ops (Concat, Transpose, Split kernels) and fused into a
// ChannelShuffle.
TEST(X86DataMovementTest, ShuffleUnitBlockedEqualsPlain) {
  ScopedFloatBlockedLayout layout(Layout::kNChw8c);
  for (int64_t c : {8, 16, 24, 12, 6}) {
    for (bool fuse_shuffle : {false, true}) {
      SCOPED_TRACE("channels " + std::to_string(c) + (fuse_shuffle ? ", ChannelShuffle" : ", ONNX ops"));
      const Graph g = ShuffleUnit(c);
      const Tensor x = SmallIntegers({1, 16, 6, 7}, 9);
      ExecutorOptions on;
      on.fuse_channel_shuffle = fuse_shuffle;
      auto blocked = Executor::Create(g, {{"x", x.shape()}}, on);
      ExecutorOptions off;
      off.blocked_layout = false;
      auto plain = Executor::Create(g, {{"x", x.shape()}}, off);
      ASSERT_TRUE(blocked.ok() && plain.ok()) << blocked.status().ToString();
      EXPECT_GE((*blocked)->blocked_values(), 5);  // a, b, p0, p1, cc
      TensorMap got, want;
      for (int run = 0; run < 2; ++run) {  // the second run gets recycled, uncleared buffers
        ASSERT_TRUE((*blocked)->Run({{"x", x}}, &got).ok());
        ASSERT_TRUE((*plain)->Run({{"x", x}}, &want).ok());
        EXPECT_TRUE(SameBytes(got.at("y"), want.at("y")));
      }
    }
  }
}

}  // namespace
}  // namespace qcal::testing
