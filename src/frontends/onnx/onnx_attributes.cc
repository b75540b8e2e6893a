// ONNX AttributeProto -> qcal Attribute (INT, FLOAT, STRING, INTS, FLOATS,
// STRINGS, TENSOR). Graph, sparse and type attributes are not supported.
#include <string_view>

#include "frontends/onnx/onnx_internal.h"

namespace qcal::onnx_import {
namespace {

using AP = onnx::AttributeProto;

// Old exporters sometimes leave AttributeProto.type unset; infer it from the
// field that holds a value.
AP::AttributeType InferKind(const AP& a) {
  if (a.type() != AP::UNDEFINED) return a.type();
  if (a.has_f()) return AP::FLOAT;
  if (a.has_i()) return AP::INT;
  if (a.has_s()) return AP::STRING;
  if (a.has_t()) return AP::TENSOR;
  if (a.has_g()) return AP::GRAPH;
  if (a.has_sparse_tensor()) return AP::SPARSE_TENSOR;
  if (a.floats_size()) return AP::FLOATS;
  if (a.ints_size()) return AP::INTS;
  if (a.strings_size()) return AP::STRINGS;
  if (a.tensors_size()) return AP::TENSORS;
  if (a.graphs_size()) return AP::GRAPHS;
  return AP::UNDEFINED;
}

struct UnsupportedKind {
  AP::AttributeType kind;
  std::string_view what;
};
constexpr UnsupportedKind kUnsupportedKinds[] = {
    {AP::GRAPH, "a subgraph (control flow)"},
    {AP::GRAPHS, "a list of subgraphs"},
    {AP::TENSORS, "a list of tensors"},
    {AP::SPARSE_TENSOR, "a sparse tensor"},
    {AP::SPARSE_TENSORS, "a list of sparse tensors"},
    {AP::TYPE_PROTO, "a type"},
    {AP::TYPE_PROTOS, "a list of types"},
};

}  // namespace

Result<Attribute> AttributeFromProto(const AP& a, const std::string& where) {
  std::string ctx = where + ": attribute '" + a.name() + "'";
  if (!a.ref_attr_name().empty()) {
    return Unsupported(ctx + " refers to a function attribute ('" + a.ref_attr_name() +
                       "'); functions are not supported");
  }
  AP::AttributeType kind = InferKind(a);
  switch (kind) {
    case AP::FLOAT: return Attribute(a.f());
    case AP::INT: return Attribute(static_cast<int64_t>(a.i()));
    case AP::STRING: return Attribute(a.s());
    case AP::FLOATS: return Attribute(std::vector<float>(a.floats().begin(), a.floats().end()));
    case AP::INTS: return Attribute(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case AP::STRINGS: return Attribute(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case AP::TENSOR: {
      QCAL_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(a.t(), ctx));
      return Attribute(std::move(t));
    }
    default: break;
  }
  for (const auto& u : kUnsupportedKinds) {
    if (u.kind == kind) return Unsupported(ctx + " is " + std::string(u.what) + ", which qcal does not support");
  }
  return Corrupt(ctx + " has no value (attribute type " + std::to_string(static_cast<int>(a.type())) + ")");
}

}  // namespace qcal::onnx_import
