#include "exporters/onnx_writer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include "base/file.h"

namespace qcal {
namespace {

void FillTensor(const std::string& name, const Tensor& t, onnx::TensorProto* p) {
  p->set_name(name);
  p->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) p->add_dims(d);
  p->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

void FillValueInfo(const ValueInfo& v, onnx::ValueInfoProto* p) {
  p->set_name(v.name);
  auto* tt = p->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.dtype));
  if (!v.shape) return;
  auto* shape = tt->mutable_shape();
  for (int64_t d : *v.shape) {
    auto* dim = shape->add_dim();
    if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

struct AttrWriter {
  onnx::AttributeProto* p;
  void operator()(int64_t v) const {
    p->set_type(onnx::AttributeProto::INT);
    p->set_i(v);
  }
  void operator()(float v) const {
    p->set_type(onnx::AttributeProto::FLOAT);
    p->set_f(v);
  }
  void operator()(const std::string& v) const {
    p->set_type(onnx::AttributeProto::STRING);
    p->set_s(v);
  }
  void operator()(const std::vector<int64_t>& v) const {
    p->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) p->add_ints(x);
  }
  void operator()(const std::vector<float>& v) const {
    p->set_type(onnx::AttributeProto::FLOATS);
    for (auto x : v) p->add_floats(x);
  }
  void operator()(const std::vector<std::string>& v) const {
    p->set_type(onnx::AttributeProto::STRINGS);
    for (const auto& x : v) p->add_strings(x);
  }
  void operator()(const Tensor& t) const {
    p->set_type(onnx::AttributeProto::TENSOR);
    FillTensor("", t, p->mutable_t());
  }
};

Status CheckExportable(const Graph& g, int64_t opset) {
  if (g.opset >= 13 || opset < 13) return Status::Ok();
  for (const auto& n : g.nodes) {
    // Softmax before opset 13 flattens to 2-D at `axis`; it matches opset 13 only on the last axis.
    if (n.op_type != "Softmax") continue;
    const ValueInfo* vi = g.FindValueInfo(n.inputs[0]);
    int64_t axis = n.attrs.GetInt("axis", 1);
    int64_t rank = vi && vi->shape ? static_cast<int64_t>(vi->shape->size()) : -1;
    if (rank < 0 || (axis != -1 && axis != rank - 1)) {
      return Unsupported("cannot export " + n.Describe() + " from opset " + std::to_string(g.opset) +
                         " to opset 13: its axis is not the last one");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> SerializeOnnx(const Graph& graph, const OnnxWriteOptions& options) {
  int64_t opset = std::max(graph.opset, options.min_opset);
  QCAL_RETURN_IF_ERROR(CheckExportable(graph, opset));
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name(options.producer_name);
  model.set_producer_version(QCAL_VERSION);
  if (!options.doc_string.empty()) model.set_doc_string(options.doc_string);
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph.name.empty() ? "qcal" : graph.name);
  for (const auto& v : graph.inputs) FillValueInfo(v, g->add_input());
  for (const auto& v : graph.outputs) FillValueInfo(v, g->add_output());
  for (const auto& [name, t] : graph.initializers) FillTensor(name, t, g->add_initializer());
  for (const auto& n : graph.nodes) {
    onnx::NodeProto* p = g->add_node();
    p->set_name(n.name);
    p->set_op_type(n.op_type);
    if (!n.domain.empty()) p->set_domain(n.domain);
    for (const auto& in : n.inputs) p->add_input(in);
    for (const auto& out : n.outputs) p->add_output(out);
    for (const auto& [key, value] : n.attrs.all()) {
      onnx::AttributeProto* a = p->add_attribute();
      a->set_name(key);
      std::visit(AttrWriter{a}, value);
    }
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream sos(&bytes);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    if (!model.SerializeToCodedStream(&cos)) return Internal("failed to serialize ONNX model '" + graph.name + "'");
  }
  return bytes;
}

Status WriteOnnxFile(const Graph& graph, const std::string& path, const OnnxWriteOptions& options) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, SerializeOnnx(graph, options));
  return WriteFileAtomic(path, bytes);
}

}  // namespace qcal
