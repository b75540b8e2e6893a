// ModelComparer on a hand-built FP32 / fake-quant pair: every metric is
// recomputed here with plain loops from the same inputs.
#include "accuracy/compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace qcal::accuracy {
namespace {

constexpr float kScale1 = 0.05f, kScale2 = 0.1f;
constexpr int kZp2 = -20;

// FP32: x[N,4] -> Gemm fc1 (W1 [3,4], b1) -> Relu -> Gemm fc2 (W2 [2,3], b2) -> y
Graph Fp32() {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 4}});
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  g.initializers["w1"] = Tensor::FromVector<float>({0.31f, -0.52f, 0.13f, 0.77f, -0.24f, 0.45f, 0.66f, -0.18f, 0.09f,
                                                   0.38f, -0.71f, 0.27f},
                                                  {3, 4});
  g.initializers["b1"] = Tensor::FromVector<float>({0.1f, -0.05f, 0.2f}, {3});
  g.initializers["w2"] = Tensor::FromVector<float>({0.5f, -0.35f, 0.8f, -0.6f, 0.25f, 0.42f}, {2, 3});
  g.initializers["b2"] = Tensor::FromVector<float>({0.03f, -0.02f}, {2});
  Node fc1{"fc1", "Gemm", "", {"x", "w1", "b1"}, {"h"}, {}};
  fc1.attrs.Set("transB", int64_t{1});
  Node fc2{"fc2", "Gemm", "", {"r", "w2", "b2"}, {"y"}, {}};
  fc2.attrs.Set("transB", int64_t{1});
  g.nodes = {fc1, Node{"relu", "Relu", "", {"h"}, {"r"}, {}}, fc2};
  return g;
}

float RoundTo(float v, float step) { return std::nearbyint(v / step) * step; }

// Fake-quant: Q/DQ on x (scale 0.05, zp 0) and on r (scale 0.1, zp -20); weights rounded to 1/16.
Graph FakeQuant() {
  Graph g = Fp32();
  for (const char* w : {"w1", "w2"}) {
    Tensor t = g.initializers.at(w).Clone();
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = RoundTo(t.data<float>()[i], 1.f / 16);
    g.initializers[std::string(w) + "_fq"] = t;
  }
  g.initializers["s1"] = Tensor::Scalar<float>(kScale1);
  g.initializers["z1"] = Tensor::Scalar<int8_t>(0);
  g.initializers["s2"] = Tensor::Scalar<float>(kScale2);
  g.initializers["z2"] = Tensor::Scalar<int8_t>(static_cast<int8_t>(kZp2));
  std::vector<Node> nodes = {Node{"q1", "QuantizeLinear", "", {"x", "s1", "z1"}, {"xq"}, {}},
                             Node{"dq1", "DequantizeLinear", "", {"xq", "s1", "z1"}, {"xd"}, {}}};
  Node fc1 = g.nodes[0], relu = g.nodes[1], fc2 = g.nodes[2];
  fc1.inputs = {"xd", "w1_fq", "b1"};
  fc2.inputs = {"rd", "w2_fq", "b2"};
  nodes.push_back(fc1);
  nodes.push_back(relu);
  nodes.push_back(Node{"q2", "QuantizeLinear", "", {"r", "s2", "z2"}, {"rq"}, {}});
  nodes.push_back(Node{"dq2", "DequantizeLinear", "", {"rq", "s2", "z2"}, {"rd"}, {}});
  nodes.push_back(fc2);
  g.nodes = nodes;
  return g;
}

float FakeQuantize(float v, float scale, int zp) {
  float q = std::clamp(std::nearbyint(v / scale) + static_cast<float>(zp), -128.f, 127.f);
  return (q - static_cast<float>(zp)) * scale;
}

// out[n,o] = sum_i in[n,i] * w[o,i] + b[o]
std::vector<float> Dense(const std::vector<float>& in, const std::vector<float>& w, const std::vector<float>& b) {
  size_t outs = b.size(), ins = w.size() / outs, n = in.size() / ins;
  std::vector<float> out(n * outs);
  for (size_t s = 0; s < n; ++s) {
    for (size_t o = 0; o < outs; ++o) {
      double acc = b[o];
      for (size_t i = 0; i < ins; ++i) acc += double(in[s * ins + i]) * w[o * ins + i];
      out[s * outs + o] = static_cast<float>(acc);
    }
  }
  return out;
}

std::vector<float> Map(std::vector<float> v, float (*f)(float, float, int), float scale, int zp) {
  for (auto& x : v) x = f(x, scale, zp);
  return v;
}
std::vector<float> Relu(std::vector<float> v) {
  for (auto& x : v) x = std::max(x, 0.f);
  return v;
}

struct Sums {
  double dot = 0, rr = 0, tt = 0, ee = 0, mx = 0;
  void Add(const std::vector<float>& r, const std::vector<float>& t) {
    for (size_t i = 0; i < r.size(); ++i) {
      dot += double(r[i]) * t[i];
      rr += double(r[i]) * r[i];
      tt += double(t[i]) * t[i];
      ee += (double(r[i]) - t[i]) * (double(r[i]) - t[i]);
      mx = std::max(mx, std::fabs(double(r[i]) - t[i]));
    }
  }
  void Expect(const ErrorAccumulator& a, const std::string& what) const {
    EXPECT_NEAR(a.Cosine(), dot / std::sqrt(rr * tt), 1e-6) << what;
    EXPECT_NEAR(a.SqnrDb(), 10 * std::log10(rr / ee), 1e-3) << what;
    EXPECT_NEAR(a.MaxAbsError(), mx, 1e-5) << what;
  }
};

TEST(ModelComparerTest, MetricsMatchAHandComputedReference) {
  Graph fp32 = Fp32(), fq = FakeQuant();
  auto comparer = ModelComparer::Create(fp32, fq);
  ASSERT_TRUE(comparer.ok()) << comparer.status().ToString();
  std::vector<float> w1 = fp32.initializers.at("w1").ToFloatVector(), w2 = fp32.initializers.at("w2").ToFloatVector();
  std::vector<float> w1q = fq.initializers.at("w1_fq").ToFloatVector(), w2q = fq.initializers.at("w2_fq").ToFloatVector();
  std::vector<float> b1 = fp32.initializers.at("b1").ToFloatVector(), b2 = fp32.initializers.at("b2").ToFloatVector();
  Sums fc1, fc2, fc2_alone, weight1;
  weight1.Add(w1, w1q);
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-3.f, 3.f);
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<float> x(5 * 4);
    for (auto& v : x) v = dist(gen);
    ASSERT_TRUE((*comparer)->AddBatch({{"x", Tensor::FromVector<float>(x, {5, 4})}}).ok());
    std::vector<float> h = Dense(x, w1, b1), r = Relu(h), y = Dense(r, w2, b2);
    std::vector<float> hq = Dense(Map(x, FakeQuantize, kScale1, 0), w1q, b1);
    std::vector<float> yq = Dense(Map(Relu(hq), FakeQuantize, kScale2, kZp2), w2q, b2);
    std::vector<float> y_alone = Dense(Map(r, FakeQuantize, kScale2, kZp2), w2q, b2);
    fc1.Add(h, hq);
    fc2.Add(y, yq);
    fc2_alone.Add(y, y_alone);
  }
  const CompareReport& rep = (*comparer)->report();
  EXPECT_EQ(rep.samples, 15);
  ASSERT_EQ(rep.layers.size(), 2u);
  EXPECT_EQ(rep.layers[0].name, "fc1");
  EXPECT_EQ(rep.layers[1].name, "fc2");
  fc1.Expect(rep.layers[0].output, "fc1 output");
  fc1.Expect(*rep.layers[0].alone, "fc1 alone (its input is the model input)");
  fc2.Expect(rep.layers[1].output, "fc2 output");
  fc2_alone.Expect(*rep.layers[1].alone, "fc2 alone");
  ASSERT_TRUE(rep.layers[0].weight.has_value());
  weight1.Expect(*rep.layers[0].weight, "fc1 weight");
  ASSERT_EQ(rep.outputs.size(), 1u);
  fc2.Expect(rep.outputs[0].output, "model output y");
  // The accumulated error of fc2 includes fc1's, so its output cosine is lower than its own.
  EXPECT_LT(rep.layers[1].output.Cosine(), rep.layers[1].alone->Cosine());
}

TEST(ModelComparerTest, QuantizedLayerMissingFromFp32IsAnError) {
  Graph fp32 = Fp32(), fq = FakeQuant();
  fp32.nodes[2].name = "renamed";
  auto comparer = ModelComparer::Create(fp32, fq);
  ASSERT_FALSE(comparer.ok());
  EXPECT_NE(comparer.status().message().find("\"fc2\""), std::string::npos) << comparer.status().ToString();
}

TEST(ModelComparerTest, FloatModelAsQuantizedIsAnError) {
  auto comparer = ModelComparer::Create(Fp32(), Fp32());
  ASSERT_FALSE(comparer.ok());
  EXPECT_NE(comparer.status().message().find("no quantized layer"), std::string::npos);
}

}  // namespace
}  // namespace qcal::accuracy
