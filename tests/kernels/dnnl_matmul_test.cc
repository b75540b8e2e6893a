// oneDNN Gemm and MatMul vs the reference kernels (tolerance: kDnnlTol in dnnl_test_util.h).
#include "kernels/dnnl_test_util.h"

namespace qcal::testing {
namespace {

Node GemmNode(size_t inputs, bool trans_b, float alpha, float beta, bool trans_a = false) {
  Attributes a;
  a.Set("transA", int64_t{trans_a});
  a.Set("transB", int64_t{trans_b});
  a.Set("alpha", alpha);
  a.Set("beta", beta);
  return MakeNode("Gemm", inputs, a);
}

void CheckGemm(int64_t m, int64_t k, int64_t n, bool trans_b, float alpha, float beta, const Shape* c_shape,
               bool const_b = true) {
  Tensor a = RandomFloat({m, k}, 1);
  Tensor b = RandomFloat(trans_b ? Shape{n, k} : Shape{k, n}, 2);
  Tensor c = c_shape ? RandomFloat(*c_shape, 3) : Tensor();
  std::vector<const Tensor*> in = {&a, &b};
  if (c_shape) in.push_back(&c);
  ExpectDnnlAgreesWithRef(GemmNode(in.size(), trans_b, alpha, beta), in, {false, const_b, true});
}

TEST(DnnlGemmTest, NoBias) {
  CheckGemm(3, 5, 7, false, 1.0f, 1.0f, nullptr);
  CheckGemm(3, 5, 7, true, 1.0f, 1.0f, nullptr);
}

TEST(DnnlGemmTest, FullyConnectedBiasRow) {
  const Shape row = {7}, row10 = {10}, row2 = {1, 10};
  CheckGemm(3, 5, 7, true, 1.0f, 1.0f, &row);
  CheckGemm(4, 64, 10, true, 1.0f, 1.0f, &row2);
  CheckGemm(4, 64, 10, false, 1.0f, 1.0f, &row10);
}

TEST(DnnlGemmTest, AlphaBetaAndBroadcastC) {
  const Shape full = {3, 7}, col = {3, 1}, scalar = {}, row = {7};
  CheckGemm(3, 5, 7, false, 0.5f, 2.0f, &full);
  CheckGemm(3, 5, 7, true, -1.5f, 0.25f, &col);
  CheckGemm(3, 5, 7, true, 1.0f, 3.0f, &scalar);
  CheckGemm(3, 5, 7, false, 2.0f, 1.0f, &row);
}

TEST(DnnlGemmTest, NonConstantB) {
  const Shape row = {7};
  CheckGemm(3, 5, 7, true, 1.0f, 1.0f, &row, /*const_b=*/false);
  CheckGemm(3, 5, 7, false, 0.5f, 1.0f, nullptr, /*const_b=*/false);
}

TEST(DnnlGemmTest, BatchSizeChangesBetweenRuns) {
  Tensor b = RandomFloat({10, 16}, 2), c = RandomFloat({10}, 3);
  Tensor a0 = RandomFloat({4, 16}, 1);
  const Node node = GemmNode(3, true, 1.0f, 1.0f);
  auto dk = MakeKernel(node, {&a0, &b, &c}, {false, true, true}, "dnnl");
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  for (int64_t m : {4, 1, 9}) {
    Tensor a = RandomFloat({m, 16}, static_cast<uint32_t>(m));
    auto y = RunKernel(**dk, {&a, &b, &c});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    auto rk = MakeKernel(node, {&a, &b, &c}, {false, true, true}, "ref");
    ASSERT_TRUE(rk.ok());
    auto r = RunKernel(**rk, {&a, &b, &c});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(Agree(*y, *r)) << "M = " << m;
  }
}

TEST(DnnlGemmTest, TransAFallsBackToRef) {
  Tensor a = RandomFloat({5, 3}, 1), b = RandomFloat({5, 7}, 2);
  Node node = GemmNode(2, false, 1.0f, 1.0f, /*trans_a=*/true);
  EXPECT_EQ(SelectedProvider(node, {&a, &b}, {false, true}), "ref");
  auto y = EvaluateNode(node, {&a, &b});
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->at(0).shape(), (Shape{3, 7}));
}

void CheckMatMul(const Shape& as, const Shape& bs, bool const_b) {
  Tensor a = RandomFloat(as, 1), b = RandomFloat(bs, 2);
  ExpectDnnlAgreesWithRef(MakeNode("MatMul", 2), {&a, &b}, {false, const_b});
}

TEST(DnnlMatMulTest, TwoD) {
  CheckMatMul({3, 5}, {5, 7}, true);
  CheckMatMul({3, 5}, {5, 7}, false);
}

TEST(DnnlMatMulTest, BatchedAWithTwoDWeights) {
  CheckMatMul({2, 3, 5}, {5, 7}, true);
  CheckMatMul({2, 4, 3, 5}, {5, 7}, false);
}

TEST(DnnlMatMulTest, BatchedBothSides) {
  CheckMatMul({2, 3, 5}, {2, 5, 7}, false);
  CheckMatMul({2, 3, 5}, {2, 5, 7}, true);
}

TEST(DnnlMatMulTest, BatchBroadcast) {
  CheckMatMul({1, 3, 5}, {4, 5, 7}, false);
  CheckMatMul({4, 1, 3, 5}, {2, 5, 7}, true);
  CheckMatMul({3, 5}, {2, 5, 7}, false);
}

TEST(DnnlMatMulTest, OneDAndIntegerFallBackToRef) {
  Tensor a = RandomFloat({5}, 1), b = RandomFloat({5, 7}, 2);
  Node node = MakeNode("MatMul", 2);
  EXPECT_EQ(SelectedProvider(node, {&a, &b}, {false, true}), "ref");
  Tensor ai = RandomInt<int32_t>({3, 5}, 1, -3, 3), bi = RandomInt<int32_t>({5, 7}, 2, -3, 3);
  EXPECT_EQ(SelectedProvider(node, {&ai, &bi}, {false, true}), "ref");
}

}  // namespace
}  // namespace qcal::testing
