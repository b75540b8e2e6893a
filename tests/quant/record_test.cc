#include "quant/record/record.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "base/file.h"

namespace qcal::quant {
namespace {

ScaleOffsetRecord Sample() {
  ScaleOffsetRecord rec;
  rec.header = {"9.9.9", "ifmr", 2};
  LayerRecord& c1 = rec.Upsert("conv1");
  c1.scale_d = 1.07450986f;
  c1.offset_d = -14;
  c1.scale_w = {0.00448934268f, 0.000430673215f, 1e-38f};
  c1.offset_w = {0, 0, 0};
  c1.channels = 3;
  c1.height = 224;
  c1.width = 224;
  c1.skip_fusion = false;
  LayerRecord& c2 = rec.Upsert("block/conv \"2\"\\\n");  // quotes, backslash, newline
  c2.scale_d = 0.1f;
  c2.offset_d = -128;
  c2.scale_w = {3.4e38f};
  c2.offset_w = {0};
  c2.shift_bit = {7};
  c2.is_tensor_quantize = true;
  c2.tensor_balance_factor = {0.5f, 2.0f};
  c2.act_type = "INT8";
  c2.op_data_type = "FLOAT32";
  rec.Upsert("fc")  // weights only (activation factors come later in AMCT's flow)
      .scale_w = {1.0f / 3.0f};
  rec.FindMutable("fc")->offset_w = {0};
  return rec;
}

TEST(RecordTest, RoundTripsExactly) {
  ScaleOffsetRecord rec = Sample();
  rec.header.layer_batches = {{"conv1", 2}, {"fc \"x\"", 1}};  // calibration progress comments
  auto text = FormatRecord(rec);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto back = ParseRecord(*text, "mem");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << *text;
  EXPECT_EQ(*back, rec);
  EXPECT_EQ(back->entries()[1].first, "block/conv \"2\"\\\n");
  auto again = FormatRecord(*back);
  EXPECT_EQ(*again, *text);  // deterministic
}

TEST(RecordTest, WriterOutputIsTheDocumentedText) {
  ScaleOffsetRecord rec;
  rec.header = {"0.1.0", "hfmg", 4};
  LayerRecord& r = rec.Upsert("conv1");
  r.scale_d = 0.01f;
  r.offset_d = -3;
  r.scale_w = {0.002f, 0.003f};
  r.offset_w = {0, 0};
  r.channels = 3;
  r.skip_fusion = false;
  EXPECT_EQ(*FormatRecord(rec),
            "# qcal 0.1.0 scale/offset record: algorithm=hfmg batch_num=4\n"
            "record {\n"
            "  key: \"conv1\"\n"
            "  value {\n"
            "    scale_d: 0.01\n"
            "    offset_d: -3\n"
            "    scale_w: 0.002\n"
            "    scale_w: 0.003\n"
            "    offset_w: 0\n"
            "    offset_w: 0\n"
            "    channels: 3\n"
            "    skip_fusion: false\n"
            "  }\n"
            "}\n");
}

TEST(RecordTest, FileRoundTripIsAtomic) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("qcal_record_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "record.txt").string();
  ASSERT_TRUE(WriteRecordFile(path, Sample()).ok());
  auto back = ReadRecordFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, Sample());
  // An invalid record is refused and the previous file is untouched.
  ScaleOffsetRecord bad = Sample();
  bad.FindMutable("conv1")->offset_d = 300;
  Status s = WriteRecordFile(path, bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos);
  EXPECT_EQ(*ReadRecordFile(path), Sample());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
  EXPECT_EQ(ReadRecordFile(path).status().code(), StatusCode::kNotFound);
}

TEST(RecordTest, ParsesAmctStyleAndTextFormatVariants) {
  const char* text = R"(# written by hand
record {
  key: "conv1"   # trailing comment
  value {
    scale_d: 1.07450986
    offset_d: -14
    scale_w: 0.00448934268
    scale_w: 0.000430673215
    offset_w: 0
    offset_w: 0
    channels: 3
    height: 224
    width: 224
  }
}
record: < key: 'res\x41\101' value: { scale_d: 9.5e-2f, offset_d: -0x80; scale_w: [0.5, 0.25] offset_w: [0, 0] skip_fusion: True } >
)";
  auto rec = ParseRecord(text, "record.txt");
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  ASSERT_EQ(rec->size(), 2u);
  const LayerRecord* c1 = rec->Find("conv1");
  ASSERT_NE(c1, nullptr);
  EXPECT_EQ(*c1->scale_d, 1.07450986f);
  EXPECT_EQ(c1->scale_w, (std::vector<float>{0.00448934268f, 0.000430673215f}));
  EXPECT_EQ(*c1->height, 224u);
  EXPECT_FALSE(c1->skip_fusion.has_value());
  const LayerRecord* r = rec->Find("resAA");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->scale_d, 9.5e-2f);
  EXPECT_EQ(*r->offset_d, -128);
  EXPECT_EQ(r->scale_w, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_EQ(*r->skip_fusion, true);
  EXPECT_EQ(rec->header, RecordHeader{});  // no qcal header line
}

TEST(RecordTest, HeaderIsReadBack) {
  auto rec = ParseRecord("# qcal 0.1.0 scale/offset record: algorithm=kl batch_num=16\n", "h");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->header, (RecordHeader{"0.1.0", "kl", 16}));
  EXPECT_TRUE(rec->empty());
  EXPECT_TRUE(ParseRecord("", "empty").ok());
}

// Each rule violation, read from text: names file:line, layer and field.
TEST(RecordTest, ValidationErrorsNameLayerAndField) {
  struct Case {
    const char* value;
    const char* expect;
  };
  const Case cases[] = {
      {"scale_d: 0.1 offset_d: 128", "offset_d 128 is outside [-128, 127]"},
      {"scale_d: 0.1 offset_d: -129", "offset_d -129"},
      {"scale_d: 0 offset_d: 0", "scale_d 0 must be finite and > 0"},
      {"scale_d: -1 offset_d: 0", "scale_d -1 must be"},
      {"scale_d: inf offset_d: 0", "scale_d inf must be"},
      {"scale_d: nan offset_d: 0", "scale_d nan must be"},
      {"scale_d: 0.1", "scale_d is given without offset_d"},
      {"offset_d: 1", "offset_d is given without scale_d"},
      {"scale_w: 0.1 scale_w: 0 offset_w: 0 offset_w: 0", "scale_w[1] 0 must be"},
      {"scale_w: 0.1 scale_w: -inf", "scale_w[1] -inf"},
      {"scale_w: 0.1 offset_w: 3", "offset_w[0] is 3; weight offsets must be 0"},
      {"scale_w: 0.1 scale_w: 0.2 offset_w: 0", "offset_w has 1 values but scale_w has 2"},
      {"scale_w: 0.1 offset_w: 0 shift_bit: 1 shift_bit: 2", "shift_bit has 2 values but scale_w has 1"},
      {"scale_w: 0.1 scale_w: 0.2 shift_bit: 17 shift_bit: 3", "shift_bit[0] is 17"},
      {"scale_w: 0.1 scale_w: 0.2 shift_bit: 0 shift_bit: 3", "shift_bit[0] is 0"},
      {"tensor_balance_factor: nan", "tensor_balance_factor[0] is not finite"},
  };
  for (const Case& c : cases) {
    std::string text = "record {\n  key: \"conv9\"\n  value { " + std::string(c.value) + " }\n}\n";
    auto r = ParseRecord("\n" + text, "rec.txt");
    ASSERT_FALSE(r.ok()) << c.value;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.value;
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("rec.txt:2"), std::string::npos) << m;
    EXPECT_NE(m.find("layer 'conv9'"), std::string::npos) << m;
    EXPECT_NE(m.find(c.expect), std::string::npos) << m;
  }
  // Valid shift bits: all 0, or each in [1, 16].
  EXPECT_TRUE(
      ParseRecord("record { key: \"a\" value { scale_w: 1 scale_w: 2 shift_bit: 0 shift_bit: 0 } }", "x")
          .ok());
  EXPECT_TRUE(
      ParseRecord("record { key: \"a\" value { scale_w: 1 scale_w: 2 shift_bit: 1 shift_bit: 16 } }", "x")
          .ok());
}

TEST(RecordTest, SyntaxErrorsNameLineAndColumn) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"record {\n  key: \"a\"\n  value { scale_z: 1 }\n}",
       "f.txt:3:11: unknown field 'scale_z' in value of layer 'a'"},
      {"records { }", "f.txt:1:1: expected 'record', got 'records'"},
      {"record key: \"a\"", "f.txt:1:8: expected '{' after 'record'"},
      {"record {\n key: \"abc\n}", "f.txt:2:7: unterminated string"},
      {"record { key: \"a\" value { scale_d: 1.2.3 offset_d: 0 } }",
       "f.txt:1:36: '1.2.3' is not a valid number"},
      {"record { key: \"a\" value { offset_d: 99999999999 } }", "out of range"},
      {"record { key: \"a\" value { offset_d: 1.5 } }", "'1.5' is not a valid integer"},
      {"record { key: \"a\" value { channels: -1 } }", "integer -1 is out of range [0, 4294967295]"},
      {"record { key: \"a\" value { skip_fusion: yes } }", "expected true or false, got 'yes'"},
      {"record { key: a }", "expected a quoted string, got 'a'"},
      {"record { key: \"a\" value { scale_d: 1 scale_d: 2 } }",
       "field 'scale_d' of layer 'a' is given twice"},
      {"record { key: \"a\" key: \"b\" }", "field 'key' is given twice"},
      {"record { value { } }", "record without a key"},
      {"record { key: \"a\" }\nrecord { key: \"a\" }",
       "f.txt:2:1: duplicate record for layer 'a' (first at line 1)"},
      {"record { key: \"a\\q\" }", "unknown escape '\\q'"},
      {"%%%", "f.txt:1:1: unexpected character '%'"},
      {"record { key: \"a\" value { scale_w: [1, 2 } }", "expected ',' or ']' in list"},
      {"record { key: \"a\" value { scale_d 1 } }", "expected ':' after 'scale_d'"},
      {"record { key: \"a\" value { scale_d: 1e99 } }", "out of float range"},
  };
  for (const Case& c : cases) {
    auto r = ParseRecord(c.text, "f.txt");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << c.text << " -> " << r.status().message();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(RecordTest, EveryTruncationIsCleanlyRejectedOrValid) {
  std::string text = *FormatRecord(Sample());
  int ok = 0;
  for (size_t n = 0; n < text.size(); ++n) {
    auto r = ParseRecord(text.substr(0, n), "t.txt");
    if (r.ok()) {
      ++ok;
      continue;
    }
    EXPECT_TRUE(r.status().code() == StatusCode::kCorrupt ||
                r.status().code() == StatusCode::kInvalidArgument)
        << n << ": " << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind("t.txt:", 0), 0u) << r.status().message();
  }
  EXPECT_GT(ok, 0);  // e.g. the header alone
  auto cut = ParseRecord("record {\n  key: \"a\"\n  value {\n    scale_d: 0.5\n", "t.txt");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("end of file"), std::string::npos) << cut.status().message();
  // Binary garbage.
  std::string garbage = "\x01\xff\x80record{";
  EXPECT_FALSE(ParseRecord(garbage, "g").ok());
}

TEST(RecordTest, WeightChannelCheckAndRequiredFactors) {
  LayerRecord r;
  r.scale_w = std::vector<float>(64, 0.01f);
  r.channels = 3;  // input channels: not compared with scale_w
  EXPECT_TRUE(ValidateLayerRecord("conv1", r).ok());
  EXPECT_TRUE(CheckWeightChannels("conv1", r, 64).ok());
  Status s = CheckWeightChannels("conv1", r, 32);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("layer 'conv1': scale_w has 64 values; expected 1 or 32"), std::string::npos);
  r.scale_w = {0.5f};
  EXPECT_TRUE(CheckWeightChannels("conv1", r, 32).ok());

  ScaleOffsetRecord rec = Sample();
  EXPECT_TRUE(RequireFactors(rec, "conv1", true, true, "record.txt").ok());
  Status fc = RequireFactors(rec, "fc", true, true, "record.txt");
  ASSERT_FALSE(fc.ok());
  EXPECT_EQ(fc.code(), StatusCode::kNotFound);
  EXPECT_NE(fc.message().find("cannot find scale_d, offset_d of layer 'fc' in record file record.txt"),
            std::string::npos)
      << fc.message();
  EXPECT_TRUE(RequireFactors(rec, "fc", false, true, "record.txt").ok());
  EXPECT_NE(RequireFactors(rec, "nope", false, true, "r").message().find("scale_w, offset_w"),
            std::string::npos);
}

}  // namespace
}  // namespace qcal::quant
