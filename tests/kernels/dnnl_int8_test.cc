// oneDNN int8 kernels (QcalQConv, QcalQMatMul, QLinearConv, QLinearMatMul) vs
// the reference kernels: outputs must be bit-identical. Also checks the
// reference QcalQConv / QcalQMatMul against independent definitions
// (QLinearConv / QLinearMatMul reference kernels, float conv of dequantized values).
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>

#include "kernels/dnnl/int8_common.h"
#include "kernels/dnnl_test_util.h"
#include "kernels/ref/quant_math.h"

namespace qcal::testing {
namespace {

enum class Out { kInt8, kUint8, kFloat };

struct QCase {
  Shape x, w;  // conv: [N, C, H, W], [M, C/g, kh, kw]; matmul: A [.., K], B [K, N] (or [N, K] with trans_b)
  int64_t group = 1;
  std::vector<int64_t> strides = {1, 1}, dilations = {1, 1}, pads = {0, 0, 0, 0};
  std::string auto_pad = "";
  DataType x_type = DataType::kUint8;
  int x_zp = 0;
  bool per_channel = true;
  bool bias = true;
  Out out = Out::kUint8;
  bool trans_b = false;
  std::optional<float> act_min = std::nullopt, act_max = std::nullopt;
  int w_max = 127;  // weights are drawn from [-w_max, w_max]
};

::testing::AssertionResult BitExact(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure() << DataTypeName(a.dtype()) << ShapeToString(a.shape()) << " vs "
                                         << DataTypeName(b.dtype()) << ShapeToString(b.shape());
  }
  const size_t n = static_cast<size_t>(a.numel()) * DataTypeSize(a.dtype());
  if (std::memcmp(a.raw(), b.raw(), n) == 0) return ::testing::AssertionSuccess();
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (a.GetAsDouble(i) != b.GetAsDouble(i)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a.GetAsDouble(i) << " vs " << b.GetAsDouble(i);
    }
  }
  return ::testing::AssertionFailure() << "bit patterns differ (signed zeros)";
}

// The node's inputs (all constant except x), owned here.
struct QInputs {
  Tensor x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias;
  std::vector<const Tensor*> list(const QCase& c, bool with_bias_slot) const {
    std::vector<const Tensor*> in = {&x, &x_scale, &x_zp, &w, &w_scale, &w_zp};
    const bool q = c.out != Out::kFloat;
    in.push_back(q ? &y_scale : nullptr);
    in.push_back(q ? &y_zp : nullptr);
    if (with_bias_slot) in.push_back(c.bias ? &bias : nullptr);
    return in;
  }
};

QInputs MakeInputs(const QCase& c, int64_t channels, int64_t reduce, uint32_t seed) {
  QInputs in;
  const bool u8 = c.x_type == DataType::kUint8;
  in.x = u8 ? RandomInt<uint8_t>(c.x, seed, 0, 255) : RandomInt<int8_t>(c.x, seed, -128, 127);
  in.x_zp = u8 ? Tensor::Scalar<uint8_t>(static_cast<uint8_t>(c.x_zp))
               : Tensor::Scalar<int8_t>(static_cast<int8_t>(c.x_zp));
  in.x_scale = Tensor::Scalar<float>(0.02f);
  in.w = RandomInt<int8_t>(c.w, seed + 1, -c.w_max, c.w_max);
  std::vector<float> ws;
  for (int64_t m = 0; m < (c.per_channel ? channels : 1); ++m)
    ws.push_back(0.001f * (1 + m % 5) + 0.0003f * m);
  in.w_scale = c.per_channel ? Tensor::FromVector<float>(ws, {channels}) : Tensor::Scalar<float>(ws[0]);
  in.w_zp = Tensor(DataType::kInt8, in.w_scale.shape());  // zeros
  // Spread the outputs over the 8-bit range: |acc| ~ sqrt(reduce) * 70 * 70.
  const float acc_sd = std::sqrt(static_cast<float>(reduce)) * 70.0f * 70.0f;
  in.y_scale = Tensor::Scalar<float>(0.02f * 0.002f * acc_sd / 40.0f);
  in.y_zp = c.out == Out::kInt8 ? Tensor::Scalar<int8_t>(-5) : Tensor::Scalar<uint8_t>(121);
  in.bias = RandomInt<int32_t>({channels}, seed + 2, -20000, 20000);
  return in;
}

Attributes ActAttrs(const QCase& c) {
  Attributes a;
  if (c.act_min) a.Set("activation_min", *c.act_min);
  if (c.act_max) a.Set("activation_max", *c.act_max);
  return a;
}

Node ConvNode(const std::string& op, const QCase& c, size_t inputs) {
  Attributes a = op == "QcalQConv" ? ActAttrs(c) : Attributes{};
  a.Set("group", c.group);
  a.Set("strides", c.strides);
  a.Set("dilations", c.dilations);
  if (c.auto_pad.empty()) {
    a.Set("pads", c.pads);
  } else {
    a.Set("auto_pad", c.auto_pad);
  }
  return MakeNode(op, inputs, a);
}

std::vector<bool> ConstFlags(size_t n) {
  std::vector<bool> f(n, true);
  f[0] = false;  // x and QcalQConv's residual Z are the runtime inputs
  if (n > 9) f[9] = false;
  return f;
}

// Runs node through the dnnl kernel (which must be selected among "dnnl" and "ref") and the ref kernel;
// returns ref's output.
Tensor ExpectBitExact(const Node& node, const std::vector<const Tensor*>& in) {
  const std::vector<bool> is_const = ConstFlags(in.size());
  std::vector<TensorType> types;
  const Status infer = KernelRegistry::Global().Infer(ContextFor(node, in, is_const), types);
  EXPECT_TRUE(infer.ok()) << infer.ToString();
  if (!infer.ok()) return Tensor();
  // Depthwise nodes too: with the x86 provider (its depthwise kernel, x86_int8_depthwise_test) off.
  KernelRegistry::Global().SetProviderEnabled("x86", false);
  EXPECT_EQ(SelectedProvider(node, in, is_const), "dnnl");
  KernelRegistry::Global().SetProviderEnabled("x86", true);
  auto dk = MakeKernel(node, in, is_const, "dnnl");
  auto rk = MakeKernel(node, in, is_const, "ref");
  EXPECT_TRUE(dk.ok() && rk.ok());
  if (!dk.ok() || !rk.ok()) return Tensor();
  auto y = RunKernel(**dk, in);
  auto r = RunKernel(**rk, in);
  EXPECT_TRUE(y.ok() && r.ok()) << (y.ok() ? r.status().ToString() : y.status().ToString());
  if (!y.ok() || !r.ok()) return Tensor();
  EXPECT_EQ(r->shape(), types[0].shape);
  EXPECT_TRUE(BitExact(*y, *r)) << node.op_type;
  // Second run reuses the prepared primitive and buffers.
  auto y2 = RunKernel(**dk, in);
  EXPECT_TRUE(y2.ok() && BitExact(*y2, *r));
  return *r;
}

// The quantized QcalQConv equals QLinearConv (independent reference) clamped to
// the quantized activation bounds; both run on dnnl too.
template <typename Q>
void CheckAgainstQLinear(const Tensor& fused, const Tensor& qlinear, const QCase& c, const QInputs& in) {
  const float ys = in.y_scale.data<float>()[0];
  const int32_t zp = static_cast<int32_t>(in.y_zp.GetAsInt64(0));
  int32_t lo = qmath::QMin<Q>(), hi = qmath::QMax<Q>();
  if (c.act_min) lo = std::max<int32_t>(lo, qmath::QuantizeValue<Q>(*c.act_min, ys, zp));
  if (c.act_max) hi = std::min<int32_t>(hi, qmath::QuantizeValue<Q>(*c.act_max, ys, zp));
  ASSERT_EQ(fused.shape(), qlinear.shape());
  for (int64_t i = 0; i < fused.numel(); ++i) {
    ASSERT_EQ(fused.GetAsInt64(i), std::clamp<int64_t>(qlinear.GetAsInt64(i), lo, hi)) << "element " << i;
  }
}

// Float output vs the float convolution of the dequantized tensors.
void CheckFloatAgainstDequantized(const Tensor& fused, const QCase& c, const QInputs& in) {
  const float xs = in.x_scale.data<float>()[0];
  Tensor xf(DataType::kFloat32, in.x.shape()), wf(DataType::kFloat32, in.w.shape()),
      bf(DataType::kFloat32, {c.w[0]});
  const int64_t per = in.w.numel() / c.w[0];
  for (int64_t i = 0; i < xf.numel(); ++i) xf.data<float>()[i] = (in.x.GetAsDouble(i) - c.x_zp) * xs;
  auto wsc = [&](int64_t m) {
    return in.w_scale.numel() == 1 ? in.w_scale.data<float>()[0] : in.w_scale.data<float>()[m];
  };
  for (int64_t i = 0; i < wf.numel(); ++i) wf.data<float>()[i] = in.w.GetAsDouble(i) * wsc(i / per);
  for (int64_t m = 0; m < c.w[0]; ++m)
    bf.data<float>()[m] = (c.bias ? in.bias.data<int32_t>()[m] : 0) * xs * wsc(m);
  auto conv = RunOne(ConvNode("Conv", c, 3), {&xf, &wf, &bf});
  ASSERT_TRUE(conv.ok()) << conv.status().ToString();
  const float lo = c.act_min.value_or(-INFINITY), hi = c.act_max.value_or(INFINITY);
  for (int64_t i = 0; i < fused.numel(); ++i) {
    const float want = std::min(std::max(conv->data<float>()[i], lo), hi);
    ASSERT_NEAR(fused.data<float>()[i], want, 1e-4 * (1 + std::fabs(want))) << "element " << i;
  }
}

void CheckConv(const QCase& c, uint32_t seed = 7) {
  const int64_t reduce = c.w[1] * c.w[2] * c.w[3];
  const QInputs in = MakeInputs(c, c.w[0], reduce, seed);
  SCOPED_TRACE("x " + ShapeToString(c.x) + " w " + ShapeToString(c.w));
  const Tensor fused = ExpectBitExact(ConvNode("QcalQConv", c, 9), in.list(c, true));
  if (::testing::Test::HasFailure()) return;
  if (c.out == Out::kFloat) return CheckFloatAgainstDequantized(fused, c, in);
  const Tensor qlinear = ExpectBitExact(ConvNode("QLinearConv", c, c.bias ? 9 : 8), in.list(c, c.bias));
  if (c.out == Out::kInt8) return CheckAgainstQLinear<int8_t>(fused, qlinear, c, in);
  CheckAgainstQLinear<uint8_t>(fused, qlinear, c, in);
}

TEST(DnnlInt8ConvTest, Plain3x3PerChannelAsymmetricU8) {
  CheckConv({.x = {2, 5, 7, 9}, .w = {6, 5, 3, 3}, .pads = {1, 1, 1, 1}, .x_zp = 131});
}

TEST(DnnlInt8ConvTest, S8ActivationsInt8OutputPerTensor) {
  CheckConv({.x = {1, 3, 8, 8},
             .w = {4, 3, 3, 3},
             .pads = {1, 1, 1, 1},
             .x_type = DataType::kInt8,
             .x_zp = -7,
             .per_channel = false,
             .out = Out::kInt8});
}

TEST(DnnlInt8ConvTest, StridesDilationAsymmetricPads) {
  CheckConv({.x = {3, 5, 11, 9},
             .w = {17, 5, 3, 2},
             .strides = {2, 1},
             .dilations = {2, 3},
             .pads = {2, 0, 1, 3},
             .x_zp = 100});
}

TEST(DnnlInt8ConvTest, OneByOneNoBiasChannelsNotMultipleOf16) {
  CheckConv({.x = {2, 19, 5, 6}, .w = {23, 19, 1, 1}, .strides = {2, 2}, .x_zp = 3, .bias = false});
}

TEST(DnnlInt8ConvTest, DepthwiseAndGrouped) {
  CheckConv({.x = {2, 16, 9, 7}, .w = {16, 1, 3, 3}, .group = 16, .pads = {1, 1, 1, 1}, .x_zp = 200});
  CheckConv({.x = {1, 5, 7, 9},
             .w = {10, 1, 3, 3},
             .group = 5,
             .strides = {2, 2},
             .pads = {1, 0, 1, 2},
             .x_type = DataType::kInt8,
             .x_zp = 9,
             .out = Out::kInt8});
  CheckConv({.x = {2, 6, 7, 9},
             .w = {4, 3, 3, 3},
             .group = 2,
             .dilations = {2, 2},
             .pads = {2, 2, 2, 2},
             .x_zp = 60});
}

TEST(DnnlInt8ConvTest, AutoPadSameAndActivationBounds) {
  CheckConv({.x = {2, 8, 7, 9},
             .w = {12, 8, 3, 3},
             .strides = {2, 2},
             .auto_pad = "SAME_UPPER",
             .x_zp = 17,
             .act_min = 0.0f});
  CheckConv({.x = {1, 8, 6, 6},
             .w = {9, 8, 3, 3},
             .pads = {1, 1, 1, 1},
             .x_zp = 128,
             .out = Out::kInt8,
             .act_min = 0.0f,
             .act_max = 0.05f});
}

TEST(DnnlInt8ConvTest, FloatOutputWithClip) {
  CheckConv({.x = {2, 7, 6, 5}, .w = {9, 7, 3, 3}, .pads = {1, 1, 1, 1}, .x_zp = 77, .out = Out::kFloat});
  CheckConv({.x = {3, 4, 6, 5},
             .w = {33, 4, 3, 3},
             .strides = {2, 2},
             .pads = {0, 1, 1, 0},
             .x_type = DataType::kInt8,
             .x_zp = -3,
             .per_channel = false,
             .out = Out::kFloat,
             .act_min = 0.0f,
             .act_max = 0.3f});
}

TEST(DnnlInt8ConvTest, LargerResNetLikeLayer) {
  CheckConv({.x = {2, 32, 16, 16},
             .w = {64, 32, 3, 3},
             .strides = {2, 2},
             .pads = {1, 1, 1, 1},
             .x_zp = 0,
             .act_min = 0.0f});
}

// Forces an Int8Compute mode for the kernels created in its scope.
using ForcedMode = dnnl_kernels::ScopedForcedInt8Compute;

// Every element of t set to v.
template <typename T>
void Fill(Tensor& t, T v) {
  std::fill(t.data<T>(), t.data<T>() + t.numel(), v);
}

// All x at the top of its type's range, all weights w_value except output
// channel 1 (elements [per, 2 * per)), whose signs alternate.
void SetWorstCaseOperands(QInputs& in, DataType x_type, int8_t w_value, int64_t per) {
  if (x_type == DataType::kUint8) {
    Fill<uint8_t>(in.x, 255);
  } else {
    Fill<int8_t>(in.x, 127);
  }
  Fill<int8_t>(in.w, w_value);
  for (int64_t i = 0; i < per; ++i)
    in.w.data<int8_t>()[per + i] = static_cast<int8_t>(i % 2 ? -w_value : w_value);
}

// The largest products oneDNN's non-VNNI kernels can meet: all x at the top of
// the range, weights at the mode's limit (kInt8Split: any s8, kInt8Narrow: 64),
// a reduction of 64 * 9 terms. A saturating int16 pair sum would show here.
// Depthwise: 64 channels of 9 terms; every weight pattern is also checked with
// mixed signs in one channel.
void CheckWorstCase(dnnl_kernels::Int8Compute mode, DataType x_type, int8_t w_value, bool depthwise = false) {
  SCOPED_TRACE(std::string(dnnl_kernels::Int8ComputeName(mode)) + " w " + std::to_string(w_value) +
               (depthwise ? " depthwise" : ""));
  const ForcedMode forced(mode);
  QCase c{.x = {1, 64, 5, 5}, .w = {3, 64, 3, 3}, .pads = {1, 1, 1, 1}, .x_type = x_type, .out = Out::kInt8};
  if (depthwise) {
    c.w = {64, 1, 3, 3};
    c.group = 64;
  }
  c.x_zp = x_type == DataType::kUint8 ? 0 : -128;
  const int64_t reduce = c.w[1] * 9;
  QInputs in = MakeInputs(c, c.w[0], reduce, 5);
  SetWorstCaseOperands(in, x_type, w_value, in.w.numel() / c.w[0]);
  // Outputs of channel 0 (w_scale 0.001) stay within about 100 quanta, so a saturated pair shows.
  in.y_scale = Tensor::Scalar<float>(0.02f * 0.001f * 255.0f * 128.0f * static_cast<float>(reduce) / 100.0f);
  ExpectBitExact(ConvNode("QcalQConv", c, 9), in.list(c, true));
}

TEST(DnnlInt8ConvTest, WorstCaseOperandsStayExactInEveryInt8Mode) {
  using dnnl_kernels::Int8Compute;
  for (DataType t : {DataType::kUint8, DataType::kInt8}) {
    CheckWorstCase(Int8Compute::kInt8Split, t, -128);
    CheckWorstCase(Int8Compute::kInt8Split, t, 127);
    CheckWorstCase(Int8Compute::kInt8Narrow, t, 64);
    CheckWorstCase(Int8Compute::kInt8Narrow, t, -64);
    CheckWorstCase(Int8Compute::kInt8Narrow, t, 127, /*depthwise=*/true);
    CheckWorstCase(Int8Compute::kInt8Narrow, t, -128, /*depthwise=*/true);
  }
}

// Without VNNI the automatic choice is kInt8Narrow for weights within [-64, 64]
// and kInt8Split otherwise; a forced mode that would not be exact leaves the
// node on "ref" (kExactFloat beyond max|x| * sum|w[m]| < 2^24, kInt8Narrow
// with a weight of 65).
TEST(DnnlInt8ConvTest, ModeChoiceFollowsTheWeights) {
  using dnnl_kernels::ChooseInt8Compute;
  using dnnl_kernels::Int8Compute;
  const bool vnni = dnnl_kernels::HasInt8DotProduct();
  EXPECT_EQ(ChooseInt8Compute(DataType::kUint8, {.max_abs = 64, .max_abs_sum = 9000}),
            vnni ? Int8Compute::kInt8 : Int8Compute::kInt8Narrow);
  EXPECT_EQ(ChooseInt8Compute(DataType::kInt8, {.max_abs = 65, .max_abs_sum = 9000}),
            vnni ? Int8Compute::kInt8 : Int8Compute::kInt8Split);
  EXPECT_EQ(ChooseInt8Compute(DataType::kInt8, {.max_abs = 128, .max_abs_sum = 900, .depthwise = true}),
            vnni ? Int8Compute::kInt8 : Int8Compute::kInt8Narrow);
  // Where the caller knows f32 is faster: kExactFloat while exact (255 * 65000 < 2^24), else as above.
  EXPECT_EQ(ChooseInt8Compute(DataType::kUint8, {.max_abs = 127, .max_abs_sum = 65000}, true),
            vnni ? Int8Compute::kInt8 : Int8Compute::kExactFloat);
  EXPECT_EQ(ChooseInt8Compute(DataType::kUint8, {.max_abs = 127, .max_abs_sum = 66000}, true),
            vnni ? Int8Compute::kInt8 : Int8Compute::kInt8Split);
  {
    const ForcedMode forced(Int8Compute::kInt8Narrow);
    EXPECT_EQ(ChooseInt8Compute(DataType::kUint8, {.max_abs = 65, .max_abs_sum = 65}), Int8Compute::kNone);
    EXPECT_EQ(ChooseInt8Compute(DataType::kUint8, {.max_abs = 64, .max_abs_sum = 65}, true),
              Int8Compute::kInt8Narrow);  // a forced mode wins
  }
  QCase c{.x = {1, 160, 3, 3}, .w = {2, 160, 3, 3}, .pads = {1, 1, 1, 1}};
  QInputs in = MakeInputs(c, 2, 160 * 9, 3);
  Fill<int8_t>(in.w, 127);  // 255 * 1440 * 127 > 2^24
  const Node node = ConvNode("QcalQConv", c, 9);
  const auto list = in.list(c, true);
  ExpectBitExact(node, list);  // automatic: kInt8Split (or kInt8 with VNNI)
  const ForcedMode forced(Int8Compute::kExactFloat);
  EXPECT_EQ(SelectedProvider(node, list, ConstFlags(list.size())), "ref");
}

// The shapes above once more in each forced mode (kInt8Narrow with weights in [-64, 64]).
TEST(DnnlInt8ConvTest, ForcedModesAreBitExact) {
  using dnnl_kernels::Int8Compute;
  for (Int8Compute m : {Int8Compute::kInt8Split, Int8Compute::kInt8Narrow, Int8Compute::kExactFloat}) {
    SCOPED_TRACE(dnnl_kernels::Int8ComputeName(m));
    const ForcedMode forced(m);
    const int w_max = m == Int8Compute::kInt8Narrow ? 64 : 127;
    CheckConv({.x = {2, 5, 7, 9}, .w = {6, 5, 3, 3}, .pads = {1, 1, 1, 1}, .x_zp = 131, .w_max = w_max});
    CheckConv({.x = {1, 5, 7, 9},
               .w = {10, 1, 3, 3},
               .group = 5,
               .strides = {2, 2},
               .pads = {1, 0, 1, 2},
               .x_type = DataType::kInt8,
               .x_zp = 9,
               .out = Out::kInt8,
               .w_max = w_max});
    CheckConv({.x = {2, 19, 5, 6},
               .w = {23, 19, 1, 1},
               .strides = {2, 2},
               .x_zp = 3,
               .bias = false,
               .w_max = w_max});
    CheckConv({.x = {3, 4, 6, 5},
               .w = {33, 4, 3, 3},
               .strides = {2, 2},
               .pads = {0, 1, 1, 0},
               .x_type = DataType::kInt8,
               .x_zp = -3,
               .per_channel = false,
               .out = Out::kFloat,
               .act_min = 0.0f,
               .act_max = 0.3f,
               .w_max = w_max});
  }
}

// ---- QcalQConv's residual input Z: y = residual_act(conv float output + Z) ----

// Z for the conv's float output y0: random values of y0's magnitude, and at
// fixed positions -y0 (sums of exactly 0), -0, NaN and +-infinity.
Tensor ResidualInput(const Tensor& y0, uint32_t seed) {
  float mag = 1.0f;
  for (int64_t i = 0; i < y0.numel(); ++i) mag = std::max(mag, std::fabs(y0.data<float>()[i]));
  Tensor z = RandomFloat(y0.shape(), seed, -mag, mag);
  float* p = z.data<float>();
  for (int64_t i = 0; i < z.numel(); ++i) {
    if (i % 7 == 0) p[i] = -y0.data<float>()[i];
    if (i % 7 == 1) p[i] = -0.0f;
    if (i % 29 == 2) p[i] = NAN;
    if (i % 31 == 3) p[i] = i % 2 ? INFINITY : -INFINITY;
  }
  return z;
}

// One node on the reference kernel; every input at run time.
Tensor RunRef(const Node& node, const std::vector<const Tensor*>& in, const std::vector<bool>& is_const) {
  auto k = MakeKernel(node, in, is_const, "ref");
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  if (!k.ok()) return Tensor();
  auto y = RunKernel(**k, in);
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return y.ok() ? *y : Tensor();
}

// A float NCHW tensor in NHWC (to_nhwc) or back: element order only.
Tensor Transposed(const Tensor& t, bool to_nhwc) {
  const Shape& s = t.shape();
  const int64_t n = s[0], c = to_nhwc ? s[1] : s[3], h = to_nhwc ? s[2] : s[1], w = to_nhwc ? s[3] : s[2];
  Tensor out(DataType::kFloat32, to_nhwc ? Shape{n, h, w, c} : Shape{n, c, h, w});
  const float* src = t.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < n * c * h * w; ++i) {
    const int64_t x = i % w, y = i / w % h, ch = i / (w * h) % c, b = i / (w * h * c);
    const int64_t nhwc = ((b * h + y) * w + x) * c + ch;
    if (to_nhwc) {
      dst[nhwc] = src[i];
    } else {
      dst[i] = src[nhwc];
    }
  }
  return out;
}

// The dnnl kernel with Z and / or Y planned NHWC (Z and Y transposed around it) gives `want`.
void CheckResidualLayouts(const Node& fused, std::vector<const Tensor*> list, const Tensor& want) {
  const Tensor z = *list.back();
  const Tensor z_nhwc = Transposed(z, true);
  for (const auto& [z_layout, y_layout] :
       {std::pair{Layout::kNhwc, Layout::kNhwc}, std::pair{Layout::kPlain, Layout::kNhwc},
        std::pair{Layout::kNhwc, Layout::kPlain}}) {
    SCOPED_TRACE(std::string("Z ") + (z_layout == Layout::kNhwc ? "nhwc" : "nchw") + ", Y " +
                 (y_layout == Layout::kNhwc ? "nhwc" : "nchw"));
    auto k = MakeKernel(fused, list, ConstFlags(list.size()), "dnnl");
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    std::vector<Layout> in(list.size(), Layout::kPlain);
    in.back() = z_layout;
    ASSERT_TRUE((*k)->SetLayouts(in, {y_layout}).ok());
    list.back() = z_layout == Layout::kNhwc ? &z_nhwc : &z;
    for (int run = 0; run < 2; ++run) {
      auto y = RunKernel(**k, list);
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      EXPECT_TRUE(BitExact(y_layout == Layout::kNhwc ? Transposed(*y, false) : *y, want));
    }
  }
}

// The fused QcalQConv with Z (dnnl and ref) equals, bit for bit, the unfused
// reference nodes QcalQConv (float output) -> Add(Z) [-> Relu], also with Z and Y NHWC.
void CheckResidual(QCase c, bool relu, uint32_t seed = 13) {
  c.out = Out::kFloat;
  QInputs in = MakeInputs(c, c.w[0], c.w[1] * c.w[2] * c.w[3], seed);
  SCOPED_TRACE("x " + ShapeToString(c.x) + " w " + ShapeToString(c.w) + (relu ? " relu" : "") +
               (c.act_min ? " own activation" : ""));
  std::vector<const Tensor*> list = in.list(c, true);
  const Tensor y0 = RunRef(ConvNode("QcalQConv", c, 9), list, ConstFlags(9));
  const Tensor z = ResidualInput(y0, seed + 3);
  Tensor want = RunRef(MakeNode("Add", 2), {&y0, &z}, {false, false});
  if (relu) want = RunRef(MakeNode("Relu", 1), {&want}, {false});
  Node fused = ConvNode("QcalQConv", c, 10);
  if (relu) fused.attrs.Set("residual_activation", std::string("Relu"));
  list.push_back(&z);
  const Tensor got = ExpectBitExact(fused, list);
  EXPECT_TRUE(BitExact(got, want));
  CheckResidualLayouts(fused, list, want);
}

// Runs body(w_max) in the automatic mode and each forced one (kInt8Narrow with
// weights in [-64, 64], the others with the full range).
void ForEveryMode(const std::function<void(int)>& body) {
  using dnnl_kernels::Int8Compute;
  for (std::optional<Int8Compute> m : std::initializer_list<std::optional<Int8Compute>>{
           std::nullopt, Int8Compute::kInt8Split, Int8Compute::kInt8Narrow, Int8Compute::kExactFloat}) {
    SCOPED_TRACE(m ? dnnl_kernels::Int8ComputeName(*m) : "automatic");
    const ForcedMode forced(m);
    body(m == dnnl_kernels::Int8Compute::kInt8Narrow ? 64 : 127);
  }
}

TEST(DnnlInt8ConvTest, ResidualIsBitIdenticalToAddReluInEveryMode) {
  ForEveryMode([](int w_max) {
    for (bool relu : {false, true}) {
      CheckResidual({.x = {1, 3, 1, 1}, .w = {1, 3, 1, 1}, .x_zp = 5, .w_max = w_max}, relu);
      CheckResidual({.x = {2, 5, 5, 7}, .w = {3, 5, 3, 3}, .pads = {1, 1, 1, 1}, .x_zp = 131, .w_max = w_max},
                    relu);
      CheckResidual({.x = {1, 4, 5, 7},
                     .w = {17, 4, 1, 1},
                     .x_type = DataType::kInt8,
                     .x_zp = -3,
                     .per_channel = false,
                     .act_min = 0.0f,
                     .w_max = w_max},
                    relu);
      CheckResidual({.x = {2, 3, 7, 9},
                     .w = {33, 3, 3, 3},
                     .x_zp = 60,
                     .bias = false,
                     .act_min = -0.1f,
                     .act_max = 0.2f,
                     .w_max = w_max},
                    relu);
    }
  });
}

// ---- QcalQConv's second output Yq = QuantizeLinear(Y) (quantized copy) ----

// got (NHWC when nhwc) holds want's (NCHW) integers.
::testing::AssertionResult SameQuantized(const Tensor& got, bool nhwc, const Tensor& want) {
  const Shape& s = want.shape();
  if (got.dtype() != want.dtype() || got.numel() != want.numel())
    return ::testing::AssertionFailure() << "type";
  const int64_t c = s[1], hw = s[2] * s[3];
  for (int64_t i = 0; i < want.numel(); ++i) {
    const int64_t n = i / (c * hw), ch = i / hw % c, p = i % hw;
    const int64_t j = nhwc ? (n * hw + p) * c + ch : i;
    if (got.GetAsInt64(j) != want.GetAsInt64(i)) {
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got.GetAsInt64(j) << " vs " << want.GetAsInt64(i);
    }
  }
  return ::testing::AssertionSuccess();
}

// Both kernels of the fused node (12 inputs, outputs Y and Yq) against the unfused
// reference nodes QcalQConv [-> Add(Z) -> Relu] -> QuantizeLinear, with Z, Y and
// Yq in every NCHW / NHWC mix on dnnl; bit for bit.
void CheckQuantizedCopy(QCase c, bool with_z, DataType q_type, uint32_t seed = 17) {
  c.out = Out::kFloat;
  QInputs in = MakeInputs(c, c.w[0], c.w[1] * c.w[2] * c.w[3], seed);
  SCOPED_TRACE("x " + ShapeToString(c.x) + " w " + ShapeToString(c.w) + (with_z ? " with Z" : "") + " " +
               std::string(DataTypeName(q_type)));
  std::vector<const Tensor*> list = in.list(c, true);
  const Tensor y0 = RunRef(ConvNode("QcalQConv", c, 9), list, ConstFlags(9));
  Tensor z, want = y0;
  if (with_z) {
    z = ResidualInput(y0, seed + 3);
    want = RunRef(MakeNode("Add", 2), {&y0, &z}, {false, false});
    want = RunRef(MakeNode("Relu", 1), {&want}, {false});
  }
  float mag = 1e-3f;
  for (int64_t i = 0; i < want.numel(); ++i) {
    if (std::isfinite(want.data<float>()[i])) mag = std::max(mag, std::fabs(want.data<float>()[i]));
  }
  const Tensor qs = Tensor::Scalar<float>(mag / 90.0f);
  const Tensor qz = q_type == DataType::kUint8 ? Tensor::Scalar<uint8_t>(100) : Tensor::Scalar<int8_t>(-3);
  const Tensor want_q = RunRef(MakeNode("QuantizeLinear", 3), {&want, &qs, &qz}, {false, true, true});
  Node fused = ConvNode("QcalQConv", c, 12);
  fused.outputs.push_back("out1");
  if (with_z) fused.attrs.Set("residual_activation", std::string("Relu"));
  list.push_back(with_z ? &z : nullptr);
  list.push_back(&qs);
  list.push_back(&qz);
  const std::vector<bool> flags = ConstFlags(12);
  EXPECT_EQ(SelectedProvider(fused, list, flags), "dnnl");
  auto rk = MakeKernel(fused, list, flags, "ref");
  ASSERT_TRUE(rk.ok()) << rk.status().ToString();
  std::vector<Tensor> r(2);
  ASSERT_TRUE((*rk)->Run(list, r).ok());
  EXPECT_TRUE(BitExact(r[0], want));
  EXPECT_TRUE(SameQuantized(r[1], false, want_q));
  const Tensor z_nhwc = with_z ? Transposed(z, true) : Tensor();
  const std::vector<Layout> kLayouts = {Layout::kPlain, Layout::kNhwc};
  for (Layout zl : with_z ? kLayouts : std::vector<Layout>{Layout::kPlain}) {
    for (Layout yl : kLayouts) {
      for (Layout ql : kLayouts) {
        SCOPED_TRACE(std::string("Z/Y/Yq NHWC: ") + (zl == Layout::kNhwc ? "1" : "0") +
                     (yl == Layout::kNhwc ? "1" : "0") + (ql == Layout::kNhwc ? "1" : "0"));
        auto k = MakeKernel(fused, list, flags, "dnnl");
        ASSERT_TRUE(k.ok()) << k.status().ToString();
        std::vector<Layout> ins(list.size(), Layout::kPlain);
        ins[9] = zl;
        ASSERT_TRUE((*k)->SetLayouts(ins, {yl, ql}).ok());
        std::vector<const Tensor*> run = list;
        if (with_z) run[9] = zl == Layout::kNhwc ? &z_nhwc : &z;
        for (int rep = 0; rep < 2; ++rep) {
          std::vector<Tensor> out(2);
          ASSERT_TRUE((*k)->Run(run, out).ok());
          EXPECT_TRUE(BitExact(yl == Layout::kNhwc ? Transposed(out[0], false) : out[0], want));
          EXPECT_TRUE(SameQuantized(out[1], ql == Layout::kNhwc, want_q));
        }
      }
      // Y absent (output name ""): only Yq is written (once per Z layout).
      if (yl != Layout::kPlain) continue;
      Node no_y = fused;
      no_y.outputs[0].clear();
      for (Layout ql : kLayouts) {
        auto k = MakeKernel(no_y, list, flags, "dnnl");
        ASSERT_TRUE(k.ok()) << k.status().ToString();
        std::vector<Layout> ins(list.size(), Layout::kPlain);
        ins[9] = zl;
        ASSERT_TRUE((*k)->SetLayouts(ins, {Layout::kPlain, ql}).ok());
        std::vector<const Tensor*> run = list;
        if (with_z) run[9] = zl == Layout::kNhwc ? &z_nhwc : &z;
        std::vector<Tensor> out(2);
        ASSERT_TRUE((*k)->Run(run, out).ok());
        EXPECT_TRUE(SameQuantized(out[1], ql == Layout::kNhwc, want_q))
            << "no Y, Yq NHWC " << (ql == Layout::kNhwc);
      }
    }
  }
}

TEST(DnnlInt8ConvTest, QuantizedCopyIsBitIdenticalToQuantizeLinearInEveryMode) {
  ForEveryMode([](int w_max) {
    for (bool with_z : {false, true}) {
      CheckQuantizedCopy(
          {.x = {2, 5, 5, 7}, .w = {11, 5, 3, 3}, .pads = {1, 1, 1, 1}, .x_zp = 131, .w_max = w_max}, with_z,
          DataType::kUint8);
      CheckQuantizedCopy({.x = {1, 4, 5, 7},
                          .w = {17, 4, 1, 1},
                          .x_type = DataType::kInt8,
                          .x_zp = -3,
                          .per_channel = false,
                          .w_max = w_max},
                         with_z, DataType::kInt8);
    }
  });
}

TEST(DnnlInt8ConvTest, ResidualInputIsChecked) {
  QCase c{.x = {1, 3, 5, 5}, .w = {4, 3, 3, 3}, .out = Out::kFloat};
  QInputs in = MakeInputs(c, 4, 27, 3);
  auto infer = [&](const Node& node, const Tensor& z, bool quantized) {
    c.out = quantized ? Out::kUint8 : Out::kFloat;
    std::vector<const Tensor*> list = in.list(c, true);
    list.push_back(&z);
    std::vector<TensorType> types;
    return KernelRegistry::Global().Infer(ContextFor(node, list, ConstFlags(list.size())), types);
  };
  const Tensor z(DataType::kFloat32, {1, 4, 3, 3});
  Node node = ConvNode("QcalQConv", c, 10);
  EXPECT_TRUE(infer(node, z, false).ok());
  EXPECT_FALSE(infer(node, z, true).ok());                                          // quantized output
  EXPECT_FALSE(infer(node, Tensor(DataType::kFloat32, {1, 4, 3, 1}), false).ok());  // shape
  EXPECT_FALSE(infer(node, Tensor(DataType::kUint8, {1, 4, 3, 3}), false).ok());    // dtype
  node.attrs.Set("residual_activation", std::string("Tanh"));
  EXPECT_FALSE(infer(node, z, false).ok());
  Node no_z = ConvNode("QcalQConv", c, 9);
  no_z.attrs.Set("residual_activation", std::string("Relu"));
  std::vector<TensorType> types;
  EXPECT_FALSE(KernelRegistry::Global().Infer(ContextFor(no_z, in.list(c, true), ConstFlags(9)), types).ok());
}

// ---- matmul ----

Node MatMulNode(const std::string& op, const QCase& c, size_t inputs) {
  Attributes a = op == "QcalQMatMul" ? ActAttrs(c) : Attributes{};
  if (op == "QcalQMatMul") a.Set("trans_b", int64_t{c.trans_b});
  return MakeNode(op, inputs, a);
}

void CheckMatMul(const QCase& c, uint32_t seed = 11) {
  const int64_t n = c.trans_b ? c.w[0] : c.w[1], k = c.trans_b ? c.w[1] : c.w[0];
  const QInputs in = MakeInputs(c, n, k, seed);
  SCOPED_TRACE("a " + ShapeToString(c.x) + " b " + ShapeToString(c.w));
  const Tensor fused = ExpectBitExact(MatMulNode("QcalQMatMul", c, 9), in.list(c, true));
  if (::testing::Test::HasFailure() || c.out == Out::kFloat || c.bias || c.trans_b) return;
  // Without bias and transposition the quantized form is QLinearMatMul.
  const Tensor qlinear = ExpectBitExact(MatMulNode("QLinearMatMul", c, 8), in.list(c, false));
  if (c.out == Out::kInt8) return CheckAgainstQLinear<int8_t>(fused, qlinear, c, in);
  CheckAgainstQLinear<uint8_t>(fused, qlinear, c, in);
}

// As CheckWorstCase for the matmul: A at the top of its range, B at the mode's
// limit, K = 256, float output (no clamping hides an error).
void CheckMatMulWorstCase(dnnl_kernels::Int8Compute mode, DataType x_type, int8_t w_value) {
  SCOPED_TRACE(std::string(dnnl_kernels::Int8ComputeName(mode)) + " w " + std::to_string(w_value));
  const ForcedMode forced(mode);
  QCase c{.x = {3, 256}, .w = {5, 256}, .x_type = x_type, .out = Out::kFloat, .trans_b = true};
  c.x_zp = x_type == DataType::kUint8 ? 0 : -128;
  QInputs in = MakeInputs(c, 5, 256, 9);
  SetWorstCaseOperands(in, x_type, w_value, 256);
  ExpectBitExact(MatMulNode("QcalQMatMul", c, 9), in.list(c, true));
}

TEST(DnnlInt8MatMulTest, WorstCaseOperandsStayExactInEveryInt8Mode) {
  using dnnl_kernels::Int8Compute;
  for (DataType t : {DataType::kUint8, DataType::kInt8}) {
    CheckMatMulWorstCase(Int8Compute::kInt8Split, t, -128);
    CheckMatMulWorstCase(Int8Compute::kInt8Split, t, 127);
    CheckMatMulWorstCase(Int8Compute::kInt8Narrow, t, 64);
    CheckMatMulWorstCase(Int8Compute::kInt8Narrow, t, -64);
  }
}

TEST(DnnlInt8MatMulTest, QLinearMatMulShapes) {
  CheckMatMul({.x = {5, 37}, .w = {37, 19}, .x_zp = 140, .bias = false});
  CheckMatMul({.x = {2, 3, 16},
               .w = {16, 8},
               .x_type = DataType::kInt8,
               .x_zp = -20,
               .per_channel = false,
               .bias = false,
               .out = Out::kInt8});
}

TEST(DnnlInt8MatMulTest, GemmTransposedWithBiasAndRelu) {
  CheckMatMul({.x = {4, 50}, .w = {10, 50}, .x_zp = 33, .trans_b = true, .act_min = 0.0f});
  CheckMatMul({.x = {1, 64},
               .w = {21, 64},
               .x_type = DataType::kInt8,
               .x_zp = 5,
               .out = Out::kInt8,
               .trans_b = true});
}

TEST(DnnlInt8MatMulTest, ForcedModesAreBitExact) {
  using dnnl_kernels::Int8Compute;
  for (Int8Compute m : {Int8Compute::kInt8Split, Int8Compute::kInt8Narrow, Int8Compute::kExactFloat}) {
    SCOPED_TRACE(dnnl_kernels::Int8ComputeName(m));
    const ForcedMode forced(m);
    const int w_max = m == Int8Compute::kInt8Narrow ? 64 : 127;
    CheckMatMul({.x = {5, 37}, .w = {37, 19}, .x_zp = 140, .bias = false, .w_max = w_max});
    CheckMatMul({.x = {1, 64},
                 .w = {21, 64},
                 .x_type = DataType::kInt8,
                 .x_zp = 5,
                 .out = Out::kInt8,
                 .trans_b = true,
                 .w_max = w_max});
  }
}

TEST(DnnlInt8MatMulTest, FloatOutput) {
  CheckMatMul({.x = {3, 70}, .w = {10, 70}, .x_zp = 99, .out = Out::kFloat, .trans_b = true});
  CheckMatMul({.x = {2, 2, 9},
               .w = {9, 13},
               .x_type = DataType::kInt8,
               .per_channel = false,
               .out = Out::kFloat,
               .act_min = 0.0f});
}

// Few input channels (the RGB stem) and one-row matmuls run as exact float
// automatically (Int8Compute::kExactFloat); still bit-exact, also when a
// one-row matmul is beyond 2^24 and keeps an int8 mode.
TEST(DnnlInt8Test, StemConvAndOneRowMatMulAreBitExact) {
  CheckConv({.x = {1, 3, 23, 19}, .w = {24, 3, 3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}, .x_zp = 17});
  CheckConv({.x = {2, 4, 9, 8},
             .w = {8, 2, 3, 3},
             .group = 2,
             .pads = {1, 1, 1, 1},
             .x_type = DataType::kInt8,
             .x_zp = -4,
             .out = Out::kFloat});
  CheckMatMul({.x = {1, 300}, .w = {300, 37}, .x_zp = 5});
  CheckMatMul(
      {.x = {1, 1, 200}, .w = {41, 200}, .x_type = DataType::kInt8, .out = Out::kInt8, .trans_b = true});
  QCase big{.x = {1, 600}, .w = {600, 9}, .out = Out::kFloat};  // 255 * 600 * 127 > 2^24
  QInputs in = MakeInputs(big, 9, 600, 4);
  Fill<int8_t>(in.w, 127);
  ExpectBitExact(MatMulNode("QcalQMatMul", big, 9), in.list(big, true));
}

}  // namespace
}  // namespace qcal::testing
