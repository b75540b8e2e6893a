// qcal::SetNumThreads reaches oneDNN's OpenMP runtime on the thread that runs a dnnl kernel.
#include <omp.h>

#include <thread>

#include "kernels/dnnl_test_util.h"
#include "kernels/threads.h"

namespace qcal::testing {
namespace {

// Runs a small dnnl Conv on the calling thread and returns that thread's OpenMP max threads.
int MaxThreadsAfterDnnlRun() {
  Tensor x = RandomFloat({1, 4, 5, 5}, 1), w = RandomFloat({4, 4, 3, 3}, 2);
  Node node = MakeNode("Conv", 2);
  auto k = MakeKernel(node, {&x, &w}, {false, true}, "dnnl");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  if (!k.ok()) return -1;
  auto y = RunKernel(**k, {&x, &w});
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return omp_get_max_threads();
}

TEST(DnnlThreadsTest, SetNumThreadsAppliesOnTheRunningThread) {
  const int initial = MaxThreadsAfterDnnlRun();
  SetNumThreads(3);
  EXPECT_EQ(NumThreads(), 3);
  EXPECT_EQ(MaxThreadsAfterDnnlRun(), 3);
  int other_thread = 0;
  std::thread t([&] { other_thread = MaxThreadsAfterDnnlRun(); });
  t.join();
  EXPECT_EQ(other_thread, 3);
  SetNumThreads(0);  // back to the runtime default
  EXPECT_EQ(NumThreads(), 0);
  EXPECT_EQ(MaxThreadsAfterDnnlRun(), initial);
}

}  // namespace
}  // namespace qcal::testing
