// Data sources on small fixtures written to a temp dir (PNG/JPEG via stb_image_write,
// .npy via qcal's writer, .bin as raw bytes): order, batching, labels, errors.
#include "data/data_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ir/npy.h"
#include "support/testdata.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace qcal::data {
namespace {

namespace fs = std::filesystem;

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A w x h image whose every pixel is (v, v+1, v+2) (or v for gray).
void WritePng(const std::string& path, int w, int h, int channels, uint8_t v) {
  fs::create_directories(fs::path(path).parent_path());
  std::vector<uint8_t> px(static_cast<size_t>(w * h * channels));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(v + i % channels);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, channels, px.data(), w * channels));
}

void WriteJpg(const std::string& path, int w, int h, uint8_t v) {
  fs::create_directories(fs::path(path).parent_path());
  std::vector<uint8_t> px(static_cast<size_t>(w * h * 3), v);
  ASSERT_TRUE(stbi_write_jpg(path.c_str(), w, h, 3, px.data(), 95));
}

Result<std::unique_ptr<DataSource>> Open(const std::string& path, const std::string& labels = "",
                                         Shape input_shape = {}, DataType bin_dtype = DataType::kFloat32) {
  DataOptions o;
  o.path = path;
  o.labels_path = labels;
  o.input_shape = std::move(input_shape);
  o.bin_dtype = bin_dtype;
  return OpenDataSource(o);
}

void ExpectErrorMentions(const Result<std::unique_ptr<DataSource>>& r, const std::string& what) {
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().ToString();
}

class DataSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = qcal::testing::MakeTempDir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& rel) const { return dir_ + "/" + rel; }
  // Five 2x3 RGB PNGs in two subfolders, pixel base values 10*k, plus unrelated files.
  void MakeImageFolder() {
    WritePng(P("img/b/z.png"), 3, 2, 3, 40);
    WritePng(P("img/a/2.png"), 3, 2, 3, 20);
    WritePng(P("img/a/1.png"), 3, 2, 3, 10);
    WritePng(P("img/b/c.png"), 3, 2, 3, 30);
    WritePng(P("img/a/10.png"), 3, 2, 3, 50);
    WriteText(P("img/classes.txt"), "ignored\n");
    WriteText(P("img/README"), "ignored\n");
  }
  std::string dir_;
};

TEST_F(DataSourceTest, ImageFolderIsRecursiveSortedAndDeterministic) {
  MakeImageFolder();
  auto src = Open(P("img"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->size(), 5);
  EXPECT_FALSE((*src)->has_labels());
  // Sorted by path string: a/1, a/10, a/2, b/c, b/z.
  const std::vector<std::pair<std::string, float>> want = {
      {"a/1.png", 10}, {"a/10.png", 50}, {"a/2.png", 20}, {"b/c.png", 30}, {"b/z.png", 40}};
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t i = 0; i < 5; ++i) {
      auto s = (*src)->Get(i);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      EXPECT_EQ(s->origin, P("img/" + want[i].first));
      ASSERT_EQ(s->data.shape(), (Shape{3, 2, 3}));
      std::vector<float> v = s->data.ToFloatVector();
      EXPECT_EQ(v[0], want[i].second);       // R plane
      EXPECT_EQ(v[6], want[i].second + 1);   // G plane
      EXPECT_EQ(v[17], want[i].second + 2);  // last B
    }
  }
}

TEST_F(DataSourceTest, BatchesWithRemainderOrDropLast) {
  MakeImageFolder();
  auto src = Open(P("img"));
  ASSERT_TRUE(src.ok());
  Batcher batcher(**src, 2);
  ASSERT_EQ(batcher.num_batches(), 3);
  auto b1 = batcher.GetBatch(1);
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  EXPECT_EQ(b1->data.shape(), (Shape{2, 3, 2, 3}));
  EXPECT_EQ(b1->first_index, 2);
  EXPECT_EQ(b1->data.ToFloatVector()[0], 20);   // a/2.png
  EXPECT_EQ(b1->data.ToFloatVector()[18], 30);  // b/c.png
  EXPECT_TRUE(b1->labels.empty());
  auto last = batcher.GetBatch(2);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->data.shape(), (Shape{1, 3, 2, 3}));
  EXPECT_EQ(last->origins, std::vector<std::string>{P("img/b/z.png")});
  EXPECT_FALSE(batcher.GetBatch(3).ok());
  Batcher drop(**src, 2, /*drop_last=*/true);
  EXPECT_EQ(drop.num_batches(), 2);
  EXPECT_EQ(Batcher(**src, 5, true).num_batches(), 1);
  EXPECT_EQ(Batcher(**src, 8, true).num_batches(), 0);
}

TEST_F(DataSourceTest, LabelsCsvAndItsErrors) {
  MakeImageFolder();
  WriteText(P("labels.csv"), "file,label\na/1.png,3\na/10.png,4\r\n\na/2.png,5\nb/c.png,6\n./b/z.png,7\n");
  auto src = Open(P("img"), P("labels.csv"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_TRUE((*src)->has_labels());
  auto batch = Batcher(**src, 4).GetBatch(0);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->labels, (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ((*src)->Get(4)->label, 7);

  WriteText(P("bad_label.csv"), "file,label\na/1.png,3\na/2.png,cat\n");
  ExpectErrorMentions(Open(P("img"), P("bad_label.csv")), "bad_label.csv:3: bad label 'cat'");
  WriteText(P("missing.csv"), "file,label\na/nope.png,3\n");
  ExpectErrorMentions(Open(P("img"), P("missing.csv")), "missing.csv:2: file 'a/nope.png' not found");
  WriteText(P("partial.csv"), "file,label\na/1.png,3\n");
  ExpectErrorMentions(Open(P("img"), P("partial.csv")), "no label for 'a/10.png'");
}

TEST_F(DataSourceTest, ListFileRelativeAbsoluteCommentsAndJpeg) {
  WriteJpg(P("list/x.jpg"), 8, 8, 128);
  WritePng(P("list/sub/g.png"), 8, 8, 3, 0);
  WriteText(P("list/files.txt"), "# calibration set\n\nsub/g.png   # a comment\n" + P("list/x.jpg") + "\n");
  auto src = Open(P("list/files.txt"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->size(), 2);
  EXPECT_EQ((*src)->Get(0)->origin, P("list/sub/g.png"));
  auto jpg = (*src)->Get(1);
  ASSERT_TRUE(jpg.ok());
  ASSERT_EQ(jpg->data.shape(), (Shape{3, 8, 8}));
  for (float v : jpg->data.ToFloatVector()) EXPECT_NEAR(v, 128, 2);  // flat gray survives JPEG
  WriteText(P("list/bad.txt"), "x.jpg\nmissing.png\n");
  ExpectErrorMentions(Open(P("list/bad.txt")), "bad.txt:2: 'missing.png' not found");
}

TEST_F(DataSourceTest, GrayscaleImagesGiveOneChannelAndBatchMismatchIsAnError) {
  WritePng(P("mix/a.png"), 4, 4, 1, 9);
  WritePng(P("mix/b.png"), 4, 4, 3, 9);
  auto src = Open(P("mix"));
  ASSERT_TRUE(src.ok());
  EXPECT_EQ((*src)->Get(0)->data.shape(), (Shape{1, 4, 4}));
  auto batch = Batcher(**src, 2).GetBatch(0);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("b.png"), std::string::npos);
}

TEST_F(DataSourceTest, CorruptImageAndEmptyOrMixedFolderAreErrors) {
  WriteText(P("bad/broken.jpg"), "\xff\xd8\xff\xe0 not really a jpeg");
  auto src = Open(P("bad"));
  ASSERT_TRUE(src.ok());
  auto s = (*src)->Get(0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("broken.jpg"), std::string::npos);
  fs::create_directories(P("empty/sub"));
  WriteText(P("empty/notes.txt"), "x");
  ExpectErrorMentions(Open(P("empty")), "is empty");
  WritePng(P("mixed/a.png"), 2, 2, 1, 0);
  ASSERT_TRUE(WriteNpyFile(P("mixed/b.npy"), Tensor(DataType::kFloat32, {1, 2})).ok());
  ExpectErrorMentions(Open(P("mixed")), "mixes file kinds");
  ExpectErrorMentions(Open(P("nonexistent")), "does not exist");
}

TEST_F(DataSourceTest, NpyBatchFileAndFolderOfSamplesOrBatches) {
  std::vector<float> v(2 * 1 * 2 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  ASSERT_TRUE(WriteNpyFile(P("one.npy"), Tensor::FromVector<float>(v, {2, 1, 2, 2})).ok());
  auto src = Open(P("one.npy"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->size(), 2);
  EXPECT_EQ((*src)->Get(1)->data.ToFloatVector(), (std::vector<float>{4, 5, 6, 7}));
  EXPECT_EQ((*src)->Get(1)->origin, P("one.npy") + "[1]");

  // Folder: a batch of 2, then one sample [1,2,2]; the input shape tells them apart.
  fs::create_directories(P("npy"));
  fs::create_directories(P("rank"));
  ASSERT_TRUE(WriteNpyFile(P("npy/0.npy"), Tensor::FromVector<float>(v, {2, 1, 2, 2})).ok());
  ASSERT_TRUE(WriteNpyFile(P("npy/1.npy"), Tensor::FromVector<float>({9, 9, 9, 9}, {1, 2, 2})).ok());
  auto folder = Open(P("npy"), "", {-1, 1, 2, 2});
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  ASSERT_EQ((*folder)->size(), 3);
  auto b = Batcher(**folder, 3).GetBatch(0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->data.shape(), (Shape{3, 1, 2, 2}));
  EXPECT_EQ(b->data.ToFloatVector()[8], 9);
  // Wrong rank for the input shape.
  ASSERT_TRUE(WriteNpyFile(P("rank/a.npy"), Tensor(DataType::kFloat32, {4})).ok());
  ExpectErrorMentions(Open(P("rank"), "", {1, 1, 2, 2}), "a.npy: .npy has shape [4] (rank 1)");
  ExpectErrorMentions(Open(P("npy"), "", {1, 3, 2, 2}), "does not match input shape");
}

TEST_F(DataSourceTest, RawBinFilesFollowInputShapeAndDtype) {
  // uint8 [2,1,1,3]: one batch of 2 samples in a.bin, one sample in b.bin.
  WriteText(P("bin/a.bin"), std::string("\x01\x02\x03\x04\x05\x06", 6));
  WriteText(P("bin/b.bin"), std::string("\x07\x08\x09", 3));
  auto src = Open(P("bin"), "", {2, 1, 1, 3}, DataType::kUint8);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  ASSERT_EQ((*src)->size(), 3);
  auto s = (*src)->Get(1);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->data.dtype(), DataType::kUint8);
  EXPECT_EQ(s->data.shape(), (Shape{1, 1, 3}));
  EXPECT_EQ(s->data.ToInt64Vector(), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ((*src)->Get(2)->data.ToInt64Vector(), (std::vector<int64_t>{7, 8, 9}));
  // float32 needs 4 bytes per element: 3 bytes match neither one sample (12) nor a batch (24).
  ExpectErrorMentions(Open(P("bin/b.bin"), "", {2, 1, 1, 3}, DataType::kFloat32), "b.bin: 3 bytes does not match");
  ExpectErrorMentions(Open(P("bin")), "needs --input-shape");
}

}  // namespace
}  // namespace qcal::data
