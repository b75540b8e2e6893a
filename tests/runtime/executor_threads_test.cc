// ExecutorOptions::threads reaches the kernels (kernels/threads.h) while Run
// executes, only on the running thread, and does not change the results.
#include <gtest/gtest.h>

#include <thread>

#include "kernels/threads.h"
#include "runtime/executor.h"
#include "runtime/model_loader.h"
#include "support/testdata.h"

namespace qcal {
namespace {

Tensor Input(const Shape& shape) {
  Tensor x(DataType::kFloat32, shape);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>((i * 37) % 101) / 50.0f - 1.0f;
  return x;
}

// Runs ResNet-20 (batch 2) with `threads`; records NumThreads() as every node finishes.
Tensor RunResNet20(int threads, std::vector<int>* seen) {
  auto g = LoadModel({testing::TestData("cifar10_resnet_akamaster/cifar10_resnet20.onnx"), ""});
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return {};
  ExecutorOptions options;
  options.threads = threads;
  auto ex = Executor::Create(*g, {{"input", {2, 3, 32, 32}}}, options);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  if (!ex.ok()) return {};
  (*ex)->SetObserver([seen](const Node&, const std::vector<const Tensor*>&) {
    seen->push_back(NumThreads());
    return Status::Ok();
  });
  TensorMap out;
  Status st = (*ex)->Run({{"input", Input({2, 3, 32, 32})}}, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out["logits"];
}

TEST(ExecutorThreadsTest, OptionAppliesDuringRunOnlyAndResultsAreIdentical) {
  ASSERT_EQ(NumThreads(), 0);
  std::vector<int> seen1, seen2;
  Tensor y1 = RunResNet20(1, &seen1);
  EXPECT_EQ(NumThreads(), 0) << "the setting must not outlive Run";
  Tensor y2;
  std::thread other([&] { y2 = RunResNet20(2, &seen2); });
  other.join();
  ASSERT_FALSE(seen1.empty());
  ASSERT_EQ(seen1.size(), seen2.size());
  for (size_t i = 0; i < seen1.size(); ++i) {
    EXPECT_EQ(seen1[i], 1);
    EXPECT_EQ(seen2[i], 2);
  }
  ASSERT_EQ(y1.shape(), (Shape{2, 10}));
  ASSERT_EQ(y2.shape(), y1.shape());
  auto a = y1.ToFloatVector(), b = y2.ToFloatVector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "logit " << i;
}

TEST(ExecutorThreadsTest, ZeroKeepsTheProcessSetting) {
  SetNumThreads(3);
  std::vector<int> seen;
  RunResNet20(0, &seen);
  SetNumThreads(0);
  ASSERT_FALSE(seen.empty());
  for (int n : seen) EXPECT_EQ(n, 3);
}

TEST(ScopedNumThreadsTest, NestsAndRestores) {
  SetNumThreads(4);
  {
    ScopedNumThreads a(2);
    EXPECT_EQ(NumThreads(), 2);
    {
      ScopedNumThreads b(0);  // no override: keeps 2
      EXPECT_EQ(NumThreads(), 2);
      ScopedNumThreads c(1);
      EXPECT_EQ(NumThreads(), 1);
    }
    EXPECT_EQ(NumThreads(), 2);
  }
  EXPECT_EQ(NumThreads(), 4);
  SetNumThreads(0);
}

}  // namespace
}  // namespace qcal
