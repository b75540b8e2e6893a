// Helpers of the nChw8c kernel tests (x86_conv_nchw8c_test.cc,
// x86_conv_winograd_test.cc): NCHW <-> nChw8c packing, random vectors, and an
// environment variable set while in scope.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "kernels/dnnl_test_util.h"

namespace qcal::testing {

// NCHW [n, c, h, w] <-> nChw8c [n, c/8, h, w, 8] (c a multiple of 8).
inline std::vector<float> ToBlocked(const std::vector<float>& x, int64_t n, int64_t c, int64_t hw) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        y[((i * (c / 8) + ch / 8) * hw + p) * 8 + ch % 8] = x[(i * c + ch) * hw + p];
  return y;
}
inline std::vector<float> FromBlocked(const std::vector<float>& y, int64_t n, int64_t c, int64_t hw) {
  std::vector<float> x(y.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        x[(i * c + ch) * hw + p] = y[((i * (c / 8) + ch / 8) * hw + p) * 8 + ch % 8];
  return x;
}

inline std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

// A 4-D NCHW float tensor as a kNChw8c tensor (BlockedShape).
inline Tensor BlockedTensor(const Tensor& t) {
  const auto v = ToBlocked(Values(t), t.dim(0), t.dim(1), t.dim(2) * t.dim(3));
  Tensor r(DataType::kFloat32, BlockedShape(t.shape()));
  std::copy(v.begin(), v.end(), r.data<float>());
  return r;
}

inline std::vector<float> Random(size_t n, uint32_t seed) {
  return Values(RandomFloat({static_cast<int64_t>(n)}, seed));
}

// Runs a FusedConv node with inputs {x, w, b, z} (w, b constant) on the dnnl
// kernel as the executor plans it on an nChw8c machine (pinned, so also on
// AVX-512 ones): X, Z and Y in nChw8c, Y in Z's buffer. Returns Y in NCHW in *y.
inline void RunDnnlFusedConvBlocked(const Node& node, const Tensor& x, const Tensor& w, const Tensor& b,
                                    const Tensor& z, Tensor* y) {
  ScopedFloatBlockedLayout layout(Layout::kNChw8c);
  const std::vector<const Tensor*> in = {&x, &w, &b, &z};
  auto dk = MakeKernel(node, in, {false, true, true, false}, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  ASSERT_TRUE((*dk)->AcceptsBlocked(0) && (*dk)->ProducesBlocked(0));
  const Layout bl = Layout::kNChw8c;
  ASSERT_TRUE((*dk)->SetLayouts({bl, Layout::kPlain, Layout::kPlain, bl}, {bl}).ok());
  ASSERT_EQ((*dk)->InPlaceInput(0), 3);
  const Tensor xb = BlockedTensor(x);
  std::vector<Tensor> out = {BlockedTensor(z)};  // Y in Z's buffer, as the executor does
  const Tensor zb = out[0];                      // shares the buffer
  ASSERT_TRUE((*dk)->Run({&xb, &w, &b, &zb}, out).ok());
  ASSERT_EQ(out[0].shape(), BlockedShape(z.shape()));
  const auto v = FromBlocked(Values(out[0]), z.dim(0), z.dim(1), z.dim(2) * z.dim(3));
  *y = Tensor(DataType::kFloat32, z.shape());
  std::copy(v.begin(), v.end(), y->data<float>());
}

// Sets an environment variable while alive (restores the previous value).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace qcal::testing
