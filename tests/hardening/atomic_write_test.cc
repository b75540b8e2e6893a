// "Nothing lost": outputs are written atomically; a failed save leaves the
// previous file intact and no temp file behind; concurrent writers of one path
// never share a temp file.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "quant/record/record.h"
#include "support/testdata.h"

namespace qcal {
namespace {

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.insert(n);
  }
  closedir(d);
  return names;
}

std::string Content(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : "<" + r.status().ToString() + ">";
}

TEST(AtomicWriteTest, OutputPathThatIsADirectoryIsRefused) {
  std::string dir = testing::MakeTempDir();
  ASSERT_EQ(mkdir((dir + "/out").c_str(), 0755), 0);
  Status s = WriteFileAtomic(dir + "/out", "data");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("is a directory"), std::string::npos);
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"out"}));
  EXPECT_TRUE(ListDir(dir + "/out").empty());
}

// Root ignores permission bits, so "cannot write here" is made with paths no
// user can create: below a regular file, and inside /proc.
TEST(AtomicWriteTest, UnwritableLocationsGiveIoErrors) {
  std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/file", "x").ok());
  for (const std::string& path : {dir + "/file/record.txt", std::string("/proc/self/qcal_record.txt")}) {
    Status s = WriteFileAtomic(path, "data");
    EXPECT_EQ(s.code(), StatusCode::kIoError) << path << ": " << s.ToString();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(Content(dir + "/file"), "x");
}

// sync = false (progress records: no fsync) is still a whole-file replace by
// rename, with no temp file left behind.
TEST(AtomicWriteTest, UnsyncedWriteReplacesTheFileWhole) {
  std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/record.txt", "old contents", /*sync=*/false).ok());
  EXPECT_EQ(Content(dir + "/record.txt"), "old contents");
  ASSERT_TRUE(WriteFileAtomic(dir + "/record.txt", "new", /*sync=*/false).ok());
  EXPECT_EQ(Content(dir + "/record.txt"), "new");
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"record.txt"}));
}

// Makes write() fail with EFBIG beyond `bytes` (also as root) while alive.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit l = old_;
    l.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &l);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int);
};

TEST(AtomicWriteTest, FailedWriteKeepsThePreviousFileAndLeavesNoTemp) {
  std::string dir = testing::MakeTempDir(), path = dir + "/record.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "previous record\n").ok());
  Status s;
  {
    FileSizeLimit limit(1024);
    s = WriteFileAtomic(path, std::string(1 << 20, 'x'));
  }
  EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  EXPECT_EQ(Content(path), "previous record\n");
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"record.txt"}));
}

TEST(AtomicWriteTest, InvalidRecordIsNotWrittenOverThePreviousOne) {
  std::string dir = testing::MakeTempDir(), path = dir + "/record.txt";
  quant::ScaleOffsetRecord good;
  good.Upsert("conv1").scale_d = 0.5f;
  good.Upsert("conv1").offset_d = 0;
  ASSERT_TRUE(quant::WriteRecordFile(path, good).ok());
  std::string before = Content(path);
  quant::ScaleOffsetRecord bad = good;
  bad.Upsert("conv1").scale_d = -1.0f;
  EXPECT_FALSE(quant::WriteRecordFile(path, bad).ok());
  EXPECT_EQ(Content(path), before);
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"record.txt"}));
}

TEST(AtomicWriteTest, SeveralFilesAreAllOrNothing) {
  std::string dir = testing::MakeTempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/a.onnx", "old a").ok());
  ASSERT_EQ(mkdir((dir + "/b.onnx").c_str(), 0755), 0);  // the second output cannot be written
  Status s = WriteFilesAtomic({{dir + "/a.onnx", "new a"}, {dir + "/b.onnx", "new b"}});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Content(dir + "/a.onnx"), "old a");
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"a.onnx", "b.onnx"}));
}

TEST(AtomicWriteTest, TempFilesOfOtherRunsAreNeitherUsedNorTouched) {
  std::string dir = testing::MakeTempDir(), path = dir + "/record.txt";
  // Temp files another run is writing right now, including the names this
  // process would pick first.
  std::vector<std::string> others = {path + ".tmp.1", path + ".tmp." + std::to_string(getpid()) + ".0",
                                     path + ".tmp." + std::to_string(getpid()) + ".1"};
  for (const auto& o : others) ASSERT_TRUE(WriteFileAtomic(o, "other run: " + o).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "mine").ok());
  EXPECT_EQ(Content(path), "mine");
  for (const auto& o : others) EXPECT_EQ(Content(o), "other run: " + o);
  EXPECT_EQ(ListDir(dir).size(), others.size() + 1);
}

TEST(AtomicWriteTest, ConcurrentWritersNeverTearTheFile) {
  std::string dir = testing::MakeTempDir(), path = dir + "/record.txt";
  const int kThreads = 4, kWrites = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string content(4096 * (t + 1), static_cast<char>('a' + t));
      for (int i = 0; i < kWrites; ++i) failures[t] += !WriteFileAtomic(path, content).ok();
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  std::string final_content = Content(path);
  ASSERT_FALSE(final_content.empty());
  char c = final_content[0];
  ASSERT_GE(c, 'a');
  ASSERT_LT(c, 'a' + kThreads);
  EXPECT_EQ(final_content, std::string(4096 * (c - 'a' + 1), c));  // one writer's whole content
  EXPECT_EQ(ListDir(dir), (std::set<std::string>{"record.txt"}));
}

}  // namespace
}  // namespace qcal
