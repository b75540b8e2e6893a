#include "kernels/dnnl/int8_common.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "kernels/dnnl/int8_stage_lanes.h"
#include "kernels/ref/quant_common.h"
#include "kernels/simd_lanes.h"
#include "kernels/x86/qdq_rows.h"

namespace qcal::dnnl_kernels {
namespace {

using dt = dnnl::memory::data_type;

// One row, scalar: the reference formulas (also the tail of the vector loop).
// A float accumulator holds an exact integer below 2^24 (kExactFloat).
// With lo (kInt8Split) the accumulator is 16 * acc + lo, modulo 2^32.
inline int32_t Combined(int32_t hi, const int32_t* lo, int64_t c) {
  return lo ? ref::WrapAdd(static_cast<int32_t>(static_cast<uint32_t>(hi) << 4), lo[c]) : hi;
}
inline int32_t Combined(float acc, const int32_t*, int64_t) { return static_cast<int32_t>(acc); }

// z (float T only): the residual input of this row, added as ApplyResidual does.
template <typename A, typename T>
void RowScalar(const ref::OutputStage& s, const float* mult, const A* acc, const int32_t* lo,
               const int32_t* corr, int64_t begin, int64_t end, T* y, const float* z,
               ref::ResidualActivation act) {
  for (int64_t c = begin; c < end; ++c) {
    const int32_t a = ref::WrapAdd(Combined(acc[c], lo, c), corr[c]);
    y[c] = static_cast<T>(s.quantized() ? ref::QuantizedOutputValue(a, mult[c], s.zero_point, s.lo, s.hi)
                                        : ref::FloatOutputValue(a, mult[c], s.lo, s.hi));
    if constexpr (std::is_same_v<T, float>) {
      if (z) y[c] = ref::ResidualOutputValue(y[c], z[c], act);
    }
  }
}

// Eight channels: int8_stage_lanes.h on the loaded accumulators.
__attribute__((target("avx2"))) inline __m256i LoadI8(const int32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
__attribute__((target("avx2"))) inline __m256i Load8(const int32_t* acc, const int32_t* lo) {
  return lo ? _mm256_add_epi32(_mm256_slli_epi32(LoadI8(acc), 4), LoadI8(lo)) : LoadI8(acc);
}
__attribute__((target("avx2"))) inline __m256i Load8(const float* acc, const int32_t*) {
  return _mm256_cvtps_epi32(_mm256_loadu_ps(acc));  // exact: integral values
}

template <typename A>
__attribute__((target("avx2"))) inline __m256 Stage8(const StageVectors& k, const float* mult, const A* acc,
                                                     const int32_t* lo, const int32_t* corr) {
  return StageLanes(k, _mm256_add_epi32(Load8(acc, lo), LoadI8(corr)), _mm256_loadu_ps(mult));
}

// The residual's add and Relu on eight stage values (float T only).
__attribute__((target("avx2"))) inline __m256 Residual8(__m256 v, const float* z,
                                                        ref::ResidualActivation act) {
  v = _mm256_add_ps(v, _mm256_loadu_ps(z));
  return act == ref::ResidualActivation::kRelu ? simd::ReluLanes(v) : v;
}

template <typename A, typename T>
__attribute__((target("avx2"))) void RowAvx2(const ref::OutputStage& s, const float* mult, const A* acc,
                                             const int32_t* lo, const int32_t* corr, int64_t channels, T* y,
                                             const float* z, ref::ResidualActivation act) {
  const StageVectors k = MakeStageVectors(s);
  int64_t c = 0;
  for (; c + 8 <= channels; c += 8) {
    __m256 v = Stage8(k, mult + c, acc + c, lo ? lo + c : nullptr, corr + c);
    if constexpr (std::is_same_v<T, float>) {
      if (z) v = Residual8(v, z + c, act);
    }
    StoreLanes(v, y + c);
  }
  RowScalar(s, mult, acc, lo, corr, c, channels, y, z, act);
}

// copy.q[begin + i] = QuantizeValue(y[i]) for i < n.
void QuantizeCopyRange(const QuantizedCopy& copy, const float* y, int64_t begin, int64_t n, bool avx2) {
  if (copy.dtype == DataType::kInt8) {
    x86::QuantizeRow(y, n, copy.scale, copy.zero_point, static_cast<int8_t*>(copy.q) + begin, avx2);
  } else {
    x86::QuantizeRow(y, n, copy.scale, copy.zero_point, static_cast<uint8_t*>(copy.q) + begin, avx2);
  }
}

// One row of `channels`: y, z and the quantized copy (at copy.q + q_off) of that row.
template <typename A, typename T>
void StageRow(const ref::OutputStage& s, const float* mult, const A* acc, const int32_t* lo,
              const int32_t* corr, int64_t channels, T* y, const float* z, const Residual& res, int64_t q_off,
              bool avx2) {
  if constexpr (std::is_same_v<T, float>) {
    // Y not wanted: the row goes through a per-thread buffer (grown once) into q only.
    thread_local std::vector<float> discarded;
    if (res.copy.discard_y) {
      if (discarded.size() < static_cast<size_t>(channels)) discarded.resize(static_cast<size_t>(channels));
      y = discarded.data();
    }
  }
  if (avx2) {
    RowAvx2(s, mult, acc, lo, corr, channels, y, z, res.act);
  } else {
    RowScalar(s, mult, acc, lo, corr, 0, channels, y, z, res.act);
  }
  if constexpr (std::is_same_v<T, float>) {
    if (res.copy.q) QuantizeCopyRange(res.copy, y, q_off, channels, avx2);
  }
}

template <typename A, typename T>
void Rows(const ref::OutputStage& s, const std::vector<float>& mult, const A* acc, const int32_t* lo,
          const int32_t* corr, int64_t corr_rows, int64_t rows, int64_t channels, T* y, const Residual& res) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  const bool parallel = rows * channels >= (1 << 14);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t off = r * channels;
    StageRow(s, mult.data(), acc + off, lo ? lo + off : nullptr, corr + (r % corr_rows) * channels, channels,
             y ? y + off : nullptr, res.z ? res.z + off : nullptr, res, off, avx2);
  }
}

// y = act(y + z), eight lanes: the add, then the reference Relu rule (simd::ReluLanes).
__attribute__((target("avx2"))) void ResidualAvx2(ref::ResidualActivation act, const float* z, int64_t begin,
                                                  int64_t end, float* y) {
  const bool relu = act == ref::ResidualActivation::kRelu;
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 v = _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(z + i));
    _mm256_storeu_ps(y + i, relu ? simd::ReluLanes(v) : v);
  }
  for (; i < end; ++i) y[i] = ref::ResidualOutputValue(y[i], z[i], act);
}

}  // namespace

void ApplyQuantizedCopy(const QuantizedCopy& copy, const float* y, int64_t n) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  constexpr int64_t kChunk = 1 << 12;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= (1 << 14))
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t begin = k * kChunk;
    QuantizeCopyRange(copy, y + begin, begin, std::min(kChunk, n - begin), avx2);
  }
}

void ApplyResidual(ref::ResidualActivation act, const float* z, int64_t n, float* y) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  constexpr int64_t kChunk = 1 << 12;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= (1 << 14))
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t begin = k * kChunk, end = std::min(n, begin + kChunk);
    if (avx2) {
      ResidualAvx2(act, z, begin, end, y);
    } else {
      for (int64_t i = begin; i < end; ++i) y[i] = ref::ResidualOutputValue(y[i], z[i], act);
    }
  }
}

bool HasInt8DotProduct() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto has = [isa](unsigned bits) { return (isa & bits) == bits; };
  return has(dnnl_cpu_isa_avx512_core_vnni) || has(dnnl_cpu_isa_avx2_vnni);
}

dnnl::memory::data_type DnnlType(DataType t) {
  switch (t) {
    case DataType::kInt8:
      return dt::s8;
    case DataType::kUint8:
      return dt::u8;
    case DataType::kInt32:
      return dt::s32;
    default:
      return dt::f32;
  }
}

namespace {

std::optional<Int8Compute> ModeFromEnv() {
  const char* e = std::getenv("QCAL_DNNL_INT8");
  if (!e) return std::nullopt;
  static const std::pair<const char*, Int8Compute> kNames[] = {{"float", Int8Compute::kExactFloat},
                                                               {"split", Int8Compute::kInt8Split},
                                                               {"narrow", Int8Compute::kInt8Narrow}};
  for (const auto& [name, mode] : kNames) {
    if (std::string(e) == name) return mode;
  }
  return std::nullopt;
}

std::optional<Int8Compute>& ForcedMode() {
  static std::optional<Int8Compute> forced = ModeFromEnv();
  return forced;
}

// Where a forced mode is exact for these operands.
bool ExactFor(Int8Compute mode, DataType x_type, const WeightBounds& w) {
  switch (mode) {
    case Int8Compute::kExactFloat:
      return (x_type == DataType::kUint8 ? 255 : 128) * w.max_abs_sum < (int64_t{1} << 24);
    case Int8Compute::kInt8Narrow:
      return w.max_abs <= 64 || w.depthwise;
    case Int8Compute::kInt8:
      return HasInt8DotProduct();
    default:
      return true;
  }
}

}  // namespace

const char* Int8ComputeName(Int8Compute mode) {
  static const std::pair<Int8Compute, const char*> kNames[] = {{Int8Compute::kInt8, "int8"},
                                                               {Int8Compute::kInt8Narrow, "int8-narrow"},
                                                               {Int8Compute::kInt8Split, "int8-split"},
                                                               {Int8Compute::kExactFloat, "exact-float"}};
  for (const auto& [m, name] : kNames) {
    if (m == mode) return name;
  }
  return "none";
}

void SetForcedInt8Compute(std::optional<Int8Compute> mode) { ForcedMode() = mode; }

Int8Compute ChooseInt8Compute(DataType x_type, const WeightBounds& w, bool float_faster) {
  if (const auto forced = ForcedMode()) return ExactFor(*forced, x_type, w) ? *forced : Int8Compute::kNone;
  if (HasInt8DotProduct()) return Int8Compute::kInt8;
  if (float_faster && ExactFor(Int8Compute::kExactFloat, x_type, w)) return Int8Compute::kExactFloat;
  return ExactFor(Int8Compute::kInt8Narrow, x_type, w) ? Int8Compute::kInt8Narrow : Int8Compute::kInt8Split;
}

WeightBounds ComputeWeightBounds(const Tensor& w, int64_t channels, bool channel_major) {
  std::vector<int64_t> sums(static_cast<size_t>(channels), 0);
  const int8_t* p = w.data<int8_t>();
  const int64_t per = w.numel() / channels;
  WeightBounds b;
  // Row r of `per` x `channels` (or `channels` x `per`) elements, no division per element.
  for (int64_t r = 0; r < (channel_major ? channels : per); ++r) {
    const int64_t len = channel_major ? per : channels;
    for (int64_t j = 0; j < len; ++j) {
      const int64_t a = std::abs(int64_t{p[r * len + j]});
      sums[static_cast<size_t>(channel_major ? r : j)] += a;
      b.max_abs = std::max(b.max_abs, a);
    }
  }
  b.max_abs_sum = sums.empty() ? 0 : *std::max_element(sums.begin(), sums.end());
  return b;
}

void PrepareU8Activations(Int8Compute mode, bool flip, const uint8_t* x, uint8_t* lo, uint8_t* hi,
                          int64_t n) {
  const uint8_t f = flip ? 0x80 : 0;
  if (mode != Int8Compute::kInt8Split) {
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) lo[i] = x[i] ^ f;
    return;
  }
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t v = x[i] ^ f;
    hi[i] = v >> 4;
    lo[i] = v & 15;
  }
}

dnnl::memory::data_type ActivationType(Int8Compute mode, DataType x_type) {
  if (mode == Int8Compute::kExactFloat) return dt::f32;
  return UsesU8Activations(mode) ? dt::u8 : DnnlType(x_type);
}

dnnl::memory::data_type AccType(Int8Compute mode) {
  return mode == Int8Compute::kExactFloat ? dt::f32 : dt::s32;
}

dnnl::memory::data_type ComputeType(Int8Compute mode, dnnl::memory::data_type int8_type) {
  return mode == Int8Compute::kExactFloat ? dt::f32 : int8_type;
}

bool IsConstOf(const OpContext& ctx, size_t i, std::initializer_list<DataType> dtypes) {
  if (!ctx.constant(i)) return false;
  for (DataType t : dtypes) {
    if (ctx.constant(i)->dtype() == t) return true;
  }
  return false;
}

bool AbsentOrZero(const OpContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return true;
  const Tensor* t = ctx.constant(i);
  if (!t) return false;
  for (int64_t k = 0; k < t->numel(); ++k) {
    if (t->GetAsInt64(k) != 0) return false;
  }
  return true;
}

bool AbsentOrConstScalar(const OpContext& ctx, size_t i) {
  return !ctx.has_input(i) || (ctx.constant(i) && ctx.constant(i)->numel() == 1);
}

Result<Int8Params> ReadInt8Params(const OpContext& ctx, int64_t channels, int bias_input) {
  enum { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp };
  Int8Params p;
  QCAL_ASSIGN_OR_RETURN(auto x_scale, ref::ReadScales(*ctx.constant(kXScale), 1, "x_scale"));
  QCAL_ASSIGN_OR_RETURN(
      auto x_zp, ref::ReadZeroPoints(ctx.has_input(kXZp) ? ctx.constant(kXZp) : nullptr, 1, "x_zero_point"));
  QCAL_ASSIGN_OR_RETURN(auto w_scale, ref::ReadScales(*ctx.constant(kWScale), channels, "w_scale"));
  const Tensor* y_scale = ctx.has_input(kYScale) ? ctx.constant(kYScale) : nullptr;
  const Tensor* y_zp = ctx.has_input(kYZp) ? ctx.constant(kYZp) : nullptr;
  QCAL_ASSIGN_OR_RETURN(p.stage,
                        ref::MakeOutputStage(ctx.node, x_scale[0], w_scale, y_scale, y_zp, channels));
  p.x_zp = x_zp[0];
  p.w = *ctx.constant(kW);
  p.bias.assign(static_cast<size_t>(channels), 0);
  if (bias_input >= 0 && ctx.has_input(static_cast<size_t>(bias_input))) {
    const Tensor& b = *ctx.constant(static_cast<size_t>(bias_input));
    if (b.numel() != channels) return InvalidArgument("bias has " + std::to_string(b.numel()) + " elements");
    p.bias.assign(b.data<int32_t>(), b.data<int32_t>() + channels);
  }
  for (int64_t c = 0; c < channels; ++c) p.mult.push_back(p.stage.mult_at(c));
  return p;
}

namespace {

template <typename A>
void RowsTo(const ref::OutputStage& stage, const std::vector<float>& mult, const A* acc, const int32_t* lo,
            const int32_t* corr, int64_t corr_rows, int64_t rows, int64_t channels, void* y,
            const Residual& res) {
  switch (stage.dtype) {
    case DataType::kInt8:
      return Rows(stage, mult, acc, lo, corr, corr_rows, rows, channels, static_cast<int8_t*>(y), res);
    case DataType::kUint8:
      return Rows(stage, mult, acc, lo, corr, corr_rows, rows, channels, static_cast<uint8_t*>(y), res);
    default:
      return Rows(stage, mult, acc, lo, corr, corr_rows, rows, channels, static_cast<float*>(y), res);
  }
}

}  // namespace

void ApplyOutputStageRows(const ref::OutputStage& stage, const std::vector<float>& mult,
                          const Accumulators& acc, const int32_t* corr, int64_t corr_rows, int64_t rows,
                          int64_t channels, void* y, const Residual& residual) {
  if (acc.float_acc) {
    return RowsTo(stage, mult, static_cast<const float*>(acc.acc), nullptr, corr, corr_rows, rows, channels,
                  y, residual);
  }
  RowsTo(stage, mult, static_cast<const int32_t*>(acc.acc), acc.acc_lo, corr, corr_rows, rows, channels, y,
         residual);
}

namespace {

template <typename T>
void SerialRows(const ref::OutputStage& stage, const float* mult, const int32_t* acc, int64_t acc_stride,
                const int32_t* corr, int64_t corr_rows, int64_t rows, int64_t channels, T* y,
                const Residual& res) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t off = r * channels;
    StageRow(stage, mult, acc + r * acc_stride, nullptr, corr + (r % corr_rows) * channels, channels,
             y ? y + off : nullptr, res.z ? res.z + off : nullptr, res, off, avx2);
  }
}

}  // namespace

void ApplyOutputStageSerial(const ref::OutputStage& stage, const std::vector<float>& mult, const int32_t* acc,
                            int64_t acc_stride, const int32_t* corr, int64_t corr_rows, int64_t rows,
                            int64_t channels, void* y, const Residual& residual) {
  switch (stage.dtype) {
    case DataType::kInt8:
      return SerialRows(stage, mult.data(), acc, acc_stride, corr, corr_rows, rows, channels,
                        static_cast<int8_t*>(y), residual);
    case DataType::kUint8:
      return SerialRows(stage, mult.data(), acc, acc_stride, corr, corr_rows, rows, channels,
                        static_cast<uint8_t*>(y), residual);
    default:
      return SerialRows(stage, mult.data(), acc, acc_stride, corr, corr_rows, rows, channels,
                        static_cast<float*>(y), residual);
  }
}

}  // namespace qcal::dnnl_kernels
