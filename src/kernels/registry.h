// Op definitions and kernel registry.
//
// Every op has one OpDef (its shape/type inference, the single source of truth
// used by the shape-inference pass, constant folding and the runtime) and one or
// more KernelDefs. The reference kernel (provider "ref", priority 0) is the
// executable spec; optimized kernels register with a higher priority and a
// `supports` predicate, and the runtime picks the highest-priority kernel that
// supports the node. Graph code never names a kernel.
//
// Registration is static (QCAL_REGISTER_OP / QCAL_REGISTER_KERNEL in the op's
// own .cc file); qcal_kernels is linked whole-archive so nothing is dropped.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "qcal/status.h"

namespace qcal {

// Type and shape of a value. Shape dims may be -1 (unknown) during static
// inference; at run time they are always concrete. dtype kUndefined marks an
// omitted optional input.
struct TensorType {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  bool present() const { return dtype != DataType::kUndefined; }
};

// What an op's inference function and a kernel's factory see.
struct OpContext {
  const Node& node;
  std::vector<TensorType> inputs;           // one per node input
  std::vector<const Tensor*> const_inputs;  // value when the input is a known constant, else nullptr
  int64_t opset = 13;

  size_t num_inputs() const { return inputs.size(); }
  bool has_input(size_t i) const { return i < inputs.size() && inputs[i].present(); }
  const Tensor* constant(size_t i) const { return i < const_inputs.size() ? const_inputs[i] : nullptr; }
  // "Conv 'conv1'": prefix for error messages.
  std::string where() const { return node.Describe(); }
};

// Computes output types/shapes (one per node output). Must not assume inputs
// are constant unless const_inputs says so; leave dims -1 when not derivable.
using InferFn = Status (*)(const OpContext& ctx, std::vector<TensorType>& outputs);

// Memory layout of a 4-D activation passed between kernels. The executor plans
// it per value (runtime/layout_plan.h): a value leaves kPlain only when its
// producer can write the value's non-plain layout and every consumer can read
// it, so reference kernels, graph outputs and observers always see kPlain.
// The non-plain layout of a value follows from its type (NonPlainLayout):
//   kPlain:   row-major NCHW, the tensor's shape is the logical [N, C, H, W].
//   kNChw8c:  float32: oneDNN's nChw8c: channels in blocks of 8, the tensor's
//             shape is the physical BlockedShape() = [N, ceil(C/8), H, W, 8];
//             channels >= C are zero padding.
//   kNhwc:    int8 / uint8 (oneDNN's int8 kernels): channels innermost, the
//             tensor's shape is the physical NhwcShape() = [N, H, W, C].
// A float32 value may instead take kNhwc when its producer ProducesFloatNhwc and
// every consumer AcceptsFloatNhwc (and kNChw8c is not possible): the float
// outputs and residual inputs of the int8 convolutions and the per-tensor
// QuantizeLinear between them, so an int8 network's residual path needs no
// reorder to NCHW and back.
//   kNChw16c: float32: oneDNN's nChw16c, blocks of 16 ([N, ceil(C/16), H, W, 16]).
// Of the two blocked float layouts a machine uses one (FloatBlockedLayout):
// the block of oneDNN's fastest f32 convolutions there.
enum class Layout : uint8_t { kPlain, kNChw8c, kNhwc, kNChw16c };
inline constexpr int64_t kLayoutBlock = 8;  // kNChw8c's block (the own AVX2 kernels' layout)
// Channels per block: 8 / 16 for the blocked float layouts, 0 for the others.
int64_t LayoutBlock(Layout l);
inline bool IsBlockedFloat(Layout l) { return l == Layout::kNChw8c || l == Layout::kNChw16c; }
// The blocked float32 layout of this machine: kNChw16c where oneDNN has AVX-512
// JIT convolutions on nChw16c, else kNChw8c. QCAL_LAYOUT_BLOCK=8 or
// 16 in the environment overrides it (A/B runs). Probed once per process;
// defined by the dnnl provider (kernels/dnnl/dnnl_common.cc).
Layout FloatBlockedLayout();
// While alive, FloatBlockedLayout() returns `layout` (tests of the kNChw8c
// kernels on AVX-512 machines; not thread-safe, tests only).
class ScopedFloatBlockedLayout {
 public:
  explicit ScopedFloatBlockedLayout(Layout layout);
  ~ScopedFloatBlockedLayout();
  ScopedFloatBlockedLayout(const ScopedFloatBlockedLayout&) = delete;
  ScopedFloatBlockedLayout& operator=(const ScopedFloatBlockedLayout&) = delete;

 private:
  Layout previous_;
};
// Physical shape of a logical NCHW shape stored as kNChw8c (block 8) or kNChw16c
// (block 16) / kNhwc / in layout l.
Shape BlockedShape(const Shape& nchw, int64_t block = kLayoutBlock);
Shape NhwcShape(const Shape& nchw);
Shape PhysicalShape(const Shape& nchw, Layout l);
// The layout a 4-D value of this dtype may take besides kPlain (kPlain: none).
Layout NonPlainLayout(DataType dtype);

class Kernel {
 public:
  virtual ~Kernel() = default;
  // inputs: one per node input, nullptr for an omitted optional input.
  // outputs: sized to the node's outputs; the kernel assigns each output tensor
  // (it may reuse the given tensor's buffer when dtype and shape match).
  virtual Status Run(const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) = 0;
  // True when Run writes every element of every output it is given. The executor
  // then passes recycled, uncleared buffers as outputs; otherwise it clears them
  // first (reference kernels may rely on zero-filled new tensors).
  virtual bool WritesAllOutputs() const { return false; }
  // In-place hint: the input whose buffer output `output` may be written into
  // (-1: none). The executor then passes that input's buffer as the output
  // when the input's value dies at this node, no other reference to the buffer
  // exists (no view, caller or other input shares it) and dtype and physical
  // shape match; the kernel must give the same result whether or not the
  // output aliases the input. Asked after SetLayouts.
  virtual int InPlaceInput(size_t /*output*/) const { return -1; }

  // Layout negotiation (see Layout). AcceptsBlocked(i): input i may arrive in
  // its non-plain layout (kNChw8c for float32, kNhwc for int8 / uint8);
  // ProducesBlocked(o): output o may be written in it. The
  // executor calls SetLayouts once after creating the kernel (also when all are
  // kPlain, so kernels may create their primitives then); a kernel that never
  // gets the call (EvaluateNode, tests) works on kPlain tensors.
  virtual bool AcceptsBlocked(size_t /*input*/) const { return false; }
  virtual bool ProducesBlocked(size_t /*output*/) const { return false; }
  // Float32 input i may arrive / output o may be written as kNhwc (see Layout).
  virtual bool AcceptsFloatNhwc(size_t /*input*/) const { return false; }
  virtual bool ProducesFloatNhwc(size_t /*output*/) const { return false; }
  // The input whose layout output `output` must share (-1: none): the planner
  // keeps both non-plain or both kPlain (an elementwise kernel that cannot
  // transpose).
  virtual int LayoutTiedInput(size_t /*output*/) const { return -1; }
  // True: all of the node's inputs and outputs get one layout (all blocked,
  // all float kNhwc or all kPlain; a kernel whose mixed-layout path is slow).
  virtual bool TiesAllLayouts() const { return false; }
  virtual Status SetLayouts(const std::vector<Layout>& inputs, const std::vector<Layout>& outputs);
};

using KernelFactory = Result<std::unique_ptr<Kernel>> (*)(const OpContext& ctx);
using SupportsFn = bool (*)(const OpContext& ctx);

struct OpDef {
  std::string_view op_type;
  InferFn infer;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: variadic
  int min_outputs = 1;
  int max_outputs = 1;  // -1: variadic
};

struct KernelDef {
  std::string_view op_type;
  std::string_view provider;  // "ref", "dnnl", ...
  int priority;               // higher wins
  SupportsFn supports;        // nullptr: supports every node of the op
  KernelFactory create;
};

class KernelRegistry {
 public:
  static KernelRegistry& Global();

  bool RegisterOp(const OpDef& def);
  bool RegisterKernel(const KernelDef& def);

  const OpDef* FindOp(std::string_view op_type) const;
  // The highest-priority kernel for the node; errors name the node and dtypes.
  Result<std::unique_ptr<Kernel>> CreateKernel(const OpContext& ctx) const;
  // The kernel of one provider ("ref", "dnnl", ...), if it is registered and
  // supports the node (agreement tests, debugging).
  Result<std::unique_ptr<Kernel>> CreateKernelFromProvider(const OpContext& ctx,
                                                           std::string_view provider) const;
  // Provider name of the kernel CreateKernel would pick (for logs/tests), "" if none.
  std::string_view SelectedProvider(const OpContext& ctx) const;
  // Sorted list of registered op types.
  std::vector<std::string> OpTypes() const;
  // Kernels registered for an op, highest priority first.
  std::vector<const KernelDef*> KernelsFor(std::string_view op_type) const;

  // Disables / re-enables every kernel of a provider except "ref" for CreateKernel
  // and SelectedProvider (benchmarks, debugging a suspected optimized kernel).
  // Call before creating executors; not synchronized with concurrent kernel creation.
  void SetProviderEnabled(std::string_view provider, bool enabled);
  bool ProviderEnabled(std::string_view provider) const;

  // Runs the op's inference and checks input/output counts.
  Status Infer(const OpContext& ctx, std::vector<TensorType>& outputs) const;

 private:
  std::unordered_map<std::string, OpDef> ops_;
  std::unordered_map<std::string, std::vector<KernelDef>> kernels_;
  std::vector<std::string> disabled_providers_;
};

// Wraps a stateless function as a Kernel; most reference kernels use this.
// writes_all_outputs: the function writes every output element (Kernel::WritesAllOutputs).
using KernelFn = Status (*)(const Node& node, const std::vector<const Tensor*>& inputs,
                            std::vector<Tensor>& outputs);
std::unique_ptr<Kernel> MakeFunctionKernel(const Node& node, KernelFn fn, bool writes_all_outputs = false);

// Convenience: run one node once (constant folding, tests). Infers nothing;
// picks the best kernel for the given input tensors.
Result<std::vector<Tensor>> EvaluateNode(const Node& node, const std::vector<const Tensor*>& inputs,
                                         int64_t opset = 13);

}  // namespace qcal

#define QCAL_REGISTER_OP(...)                                               \
  static const bool QCAL_CONCAT(_qcal_op_reg_, __LINE__) [[maybe_unused]] = \
      ::qcal::KernelRegistry::Global().RegisterOp(::qcal::OpDef{__VA_ARGS__})
#define QCAL_REGISTER_KERNEL(...)                                               \
  static const bool QCAL_CONCAT(_qcal_kernel_reg_, __LINE__) [[maybe_unused]] = \
      ::qcal::KernelRegistry::Global().RegisterKernel(::qcal::KernelDef{__VA_ARGS__})
