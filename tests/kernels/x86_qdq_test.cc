// x86 QuantizeLinear / DequantizeLinear kernels (provider "x86") vs the
// reference kernels: outputs must be bit-identical, on the AVX2 and the scalar
// path, for odd sizes, .5 ties, huge / infinite / NaN values and both 8-bit types.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/dnnl_test_util.h"
#include "kernels/x86/qdq_rows.h"
#include "kernels/x86/x86_common.h"

namespace qcal::testing {
namespace {

const int64_t kSizes[] = {1, 7, 8, 9, 33, 1003};

// Values that stress rounding and saturation: x / scale hits .5 ties, integers,
// values next to the type limits, huge, infinite, NaN and signed zeros.
std::vector<float> HardValues(int64_t n, float scale, uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> special = {
      0.0f,          -0.0f,          0.5f * scale,    -0.5f * scale,  1.5f * scale, 2.5f * scale,
      -2.5f * scale, 127.5f * scale, -128.5f * scale, 255.5f * scale, 1e30f,        -1e30f,
      inf,           -inf,           std::nanf(""),   1e-40f,         3.4e38f,      -3.4e38f};
  Tensor r = RandomFloat({n}, seed, -300.0f * scale, 300.0f * scale);
  std::vector<float> v(r.data<float>(), r.data<float>() + n);
  for (int64_t i = 0; i < n; ++i) {
    if (i % 3 == 0) v[static_cast<size_t>(i)] = special[static_cast<size_t>(i / 3) % special.size()];
    if (i % 3 == 1)
      v[static_cast<size_t>(i)] = (std::round(v[static_cast<size_t>(i)] / scale) + 0.5f) * scale;
  }
  return v;
}

::testing::AssertionResult SameBytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << DataTypeName(a.dtype()) << ShapeToString(a.shape()) << " vs "
                                         << DataTypeName(b.dtype()) << ShapeToString(b.shape());
  }
  const size_t bytes = static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype());
  if (std::memcmp(a.raw(), b.raw(), bytes) == 0) return ::testing::AssertionSuccess();
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (a.GetAsDouble(i) != b.GetAsDouble(i)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a.GetAsDouble(i) << " vs " << b.GetAsDouble(i);
    }
  }
  return ::testing::AssertionFailure() << "bit patterns differ (signed zeros)";
}

// Runs node through the x86 kernel (which must be the one selected) and the ref kernel; outputs must match
// bytes.
void ExpectSameAsRef(const Node& node, const std::vector<const Tensor*>& in) {
  std::vector<bool> is_const(in.size(), true);
  is_const[0] = false;
  ASSERT_EQ(SelectedProvider(node, in, is_const), "x86");
  auto xk = MakeKernel(node, in, is_const, "x86");
  ASSERT_TRUE(xk.ok()) << xk.status().ToString();
  auto rk = MakeKernel(node, in, is_const, "ref");
  ASSERT_TRUE(rk.ok()) << rk.status().ToString();
  auto y = RunKernel(**xk, in);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  auto r = RunKernel(**rk, in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(SameBytes(*y, *r)) << node.op_type << " " << ShapeToString(in[0]->shape());
}

Tensor ZeroPoint(DataType t, int v) {
  return t == DataType::kInt8 ? Tensor::Scalar<int8_t>(static_cast<int8_t>(v))
                              : Tensor::Scalar<uint8_t>(static_cast<uint8_t>(v));
}

TEST(X86QdqTest, QuantizeRowTiesRoundToEvenOnBothPaths) {
  // Independent expectations: x / 1 with ties to even, + zero point 0, saturated.
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, 127.5f, -128.5f, 3.49f, 1e9f};
  const std::vector<int> want = {0, 2, 2, 0, -2, -2, 126, 127, -128, 3, 127};
  for (bool avx2 : {false, x86::HasAvx2()}) {
    std::vector<int8_t> y(x.size());
    x86::QuantizeRow<int8_t>(x.data(), static_cast<int64_t>(x.size()), 1.0f, 0, y.data(), avx2);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], want[i]) << "x = " << x[i] << " avx2 " << avx2;
  }
  // NaN -> zero point; +-inf saturate (uint8, zero point 7), on a full vector of 8 plus a tail.
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  const std::vector<float> u = {nan, inf, -inf, nan, 0.0f, -0.0f, 2.5f, 1e-40f, nan};
  const std::vector<int> want_u = {7, 255, 0, 7, 7, 7, 9, 7, 7};
  for (bool avx2 : {false, x86::HasAvx2()}) {
    std::vector<uint8_t> y(u.size());
    x86::QuantizeRow<uint8_t>(u.data(), static_cast<int64_t>(u.size()), 1.0f, 7, y.data(), avx2);
    for (size_t i = 0; i < u.size(); ++i) EXPECT_EQ(y[i], want_u[i]) << "element " << i << " avx2 " << avx2;
  }
}

TEST(X86QdqTest, ScalarAndAvx2PathsAgree) {
  if (!x86::HasAvx2()) GTEST_SKIP() << "no AVX2";
  for (int64_t n : kSizes) {
    const std::vector<float> x = HardValues(n, 0.037f, static_cast<uint32_t>(n));
    std::vector<int8_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    x86::QuantizeRow<int8_t>(x.data(), n, 0.037f, -3, a.data(), true);
    x86::QuantizeRow<int8_t>(x.data(), n, 0.037f, -3, b.data(), false);
    EXPECT_EQ(a, b) << n;
    std::vector<float> fa(static_cast<size_t>(n)), fb(static_cast<size_t>(n));
    x86::DequantizeRow<int8_t>(a.data(), n, 0.037f, -3, fa.data(), true);
    x86::DequantizeRow<int8_t>(a.data(), n, 0.037f, -3, fb.data(), false);
    EXPECT_EQ(0, std::memcmp(fa.data(), fb.data(), fa.size() * sizeof(float))) << n;
  }
}

TEST(X86QdqTest, QuantizeLinearMatchesRefPerTensor) {
  const int64_t big = x86::kParallelMin + 3;  // the multi-threaded path
  for (DataType t : {DataType::kUint8, DataType::kInt8}) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{9}, int64_t{33}, int64_t{1003}, big}) {
      const float scale = 0.0173f;
      const std::vector<float> v = HardValues(n, scale, static_cast<uint32_t>(n + 11));
      const Tensor x = Tensor::FromVector<float>(v, {n});
      const Tensor s = Tensor::Scalar<float>(scale);
      const Tensor zp = ZeroPoint(t, t == DataType::kInt8 ? -20 : 131);
      ExpectSameAsRef(MakeNode("QuantizeLinear", 3), {&x, &s, &zp});
    }
  }
  // Without a zero point: uint8, zero point 0.
  const Tensor x = Tensor::FromVector<float>(HardValues(41, 0.5f, 5), {41});
  const Tensor s = Tensor::Scalar<float>(0.5f);
  ExpectSameAsRef(MakeNode("QuantizeLinear", 2), {&x, &s});
}

TEST(X86QdqTest, QuantizeLinearMatchesRefPerAxis) {
  for (int64_t axis : {int64_t{1}, int64_t{-1}, int64_t{0}}) {
    const Shape shape = {3, 5, 37};
    const int64_t channels = shape[static_cast<size_t>(axis < 0 ? axis + 3 : axis)];
    std::vector<float> scales;
    std::vector<int8_t> zps;
    for (int64_t c = 0; c < channels; ++c) {
      scales.push_back(0.01f + 0.003f * static_cast<float>(c));
      zps.push_back(static_cast<int8_t>(c * 7 - 20));
    }
    const Tensor x = Tensor::FromVector<float>(HardValues(NumElements(shape), 0.02f, 3), shape);
    const Tensor s = Tensor::FromVector<float>(scales, {channels});
    const Tensor zp = Tensor::FromVector<int8_t>(zps, {channels});
    Attributes a;
    a.Set("axis", axis);
    ExpectSameAsRef(MakeNode("QuantizeLinear", 3, a), {&x, &s, &zp});
  }
}

TEST(X86QdqTest, DequantizeLinearMatchesRef) {
  const int64_t big = x86::kParallelMin + 5;
  for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{9}, int64_t{33}, int64_t{1003}, big}) {
    const Tensor xu = RandomInt<uint8_t>({n}, static_cast<uint32_t>(n), 0, 255);
    const Tensor xs = RandomInt<int8_t>({n}, static_cast<uint32_t>(n + 1), -128, 127);
    const Tensor xi = RandomInt<int32_t>({n}, static_cast<uint32_t>(n + 2), -2000000000, 2000000000);
    const Tensor s = Tensor::Scalar<float>(0.0031f);
    const Tensor zu = Tensor::Scalar<uint8_t>(255), zs = Tensor::Scalar<int8_t>(-128);
    const Tensor zi = Tensor::Scalar<int32_t>(-2000000000);  // differences beyond int32 and float precision
    ExpectSameAsRef(MakeNode("DequantizeLinear", 3), {&xu, &s, &zu});
    ExpectSameAsRef(MakeNode("DequantizeLinear", 3), {&xs, &s, &zs});
    ExpectSameAsRef(MakeNode("DequantizeLinear", 3), {&xi, &s, &zi});
    ExpectSameAsRef(MakeNode("DequantizeLinear", 2), {&xs, &s});
  }
  // Per-axis (axis 1 of [2, 4, 9]).
  const Tensor x = RandomInt<uint8_t>({2, 4, 9}, 8, 0, 255);
  const Tensor s = Tensor::FromVector<float>({0.1f, 0.02f, 3.0f, 1e-3f}, {4});
  const Tensor zp = Tensor::FromVector<uint8_t>({0, 128, 255, 3}, {4});
  ExpectSameAsRef(MakeNode("DequantizeLinear", 3), {&x, &s, &zp});
}

TEST(X86QdqTest, Int32InputQuantizeStaysOnRef) {
  const Tensor x = Tensor::FromVector<int32_t>({1, 2, 3}, {3});
  const Tensor s = Tensor::Scalar<float>(0.5f);
  EXPECT_EQ(SelectedProvider(MakeNode("QuantizeLinear", 2), {&x, &s}, {false, true}), "ref");
}

}  // namespace
}  // namespace qcal::testing
