// ExecutorOptions::observer_order_free: under an observer that only uses the
// multiset of each observed value's elements (calibration statistics), the
// observed values may stay in the blocked layout, but only when that layout
// holds exactly their elements: a value with 20 channels (padded to 24 in
// nChw8c) must reach the observer plain. The multisets the observer sees must
// equal those of a run with blocked layouts off.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "kernels/dnnl_test_util.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

using testing::RandomFloat;

Node Conv(const std::string& name, const std::string& x, const std::string& w, const std::string& y) {
  Node n{name, "Conv", "", {x, w}, {y}, {}};
  n.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  return n;
}

// x[1,8,9,7] -> conv 8->16 -> relu -> a (16 ch) -> conv 16->20 -> relu -> b (20 ch) -> conv 20->8 -> y
Graph ChainGraph() {
  Graph g;
  g.name = "chain";
  g.inputs.push_back({"x", DataType::kFloat32, Shape{1, 8, 9, 7}});
  g.initializers["w1"] = RandomFloat({16, 8, 3, 3}, 1);
  g.initializers["w2"] = RandomFloat({20, 16, 3, 3}, 2);
  g.initializers["w3"] = RandomFloat({8, 20, 3, 3}, 3);
  g.nodes = {Conv("c1", "x", "w1", "t1"), Node{"r1", "Relu", "", {"t1"}, {"a"}, {}},
             Conv("c2", "a", "w2", "t2"), Node{"r2", "Relu", "", {"t2"}, {"b"}, {}},
             Conv("c3", "b", "w3", "y")};
  g.outputs.push_back({"y", DataType::kFloat32, std::nullopt});
  return g;
}

struct Seen {
  std::vector<float> sorted;
  Shape shape;
};

std::map<std::string, Seen> Observe(bool blocked, int* blocked_values) {
  ExecutorOptions o;
  o.observed_values = {"a", "b"};
  o.observer_order_free = true;
  o.blocked_layout = blocked;
  auto ex = Executor::Create(ChainGraph(), {}, o);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  std::map<std::string, Seen> seen;
  (*ex)->SetObserver([&](const Node& node, const std::vector<const Tensor*>& outs) -> Status {
    for (size_t k = 0; k < outs.size(); ++k) {
      const std::string& name = node.outputs[k];
      if (name != "a" && name != "b") continue;
      const float* p = outs[k]->data<float>();
      seen[name].sorted.assign(p, p + outs[k]->numel());
      std::sort(seen[name].sorted.begin(), seen[name].sorted.end());
      seen[name].shape = outs[k]->shape();
    }
    return Status::Ok();
  });
  TensorMap out;
  EXPECT_TRUE((*ex)->Run({{"x", RandomFloat({1, 8, 9, 7}, 7)}}, &out).ok());
  *blocked_values = (*ex)->blocked_values();
  return seen;
}

TEST(OrderFreeObserverTest, PaddedValuesStayPlainAndMultisetsMatch) {
  int blocked = 0, plain_count = 0;
  const auto with = Observe(/*blocked=*/true, &blocked);
  const auto without = Observe(/*blocked=*/false, &plain_count);
  EXPECT_EQ(plain_count, 0);
  ASSERT_EQ(with.size(), 2u);
  // a (16 channels) may be blocked: dnnl convs read and write nChw8c (nChw16c with AVX-512).
  EXPECT_GT(blocked, 0);
  EXPECT_EQ(with.at("a").shape, PhysicalShape({1, 16, 9, 7}, FloatBlockedLayout()));
  // b (20 channels) would be padded to 24 (32): it must arrive plain.
  EXPECT_EQ(with.at("b").shape, (Shape{1, 20, 9, 7}));
  for (const char* v : {"a", "b"}) {
    // Convs agree within float tolerance, not bit for bit, across layouts.
    ASSERT_EQ(with.at(v).sorted.size(), without.at(v).sorted.size()) << v;
    for (size_t i = 0; i < with.at(v).sorted.size(); ++i) {
      ASSERT_NEAR(with.at(v).sorted[i], without.at(v).sorted[i],
                  1e-3f * (1 + std::fabs(without.at(v).sorted[i])))
          << v << " element " << i;
    }
  }
}

}  // namespace
}  // namespace qcal
