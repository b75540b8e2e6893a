#include "kernels/dnnl/residual_relayout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/dnnl/int8_common.h"

namespace qcal::dnnl_kernels {
namespace {

int64_t Block(Layout l) { return l == Layout::kPlain ? 1 : LayoutBlock(l); }

// Elements of a [n, c, hw] tensor in layout l, with a blocked layout's padding lanes.
int64_t Elements(const ResidualDims& d, Layout l) {
  const int64_t b = Block(l);
  return d.n * (d.c + b - 1) / b * b * d.hw;
}

// Values with exact cancellations, signed zeros, infinities and NaN among random ones.
std::vector<float> Values(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    float x = u(rng);
    if (i % 7 == 3) x = 1.0f;
    if (i % 11 == 1) x = -0.0f;
    if (i % 13 == 2) x = i % 2 ? INFINITY : -INFINITY;
    if (i % 29 == 5) x = std::numeric_limits<float>::quiet_NaN();
    v[static_cast<size_t>(i)] = x;
  }
  return v;
}

// Bit for bit, except that any NaN equals any NaN: which operand's NaN an add
// returns is the compiler's choice (it may swap the operands).
void ExpectSameBits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof(float)), 0)
        << "element " << i << ": " << got[i] << " vs " << want[i];
  }
}

std::string Name(Layout l) {
  return l == Layout::kPlain ? "nchw" : "blocked" + std::to_string(LayoutBlock(l));
}

// Every plain / blocked pair on odd shapes (channels past the last full block,
// positions past the last full vector) equals the scalar definition bit for
// bit, padding lanes included.
TEST(ResidualRelayoutTest, EqualsTheDefinitionBitForBit) {
  const ResidualDims shapes[] = {{1, 16, 9}, {2, 20, 7}, {1, 5, 33}, {3, 40, 1}, {2, 64, 64}};
  const Layout layouts[] = {Layout::kPlain, Layout::kNChw8c, Layout::kNChw16c};
  for (const ResidualDims& d : shapes) {
    for (Layout zl : layouts) {
      for (Layout yl : layouts) {
        for (auto act : {ref::ResidualActivation::kNone, ref::ResidualActivation::kRelu}) {
          SCOPED_TRACE("n " + std::to_string(d.n) + " c " + std::to_string(d.c) + " hw " +
                       std::to_string(d.hw) + " z " + Name(zl) + " y " + Name(yl) +
                       (act == ref::ResidualActivation::kRelu ? " relu" : ""));
          const std::vector<float> z = Values(Elements(d, zl), 7);
          std::vector<float> want = Values(Elements(d, yl), 11);
          // Z's values exactly cancel some of Y's: y + z == 0 gives +0 after the Relu.
          for (size_t i = 0; i < want.size() && i < z.size(); i += 5) want[i] = -z[i];
          std::vector<float> got = want;
          ApplyResidualRelayoutReference(act, z.data(), zl, want.data(), yl, d);
          ApplyResidualRelayout(act, z.data(), zl, got.data(), yl, d);
          ExpectSameBits(got, want);
        }
      }
    }
  }
}

// The definition itself: element (i, c, s) of Y gets Y + Z of the same logical
// element, and a blocked Y's padding lanes get Y + 0.
TEST(ResidualRelayoutTest, DefinitionAddsTheSameLogicalElement) {
  const ResidualDims d{1, 3, 2};  // Z NCHW: channel c, position s holds 10 c + s
  const std::vector<float> z = {0, 1, 10, 11, 20, 21};
  std::vector<float> y(2 * 8, 100.0f);  // nChw8c: [1, 1, 2, 8]
  ApplyResidualRelayoutReference(ref::ResidualActivation::kNone, z.data(), Layout::kPlain, y.data(),
                                 Layout::kNChw8c, d);
  const std::vector<float> want = {100, 110, 120, 100, 100, 100, 100, 100,
                                   101, 111, 121, 100, 100, 100, 100, 100};
  EXPECT_EQ(y, want);
  std::vector<float> back(6, 0.0f);  // and from the blocked layout into NCHW
  ApplyResidualRelayoutReference(ref::ResidualActivation::kNone, y.data(), Layout::kNChw8c, back.data(),
                                 Layout::kPlain, d);
  EXPECT_EQ(back, (std::vector<float>{100, 101, 110, 111, 120, 121}));
}

// Same layouts: ApplyResidual over every element (padding lanes included).
TEST(ResidualRelayoutTest, SameLayoutIsApplyResidual) {
  const ResidualDims d{2, 20, 5};
  const std::vector<float> z = Values(Elements(d, Layout::kNChw16c), 3);
  std::vector<float> want = Values(Elements(d, Layout::kNChw16c), 4), got = want;
  dnnl_kernels::ApplyResidual(ref::ResidualActivation::kRelu, z.data(), static_cast<int64_t>(want.size()),
                              want.data());
  ApplyResidualRelayout(ref::ResidualActivation::kRelu, z.data(), Layout::kNChw16c, got.data(),
                        Layout::kNChw16c, d);
  ExpectSameBits(got, want);
}

}  // namespace
}  // namespace qcal::dnnl_kernels
