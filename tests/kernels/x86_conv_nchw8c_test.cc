// The direct nChw8c AVX2 convolution (kernels/x86/conv_nchw8c.h) against an
// independent scalar NCHW convolution written here, on odd shapes: channel
// block counts that leave 1 and 2 blocks in the last register tile, widths
// that leave short tiles, asymmetric pads and strides, 1x1 / 3x2 / 5x5
// kernels, bias or not, a sum input (also in place), Relu / Clip, 1 and 2
// threads. And the dnnl FusedConv kernel, which switches to it for large
// non-1x1 weights when X, Y and Z are nChw8c (unless QCAL_DIRECT_CONV=0),
// against the reference kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/dnnl_test_util.h"
#include "kernels/nchw8c_test_util.h"
#include "kernels/x86/conv_nchw8c.h"
#include "kernels/x86/x86_common.h"

namespace qcal::testing {
namespace {

struct ConvCase {
  int64_t n, ic, ih, iw, oc, kh, kw, sh, sw;
  int64_t pt, pl, pb, pr;
};

int64_t OutDim(int64_t in, int64_t k, int64_t s, int64_t p0, int64_t p1) {
  return (in + p0 + p1 - k) / s + 1;
}

// clamp(conv(x, w) + b + z), NCHW, in double.
std::vector<float> ScalarConv(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                              const float* b, const float* z, float lo, float hi) {
  const int64_t oh = OutDim(c.ih, c.kh, c.sh, c.pt, c.pb), ow = OutDim(c.iw, c.kw, c.sw, c.pl, c.pr);
  std::vector<float> y(static_cast<size_t>(c.n * c.oc * oh * ow));
  for (int64_t i = 0; i < c.n; ++i)
    for (int64_t o = 0; o < c.oc; ++o)
      for (int64_t r = 0; r < oh; ++r)
        for (int64_t q = 0; q < ow; ++q) {
          double acc = b ? b[o] : 0.0;
          for (int64_t ch = 0; ch < c.ic; ++ch)
            for (int64_t u = 0; u < c.kh; ++u)
              for (int64_t v = 0; v < c.kw; ++v) {
                const int64_t yy = r * c.sh - c.pt + u, xx = q * c.sw - c.pl + v;
                if (yy < 0 || yy >= c.ih || xx < 0 || xx >= c.iw) continue;
                acc += double{x[((i * c.ic + ch) * c.ih + yy) * c.iw + xx]} *
                       w[((o * c.ic + ch) * c.kh + u) * c.kw + v];
              }
          const size_t at = static_cast<size_t>(((i * c.oc + o) * oh + r) * ow + q);
          if (z) acc += z[at];
          y[at] = static_cast<float>(std::min<double>(std::max<double>(acc, lo), hi));
        }
  return y;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_LE(std::fabs(got[i] - want[i]), kDnnlTol * (1 + std::fabs(want[i]))) << "at " << i;
  }
}

enum class SumMode { kNone, kSeparate, kInPlace };

void Check(const ConvCase& c, bool bias, SumMode sum, float lo, float hi, int threads) {
  SCOPED_TRACE(::testing::Message() << "ic " << c.ic << " " << c.ih << "x" << c.iw << " oc " << c.oc << " k "
                                    << c.kh << "x" << c.kw << " s " << c.sh << "," << c.sw << " bias " << bias
                                    << " sum " << static_cast<int>(sum) << " threads " << threads);
  const int64_t oh = OutDim(c.ih, c.kh, c.sh, c.pt, c.pb), ow = OutDim(c.iw, c.kw, c.sw, c.pl, c.pr);
  const auto x = Random(static_cast<size_t>(c.n * c.ic * c.ih * c.iw), 1);
  const auto w = Random(static_cast<size_t>(c.oc * c.ic * c.kh * c.kw), 2);
  const auto b = Random(static_cast<size_t>(c.oc), 3);
  const auto z = Random(static_cast<size_t>(c.n * c.oc * oh * ow), 4);
  const bool has_z = sum != SumMode::kNone;
  const auto want = ScalarConv(c, x, w, bias ? b.data() : nullptr, has_z ? z.data() : nullptr, lo, hi);

  x86::ConvNchw8cShape s{c.ic, c.ih, c.iw, c.oc, oh, ow, c.kh, c.kw, c.sh, c.sw, c.pt, c.pl};
  ASSERT_TRUE(x86::ConvNchw8cSupports(s));
  Tensor packed(DataType::kFloat32, {c.oc * c.ic * c.kh * c.kw});
  x86::PackConvWeightsNchw8c(w.data(), s, packed.data<float>());
  const auto xb = ToBlocked(x, c.n, c.ic, c.ih * c.iw);
  const auto zb = ToBlocked(z, c.n, c.oc, oh * ow);
  // Y starts as garbage, or as Z when the sum is in place.
  std::vector<float> yb = sum == SumMode::kInPlace ? zb : Random(want.size(), 5);
  x86::ConvNchw8cPost post{nullptr, lo, hi};
  if (sum == SumMode::kSeparate) post.z = zb.data();
  if (sum == SumMode::kInPlace) post.z = yb.data();
  x86::ConvNchw8c(s, c.n, xb.data(), packed.data<float>(), bias ? b.data() : nullptr, post, yb.data(),
                  threads);
  ExpectClose(FromBlocked(yb, c.n, c.oc, oh * ow), want);
}

const ConvCase kCases[] = {
    // 5 output blocks (tiles of 3 + 2), width 7 (tiles of 4 + 3), pads all round.
    {2, 16, 5, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1},
    // 7 blocks (3 + 3 + 1), strides 2 x 1, asymmetric pads, 3x2 kernel.
    {1, 8, 9, 6, 56, 3, 2, 2, 1, 0, 2, 1, 0},
    // 5x5 kernel larger than the 4x4 input with pads 2, one block.
    {1, 24, 4, 4, 8, 5, 5, 1, 1, 2, 2, 2, 2},
    // 1x1 stride 2 without pads (no padded copy), width 13.
    {1, 8, 3, 13, 24, 1, 1, 2, 2, 0, 0, 0, 0},
    // Many input channel blocks: several passes over the channel chunks (weights > 16 KiB per pass).
    {1, 136, 6, 5, 16, 3, 3, 1, 1, 1, 0, 1, 2},
};

TEST(X86ConvNchw8cTest, AgreesWithScalarConvolution) {
  if (!x86::HasAvx2Fma()) GTEST_SKIP() << "no AVX2 + FMA";
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (const ConvCase& c : kCases) {
    Check(c, /*bias=*/true, SumMode::kNone, -inf, inf, 1);
    Check(c, /*bias=*/false, SumMode::kSeparate, 0.0f, inf, 2);   // Relu
    Check(c, /*bias=*/true, SumMode::kInPlace, -0.5f, 0.75f, 2);  // Clip
  }
}

TEST(X86ConvNchw8cTest, RejectsChannelsNotMultiplesOf8) {
  x86::ConvNchw8cShape s{12, 4, 4, 8, 4, 4, 3, 3, 1, 1, 1, 1};
  EXPECT_FALSE(x86::ConvNchw8cSupports(s));
  s.ic = 16;
  s.oc = 10;
  EXPECT_FALSE(x86::ConvNchw8cSupports(s));
  s.oc = 16;
  EXPECT_TRUE(x86::ConvNchw8cSupports(s));
}

// The dnnl FusedConv kernel with blocked X, Z, Y and 512 x 512 x 3 x 3 weights
// (9 MiB) against the reference FusedConv, Z in place, on the direct path
// (QCAL_DIRECT_CONV=1) and on oneDNN.
void CheckLargeFusedConv() {
  Attributes a;
  a.Set("strides", std::vector<int64_t>{2, 1});
  a.Set("pads", std::vector<int64_t>{1, 0, 1, 2});
  a.Set("activation", std::string("Relu"));
  Node node = MakeNode("FusedConv", 4, a);
  node.domain = "com.microsoft";
  const Tensor x = RandomFloat({1, 512, 5, 4}, 1), w = RandomFloat({512, 512, 3, 3}, 2, -0.05f, 0.05f);
  const Tensor b = RandomFloat({512}, 3), z = RandomFloat({1, 512, 3, 4}, 4);
  Tensor got;
  RunDnnlFusedConvBlocked(node, x, w, b, z, &got);
  if (::testing::Test::HasFatalFailure()) return;
  auto rk = MakeKernel(node, {&x, &w, &b, &z}, {false, true, true, false}, "ref");
  ASSERT_TRUE(rk.ok());
  auto want = RunKernel(**rk, {&x, &w, &b, &z});
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  ExpectClose(Values(got), Values(*want));
}

TEST(X86ConvNchw8cTest, DnnlFusedConvWithLargeWeightsInBlockedLayout) {
  {
    ScopedEnv direct("QCAL_DIRECT_CONV", "1");
    CheckLargeFusedConv();
  }
  ScopedEnv onednn("QCAL_DIRECT_CONV", "0");
  CheckLargeFusedConv();
}

}  // namespace
}  // namespace qcal::testing
