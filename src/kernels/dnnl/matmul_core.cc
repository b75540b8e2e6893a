#include "kernels/dnnl/matmul_core.h"

#include "kernels/threads.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;

// Plain strides for B's logical dims [.., K, N], with the last two swapped
// when B is stored transposed ([.., N, K]).
memory::desc UserBDesc(const MatMulShape& s) {
  if (!s.trans_b) return PlainDesc(s.b);
  const size_t r = s.b.size();
  const int64_t k = s.b[r - 2], n = s.b[r - 1];
  Dims strides(r);
  strides[r - 2] = 1;  // stored as [.., N, K]: K is contiguous
  strides[r - 1] = k;
  int64_t st = k * n;
  for (size_t i = r - 2; i-- > 0;) {
    strides[i] = st;
    st *= s.b[i];
  }
  return memory::desc(s.b, memory::data_type::f32, strides);
}

Dims BiasDims(const MatMulShape& s) {
  Dims d(s.y.size(), 1);
  d.back() = s.y.back();
  return d;
}

std::vector<int64_t> Key(const MatMulShape& s) {
  std::vector<int64_t> k(s.a.begin(), s.a.end());
  k.insert(k.end(), s.b.begin(), s.b.end());
  k.push_back(s.trans_b);
  k.push_back(s.bias);
  return k;
}

}  // namespace

Result<MatMulCore::Plan*> MatMulCore::PlanFor(const MatMulShape& s) {
  const int threads = NumThreads();
  if (last_plan_ && threads == last_threads_ && s == last_shape_) return last_plan_;
  const std::vector<int64_t> key = PlanKey(Key(s));
  auto it = plans_.find(key);
  if (it == plans_.end()) it = plans_.emplace(key, MakePlan(s)).first;
  last_plan_ = &it->second;
  last_shape_ = s;
  last_threads_ = threads;
  return last_plan_;
}

MatMulCore::Plan MatMulCore::MakePlan(const MatMulShape& s) {
  const auto f32 = memory::data_type::f32;
  // Constant B lets the primitive choose its layout; a runtime B is read in place.
  const memory::desc user_b_md = UserBDesc(s);
  const memory::desc b_md = const_b_ ? memory::desc(s.b, f32, memory::format_tag::any) : user_b_md;
  const memory::desc a_md = PlainDesc(s.a), y_md = PlainDesc(s.y), bias_md = PlainDesc(BiasDims(s));
  auto desc = s.bias ? dnnl::matmul::desc(a_md, b_md, bias_md, y_md) : dnnl::matmul::desc(a_md, b_md, y_md);
  dnnl::primitive_attr attr;
  if (s.alpha != 1.0f) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, s.alpha, 0.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd(desc, attr, Engine());
  Plan plan;
  plan.a = BoundMemory(a_md);
  plan.y = BoundMemory(y_md);
  memory b;
  if (const_b_) {
    if (!user_b_) user_b_ = Wrap(user_b_md, *const_b_);
    b = packed_.Get(*user_b_, pd.weights_desc());
  } else {
    plan.b = BoundMemory(user_b_md);
    b = plan.b.mem;
  }
  std::vector<std::pair<int, memory>> args = {
      {DNNL_ARG_SRC, plan.a.mem}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, plan.y.mem}};
  if (s.bias) {
    plan.bias = BoundMemory(bias_md);
    args.push_back({DNNL_ARG_BIAS, plan.bias.mem});
  }
  plan.prim = BoundPrimitive(dnnl::matmul(pd), args);
  return plan;
}

Status MatMulCore::Prepare(const MatMulShape& s) {
  return Guarded("matmul setup", [&]() -> Status {
    std::lock_guard<std::mutex> lock(mu_);
    return PlanFor(s).status();
  });
}

Status MatMulCore::Run(const MatMulShape& s, const float* a, const float* b, const float* bias, float* y) {
  return Guarded("matmul", [&]() -> Status {
    std::lock_guard<std::mutex> lock(mu_);
    ApplyThreads();
    QCAL_ASSIGN_OR_RETURN(Plan * plan, PlanFor(s));
    plan->a.Bind(a);
    plan->y.Bind(y);
    if (!const_b_) plan->b.Bind(b);
    if (s.bias) plan->bias.Bind(bias);
    plan->prim.Execute();
    Stream().wait();
    return Status::Ok();
  });
}

}  // namespace qcal::dnnl_kernels
