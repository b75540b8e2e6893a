#include "frontends/caffe/caffe_builder.h"

namespace qcal::caffe_import {

std::string NetBuilder::UniqueValueName(const std::string& base) {
  std::string name = base;
  for (int i = 1; reserved_.count(name) || used_.count(name); ++i) name = base + "_" + std::to_string(i);
  used_.insert(name);
  return name;
}

std::string NetBuilder::UniqueNodeName(const std::string& base) {
  std::string name = base;
  for (int i = 1; node_names_.count(name); ++i) name = base + "_" + std::to_string(i);
  node_names_.insert(name);
  return name;
}

const Shape* NetBuilder::FindShape(const std::string& value) const {
  auto it = shapes_.find(value);
  return it == shapes_.end() ? nullptr : &it->second;
}

Result<Tensor> BlobToTensor(const caffe::BlobProto& blob, const std::string& what) {
  Shape shape;
  if (blob.has_shape()) {
    shape.assign(blob.shape().dim().begin(), blob.shape().dim().end());
  } else {
    shape = {blob.num(), blob.channels(), blob.height(), blob.width()};
  }
  for (int64_t d : shape) {
    if (d < 0) return Corrupt(what + " has a negative dimension in shape " + ShapeToString(shape));
  }
  const int64_t count = NumElements(shape);
  const bool doubles = blob.data_size() == 0 && blob.double_data_size() > 0;
  const int64_t stored = doubles ? blob.double_data_size() : blob.data_size();
  if (stored != count) {
    return Corrupt(what + " holds " + std::to_string(stored) + " values but its shape " +
                   ShapeToString(shape) + " needs " + std::to_string(count));
  }
  Tensor t(DataType::kFloat32, shape);
  float* dst = t.data<float>();
  for (int64_t i = 0; i < count; ++i) {
    dst[i] =
        doubles ? static_cast<float>(blob.double_data(static_cast<int>(i))) : blob.data(static_cast<int>(i));
  }
  return t;
}

const Shape& LayerContext::bottom_shape(size_t i) const {
  static const Shape kEmpty;
  const Shape* s = net_.FindShape(bottoms_[i]);
  return s ? *s : kEmpty;
}

std::string LayerContext::Prefix() const { return layer_.type() + " layer '" + layer_.name() + "'"; }

Status LayerContext::Error(const std::string& message) const {
  return InvalidArgument(Prefix() + ": " + message);
}

Status LayerContext::NotSupported(const std::string& message) const {
  return Unsupported(Prefix() + ": " + message);
}

Result<int64_t> LayerContext::Axis(int64_t axis, int64_t rank, std::string_view what) const {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    return Error(std::string(what) + " " + std::to_string(axis) + " is out of range for a blob of rank " +
                 std::to_string(rank));
  }
  return a;
}

Node& LayerContext::AddNode(std::string op_type, std::vector<std::string> inputs,
                            std::vector<std::string> outputs, std::string_view suffix) {
  Node node;
  node.name = net_.UniqueNodeName(suffix.empty() ? layer_.name() : layer_.name() + "/" + std::string(suffix));
  node.op_type = std::move(op_type);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  net_.graph().nodes.push_back(std::move(node));
  return net_.graph().nodes.back();
}

std::string LayerContext::AddConstant(std::string_view suffix, Tensor value) {
  std::string name = net_.UniqueValueName(layer_.name() + "/" + std::string(suffix));
  net_.SetShape(name, value.shape());
  net_.graph().initializers[name] = std::move(value);
  return name;
}

std::string LayerContext::AddInt64Constant(std::string_view suffix, const std::vector<int64_t>& values) {
  return AddConstant(suffix, Tensor::FromVector<int64_t>(values, {static_cast<int64_t>(values.size())}));
}

std::string LayerContext::NewValue(std::string_view suffix, Shape shape) {
  std::string name = net_.UniqueValueName(layer_.name() + "/" + std::string(suffix));
  net_.SetShape(name, std::move(shape));
  return name;
}

Result<Tensor> LayerContext::BlobFrom(const BlobList& blobs, size_t i, const Shape& expected,
                                      const std::string& where) {
  if (i >= blobs.size()) {
    return NotFound(where + ": the weights have " + std::to_string(blobs.size()) + " blob(s), blob " +
                    std::to_string(i) + " is missing (is the .caffemodel for this prototxt?)");
  }
  QCAL_ASSIGN_OR_RETURN(Tensor t, BlobToTensor(*blobs[i], where + ": blob " + std::to_string(i)));
  if (t.numel() != NumElements(expected)) {
    return InvalidArgument(where + ": blob " + std::to_string(i) + " has shape " + ShapeToString(t.shape()) +
                           ", expected " + ShapeToString(expected));
  }
  return t.Reshaped(expected);
}

Result<Tensor> LayerContext::Blob(size_t i, const Shape& expected, std::string_view what) const {
  return BlobFrom(blobs_, i, expected, Prefix() + " " + std::string(what));
}

Result<Tensor> LayerContext::FusedScaleBlob(size_t i, const Shape& expected, std::string_view what) const {
  std::string where =
      "Scale layer '" + (fused_scale_ ? fused_scale_->name() : std::string()) + "' " + std::string(what);
  return BlobFrom(fused_scale_blobs_, i, expected, where);
}

Result<Tensor> LayerContext::BlobAsStored(size_t i, std::string_view what) const {
  if (i >= blobs_.size()) {
    return NotFound(Prefix() + " " + std::string(what) + ": the weights have " +
                    std::to_string(blobs_.size()) + " blob(s), blob " + std::to_string(i) +
                    " is missing (is the .caffemodel for this prototxt?)");
  }
  return BlobToTensor(*blobs_[i], Prefix() + " " + std::string(what) + ": blob " + std::to_string(i));
}

}  // namespace qcal::caffe_import
