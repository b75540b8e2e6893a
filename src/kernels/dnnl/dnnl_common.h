// Shared plumbing for the oneDNN kernels (provider "dnnl"): the CPU engine, a
// per-thread stream, the thread setting, tensor <-> dnnl::memory wrapping and
// exception-to-Status conversion (oneDNN's C++ API throws dnnl::error; nothing
// may escape a kernel).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <utility>
#include <vector>

#include "kernels/registry.h"

namespace qcal::dnnl_kernels {

inline constexpr std::string_view kProvider = "dnnl";
// Above the reference kernels (priority 0).
inline constexpr int kPriority = 10;

dnnl::engine& Engine();
// A stream for the calling thread (streams are not shared between threads).
dnnl::stream& Stream();
// Applies qcal::NumThreads() to the OpenMP runtime of the calling thread (cheap when unchanged).
void ApplyThreads();

// Key of a per-shape primitive cache entry: `dims` plus the thread setting.
// oneDNN fixes a primitive's thread count when the primitive is created, so a
// primitive made at 2 threads keeps forking 2 OpenMP threads after --threads 1
// (and burns CPU in barriers on a loaded machine). Also applies the setting to
// the calling thread, so the primitive created for the key uses it.
std::vector<int64_t> PlanKey(std::vector<int64_t> dims);

// True when every present input of the node is float32.
bool AllInputsFloat32(const OpContext& ctx);
// True when the input i is present and its shape has the given rank.
bool HasRank(const OpContext& ctx, size_t i, size_t rank);

using Dims = dnnl::memory::dims;
Dims ToDims(const Shape& s);
// A plain (row-major) float32 descriptor.
dnnl::memory::desc PlainDesc(const Dims& dims);
dnnl::memory::desc PlainDesc(const Dims& dims, dnnl::memory::format_tag tag);
// oneDNN's format tag of a 4-D activation held in layout `l` (kPlain: nchw).
dnnl::memory::format_tag LayoutTag(Layout l);
// The descriptor of a float32 4-D activation of logical dims `d` held in layout `l`.
dnnl::memory::desc ActivationDesc(const Dims& d, Layout l);
// Wraps tensor storage without copying (oneDNN takes non-const pointers; inputs are only read).
dnnl::memory Wrap(const dnnl::memory::desc& md, const Tensor& t);
dnnl::memory Wrap(const dnnl::memory::desc& md, const float* p);
dnnl::memory Wrap(const dnnl::memory::desc& md, float* p);

// Copies/reorders src into a new memory of layout `md` (a one-time weight reorder).
dnnl::memory ReorderTo(const dnnl::memory& src, const dnnl::memory::desc& md);
// Reorders src into dst (both existing memories).
void Reorder(const dnnl::memory& src, const dnnl::memory& dst);

// A reorder primitive (cache it: creating one per call costs more than small reorders).
dnnl::reorder MakeReorder(const dnnl::memory::desc& from, const dnnl::memory::desc& to);
// Enqueues r on the calling thread's stream (no wait).
void ExecuteReorder(dnnl::reorder& r, const dnnl::memory& from, const dnnl::memory& to);

// A primitive with its arguments bound once. Execute() enqueues it on the
// calling thread's stream through oneDNN's C API with a prebuilt argument
// array: the C++ execute() builds a map and a vector per call. Callers swap
// tensor storage with BoundMemory::Bind (the bound dnnl::memory objects share
// their handle with the caller's copies).
class BoundPrimitive {
 public:
  BoundPrimitive() = default;
  BoundPrimitive(dnnl::primitive prim, const std::vector<std::pair<int, dnnl::memory>>& args);
  explicit operator bool() const { return static_cast<bool>(prim_); }
  // Throws dnnl::error on failure (run it inside Guarded).
  void Execute() const;

 private:
  dnnl::primitive prim_;
  std::vector<dnnl::memory> mems_;  // keeps the argument handles alive
  std::vector<dnnl_exec_arg_t> args_;
};

// A dnnl::memory whose data pointer is rebound per run; Bind only calls into
// oneDNN when the pointer changes (the executor's pool often hands out the same buffers).
struct BoundMemory {
  dnnl::memory mem;
  const void* bound = nullptr;

  BoundMemory() = default;
  explicit BoundMemory(const dnnl::memory::desc& md) : mem(md, Engine(), nullptr) {}
  void Bind(const void* p) {
    if (p == bound) return;
    mem.set_data_handle(const_cast<void*>(p));
    bound = p;
  }
};

// Runs f(), turning a dnnl::error or std::exception into an Internal status naming `what`.
template <typename F>
Status Guarded(const char* what, F&& f) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN ") + what + " failed: " + e.what() + " (status " +
                    std::to_string(static_cast<int>(e.status)) + ")");
  } catch (const std::exception& e) {
    return Internal(std::string("oneDNN ") + what + " failed: " + e.what());
  }
}

// True for oneDNN's JIT implementations ("jit:avx2", "jit_1x1:avx2", ...), as
// opposed to its generic loops ("ref:any", "simple_nchw:any", "gemm:jit").
bool IsJit(const std::string& impl_info);

// "<provider> (oneDNN v.m.p, <runtime>)" for logs.
std::string VersionString();

// Keeps one prepacked copy per distinct weight layout: primitives for different
// input shapes usually want the same layout, so the reorder is done once.
class PackedWeights {
 public:
  // Returns the weights in layout `md`, reordering `user` on first request.
  const dnnl::memory& Get(const dnnl::memory& user, const dnnl::memory::desc& md);

 private:
  std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> packed_;
};

}  // namespace qcal::dnnl_kernels
