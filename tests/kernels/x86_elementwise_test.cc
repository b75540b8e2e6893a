// x86 Add / Relu kernels (provider "x86") vs the reference kernels: outputs must
// be bit-identical on the AVX2 and the scalar path, for odd sizes (vector tails),
// a size large enough for the multi-threaded split, and NaN / signed zero /
// infinite / subnormal values. Broadcasting Adds and non-float Relus stay on "ref".
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/dnnl_test_util.h"
#include "kernels/x86/elementwise.h"

namespace qcal::testing {
namespace {

const int64_t kSizes[] = {1, 7, 8, 9, 33, 1003, 70001};

Tensor HardValues(int64_t n, uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  const float special[] = {0.0f, -0.0f, inf, -inf, std::nanf(""), 1e-40f, -1e-40f, 3.4e38f, -3.4e38f, 1.0f};
  Tensor t = RandomFloat({n}, seed, -10.0f, 10.0f);
  for (int64_t i = 0; i < n; i += 3) t.data<float>()[i] = special[(i / 3) % 10];
  return t;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype())) == 0;
}

// Runs node on the selected kernel (must be "x86") and on "ref"; returns ref's output.
Tensor ExpectX86MatchesRef(const Node& node, const std::vector<const Tensor*>& in) {
  const std::vector<bool> is_const(in.size(), false);
  EXPECT_EQ(SelectedProvider(node, in, is_const), "x86");
  auto xk = MakeKernel(node, in, is_const, "x86");
  auto rk = MakeKernel(node, in, is_const, "ref");
  EXPECT_TRUE(xk.ok() && rk.ok());
  if (!xk.ok() || !rk.ok()) return Tensor();
  auto y = RunKernel(**xk, in);
  auto r = RunKernel(**rk, in);
  EXPECT_TRUE(y.ok() && r.ok());
  if (!y.ok() || !r.ok()) return Tensor();
  EXPECT_TRUE(SameBytes(*y, *r)) << node.op_type << " " << ShapeToString(r->shape());
  return *r;
}

TEST(X86ElementwiseTest, AddMatchesRefOnBothPaths) {
  for (int64_t n : kSizes) {
    const Tensor a = HardValues(n, 1), b = HardValues(n, 2);
    const Tensor ref = ExpectX86MatchesRef(MakeNode("Add", 2), {&a, &b});
    Tensor y(DataType::kFloat32, {n});
    x86::AddScalar(a.data<float>(), b.data<float>(), y.data<float>(), 0, n);
    EXPECT_TRUE(SameBytes(y, ref)) << "scalar, n = " << n;
    if (!x86::HasAvx2()) continue;
    x86::AddAvx2(a.data<float>(), b.data<float>(), y.data<float>(), 0, n);
    EXPECT_TRUE(SameBytes(y, ref)) << "avx2, n = " << n;
  }
}

TEST(X86ElementwiseTest, ReluMatchesRefOnBothPaths) {
  for (int64_t n : kSizes) {
    const Tensor x = HardValues(n, 3);
    const Tensor ref = ExpectX86MatchesRef(MakeNode("Relu", 1), {&x});
    // Relu maps NaN and -0 to +0 like the reference.
    if (n >= 7) EXPECT_EQ(std::signbit(ref.data<float>()[3]), false);
    Tensor y(DataType::kFloat32, {n});
    x86::ReluScalar(x.data<float>(), y.data<float>(), 0, n);
    EXPECT_TRUE(SameBytes(y, ref)) << "scalar, n = " << n;
    if (!x86::HasAvx2()) continue;
    x86::ReluAvx2(x.data<float>(), y.data<float>(), 0, n);
    EXPECT_TRUE(SameBytes(y, ref)) << "avx2, n = " << n;
  }
}

TEST(X86ElementwiseTest, BroadcastAndOtherTypesStayOnRef) {
  const Tensor a = RandomFloat({2, 3, 4}, 1, -1.0f, 1.0f), b = RandomFloat({4}, 2, -1.0f, 1.0f);
  EXPECT_EQ(SelectedProvider(MakeNode("Add", 2), {&a, &b}, {false, false}), "ref");
  const Tensor i = RandomInt<int32_t>({5}, 3, -5, 5);
  EXPECT_EQ(SelectedProvider(MakeNode("Relu", 1), {&i}, {false}), "ref");
}

}  // namespace
}  // namespace qcal::testing
