#include "quant/config/simple_cfg.h"

#include <gtest/gtest.h>

#include "quant/small_net.h"

namespace qcal {
namespace {

// SmallNet plus a second Conv 'conv2' (x -> c2), so type and layer overrides can differ.
Graph TwoConvNet() {
  Graph g = testing::SmallNet();
  g.initializers["w3"] = Tensor(DataType::kFloat32, {2, 3, 1, 1});
  g.nodes.insert(g.nodes.begin() + 1, Node{"conv2", "Conv", "", {"x", "w3"}, {"c2"}, {}});
  g.outputs.push_back({"c2", DataType::kFloat32, std::nullopt});
  return g;
}

Result<QuantConfig> FromText(const std::string& text, const Graph& g) {
  QCAL_ASSIGN_OR_RETURN(SimpleCfg cfg, ParseSimpleCfg(text, "quant.cfg"));
  return QuantConfigFromSimpleCfg(cfg, g);
}

void ExpectError(const std::string& text, std::initializer_list<std::string> fragments) {
  auto r = FromText(text, TwoConvNet());
  ASSERT_FALSE(r.ok()) << text;
  for (const auto& f : fragments) EXPECT_NE(r.status().message().find(f), std::string::npos) << r.status().message();
}

TEST(SimpleCfgTest, EveryTopLevelField) {
  const char* text = R"(# AMCT simplified config
batch_num: 3
activation_offset: false
joint_quant: true
do_fusion: false
skip_layers: "pool"
skip_layer_types: ["Gemm"]
skip_fusion_layers: "conv1"
skip_fusion_layers: "conv2"
)";
  auto c = FromText(text, TwoConvNet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->batch_num, 3);
  EXPECT_FALSE(c->activation_offset);
  EXPECT_TRUE(c->joint_quant);
  EXPECT_FALSE(c->do_fusion);
  EXPECT_EQ(c->skip_fusion_layers, (std::vector<std::string>{"conv1", "conv2"}));
  EXPECT_EQ(c->layer_order, (std::vector<std::string>{"conv1", "conv2", "pool", "fc"}));
  EXPECT_TRUE(c->layers["conv1"].quant_enable);
  EXPECT_TRUE(c->layers["conv2"].quant_enable);
  EXPECT_FALSE(c->layers["pool"].quant_enable);  // skip_layers
  EXPECT_FALSE(c->layers["fc"].quant_enable);    // skip_layer_types
  EXPECT_FALSE(c->Asymmetric("conv1"));
  // Nothing else set: CreateQuantConfig's AMCT defaults.
  EXPECT_EQ(c->layers["conv1"].act.act_algo, "ifmr");
  EXPECT_DOUBLE_EQ(c->layers["conv1"].act.search_step, 0.01);
  EXPECT_TRUE(c->layers["conv1"].wts.channel_wise);
  EXPECT_FALSE(c->layers["fc"].wts.channel_wise);
}

TEST(SimpleCfgTest, EmptyFileGivesCreateQuantConfigDefaults) {
  Graph g = TwoConvNet();
  auto c = FromText("  # nothing\n", g);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto d = CreateQuantConfig(g, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(QuantConfigToJson(*c), QuantConfigToJson(*d));
}

TEST(SimpleCfgTest, EveryCalibrationField) {
  const char* text = R"(
common_config: {
  arq_quantize: { channel_wise: false quant_bits: 8 }
  ifmr_quantize: {
    search_range_start: 0.8; search_range_end: 1.25; search_step: 0.05
    max_percentile: 0.9999, min_percentile: 0.99999 asymmetric: false dst_type: INT8
  }
}
override_layer_types < layer_type: "Gemm"
  calibration_config < hfmg_quantize { num_of_bins: 2048 asymmetric: true dst_type: "INT8" } > >
)";
  auto c = FromText(text, TwoConvNet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ActivationQuantParams& a = c->layers["conv1"].act;
  EXPECT_EQ(a.act_algo, "ifmr");
  EXPECT_DOUBLE_EQ(a.search_range_start, 0.8);
  EXPECT_DOUBLE_EQ(a.search_range_end, 1.25);
  EXPECT_DOUBLE_EQ(a.search_step, 0.05);
  EXPECT_DOUBLE_EQ(a.max_percentile, 0.9999);
  EXPECT_DOUBLE_EQ(a.min_percentile, 0.99999);
  EXPECT_FALSE(c->Asymmetric("conv1"));
  EXPECT_FALSE(c->layers["conv1"].wts.channel_wise);
  const ActivationQuantParams& f = c->layers["fc"].act;
  EXPECT_EQ(f.act_algo, "hfmg");
  EXPECT_EQ(f.num_of_bins, 2048);
  EXPECT_TRUE(c->Asymmetric("fc"));
  // The JSON written from it reads back to the same config.
  auto back = QuantConfigFromJson(QuantConfigToJson(*c), "cfg.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(QuantConfigToJson(*back), QuantConfigToJson(*c));
}

TEST(SimpleCfgTest, QuantBitsSetsWeightBitsWithPrecedence) {
  const char* text = R"(
common_config { arq_quantize { quant_bits: 7 } }
override_layer_configs { layer_name: "conv2" calibration_config { arq_quantize { quant_bits: 8 } } }
)";
  auto c = FromText(text, TwoConvNet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->layers["conv1"].wts.num_bits, 7);
  EXPECT_EQ(c->layers["fc"].wts.num_bits, 7);
  EXPECT_EQ(c->layers["conv2"].wts.num_bits, 8);
  EXPECT_TRUE(c->layers["conv1"].wts.channel_wise);  // quant_bits alone leaves channel_wise as it was
  ExpectError("common_config { arq_quantize { quant_bits: 9 } }",
              {"arq_quantize.quant_bits: 9", "allowed: 7, 8"});
}

TEST(SimpleCfgTest, LayerBeatsTypeBeatsCommonFieldByField) {
  const char* text = R"(
common_config { ifmr_quantize { search_step: 0.02 max_percentile: 0.9999 } }
override_layer_types { layer_type: "Conv" calibration_config { ifmr_quantize { max_percentile: 0.99999 min_percentile: 0.9 } } }
override_layer_configs { layer_name: "conv1" calibration_config { ifmr_quantize { max_percentile: 0.8 } } }
override_layer_configs { layer_name: "fc" calibration_config { hfmg_quantize { num_of_bins: 1024 } } }
)";
  auto c = FromText(text, TwoConvNet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto& L = c->layers;
  EXPECT_DOUBLE_EQ(L["conv1"].act.max_percentile, 0.8);      // layer
  EXPECT_DOUBLE_EQ(L["conv2"].act.max_percentile, 0.99999);  // type
  EXPECT_DOUBLE_EQ(L["pool"].act.max_percentile, 0.9999);    // common
  EXPECT_DOUBLE_EQ(L["conv1"].act.min_percentile, 0.9);      // type, not overridden by the layer block
  EXPECT_DOUBLE_EQ(L["pool"].act.min_percentile, 0.999999);  // default
  for (const char* name : {"conv1", "conv2", "pool"}) EXPECT_DOUBLE_EQ(L[name].act.search_step, 0.02) << name;
  EXPECT_EQ(L["fc"].act.act_algo, "hfmg");  // the layer block switches the algorithm
  EXPECT_EQ(L["fc"].act.num_of_bins, 1024);
  EXPECT_EQ(L["conv1"].act.act_algo, "ifmr");
}

TEST(SimpleCfgTest, CaffeTypeNamesAndChannelWiseScope) {
  // common channel_wise true applies only where allowed; Caffe names match the imported ops.
  const char* text = R"(
common_config { arq_quantize { channel_wise: true } }
override_layer_types { layer_type: "Convolution" calibration_config { arq_quantize { channel_wise: false } } }
skip_layer_types: "Pooling"
)";
  auto c = FromText(text, TwoConvNet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->layers["conv1"].wts.channel_wise);
  EXPECT_FALSE(c->layers["fc"].wts.channel_wise);
  EXPECT_FALSE(c->layers["pool"].quant_enable);
  EXPECT_TRUE(c->layers["fc"].quant_enable);
  // An explicit channel_wise: true on a Gemm is refused, naming the layer and position.
  ExpectError("override_layer_configs {\n  layer_name: \"fc\"\n  calibration_config { arq_quantize { channel_wise: true } }\n}\n",
              {"quant.cfg:3:39: override_layer_configs 'fc': arq_quantize.channel_wise: true is not allowed for layer "
               "'fc' (Gemm; allowed: false"});
}

TEST(SimpleCfgTest, UnknownKeysAreErrorsWithPositionAndAllowedKeys) {
  ExpectError("batch_num: 2\nbacth_num: 3\n",
              {"quant.cfg:2:1: top level: unknown key 'bacth_num' (allowed: activation_offset, batch_num,"});
  ExpectError("common_config {\n  ifmr_quantize { serch_step: 0.1 }\n}\n",
              {"quant.cfg:2:19: common_config: ifmr_quantize: unknown key 'serch_step'", "search_step"});
  ExpectError("common_config { hfmg_quantize { search_step: 0.1 } }",
              {"quant.cfg:1:33: common_config: hfmg_quantize: unknown key 'search_step' (allowed: asymmetric, "
               "dst_type, num_of_bins)"});
  ExpectError("nuq_config { mapping_file: \"x.json\" }", {"quant.cfg:1:1", "nuq_config", "not supported"});
  ExpectError("batch_num: 2\nbatch_num: 3\n", {"quant.cfg:2:1", "'batch_num' is given twice"});
}

TEST(SimpleCfgTest, BadValuesNameKeyContextAndRange) {
  ExpectError("batch_num: 0", {"quant.cfg:1:12: batch_num: 0 is not allowed (allowed: an integer > 0)"});
  ExpectError("activation_offset: yes", {"quant.cfg:1:20", "expected true or false, got 'yes'"});
  ExpectError("override_layer_types {\n  layer_type: \"Conv\"\n  calibration_config {\n"
              "    ifmr_quantize { max_percentile: 1.5 }\n  }\n}\n",
              {"quant.cfg:4:37: override_layer_types 'Conv': ifmr_quantize.max_percentile: 1.5 is not allowed "
               "(allowed: (0.5, 1])"});
  ExpectError("common_config { hfmg_quantize { num_of_bins: 1000 } }",
              {"quant.cfg:1:46: common_config: hfmg_quantize.num_of_bins: 1000 is not allowed (allowed: 1024, 2048, "
               "4096, 8192)"});
  ExpectError("common_config { ifmr_quantize { search_range_start: 1.3 search_range_end: 0.7 } }",
              {"quant.cfg:1:17", "search_range_start 1.3 must be below search_range_end 0.7"});
  ExpectError("common_config { arq_quantize { quant_bits: 4 } }",
              {"arq_quantize.quant_bits: 4", "allowed: 7, 8"});
  ExpectError("common_config { ifmr_quantize { dst_type: INT16 } }", {"'INT16' is not allowed (allowed: INT8)"});
  ExpectError("common_config { ifmr_quantize {} hfmg_quantize {} }",
              {"quant.cfg:1:34", "ifmr_quantize and hfmg_quantize exclude each other"});
  // A merge that is only invalid per layer: the layer's start is above the common end.
  ExpectError("common_config { ifmr_quantize { search_range_end: 1.0 } }\n"
              "override_layer_configs { layer_name: \"conv2\"\n"
              "  calibration_config { ifmr_quantize { search_range_start: 1.1 } } }\n",
              {"quant.cfg:3:3 (override_layer_configs 'conv2')", "layer 'conv2'", "0 < start < end"});
}

TEST(SimpleCfgTest, UnknownLayersAndTypesListTheValidNames) {
  ExpectError("skip_layers: \"conv1\"\nskip_layers: \"conv9\"\n",
              {"quant.cfg:2:14: skip_layers 'conv9': no such layer in the model (quantizable layers: conv1, conv2, "
               "pool, fc)"});
  ExpectError("override_layer_configs {\n layer_name: \"mm\"\n calibration_config {}\n}",
              {"quant.cfg:2:14", "'mm': MatMul that cannot be quantized"});
  ExpectError("skip_layer_types: \"Relu\"",
              {"quant.cfg:1:19: skip_layer_types: 'Relu' is not a quantizable layer type (allowed: AveragePool, "
               "Conv, ConvTranspose, Convolution"});
  ExpectError("override_layer_types { layer_type: \"MaxPool\" calibration_config {} }",
              {"quant.cfg:1:36", "'MaxPool' is not a quantizable layer type"});
  ExpectError("skip_fusion_layers: \"bn9\"", {"quant.cfg:1:21: skip_fusion_layers: no layer named 'bn9'"});
  ExpectError("override_layer_configs { calibration_config {} }", {"quant.cfg:1:1", "'layer_name' is required"});
  ExpectError("override_layer_configs { layer_name: \"conv1\" calibration_config {} }\n"
              "override_layer_configs { layer_name: \"conv1\" calibration_config {} }\n",
              {"quant.cfg:2:1", "'conv1' is given twice (first at line 1)"});
}

TEST(SimpleCfgTest, SyntaxErrorsGiveLineAndColumn) {
  auto r = ParseSimpleCfg("batch_num: 2\ncommon_config {\n  ifmr_quantize {\n    search_step 0.1\n  }\n}\n", "q.cfg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("q.cfg:4:17: expected ':' after 'search_step', got '0.1'"), std::string::npos)
      << r.status().message();
  r = ParseSimpleCfg("common_config {\n  arq_quantize { channel_wise: true }\n", "q.cfg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("q.cfg:3:1: expected a field name, got end of file"), std::string::npos)
      << r.status().message();
  r = ParseSimpleCfg("skip_layers: \"conv1\n", "q.cfg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("q.cfg:1:14: unterminated string"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace qcal
