// int8 / uint8 activations stay NHWC (Layout::kNhwc) between oneDNN int8
// convolutions (runtime/layout_plan.h). A chain of QcalQConv nodes with odd
// channel counts, u8 and s8 activations, strides, a depthwise conv and a value
// that a reference kernel also reads must give bit-identical outputs to the
// reference kernels, in every int8 compute mode.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/dnnl/int8_common.h"
#include "kernels/dnnl_test_util.h"
#include "runtime/executor.h"

namespace qcal {
namespace {

using dnnl_kernels::Int8Compute;
using testing::RandomInt;

struct QConvSpec {
  std::string name, x, y;
  int64_t in_channels, out_channels, group = 1, stride = 1;
  DataType x_type, y_type;  // y_type kFloat32: float output (no y_scale / y_zp)
  int x_zp, y_zp;
  std::string z = "";  // float residual input (float Y only), added with residual_activation Relu
};

// Adds a 3x3 (pad 1) QcalQConv with random weights in [-w_max, w_max] and its constants to g.
void AddQConv(Graph& g, const QConvSpec& s, int w_max, uint32_t seed) {
  const std::string p = s.name + "_";
  g.initializers[p + "xs"] = Tensor::Scalar<float>(0.02f);
  g.initializers[p + "xz"] = s.x_type == DataType::kUint8
                                 ? Tensor::Scalar<uint8_t>(static_cast<uint8_t>(s.x_zp))
                                 : Tensor::Scalar<int8_t>(static_cast<int8_t>(s.x_zp));
  g.initializers[p + "w"] =
      RandomInt<int8_t>({s.out_channels, s.in_channels / s.group, 3, 3}, seed, -w_max, w_max);
  g.initializers[p + "ws"] = Tensor::Scalar<float>(0.004f);
  g.initializers[p + "wz"] = Tensor::Scalar<int8_t>(0);
  g.initializers[p + "b"] = RandomInt<int32_t>({s.out_channels}, seed + 1, -3000, 3000);
  std::vector<std::string> in = {s.x, p + "xs", p + "xz", p + "w", p + "ws", p + "wz"};
  if (s.y_type == DataType::kFloat32) {
    in.insert(in.end(), {"", ""});
  } else {
    g.initializers[p + "ys"] = Tensor::Scalar<float>(0.25f);
    g.initializers[p + "yz"] = s.y_type == DataType::kUint8
                                   ? Tensor::Scalar<uint8_t>(static_cast<uint8_t>(s.y_zp))
                                   : Tensor::Scalar<int8_t>(static_cast<int8_t>(s.y_zp));
    in.insert(in.end(), {p + "ys", p + "yz"});
  }
  in.push_back(p + "b");
  if (!s.z.empty()) in.push_back(s.z);
  Node n{s.name, "QcalQConv", "", in, {s.y}, {}};
  if (!s.z.empty()) n.attrs.Set("residual_activation", std::string("Relu"));
  n.attrs.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  n.attrs.Set("strides", std::vector<int64_t>{s.stride, s.stride});
  n.attrs.Set("group", s.group);
  g.nodes.push_back(std::move(n));
}

// x u8(5) -> q1 u8(13) -> q2 s8(11, stride 2) -> q3 depthwise u8(11) -> q4 float(6) -> y1
//                                             \-> Identity (reference kernel) -> y2
Graph Int8Chain(int w_max) {
  Graph g;
  g.name = "int8_chain";
  g.inputs.push_back({"x", DataType::kUint8, Shape{-1, 5, 9, 7}});
  AddQConv(g, {"q1", "x", "t1", 5, 13, 1, 1, DataType::kUint8, DataType::kUint8, 3, 7}, w_max, 1);
  AddQConv(g, {"q2", "t1", "t2", 13, 11, 1, 2, DataType::kUint8, DataType::kInt8, 7, -4}, w_max, 3);
  AddQConv(g, {"q3", "t2", "t3", 11, 11, 11, 1, DataType::kInt8, DataType::kUint8, -4, 100}, w_max, 5);
  AddQConv(g, {"q4", "t3", "y1", 11, 6, 1, 1, DataType::kUint8, DataType::kFloat32, 100, 0}, w_max, 7);
  g.nodes.push_back(Node{"id", "Identity", "", {"t2"}, {"y2"}, {}});
  g.outputs.push_back({"y1", DataType::kFloat32, std::nullopt});
  g.outputs.push_back({"y2", DataType::kInt8, std::nullopt});
  return g;
}

// dnnl false: the reference kernels only (the x86 ones are off too).
Result<TensorMap> RunGraph(const Graph& g, const Tensor& x, bool dnnl, int* non_plain = nullptr) {
  for (const char* provider : {"dnnl", "x86"}) KernelRegistry::Global().SetProviderEnabled(provider, dnnl);
  auto ex = Executor::Create(g, {{"x", x.shape()}});
  for (const char* provider : {"dnnl", "x86"}) KernelRegistry::Global().SetProviderEnabled(provider, true);
  QCAL_RETURN_IF_ERROR(ex.status());
  if (non_plain) *non_plain = (*ex)->blocked_values();
  TensorMap out;
  QCAL_RETURN_IF_ERROR((*ex)->Run({{"x", x}}, &out));
  QCAL_RETURN_IF_ERROR((*ex)->Run({{"x", x}}, &out));  // second run: recycled buffers
  return out;
}

void ExpectBitIdentical(const TensorMap& got, const TensorMap& want) {
  for (const auto& [y, unused] : want) {
    ASSERT_TRUE(got.count(y) && want.count(y)) << y;
    const Tensor& a = got.at(y);
    const Tensor& b = want.at(y);
    ASSERT_EQ(a.shape(), b.shape()) << y;
    ASSERT_EQ(a.dtype(), b.dtype()) << y;
    EXPECT_EQ(std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype())), 0)
        << y;
  }
}

using ForcedMode = dnnl_kernels::ScopedForcedInt8Compute;

// Runs g with the optimized kernels and on the reference ones: bit-identical
// outputs, `non_plain` values planned in a non-plain layout.
void ExpectMatchesReference(const Graph& g, const Tensor& x, int non_plain) {
  int got_non_plain = 0;
  auto got = RunGraph(g, x, /*dnnl=*/true, &got_non_plain);
  auto want = RunGraph(g, x, /*dnnl=*/false);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_EQ(got_non_plain, non_plain);
  ExpectBitIdentical(*got, *want);
}

TEST(Int8LayoutTest, NhwcChainIsBitIdenticalToReference) {
  const struct {
    std::optional<Int8Compute> mode;
    int w_max;
  } cases[] = {{std::nullopt, 127},
               {std::nullopt, 64},
               {Int8Compute::kInt8Split, 64},
               {Int8Compute::kExactFloat, 127}};
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.mode ? dnnl_kernels::Int8ComputeName(*c.mode) : "automatic") +
                 ", |w| <= " + std::to_string(c.w_max));
    const ForcedMode forced(c.mode);
    const Graph g = Int8Chain(c.w_max);
    for (int64_t batch : {1, 2}) {
      const Tensor x = RandomInt<uint8_t>({batch, 5, 9, 7}, 20 + static_cast<uint32_t>(batch), 0, 255);
      // t1 and t3 pass NHWC between int8 convs; t2 is also read by Identity (reference) and stays NCHW.
      ExpectMatchesReference(g, x, 2);
    }
  }
}

// Appends a per-tensor QuantizeLinear f -> t (uint8, zero point 3).
void AddQuantize(Graph& g, const std::string& f, const std::string& t) {
  g.initializers[t + "_s"] = Tensor::Scalar<float>(0.05f);
  g.initializers[t + "_z"] = Tensor::Scalar<uint8_t>(3);
  g.nodes.push_back(Node{t + "_q", "QuantizeLinear", "", {f, t + "_s", t + "_z"}, {t}, {}});
}

// Residual blocks with float outputs between int8 convs (x u8 [N, 5, 9, 7], every float value 6 channels):
//   qa: x -> fa;  Q: fa -> ta;  qb: ta -> fb -> Identity -> y2 (fb stays NCHW: a reference kernel reads it)
//   qc: ta -> fc = relu(conv + fa);  Q: fc -> tc
//   qd: tc -> fd = relu(conv + fb)   (Y NHWC, Z NCHW: Z is reordered)
//   qe: tc -> y1 = relu(conv + fd)   (Y NCHW graph output, Z NHWC)
Graph ResidualChain(int w_max) {
  Graph g;
  g.name = "int8_residual";
  g.inputs.push_back({"x", DataType::kUint8, Shape{-1, 5, 9, 7}});
  const DataType u8 = DataType::kUint8, f32 = DataType::kFloat32;
  AddQConv(g, {"qa", "x", "fa", 5, 6, 1, 1, u8, f32, 3, 0}, w_max, 11);
  AddQuantize(g, "fa", "ta");
  AddQConv(g, {"qb", "ta", "fb", 6, 6, 1, 1, u8, f32, 3, 0}, w_max, 13);
  g.nodes.push_back(Node{"id", "Identity", "", {"fb"}, {"y2"}, {}});
  AddQConv(g, {"qc", "ta", "fc", 6, 6, 1, 1, u8, f32, 3, 0, "fa"}, w_max, 15);
  AddQuantize(g, "fc", "tc");
  AddQConv(g, {"qd", "tc", "fd", 6, 6, 1, 1, u8, f32, 3, 0, "fb"}, w_max, 17);
  AddQConv(g, {"qe", "tc", "y1", 6, 6, 1, 1, u8, f32, 3, 0, "fd"}, w_max, 19);
  g.outputs.push_back({"y1", DataType::kFloat32, std::nullopt});
  g.outputs.push_back({"y2", DataType::kFloat32, std::nullopt});
  return g;
}

TEST(Int8LayoutTest, FloatResidualPathStaysNhwcAndIsBitIdentical) {
  for (const auto mode : {std::optional<Int8Compute>{}, std::optional{Int8Compute::kInt8Split},
                          std::optional{Int8Compute::kExactFloat}}) {
    SCOPED_TRACE(mode ? dnnl_kernels::Int8ComputeName(*mode) : "automatic");
    const ForcedMode forced(mode);
    const Graph g = ResidualChain(127);
    for (int64_t batch : {1, 3}) {
      const Tensor x = RandomInt<uint8_t>({batch, 5, 9, 7}, 40 + static_cast<uint32_t>(batch), 0, 255);
      // NHWC: fa, ta, fc, tc, fd. NCHW: fb (read by Identity), y1 and y2 (graph outputs).
      ExpectMatchesReference(g, x, 5);
    }
  }
}

// A per-axis QuantizeLinear cannot take NHWC: its input and output stay NCHW together (the tie),
// while the residual conv still reads ta in NHWC.
TEST(Int8LayoutTest, PerAxisQuantizeKeepsItsValuesPlain) {
  Graph g = ResidualChain(64);
  g.initializers["tc_s"] = Tensor::FromVector<float>({0.05f, 0.04f, 0.06f, 0.05f, 0.03f, 0.07f}, {6});
  g.initializers["tc_z"] = Tensor::FromVector<uint8_t>({3, 3, 3, 3, 3, 3}, {6});
  const Tensor x = RandomInt<uint8_t>({2, 5, 9, 7}, 77, 0, 255);
  // NHWC: fa, ta, fd. fc and tc (the per-axis Q's X and Y) are NCHW.
  ExpectMatchesReference(g, x, 3);
}

}  // namespace
}  // namespace qcal
