// Helpers of the blocked-layout kernel tests (x86_conv_nchw8c_test.cc,
// x86_conv_winograd_test.cc): NCHW <-> nChw8c / nChw16c packing, random
// vectors, and an environment variable set while in scope.
#pragma once

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "kernels/dnnl_test_util.h"

namespace qcal::testing {

// NCHW [n, c, h, w] <-> nChw<B>c [n, c/B, h, w, B] (c a multiple of the block B).
inline std::vector<float> ToBlocked(const std::vector<float>& x, int64_t n, int64_t c, int64_t hw,
                                    int64_t block = 8) {
  std::vector<float> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        y[((i * (c / block) + ch / block) * hw + p) * block + ch % block] = x[(i * c + ch) * hw + p];
  return y;
}
inline std::vector<float> FromBlocked(const std::vector<float>& y, int64_t n, int64_t c, int64_t hw,
                                      int64_t block = 8) {
  std::vector<float> x(y.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p)
        x[(i * c + ch) * hw + p] = y[((i * (c / block) + ch / block) * hw + p) * block + ch % block];
  return x;
}

inline std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.numel());
}

// A 4-D NCHW float tensor as a kNChw8c (block 8) or kNChw16c tensor (BlockedShape).
inline Tensor BlockedTensor(const Tensor& t, int64_t block = 8) {
  const auto v = ToBlocked(Values(t), t.dim(0), t.dim(1), t.dim(2) * t.dim(3), block);
  Tensor r(DataType::kFloat32, BlockedShape(t.shape(), block));
  std::copy(v.begin(), v.end(), r.data<float>());
  return r;
}

// An independent packing of any channel count: NCHW -> nChw<B>c with the
// padding lanes set to `pad` (garbage, to prove kernels ignore it) and back;
// *padding_zero tells whether every padding lane of y is exactly 0.
inline Tensor PackPadded(const Tensor& x, int64_t block, float pad) {
  const int64_t n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3), cb = (c + block - 1) / block;
  Tensor y(DataType::kFloat32, {n, cb, x.dim(2), x.dim(3), block});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t b = 0; b < cb; ++b)
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t l = 0; l < block; ++l) {
          const int64_t ch = b * block + l;
          y.data<float>()[((i * cb + b) * hw + p) * block + l] =
              ch < c ? x.data<float>()[(i * c + ch) * hw + p] : pad;
        }
  return y;
}
inline Tensor UnpackPadded(const Tensor& y, int64_t c, bool* padding_zero) {
  const int64_t n = y.dim(0), cb = y.dim(1), hw = y.dim(2) * y.dim(3), block = y.dim(4);
  Tensor x(DataType::kFloat32, {n, c, y.dim(2), y.dim(3)});
  *padding_zero = true;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t b = 0; b < cb; ++b)
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t l = 0; l < block; ++l) {
          const float v = y.data<float>()[((i * cb + b) * hw + p) * block + l];
          if (b * block + l < c) {
            x.data<float>()[(i * c + b * block + l) * hw + p] = v;
          } else if (v != 0.0f) {
            *padding_zero = false;
          }
        }
  return x;
}

// NCHW <-> NHWC ([N, H, W, C]) tensors of any dtype: element (i, ch, p) of
// `c` channels and `hw` pixels moves between the two orders.
inline Tensor PermuteChannels(const Tensor& x, Shape to_shape, int64_t c, int64_t hw, bool to_nhwc) {
  const int64_t n = x.dim(0);
  const size_t e = DataTypeSize(x.dtype());
  Tensor y(x.dtype(), std::move(to_shape));
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(y.raw());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t p = 0; p < hw; ++p) {
        const size_t nchw = static_cast<size_t>((i * c + ch) * hw + p) * e;
        const size_t nhwc = static_cast<size_t>((i * hw + p) * c + ch) * e;
        std::memcpy(dst + (to_nhwc ? nhwc : nchw), src + (to_nhwc ? nchw : nhwc), e);
      }
  return y;
}
inline Tensor ToNhwc(const Tensor& x) {
  return PermuteChannels(x, NhwcShape(x.shape()), x.dim(1), x.dim(2) * x.dim(3), true);
}
inline Tensor FromNhwc(const Tensor& y) {
  return PermuteChannels(y, {y.dim(0), y.dim(3), y.dim(1), y.dim(2)}, y.dim(3), y.dim(1) * y.dim(2), false);
}

struct Layouts {
  std::vector<Layout> in, out;
};

// Runs the x86 kernel with the given layouts (blocked: nChw<block>c; float
// kNhwc): blocked inputs are packed with NaN padding, outputs start as garbage buffers (recycled
// ones); returns NCHW outputs and checks blocked outputs' padding lanes are 0.
inline std::vector<Tensor> RunInLayouts(const Node& node, const std::vector<const Tensor*>& plain,
                                        const Layouts& l, const std::vector<int64_t>& out_channels,
                                        int64_t block) {
  auto k = MakeKernel(node, plain, std::vector<bool>(plain.size(), true), "x86");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_TRUE((*k)->AcceptsBlocked(0) && (*k)->ProducesBlocked(0));
  EXPECT_TRUE((*k)->SetLayouts(l.in, l.out).ok());
  std::vector<Tensor> packed;
  packed.reserve(plain.size());
  std::vector<const Tensor*> in;
  for (size_t i = 0; i < plain.size(); ++i) {
    if (l.in[i] == Layout::kNhwc) {
      packed.push_back(ToNhwc(*plain[i]));
      in.push_back(&packed.back());
    } else if (l.in[i] != Layout::kPlain) {
      packed.push_back(PackPadded(*plain[i], block, std::nanf("")));
      in.push_back(&packed.back());
    } else {
      in.push_back(plain[i]);
    }
  }
  std::vector<Tensor> out(node.outputs.size());
  for (size_t o = 0; o < out.size(); ++o) {
    Shape s = plain[0]->shape();
    s[1] = out_channels[o];
    out[o] = RandomFloat(l.out[o] == Layout::kNhwc    ? NhwcShape(s)
                         : l.out[o] != Layout::kPlain ? BlockedShape(s, block)
                                                      : s,
                         77);  // recycled buffer
  }
  const Status st = (*k)->Run(in, out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  for (size_t o = 0; o < out.size(); ++o) {
    if (l.out[o] == Layout::kPlain) continue;
    if (l.out[o] == Layout::kNhwc) {
      out[o] = FromNhwc(out[o]);
      continue;
    }
    bool zero = false;
    out[o] = UnpackPadded(out[o], out_channels[o], &zero);
    EXPECT_TRUE(zero) << "padding lanes of output " << o << " are not zero";
  }
  return out;
}

inline std::vector<float> Random(size_t n, uint32_t seed) {
  return Values(RandomFloat({static_cast<int64_t>(n)}, seed));
}

// Runs a FusedConv node with inputs {x, w, b, z} (w, b constant) on the dnnl
// kernel as the executor plans it on a machine whose blocked layout is `bl`
// (pinned, so nChw8c also on AVX-512 machines): X, Z and Y in bl, Y in Z's
// buffer. Returns Y in NCHW in *y.
inline void RunDnnlFusedConvBlocked(const Node& node, const Tensor& x, const Tensor& w, const Tensor& b,
                                    const Tensor& z, Tensor* y, Layout bl = Layout::kNChw8c) {
  ScopedFloatBlockedLayout layout(bl);
  const int64_t block = LayoutBlock(bl);
  const std::vector<const Tensor*> in = {&x, &w, &b, &z};
  auto dk = MakeKernel(node, in, {false, true, true, false}, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  ASSERT_TRUE((*dk)->AcceptsBlocked(0) && (*dk)->ProducesBlocked(0));
  ASSERT_TRUE((*dk)->SetLayouts({bl, Layout::kPlain, Layout::kPlain, bl}, {bl}).ok());
  ASSERT_EQ((*dk)->InPlaceInput(0), 3);
  const Tensor xb = BlockedTensor(x, block);
  std::vector<Tensor> out = {BlockedTensor(z, block)};  // Y in Z's buffer, as the executor does
  const Tensor zb = out[0];                             // shares the buffer
  ASSERT_TRUE((*dk)->Run({&xb, &w, &b, &zb}, out).ok());
  ASSERT_EQ(out[0].shape(), BlockedShape(z.shape(), block));
  const auto v = FromBlocked(Values(out[0]), z.dim(0), z.dim(1), z.dim(2) * z.dim(3), block);
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
