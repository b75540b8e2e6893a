#include "kernels/dnnl/dnnl_common.h"

#include <omp.h>

#include <array>
#include <cstdlib>
#include <string>

#include "kernels/threads.h"

namespace qcal::dnnl_kernels {

dnnl::engine& Engine() {
  static dnnl::engine* e = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *e;
}

dnnl::stream& Stream() {
  thread_local dnnl::stream s(Engine());
  return s;
}

void ApplyThreads() {
  thread_local int applied = -1;
  const int want = NumThreads();
  if (want == applied) return;
  // 0 = runtime default: the max the runtime started with on this thread.
  thread_local const int initial = omp_get_max_threads();
  omp_set_num_threads(want > 0 ? want : initial);
  applied = want;
}

std::vector<int64_t> PlanKey(std::vector<int64_t> dims) {
  ApplyThreads();
  dims.push_back(NumThreads());
  return dims;
}

bool AllInputsFloat32(const OpContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && ctx.inputs[i].dtype != DataType::kFloat32) return false;
  }
  return true;
}

bool HasRank(const OpContext& ctx, size_t i, size_t rank) {
  return ctx.has_input(i) && ctx.inputs[i].shape.size() == rank;
}

Dims ToDims(const Shape& s) { return Dims(s.begin(), s.end()); }

dnnl::memory::desc PlainDesc(const Dims& dims) {
  Dims strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
}

dnnl::memory::desc PlainDesc(const Dims& dims, dnnl::memory::format_tag tag) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, tag);
}

dnnl::memory::format_tag LayoutTag(Layout l) {
  using Tag = dnnl::memory::format_tag;
  static constexpr std::array<std::pair<Layout, Tag>, 4> kTags = {{{Layout::kPlain, Tag::nchw},
                                                                   {Layout::kNChw8c, Tag::nChw8c},
                                                                   {Layout::kNhwc, Tag::nhwc},
                                                                   {Layout::kNChw16c, Tag::nChw16c}}};
  for (const auto& [layout, tag] : kTags) {
    if (layout == l) return tag;
  }
  return Tag::nchw;
}

dnnl::memory::desc ActivationDesc(const Dims& d, Layout l) { return PlainDesc(d, LayoutTag(l)); }

dnnl::memory Wrap(const dnnl::memory::desc& md, const Tensor& t) {
  return dnnl::memory(md, Engine(), const_cast<void*>(t.raw()));
}
dnnl::memory Wrap(const dnnl::memory::desc& md, const float* p) {
  return dnnl::memory(md, Engine(), const_cast<float*>(p));
}
dnnl::memory Wrap(const dnnl::memory::desc& md, float* p) { return dnnl::memory(md, Engine(), p); }

void Reorder(const dnnl::memory& src, const dnnl::memory& dst) {
  dnnl::reorder(src, dst).execute(Stream(), const_cast<dnnl::memory&>(src), const_cast<dnnl::memory&>(dst));
  Stream().wait();
}

dnnl::memory ReorderTo(const dnnl::memory& src, const dnnl::memory::desc& md) {
  dnnl::memory dst(md, Engine());
  Reorder(src, dst);
  return dst;
}

dnnl::reorder MakeReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to) {
  return dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), from, Engine(), to));
}

void ExecuteReorder(dnnl::reorder& r, const dnnl::memory& from, const dnnl::memory& to) {
  r.execute(Stream(), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

BoundPrimitive::BoundPrimitive(dnnl::primitive prim, const std::vector<std::pair<int, dnnl::memory>>& args)
    : prim_(std::move(prim)) {
  for (const auto& [arg, mem] : args) {
    mems_.push_back(mem);
    args_.push_back({arg, mem.get()});
  }
}

void BoundPrimitive::Execute() const {
  dnnl::error::wrap_c_api(
      dnnl_primitive_execute(prim_.get(), Stream().get(), static_cast<int>(args_.size()), args_.data()),
      "could not execute a primitive");
}

bool IsJit(const std::string& impl_info) { return impl_info.rfind("jit", 0) == 0; }

std::string VersionString() {
  const dnnl_version_t* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (" +
         std::string(v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other") + " runtime)";
}

const dnnl::memory& PackedWeights::Get(const dnnl::memory& user, const dnnl::memory::desc& md) {
  for (const auto& [d, m] : packed_) {
    if (d == md) return m;
  }
  packed_.emplace_back(md, ReorderTo(user, md));
  return packed_.back().second;
}

}  // namespace qcal::dnnl_kernels

namespace qcal {
namespace {

// kNChw16c when oneDNN runs a typical f32 3x3 convolution (64 -> 64 channels
// at 28x28) on nChw16c with an AVX-512 JIT kernel, else kNChw8c. (Left to
// choose, oneDNN 2.6 takes its NHWC brgemm kernel on AVX-512: 1.37 ms against
// 1.19 ms on nChw16c for CIFAR ResNet-56 at 1 thread, docs/performance.md.)
Layout ProbeFloatBlockedLayout() {
  using dnnl::memory;
  try {
    const memory::dims x = {1, 64, 28, 28}, w = {64, 64, 3, 3}, one = {1, 1}, zero = {0, 0};
    const auto f32 = memory::data_type::f32;
    const memory::desc x16(x, f32, memory::format_tag::nChw16c), any_w(w, f32, memory::format_tag::any);
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      x16, any_w, x16, one, zero, one, one);
    dnnl::convolution_forward::primitive_desc pd(d, dnnl_kernels::Engine());
    const std::string impl = pd.impl_info_str();
    if (dnnl_kernels::IsJit(impl) && impl.find("avx512") != std::string::npos) return Layout::kNChw16c;
  } catch (const dnnl::error&) {
  }
  return Layout::kNChw8c;
}

Layout g_layout_override = Layout::kPlain;  // kPlain: none (ScopedFloatBlockedLayout)

}  // namespace

Layout FloatBlockedLayout() {
  if (g_layout_override != Layout::kPlain) return g_layout_override;
  static const Layout layout = [] {
    const char* env = std::getenv("QCAL_LAYOUT_BLOCK");
    if (env && std::string(env) == "8") return Layout::kNChw8c;
    if (env && std::string(env) == "16") return Layout::kNChw16c;
    return ProbeFloatBlockedLayout();
  }();
  return layout;
}

ScopedFloatBlockedLayout::ScopedFloatBlockedLayout(Layout layout) : previous_(g_layout_override) {
  g_layout_override = layout;
}
ScopedFloatBlockedLayout::~ScopedFloatBlockedLayout() { g_layout_override = previous_; }

}  // namespace qcal
