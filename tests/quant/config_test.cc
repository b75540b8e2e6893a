#include "quant/config/quant_config.h"

#include <gtest/gtest.h>

#include "quant/small_net.h"

namespace qcal {
namespace {

using testing::SmallNet;

TEST(QuantConfigTest, CreateListsQuantizableLayersWithAmctDefaults) {
  Graph g = SmallNet();
  auto c = CreateQuantConfig(g, {{"pool"}, 4, false});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->layer_order, (std::vector<std::string>{"conv1", "pool", "fc"}));
  EXPECT_EQ(c->batch_num, 4);
  EXPECT_FALSE(c->activation_offset);
  EXPECT_TRUE(c->layers["conv1"].quant_enable);
  EXPECT_FALSE(c->layers["pool"].quant_enable);
  EXPECT_TRUE(c->layers["conv1"].wts.channel_wise);
  EXPECT_FALSE(c->layers["fc"].wts.channel_wise);
  EXPECT_EQ(c->layers["conv1"].act.act_algo, "ifmr");
  EXPECT_DOUBLE_EQ(c->layers["conv1"].act.max_percentile, 0.999999);
  EXPECT_DOUBLE_EQ(c->layers["conv1"].act.search_range_start, 0.7);
  EXPECT_FALSE(c->layers["conv1"].act.num_of_bins.has_value());
  EXPECT_TRUE(ValidateQuantConfig(*c, g).ok());
}

TEST(QuantConfigTest, JsonRoundTripIsExactAndDeterministic) {
  Graph g = SmallNet();
  auto c = CreateQuantConfig(g, {{}, 2, true});
  ASSERT_TRUE(c.ok());
  c->layers["fc"].act.act_algo = "hfmg";
  c->layers["fc"].act.num_of_bins = 2048;
  c->layers["conv1"].act.asymmetric = false;
  std::string text = QuantConfigToJson(*c);
  auto back = QuantConfigFromJson(text, "cfg.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(QuantConfigToJson(*back), text);
  EXPECT_EQ(back->layers["fc"].act.num_of_bins, 2048);
  EXPECT_FALSE(back->Asymmetric("conv1"));
  EXPECT_TRUE(back->Asymmetric("fc"));
  EXPECT_NE(text.find("\"search_range\""), std::string::npos);
}

TEST(QuantConfigTest, SevenBitWeightsRoundTripAndOtherWidthsAreRejected) {
  Graph g = SmallNet();
  CreateConfigOptions o;
  o.weight_bits = 7;
  auto c = CreateQuantConfig(g, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (const auto& name : c->layer_order) EXPECT_EQ(c->layers[name].wts.num_bits, 7) << name;
  EXPECT_EQ(c->layers["conv1"].act.num_bits, 8);  // activations stay 8-bit
  std::string text = QuantConfigToJson(*c);
  EXPECT_NE(text.find(R"("weight_quant_params": {
      "num_bits": 7)"),
            std::string::npos)
      << text;
  auto back = QuantConfigFromJson(text, "cfg.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->layers["fc"].wts.num_bits, 7);
  EXPECT_EQ(QuantConfigToJson(*back), text);
  EXPECT_TRUE(ValidateQuantConfig(*back, g).ok());

  for (int bits : {6, 9}) {
    o.weight_bits = bits;
    auto bad = CreateQuantConfig(g, o);
    ASSERT_FALSE(bad.ok()) << bits;
    EXPECT_NE(bad.status().message().find("weight_quant_params.num_bits': " + std::to_string(bits) +
                                          " is not allowed (allowed: 7, 8)"),
              std::string::npos)
        << bad.status().message();
  }
}

void ExpectError(const std::string& json, const std::string& fragment) {
  auto r = QuantConfigFromJson(json, "cfg.json");
  ASSERT_FALSE(r.ok()) << json;
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("cfg.json"), std::string::npos) << r.status().message();
}

TEST(QuantConfigTest, BadValuesNameKeyLayerAndRange) {
  ExpectError(R"({"batch_num": 0})", "'batch_num': 0 is not allowed (allowed: an integer > 0)");
  ExpectError(R"({"conv1": {"activation_quant_params": {"act_algo": "magic"}}})",
              "layer 'conv1', key 'activation_quant_params.act_algo'");
  ExpectError(R"({"conv1": {"activation_quant_params": {"max_percentile": 0.3}}})", "(0.5, 1]");
  ExpectError(R"({"conv1": {"activation_quant_params": {"search_range": [1.3, 0.7]}}})", "0 < start < end");
  ExpectError(R"({"conv1": {"activation_quant_params": {"num_of_bins": 1000}}})", "1024, 2048, 4096, 8192");
  ExpectError(R"({"conv1": {"activation_quant_params": {"serch_step": 0.1}}})", "unknown key");
  ExpectError(R"({"conv1": {"quant_enable": "yes"}})", "wrong type");
  ExpectError(R"({"conv1": {"weight_quant_params": {"num_bits": 6}}})",
              "layer 'conv1', key 'weight_quant_params.num_bits': 6 is not allowed (allowed: 7, 8)");
  ExpectError(R"({"conv1": {"weight_quant_params": {"num_bits": 9}}})", "9 is not allowed (allowed: 7, 8)");
  ExpectError("{not json", "invalid JSON at byte");
}

TEST(QuantConfigTest, ValidationAgainstModel) {
  Graph g = SmallNet();
  auto c = CreateQuantConfig(g, {{}, 1, true});
  ASSERT_TRUE(c.ok());
  c->layers["fc"].wts.channel_wise = true;
  Status st = ValidateQuantConfig(*c, g);
  EXPECT_NE(st.message().find("channel_wise"), std::string::npos) << st.message();
  c->layers["fc"].wts.channel_wise = false;
  c->layers["mm"] = {};
  c->layer_order.push_back("mm");
  st = ValidateQuantConfig(*c, g);
  EXPECT_NE(st.message().find("weight is not a constant"), std::string::npos) << st.message();
  auto bad = CreateQuantConfig(g, {{"nope"}, 1, true});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("conv1, pool, fc"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace qcal
