// Caffe frontend end to end on real third-party models: LeNet on MNIST (top-1
// as verified with OpenCV dnn) and UltraFace RFB-320 (Caffe vs its ONNX export).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <random>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#include "frontends/caffe/caffe_importer.h"
#include "frontends/onnx/onnx_importer.h"
#include "runtime/executor.h"
#include "support/testdata.h"

namespace qcal {
namespace {

// Reads a whole gzip file; empty on error.
std::string ReadGzip(const std::string& path) {
  std::string data;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return data;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return data;
}

uint32_t BigEndian32(const std::string& s, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

TEST(CaffeModels, LeNetMnistTop1) {
  const std::string dir = testing::TestData("mnist_t10k_first5000/");
  const std::string images = ReadGzip(dir + "t10k-first5000-images-idx3-ubyte.gz");
  const std::string labels = ReadGzip(dir + "t10k-first5000-labels-idx1-ubyte.gz");
  ASSERT_EQ(images.size(), 16u + 5000u * 784u);
  ASSERT_EQ(labels.size(), 8u + 5000u);
  ASSERT_EQ(BigEndian32(images, 0), 2051u);
  ASSERT_EQ(BigEndian32(labels, 0), 2049u);

  auto g = ImportCaffeFiles(testing::TestData("mnist_lenet_caffe/lenet.prototxt"),
                            testing::TestData("mnist_lenet_caffe/lenet_iter_10000.caffemodel"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const int64_t batch = 100;  // the prototxt declares 64
  auto ex = Executor::Create(*g, {{"data", {batch, 1, 28, 28}}});
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  int correct = 0;
  for (int64_t start = 0; start < 5000; start += batch) {
    Tensor x(DataType::kFloat32, {batch, 1, 28, 28});
    for (int64_t i = 0; i < batch * 784; ++i) {
      x.data<float>()[i] = static_cast<unsigned char>(images[16 + start * 784 + i]) * 0.00390625f;
    }
    TensorMap out;
    ASSERT_TRUE((*ex)->Run({{"data", x}}, &out).ok());
    const Tensor& prob = out.at("prob");
    ASSERT_EQ(prob.shape(), (Shape{batch, 10}));
    for (int64_t n = 0; n < batch; ++n) {
      const float* p = prob.data<float>() + n * 10;
      const int64_t best = std::max_element(p, p + 10) - p;
      correct += best == static_cast<unsigned char>(labels[8 + start + n]);
    }
  }
  // OpenCV dnn on the same model and images: 98.74 %.
  EXPECT_EQ(correct, 4937);
}

// UltraFace input: resize to 320x240 (bilinear), RGB, (x - 127) / 128, NCHW.
Tensor LoadUltraFaceImage(const std::string& path) {
  int w, h, c;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &c, 3);
  Tensor t(DataType::kFloat32, {1, 3, 240, 320});
  if (px == nullptr) return Tensor();
  for (int y = 0; y < 240; ++y) {
    const float sy = std::max(0.f, (y + 0.5f) * h / 240.f - 0.5f);
    const int y0 = std::min(static_cast<int>(sy), h - 1), y1 = std::min(y0 + 1, h - 1);
    const float fy = sy - y0;
    for (int x = 0; x < 320; ++x) {
      const float sx = std::max(0.f, (x + 0.5f) * w / 320.f - 0.5f);
      const int x0 = std::min(static_cast<int>(sx), w - 1), x1 = std::min(x0 + 1, w - 1);
      const float fx = sx - x0;
      for (int ch = 0; ch < 3; ++ch) {
        auto at = [&](int yy, int xx) { return static_cast<float>(px[(yy * w + xx) * 3 + ch]); };
        const float v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                        fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        t.data<float>()[(ch * 240 + y) * 320 + x] = (v - 127.f) / 128.f;
      }
    }
  }
  stbi_image_free(px);
  return t;
}

float MaxAbsDiff(const Tensor& a, const Tensor& b) {
  float d = 0.f;
  for (int64_t i = 0; i < a.numel(); ++i) d = std::max(d, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  return d;
}

TEST(CaffeModels, UltraFaceCaffeMatchesOnnx) {
  const std::string dir = testing::TestData("ultraface_RFB-320/");
  auto caffe_graph = ImportCaffeFiles(dir + "RFB-320.prototxt", dir + "RFB-320.caffemodel");
  ASSERT_TRUE(caffe_graph.ok()) << caffe_graph.status().ToString();
  auto onnx_graph = ImportOnnxFile(dir + "version-RFB-320_simplified.onnx");
  ASSERT_TRUE(onnx_graph.ok()) << onnx_graph.status().ToString();
  auto caffe_ex = Executor::Create(*caffe_graph);
  ASSERT_TRUE(caffe_ex.ok()) << caffe_ex.status().ToString();
  auto onnx_ex = Executor::Create(*onnx_graph);
  ASSERT_TRUE(onnx_ex.ok()) << onnx_ex.status().ToString();

  std::vector<std::pair<std::string, Tensor>> inputs;
  for (const char* image : {"1.jpg", "13.jpg", "27.jpg"}) {
    Tensor t = LoadUltraFaceImage(dir + "images/" + image);
    ASSERT_FALSE(t.empty()) << image;
    inputs.emplace_back(image, t);
  }
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  Tensor noise(DataType::kFloat32, {1, 3, 240, 320});
  for (int64_t i = 0; i < noise.numel(); ++i) noise.data<float>()[i] = dist(gen);
  inputs.emplace_back("random", noise);

  for (const auto& [what, x] : inputs) {
    TensorMap a, b;
    ASSERT_TRUE((*caffe_ex)->Run({{"input", x}}, &a).ok()) << what;
    ASSERT_TRUE((*onnx_ex)->Run({{onnx_graph->inputs[0].name, x}}, &b).ok()) << what;
    for (const char* out : {"scores", "boxes"}) {
      ASSERT_EQ(a.at(out).shape(), b.at(out).shape()) << what << " " << out;
      const float diff = MaxAbsDiff(a.at(out), b.at(out));
      std::printf("UltraFace %s %s: max |caffe - onnx| = %g\n", what.c_str(), out, diff);
      EXPECT_LE(diff, 1e-4f) << what << " " << out;
    }
  }
}

}  // namespace
}  // namespace qcal
