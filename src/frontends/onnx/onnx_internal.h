// Internals of the ONNX frontend shared between its files. Only the frontend
// includes this header (it pulls in libonnx's generated protobuf classes).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <string_view>

#include "ir/attribute.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace qcal::onnx_import {

// Highest ai.onnx opset the importer accepts.
inline constexpr int64_t kMaxOpset = 21;

// Converts a TensorProto. `where` names the tensor's context in errors
// (e.g. "initializer 'conv1.weight' in model.onnx").
Result<Tensor> TensorFromProto(const onnx::TensorProto& proto, const std::string& where);

// Parses any protobuf message from bytes with a 2 GiB limit; false on failure
// or when the bytes are not consumed entirely.
bool ParseMessage(std::string_view bytes, google::protobuf::MessageLite* message);

// Converts one node attribute. `where` is the node description ("Conv 'c1'").
Result<Attribute> AttributeFromProto(const onnx::AttributeProto& attr, const std::string& where);

// Turns Constant nodes into initializers (value, value_float(s), value_int(s)).
Status ConstantNodesToInitializers(Graph& graph);

// Rewrites old-opset node forms into the canonical forms of docs/ops.md
// (attribute-to-input moves, Upsample -> Resize, legacy broadcasting) and drops
// legacy attributes. Expects Constant nodes already turned into initializers.
Status RewriteLegacyForms(Graph& graph);

}  // namespace qcal::onnx_import
