// Quantized matrix product on oneDNN matmul (provider "dnnl") for QcalQMatMul
// (quantized MatMul / Gemm layers, made by the FuseQuantizedOps pass) and
// QLinearMatMul with a constant 2-D B: u8 / s8 A (any rank >= 2, batch dims
// folded into rows), constant s8 B (zero point 0, per-tensor or per-column
// scales; QcalQMatMul may store it transposed), s32 accumulation by oneDNN, then
// the correction (bias - a_zp * column sums of B) and the output stage of
// int8_common.h, bit-exact against the reference kernels. B is reordered into
// the primitive's layout once; primitives are cached per row count.
#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/int8_common.h"
#include "kernels/ref/common.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;

enum Input { kA = 0, kAScale, kAZp, kB, kBScale, kBZp, kYScale, kYZp, kBias };

struct Int8MatMulPlan {
  dnnl::matmul prim;
  memory::desc b_md;             // the primitive's B layout
  memory acc;                    // s32 (or f32 with kExactFloat) [rows, N]; kInt8Split: high nibbles
  std::optional<memory> a;       // kExactFloat: A converted to float; u8 modes: A prepared (low nibbles)
  std::optional<memory> a_hi;    // kInt8Split: high nibbles of A
  std::optional<memory> acc_lo;  // kInt8Split: products of the low nibbles
  std::optional<dnnl::reorder> to_float;  // kExactFloat: A's integers to float
};

class DnnlInt8MatMul final : public Kernel {
 public:
  DnnlInt8MatMul(DataType a_type, bool trans_b, Int8Compute mode, Int8Params p)
      : a_type_(a_type), mode_(mode), p_(std::move(p)) {
    const Shape& b = p_.w.shape();
    k_ = trans_b ? b[1] : b[0];
    n_ = trans_b ? b[0] : b[1];
    // B [K, N] as stored: row-major, or [N, K] read through swapped strides.
    user_b_ = memory(memory::desc({k_, n_}, memory::data_type::s8, trans_b ? Dims{1, k_} : Dims{n_, 1}),
                     Engine(), const_cast<void*>(p_.w.raw()));
    // s8 activations fed as u8 (x + 128) move the zero point by 128.
    const int64_t x_zp = p_.x_zp + (UsesU8Activations(mode_) && a_type_ == DataType::kInt8 ? 128 : 0);
    corr_ = p_.bias;
    const int8_t* w = p_.w.data<int8_t>();
    for (int64_t kk = 0; kk < k_; ++kk) {
      for (int64_t n = 0; n < n_; ++n) {
        const int64_t v = w[trans_b ? n * k_ + kk : kk * n_ + n];
        corr_[static_cast<size_t>(n)] = ref::WrapAdd(
            corr_[static_cast<size_t>(n)], static_cast<int32_t>(0u - static_cast<uint32_t>(x_zp * v)));
      }
    }
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return Guarded("int8 matmul", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      ApplyThreads();
      const Tensor& a = *in[kA];
      if (a.rank() < 2 || a.shape().back() != k_) {
        return InvalidArgument("A " + ShapeToString(a.shape()) +
                               " does not match B's K = " + std::to_string(k_));
      }
      const int64_t rows = a.numel() / k_;
      QCAL_ASSIGN_OR_RETURN(Int8MatMulPlan * plan, PlanFor(rows));
      memory a_mem(memory::desc({rows, k_}, DnnlType(a_type_), Dims{k_, 1}), Engine(),
                   const_cast<void*>(a.raw()));
      Compute(a_mem, *plan);
      Shape ys = a.shape();
      ys.back() = n_;
      Tensor& y = ref::PrepareOutput(out, 0, p_.stage.dtype, ys);
      const Accumulators accs{
          plan->acc.get_data_handle(),
          plan->acc_lo ? static_cast<const int32_t*>(plan->acc_lo->get_data_handle()) : nullptr,
          mode_ == Int8Compute::kExactFloat};
      ApplyOutputStageRows(p_.stage, p_.mult, accs, corr_.data(), 1, rows, n_, y.raw());
      return Status::Ok();
    });
  }

  Status Prepare(int64_t rows) {
    return Guarded("int8 matmul setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      return PlanFor(rows).status();
    });
  }

 private:
  Result<Int8MatMulPlan*> PlanFor(int64_t rows) {
    const std::vector<int64_t> key = PlanKey({rows});
    auto it = plans_.find(key);
    if (it != plans_.end()) return &it->second;
    const memory::desc a_md({rows, k_}, ActivationType(mode_, a_type_), Dims{k_, 1});
    const memory::desc b_any({k_, n_}, ComputeType(mode_, memory::data_type::s8), memory::format_tag::any);
    const memory::desc acc_md({rows, n_}, AccType(mode_), Dims{n_, 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any, acc_md), Engine());
    Int8MatMulPlan plan{dnnl::matmul(pd), pd.weights_desc(), memory(acc_md, Engine()),
                        std::nullopt,     std::nullopt,      std::nullopt};
    // Unsigned activations go to the kInt8Narrow primitive as they are.
    const bool as_is =
        mode_ == Int8Compute::kInt8 || (mode_ == Int8Compute::kInt8Narrow && a_type_ == DataType::kUint8);
    if (!as_is) plan.a.emplace(a_md, Engine());
    if (mode_ == Int8Compute::kExactFloat) {
      plan.to_float = MakeReorder(memory::desc({rows, k_}, DnnlType(a_type_), Dims{k_, 1}), a_md);
    }
    if (mode_ == Int8Compute::kInt8Split) {
      plan.a_hi.emplace(a_md, Engine());
      plan.acc_lo.emplace(acc_md, Engine());
    }
    packed_.Get(user_b_, plan.b_md);
    return &plans_.emplace(key, std::move(plan)).first->second;
  }

  // The raw products into plan.acc (and acc_lo).
  void Compute(const memory& a_mem, Int8MatMulPlan& plan) {
    if (plan.a && mode_ == Int8Compute::kExactFloat) {
      ExecuteReorder(*plan.to_float, a_mem, *plan.a);
    } else if (plan.a) {  // u8 modes: a prepared copy
      const auto n = static_cast<int64_t>(a_mem.get_desc().get_size());
      PrepareU8Activations(mode_, a_type_ == DataType::kInt8,
                           static_cast<const uint8_t*>(a_mem.get_data_handle()),
                           static_cast<uint8_t*>(plan.a->get_data_handle()),
                           plan.a_hi ? static_cast<uint8_t*>(plan.a_hi->get_data_handle()) : nullptr, n);
    }
    const memory& w = packed_.Get(user_b_, plan.b_md);
    const memory& a = plan.a ? *plan.a : a_mem;
    if (plan.a_hi) {
      plan.prim.execute(Stream(),
                        {{DNNL_ARG_SRC, *plan.a_hi}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, plan.acc}});
      plan.prim.execute(Stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, *plan.acc_lo}});
    } else {
      plan.prim.execute(Stream(), {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, plan.acc}});
    }
    Stream().wait();
  }

  DataType a_type_;
  Int8Compute mode_;
  Int8Params p_;
  int64_t k_ = 0, n_ = 0;
  memory user_b_;
  std::vector<int32_t> corr_;  // [N]
  PackedWeights packed_;
  std::map<std::vector<int64_t>, Int8MatMulPlan> plans_;  // by PlanKey({rows})
  std::mutex mu_;
};

bool TransB(const OpContext& ctx) {
  return ctx.node.op_type == "QcalQMatMul" && ctx.node.attrs.GetInt("trans_b", 0) != 0;
}

Int8Compute ModeFor(const OpContext& ctx) {
  const Tensor& b = *ctx.constant(kB);
  const bool trans_b = TransB(ctx);
  // One row (a classifier at batch 1) is a matrix-vector product bound by reading B:
  // oneDNN's f32 GEMV streams it faster than its AVX2 int8 matmul computes it.
  const Shape& a = ctx.inputs[kA].shape;
  const bool one_row = ShapeIsStatic(a) && !a.empty() && NumElements(a) == a.back();
  return ChooseInt8Compute(ctx.inputs[kA].dtype,
                           ComputeWeightBounds(b, trans_b ? b.dim(0) : b.dim(1), trans_b), one_row);
}

// QcalQMatMul: B is 2-D by definition. QLinearMatMul: only a 2-D B, per-tensor
// A and Y parameters (the per-row forms stay on the reference kernel).
}  // namespace

bool Int8MatMulOperandsSupported(const OpContext& ctx) {
  const std::initializer_list<DataType> q = {DataType::kInt8, DataType::kUint8};
  if (!ctx.has_input(kA) || ctx.inputs[kA].shape.size() < 2) return false;
  if (ctx.inputs[kA].dtype != DataType::kInt8 && ctx.inputs[kA].dtype != DataType::kUint8) return false;
  if (!IsConstOf(ctx, kB, {DataType::kInt8}) || ctx.constant(kB)->rank() != 2) return false;
  if (!IsConstOf(ctx, kAScale, {DataType::kFloat32}) || ctx.constant(kAScale)->numel() != 1) return false;
  if (!IsConstOf(ctx, kBScale, {DataType::kFloat32}) || !AbsentOrConstScalar(ctx, kAZp) ||
      !AbsentOrZero(ctx, kBZp)) {
    return false;
  }
  if (ctx.has_input(kYScale) && !(IsConstOf(ctx, kYScale, {DataType::kFloat32}) && IsConstOf(ctx, kYZp, q) &&
                                  AbsentOrConstScalar(ctx, kYScale) && AbsentOrConstScalar(ctx, kYZp))) {
    return false;
  }
  const bool qcal_op = ctx.node.op_type == "QcalQMatMul";
  if (ctx.has_input(kBias) && (!qcal_op || !IsConstOf(ctx, kBias, {DataType::kInt32}))) return false;
  const Shape& b = ctx.constant(kB)->shape();
  return ReadInt8Params(ctx, TransB(ctx) ? b[0] : b[1], qcal_op ? kBias : -1).ok();
}

namespace {

bool SupportsInt8MatMul(const OpContext& ctx) {
  return Int8MatMulOperandsSupported(ctx) && ModeFor(ctx) != Int8Compute::kNone;
}

Result<std::unique_ptr<Kernel>> CreateInt8MatMul(const OpContext& ctx) {
  const bool qcal_op = ctx.node.op_type == "QcalQMatMul";
  const bool trans_b = TransB(ctx);
  const Shape& b = ctx.constant(kB)->shape();
  QCAL_ASSIGN_OR_RETURN(Int8Params p, ReadInt8Params(ctx, trans_b ? b[0] : b[1], qcal_op ? kBias : -1));
  auto k = std::make_unique<DnnlInt8MatMul>(ctx.inputs[kA].dtype, trans_b, ModeFor(ctx), std::move(p));
  const Shape& a = ctx.inputs[kA].shape;
  if (ShapeIsStatic(a) && !k->Prepare(NumElements(a) / a.back()).ok()) {
    return KernelRegistry::Global().CreateKernelFromProvider(ctx, "ref");  // no oneDNN implementation
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

QCAL_REGISTER_KERNEL("QcalQMatMul", kProvider, kPriority, SupportsInt8MatMul, CreateInt8MatMul);
QCAL_REGISTER_KERNEL("QLinearMatMul", kProvider, kPriority, SupportsInt8MatMul, CreateInt8MatMul);

}  // namespace qcal::dnnl_kernels
