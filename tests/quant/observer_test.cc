// ActivationObserver: streaming statistics of one tensor, and FinishEarly
// (calibration's final batch computes each layer's result right after its tensor).
#include "quant/observer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace qcal {
namespace {

Tensor Random(Shape shape, uint32_t seed) {
  Tensor t(DataType::kFloat32, std::move(shape));
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.2f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(g);
  return t;
}

// An observer with one layer per algorithm (registry names, default parameters).
ActivationObserver Make(const std::vector<std::string>& algos, int batch_num) {
  ActivationObserver obs("t", batch_num);
  for (const auto& a : algos) {
    ObservedLayer l;
    l.name = "layer_" + a;
    l.algo = quant::FindActivationAlgorithm(a);
    EXPECT_NE(l.algo, nullptr) << a;
    l.params = l.algo->defaults;
    l.params.with_offset = l.algo->supports_asymmetric;
    obs.AddLayer(l);
  }
  EXPECT_TRUE(obs.Prepare(4 * 3 * 5 * 5, uint64_t{1} << 30).ok());
  return obs;
}

// FinishEarly after the final batch's data gives each layer exactly what
// Calibrate computes after EndBatch, frees the statistics, and ignores data
// arriving later.
TEST(ActivationObserverTest, FinishEarlyEqualsCalibratingAfterTheBatch) {
  const std::vector<std::string> algos = {"hfmg", "ifmr", "minmax", "kl", "percentile"};
  ActivationObserver early = Make(algos, 2), late = Make(algos, 2);
  const Tensor a = Random({4, 3, 5, 5}, 1), b = Random({4, 3, 5, 5}, 2);
  for (ActivationObserver* o : {&early, &late}) {
    Status st = o->Observe(a);
    ASSERT_TRUE(st.ok()) << st.ToString();
    o->EndBatch();
    ASSERT_TRUE(o->Observe(b).ok());
  }
  EXPECT_GT(early.bytes_held(), 0u);
  early.FinishEarly();
  EXPECT_EQ(early.bytes_held(), 0u);
  EXPECT_FALSE(early.Calibrate(early.layers()[0]).ok());     // the batch is not ended yet
  ASSERT_TRUE(early.Observe(Random({4, 3, 5, 5}, 3)).ok());  // ignored
  early.EndBatch();
  late.EndBatch();
  ASSERT_TRUE(early.complete() && late.complete());
  for (size_t i = 0; i < algos.size(); ++i) {
    SCOPED_TRACE(algos[i]);
    auto e = early.Calibrate(early.layers()[i]);
    auto l = late.Calibrate(late.layers()[i]);
    ASSERT_TRUE(e.ok() && l.ok()) << e.status().ToString() << " / " << l.status().ToString();
    EXPECT_EQ(e->scale, l->scale);
    EXPECT_EQ(e->offset, l->offset);
  }
}

// An observer whose tensor never carried data says so instead of calibrating nothing.
TEST(ActivationObserverTest, NoDataIsAnErrorNamingLayerAndTensor) {
  ActivationObserver obs = Make({"hfmg"}, 1);
  obs.EndBatch();
  auto r = obs.Calibrate(obs.layers()[0]);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("layer 'layer_hfmg' (hfmg): no calibration data reached tensor 't'"),
            std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace qcal
