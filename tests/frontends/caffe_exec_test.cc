// Caffe frontend, numerics: small generated models run on qcal's kernels and
// are compared with direct implementations of Caffe's layer definitions.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

#include "frontends/caffe_test_util.h"
#include "kernels/registry.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

using testing::AddWeights;
using testing::ImportText;
using testing::MakeBlob;

std::vector<float> RandomValues(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

Tensor RandomTensor(const Shape& shape, uint32_t seed) {
  return Tensor::FromVector(RandomValues(static_cast<size_t>(NumElements(shape)), seed), shape);
}

Result<TensorMap> RunGraph(const Graph& g, const TensorMap& inputs) {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : inputs) shapes[name] = t.shape();
  QCAL_ASSIGN_OR_RETURN(auto ex, Executor::Create(g, shapes));
  TensorMap out;
  QCAL_RETURN_IF_ERROR(ex->Run(inputs, &out));
  return out;
}

void ExpectValues(const Tensor& got, const Shape& shape, const std::vector<float>& want, float tol = 1e-5f) {
  ASSERT_EQ(got.shape(), shape);
  ASSERT_EQ(static_cast<size_t>(got.numel()), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(got.data<float>()[i], want[i], tol * std::max(1.f, std::fabs(want[i]))) << "element " << i;
  }
}

bool HasKernel(const char* op) { return !KernelRegistry::Global().KernelsFor(op).empty(); }

// ---- Caffe pooling, as PoolingLayer::Reshape / Forward_cpu compute it ----
struct PoolCase {
  int h, w, kernel, stride, pad;
  bool floor_mode;
};

std::vector<float> CaffePoolReference(const Tensor& x, const PoolCase& c, bool max, int* ph_out,
                                      int* pw_out) {
  const int n = static_cast<int>(x.dim(0) * x.dim(1)), H = c.h, W = c.w, k = c.kernel, s = c.stride,
            p = c.pad;
  auto size = [&](int in) {
    const float q = static_cast<float>(in + 2 * p - k) / s;
    int out = static_cast<int>(c.floor_mode ? std::floor(q) : std::ceil(q)) + 1;
    if (p > 0 && (out - 1) * s >= in + p) --out;
    return out;
  };
  const int PH = size(H), PW = size(W);
  *ph_out = PH, *pw_out = PW;
  std::vector<float> y;
  for (int plane = 0; plane < n; ++plane) {
    const float* src = x.data<float>() + plane * H * W;
    for (int ph = 0; ph < PH; ++ph) {
      for (int pw = 0; pw < PW; ++pw) {
        int hs = ph * s - p, ws = pw * s - p;
        int he = std::min(hs + k, H + p), we = std::min(ws + k, W + p);
        const int pool_size = (he - hs) * (we - ws);
        hs = std::max(hs, 0), ws = std::max(ws, 0), he = std::min(he, H), we = std::min(we, W);
        float acc = max ? -FLT_MAX : 0.f;
        for (int i = hs; i < he; ++i) {
          for (int j = ws; j < we; ++j) acc = max ? std::max(acc, src[i * W + j]) : acc + src[i * W + j];
        }
        y.push_back(max ? acc : acc / pool_size);
      }
    }
  }
  return y;
}

TEST(CaffeExec, PoolingMatchesCaffeExactly) {
  const PoolCase cases[] = {{6, 7, 3, 2, 0, false}, {6, 7, 3, 2, 1, false}, {5, 5, 2, 2, 1, false},
                            {7, 7, 3, 2, 1, false}, {8, 8, 3, 3, 1, false}, {4, 4, 3, 1, 1, false},
                            {9, 6, 3, 2, 2, false}, {6, 7, 3, 2, 1, true},  {28, 28, 2, 2, 0, false}};
  int index = 0;
  for (const auto& c : cases) {
    for (bool max : {true, false}) {
      SCOPED_TRACE("case " + std::to_string(index) + (max ? " MAX" : " AVE"));
      std::string net =
          "input: \"x\" input_shape { dim: 2 dim: 3 dim: " + std::to_string(c.h) +
          " dim: " + std::to_string(c.w) + " }\n" +
          "layer { name: \"pool\" type: \"Pooling\" bottom: \"x\" top: \"y\" pooling_param { pool: " +
          (max ? "MAX" : "AVE") + " kernel_size: " + std::to_string(c.kernel) +
          " stride: " + std::to_string(c.stride) + " pad: " + std::to_string(c.pad) +
          (c.floor_mode ? " round_mode: FLOOR" : "") + " } }";
      auto g = ImportText(net, caffe::NetParameter());
      ASSERT_TRUE(g.ok()) << g.status().ToString();
      Tensor x = RandomTensor({2, 3, c.h, c.w}, 100 + index);
      auto out = RunGraph(*g, {{"x", x}});
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      int ph, pw;
      std::vector<float> want = CaffePoolReference(x, c, max, &ph, &pw);
      ExpectValues(out->at("y"), {2, 3, ph, pw}, want);
    }
    ++index;
  }
}

// ---- Convolution: group, dilation, _h/_w pads and strides ----
std::vector<float> NaiveConv(const Tensor& x, const std::vector<float>& w, const std::vector<float>& b,
                             int out_c, int group, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                             int dw, int* oh_out, int* ow_out) {
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  const int H = static_cast<int>(x.dim(2)), W = static_cast<int>(x.dim(3));
  const int OH = (H + 2 * ph - (dh * (kh - 1) + 1)) / sh + 1,
            OW = (W + 2 * pw - (dw * (kw - 1) + 1)) / sw + 1;
  *oh_out = OH, *ow_out = OW;
  const int cg = C / group, og = out_c / group;
  std::vector<float> y;
  for (int n = 0; n < N; ++n)
    for (int o = 0; o < out_c; ++o)
      for (int i = 0; i < OH; ++i)
        for (int j = 0; j < OW; ++j) {
          double acc = b[o];
          const int g = o / og;
          for (int c = 0; c < cg; ++c)
            for (int u = 0; u < kh; ++u)
              for (int v = 0; v < kw; ++v) {
                const int hi = i * sh - ph + u * dh, wi = j * sw - pw + v * dw;
                if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
                acc += x.data<float>()[((n * C + g * cg + c) * H + hi) * W + wi] *
                       w[((o * cg + c) * kh + u) * kw + v];
              }
          y.push_back(static_cast<float>(acc));
        }
  return y;
}

TEST(CaffeExec, ConvolutionVariants) {
  const char* net = R"(input: "x" input_shape { dim: 2 dim: 4 dim: 7 dim: 6 }
    layer { name: "conv" type: "Convolution" bottom: "x" top: "y"
            convolution_param { num_output: 6 group: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1
                                pad_h: 1 pad_w: 0 dilation: 2 } })";
  std::vector<float> w = RandomValues(6 * 2 * 3 * 2, 1), b = RandomValues(6, 2);
  caffe::NetParameter weights;
  AddWeights(&weights, "conv", {MakeBlob({6, 2, 3, 2}, w), MakeBlob({6}, b)});
  auto g = ImportText(net, weights);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor x = RandomTensor({2, 4, 7, 6}, 3);
  auto out = RunGraph(*g, {{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  int oh, ow;
  std::vector<float> want = NaiveConv(x, w, b, 6, 2, 3, 2, 2, 1, 1, 0, 2, 2, &oh, &ow);
  ExpectValues(out->at("y"), {2, 6, oh, ow}, want);
}

TEST(CaffeExec, DeconvolutionIsTransposedConvolution) {
  if (!HasKernel("ConvTranspose")) GTEST_SKIP() << "no ConvTranspose kernel registered";
  const char* net = R"(input: "x" input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
    layer { name: "up" type: "Deconvolution" bottom: "x" top: "y"
            convolution_param { num_output: 3 kernel_size: 3 stride: 2 pad: 1 } })";
  std::vector<float> w = RandomValues(2 * 3 * 9, 4), b = RandomValues(3, 5);
  caffe::NetParameter weights;
  AddWeights(&weights, "up", {MakeBlob({2, 3, 3, 3}, w), MakeBlob({3}, b)});
  auto g = ImportText(net, weights);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor x = RandomTensor({1, 2, 3, 3}, 6);
  auto out = RunGraph(*g, {{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Caffe: out = stride * (in - 1) + kernel - 2 * pad = 5; scatter every input tap.
  const int OH = 5;
  std::vector<double> y(3 * OH * OH);
  for (int o = 0; o < 3; ++o)
    for (int i = 0; i < OH * OH; ++i) y[o * OH * OH + i] = b[o];
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int o = 0; o < 3; ++o)
          for (int u = 0; u < 3; ++u)
            for (int v = 0; v < 3; ++v) {
              const int hi = i * 2 - 1 + u, wi = j * 2 - 1 + v;
              if (hi < 0 || hi >= OH || wi < 0 || wi >= OH) continue;
              y[(o * OH + hi) * OH + wi] +=
                  x.data<float>()[(c * 3 + i) * 3 + j] * w[((c * 3 + o) * 3 + u) * 3 + v];
            }
  ExpectValues(out->at("y"), {1, 3, OH, OH}, std::vector<float>(y.begin(), y.end()));
}

// InnerProduct with axis 2 (Reshape + MatMul + Add) and with transpose (Gemm transB 0).
TEST(CaffeExec, InnerProductAxisAndTranspose) {
  const char* net = R"(input: "x" input_shape { dim: 2 dim: 3 dim: 2 dim: 2 }
    layer { name: "ip_axis2" type: "InnerProduct" bottom: "x" top: "a" inner_product_param { num_output: 5 axis: 2 } }
    layer { name: "ip_t" type: "InnerProduct" bottom: "x" top: "b"
            inner_product_param { num_output: 4 transpose: true } })";
  std::vector<float> w1 = RandomValues(5 * 4, 7), b1 = RandomValues(5, 8);
  std::vector<float> w2 = RandomValues(12 * 4, 9), b2 = RandomValues(4, 10);
  caffe::NetParameter weights;
  AddWeights(&weights, "ip_axis2", {MakeBlob({5, 4}, w1), MakeBlob({5}, b1)});
  AddWeights(&weights, "ip_t", {MakeBlob({12, 4}, w2), MakeBlob({4}, b2)});
  auto g = ImportText(net, weights);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor x = RandomTensor({2, 3, 2, 2}, 11);
  auto out = RunGraph(*g, {{"x", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float* xv = x.data<float>();
  std::vector<float> a, bv;
  for (int m = 0; m < 6; ++m)  // rows: (n, c) pairs, K = 4
    for (int o = 0; o < 5; ++o) {
      double acc = b1[o];
      for (int k = 0; k < 4; ++k) acc += xv[m * 4 + k] * w1[o * 4 + k];
      a.push_back(static_cast<float>(acc));
    }
  for (int n = 0; n < 2; ++n)  // K = 12, W stored [K, N]
    for (int o = 0; o < 4; ++o) {
      double acc = b2[o];
      for (int k = 0; k < 12; ++k) acc += xv[n * 12 + k] * w2[k * 4 + o];
      bv.push_back(static_cast<float>(acc));
    }
  ExpectValues(out->at("a"), {2, 3, 5}, a);
  ExpectValues(out->at("b"), {2, 4}, bv);
}

// BatchNorm + Scale (folded), Scale with a second bottom, PReLU and leaky ReLU.
TEST(CaffeExec, NormalizationAndActivations) {
  const char* net = R"(input: "x" input_shape { dim: 2 dim: 3 dim: 2 dim: 2 }
    input: "s" input_shape { dim: 2 dim: 3 }
    layer { name: "bn" type: "BatchNorm" bottom: "x" top: "bn" }
    layer { name: "sc" type: "Scale" bottom: "bn" top: "bn" scale_param { bias_term: true } }
    layer { name: "prelu" type: "PReLU" bottom: "bn" top: "p" }
    layer { name: "leaky" type: "ReLU" bottom: "x" top: "l" relu_param { negative_slope: 0.1 } }
    layer { name: "mul2" type: "Scale" bottom: "x" bottom: "s" top: "m" scale_param { axis: 0 } })";
  const std::vector<float> mean = {0.5f, -1.f, 2.f}, var = {4.f, 1.f, 0.25f}, gamma = {1.5f, -2.f, 0.5f},
                           beta = {0.1f, 0.2f, -0.3f}, slope = {0.25f, 0.5f, -1.f};
  const float factor = 2.f;
  caffe::NetParameter weights;
  AddWeights(&weights, "bn",
             {MakeBlob({3}, {1.f, -2.f, 4.f}), MakeBlob({3}, {8.f, 2.f, 0.5f}), MakeBlob({1}, {factor})});
  AddWeights(&weights, "sc", {MakeBlob({3}, gamma), MakeBlob({3}, beta)});
  AddWeights(&weights, "prelu", {MakeBlob({3}, slope)});
  auto g = ImportText(net, weights);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor x = RandomTensor({2, 3, 2, 2}, 12), s = RandomTensor({2, 3}, 13);
  auto out = RunGraph(*g, {{"x", x}, {"s", s}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> p, l, m;
  for (int i = 0; i < 24; ++i) {
    const int c = (i / 4) % 3, n = i / 12;
    const float v = x.data<float>()[i];
    // The stored blobs are mean*factor and var*factor (Caffe divides by the factor).
    const float bn = (v - mean[c]) / std::sqrt(var[c] + 1e-5f) * gamma[c] + beta[c];
    p.push_back(bn > 0 ? bn : slope[c] * bn);
    l.push_back(v > 0 ? v : 0.1f * v);
    m.push_back(v * s.data<float>()[n * 3 + c]);
  }
  ExpectValues(out->at("p"), {2, 3, 2, 2}, p);
  ExpectValues(out->at("l"), {2, 3, 2, 2}, l);
  ExpectValues(out->at("m"), {2, 3, 2, 2}, m);
}

TEST(CaffeExec, EltwiseConcatSliceSoftmax) {
  const char* net = R"(input: "a" input_shape { dim: 2 dim: 2 dim: 3 }
    input: "b" input_shape { dim: 2 dim: 2 dim: 3 }
    layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" bottom: "a" top: "sum"
            eltwise_param { operation: SUM coeff: 0.5 coeff: -2 coeff: 1 } }
    layer { name: "prod" type: "Eltwise" bottom: "a" bottom: "b" top: "prod" eltwise_param { operation: PROD } }
    layer { name: "cat" type: "Concat" bottom: "sum" bottom: "prod" top: "cat" concat_param { axis: 2 } }
    layer { name: "slice" type: "Slice" bottom: "cat" top: "s0" top: "s1" slice_param { axis: 2 slice_point: 2 } }
    layer { name: "sm" type: "Softmax" bottom: "s1" top: "sm" softmax_param { axis: 2 } })";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor a = RandomTensor({2, 2, 3}, 14), b = RandomTensor({2, 2, 3}, 15);
  auto out = RunGraph(*g, {{"a", a}, {"b", b}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> cat;  // [2,2,6]
  for (int r = 0; r < 4; ++r) {
    for (int j = 0; j < 3; ++j) {
      const float av = a.data<float>()[r * 3 + j], bv = b.data<float>()[r * 3 + j];
      cat.push_back(0.5f * av - 2.f * bv + av);
    }
    for (int j = 0; j < 3; ++j) cat.push_back(a.data<float>()[r * 3 + j] * b.data<float>()[r * 3 + j]);
  }
  std::vector<float> s0, sm;
  for (int r = 0; r < 4; ++r) {
    s0.push_back(cat[r * 6]);
    s0.push_back(cat[r * 6 + 1]);
    double z = 0;
    for (int j = 2; j < 6; ++j) z += std::exp(cat[r * 6 + j]);
    for (int j = 2; j < 6; ++j) sm.push_back(static_cast<float>(std::exp(cat[r * 6 + j]) / z));
  }
  ExpectValues(out->at("s0"), {2, 2, 2}, s0);
  ExpectValues(out->at("sm"), {2, 2, 4}, sm);
}

TEST(CaffeExec, EltwiseMax) {
  if (!HasKernel("Max")) GTEST_SKIP() << "no Max kernel registered";
  const char* net = R"(input: "a" input_shape { dim: 1 dim: 5 } input: "b" input_shape { dim: 1 dim: 5 }
    layer { name: "mx" type: "Eltwise" bottom: "a" bottom: "b" top: "y" eltwise_param { operation: MAX } })";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor a = RandomTensor({1, 5}, 16), b = RandomTensor({1, 5}, 17);
  auto out = RunGraph(*g, {{"a", a}, {"b", b}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<float> want;
  for (int i = 0; i < 5; ++i) want.push_back(std::max(a.data<float>()[i], b.data<float>()[i]));
  ExpectValues(out->at("y"), {1, 5}, want);
}

TEST(CaffeExec, ReshapeFlattenPermute) {
  const char* net = R"(input: "x" input_shape { dim: 2 dim: 3 dim: 4 dim: 5 }
    layer { name: "perm" type: "Permute" bottom: "x" top: "p" permute_param { order: 0 order: 2 order: 3 order: 1 } }
    layer { name: "flat" type: "Flatten" bottom: "p" top: "f" flatten_param { axis: 1 end_axis: 2 } }
    layer { name: "resh" type: "Reshape" bottom: "f" top: "r"
            reshape_param { axis: 1 num_axes: 1 shape { dim: 5 dim: -1 } } })";
  auto g = ImportText(net, caffe::NetParameter());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor x = RandomTensor({2, 3, 4, 5}, 18);
  auto out = RunGraph(*g, {
                              {"x", x},
                          });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // p[n, h, w, c] = x[n, c, h, w]; flatten (h, w) -> 20 rows; reshape 20 -> (5, 4); data order unchanged.
  std::vector<float> want;
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 4; ++h)
      for (int w = 0; w < 5; ++w)
        for (int c = 0; c < 3; ++c) want.push_back(x.data<float>()[((n * 3 + c) * 4 + h) * 5 + w]);
  ExpectValues(out->at("r"), {2, 5, 4, 3}, want, 0.f);
}

// A V1 net with legacy blob shapes, run at a batch size other than the declared one.
TEST(CaffeExec, LegacyV1NetRunsAtAnotherBatchSize) {
  const char* net = R"(input: "data" input_dim: 1 input_dim: 2 input_dim: 4 input_dim: 4
    layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv" convolution_param { num_output: 3 kernel_size: 3 } }
    layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
    layers { name: "pool" type: POOLING bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
    layers { name: "fc" type: INNER_PRODUCT bottom: "pool" top: "fc" inner_product_param { num_output: 2 } }
    layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" })";
  std::vector<float> cw = RandomValues(3 * 2 * 9, 19), cb = RandomValues(3, 20), fw = RandomValues(2 * 3, 21),
                     fb = RandomValues(2, 22);
  caffe::NetParameter weights;
  auto add = [&](const char* name, caffe::V1LayerParameter::LayerType type,
                 std::vector<caffe::BlobProto> blobs) {
    auto* l = weights.add_layers();
    l->set_name(name);
    l->set_type(type);
    for (auto& b : blobs) *l->add_blobs() = b;
  };
  add("conv", caffe::V1LayerParameter::CONVOLUTION,
      {MakeBlob({3, 2, 3, 3}, cw, true), MakeBlob({3}, cb, true)});
  add("fc", caffe::V1LayerParameter::INNER_PRODUCT, {MakeBlob({2, 3}, fw, true), MakeBlob({2}, fb, true)});
  auto g = ImportText(net, weights);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  Tensor x = RandomTensor({3, 2, 4, 4}, 23);  // batch 3, declared 1
  auto out = RunGraph(*g, {{"data", x}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  int oh, ow;
  std::vector<float> conv = NaiveConv(x, cw, cb, 3, 1, 3, 3, 1, 1, 0, 0, 1, 1, &oh, &ow);  // [3,3,2,2]
  std::vector<float> want;
  for (int n = 0; n < 3; ++n) {
    float pooled[3], logits[2];
    for (int c = 0; c < 3; ++c) {
      pooled[c] = 0.f;  // max over the 2x2 map after ReLU
      for (int i = 0; i < 4; ++i) pooled[c] = std::max(pooled[c], conv[(n * 3 + c) * 4 + i]);
    }
    for (int o = 0; o < 2; ++o) {
      logits[o] = fb[o];
      for (int c = 0; c < 3; ++c) logits[o] += fw[o * 3 + c] * pooled[c];
    }
    const float z = std::exp(logits[0]) + std::exp(logits[1]);
    want.push_back(std::exp(logits[0]) / z);
    want.push_back(std::exp(logits[1]) / z);
  }
  ExpectValues(out->at("prob"), {3, 2}, want);
}

}  // namespace
}  // namespace qcal
