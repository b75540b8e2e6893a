#include "frontends/caffe/caffe_proto_io.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <climits>
#include <utility>
#include <vector>

#include "base/log.h"

namespace qcal::caffe_import {
namespace {

// Collects text-format diagnostics as "origin:line:column: message" (1-based).
class TextErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit TextErrorCollector(std::string origin) : origin_(std::move(origin)) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first_error_.empty()) first_error_ = Where(line, column) + message;
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    warnings_.push_back(Where(line, column) + message);
  }

  const std::string& first_error() const { return first_error_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::string Where(int line, int column) const {
    return origin_ + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": ";
  }

  std::string origin_;
  std::string first_error_;
  std::vector<std::string> warnings_;
};

struct V1TypeName {
  caffe::V1LayerParameter::LayerType type;
  const char* name;
};

// V1 enum -> current type string (as Caffe's UpgradeV1LayerType does).
constexpr V1TypeName kV1TypeNames[] = {
    {caffe::V1LayerParameter::ABSVAL, "AbsVal"},
    {caffe::V1LayerParameter::ACCURACY, "Accuracy"},
    {caffe::V1LayerParameter::ARGMAX, "ArgMax"},
    {caffe::V1LayerParameter::BNLL, "BNLL"},
    {caffe::V1LayerParameter::CONCAT, "Concat"},
    {caffe::V1LayerParameter::CONTRASTIVE_LOSS, "ContrastiveLoss"},
    {caffe::V1LayerParameter::CONVOLUTION, "Convolution"},
    {caffe::V1LayerParameter::DATA, "Data"},
    {caffe::V1LayerParameter::DECONVOLUTION, "Deconvolution"},
    {caffe::V1LayerParameter::DROPOUT, "Dropout"},
    {caffe::V1LayerParameter::DUMMY_DATA, "DummyData"},
    {caffe::V1LayerParameter::EUCLIDEAN_LOSS, "EuclideanLoss"},
    {caffe::V1LayerParameter::ELTWISE, "Eltwise"},
    {caffe::V1LayerParameter::EXP, "Exp"},
    {caffe::V1LayerParameter::FLATTEN, "Flatten"},
    {caffe::V1LayerParameter::HDF5_DATA, "HDF5Data"},
    {caffe::V1LayerParameter::HDF5_OUTPUT, "HDF5Output"},
    {caffe::V1LayerParameter::HINGE_LOSS, "HingeLoss"},
    {caffe::V1LayerParameter::IM2COL, "Im2col"},
    {caffe::V1LayerParameter::IMAGE_DATA, "ImageData"},
    {caffe::V1LayerParameter::INFOGAIN_LOSS, "InfogainLoss"},
    {caffe::V1LayerParameter::INNER_PRODUCT, "InnerProduct"},
    {caffe::V1LayerParameter::LRN, "LRN"},
    {caffe::V1LayerParameter::MEMORY_DATA, "MemoryData"},
    {caffe::V1LayerParameter::MULTINOMIAL_LOGISTIC_LOSS, "MultinomialLogisticLoss"},
    {caffe::V1LayerParameter::MVN, "MVN"},
    {caffe::V1LayerParameter::POOLING, "Pooling"},
    {caffe::V1LayerParameter::POWER, "Power"},
    {caffe::V1LayerParameter::RELU, "ReLU"},
    {caffe::V1LayerParameter::SIGMOID, "Sigmoid"},
    {caffe::V1LayerParameter::SIGMOID_CROSS_ENTROPY_LOSS, "SigmoidCrossEntropyLoss"},
    {caffe::V1LayerParameter::SILENCE, "Silence"},
    {caffe::V1LayerParameter::SOFTMAX, "Softmax"},
    {caffe::V1LayerParameter::SOFTMAX_LOSS, "SoftmaxWithLoss"},
    {caffe::V1LayerParameter::SPLIT, "Split"},
    {caffe::V1LayerParameter::SLICE, "Slice"},
    {caffe::V1LayerParameter::TANH, "TanH"},
    {caffe::V1LayerParameter::WINDOW_DATA, "WindowData"},
    {caffe::V1LayerParameter::THRESHOLD, "Threshold"},
};

const char* V1TypeToName(caffe::V1LayerParameter::LayerType type) {
  for (const auto& t : kV1TypeNames) {
    if (t.type == type) return t.name;
  }
  return nullptr;
}

// Copies the layer-specific parameter messages a V1 layer can carry.
void CopyV1Params(const caffe::V1LayerParameter& v1, caffe::LayerParameter* l) {
#define QCAL_COPY_PARAM(field) \
  if (v1.has_##field()) *l->mutable_##field() = v1.field()
  QCAL_COPY_PARAM(accuracy_param);
  QCAL_COPY_PARAM(argmax_param);
  QCAL_COPY_PARAM(concat_param);
  QCAL_COPY_PARAM(convolution_param);
  QCAL_COPY_PARAM(data_param);
  QCAL_COPY_PARAM(dropout_param);
  QCAL_COPY_PARAM(eltwise_param);
  QCAL_COPY_PARAM(exp_param);
  QCAL_COPY_PARAM(inner_product_param);
  QCAL_COPY_PARAM(lrn_param);
  QCAL_COPY_PARAM(pooling_param);
  QCAL_COPY_PARAM(power_param);
  QCAL_COPY_PARAM(relu_param);
  QCAL_COPY_PARAM(sigmoid_param);
  QCAL_COPY_PARAM(softmax_param);
  QCAL_COPY_PARAM(slice_param);
  QCAL_COPY_PARAM(tanh_param);
  QCAL_COPY_PARAM(threshold_param);
  QCAL_COPY_PARAM(transform_param);
  QCAL_COPY_PARAM(loss_param);
#undef QCAL_COPY_PARAM
}

}  // namespace

Result<caffe::NetParameter> ParseNetText(std::string_view text, const std::string& origin) {
  google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  TextErrorCollector errors(origin);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  // Layer parameters qcal does not model (fillers of exotic layers, solver-only
  // fields, fork extensions) are skipped with a warning instead of failing.
  parser.AllowUnknownField(true);
  caffe::NetParameter net;
  if (!parser.Parse(&input, &net)) {
    std::string msg =
        errors.first_error().empty() ? origin + ": not a valid Caffe prototxt" : errors.first_error();
    return Corrupt(msg);
  }
  for (const auto& w : errors.warnings()) LogWarning(w + " (ignored)");
  return net;
}

Result<caffe::NetParameter> ParseNetBinary(std::string_view bytes, const std::string& origin) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return OutOfRange(origin + ": " + std::to_string(bytes.size()) + " bytes is above protobuf's 2 GB limit");
  }
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  input.SetTotalBytesLimit(INT_MAX);
  caffe::NetParameter net;
  if (!net.ParseFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
    return Corrupt(origin + ": not a binary Caffe NetParameter (.caffemodel); protobuf parsing failed");
  }
  return net;
}

Status UpgradeV1Layers(caffe::NetParameter* net, const std::string& origin, bool require_types) {
  if (net->layers_size() == 0) return Status::Ok();
  if (net->layer_size() != 0) {
    return InvalidArgument(origin + ": mixes current `layer {}` and legacy V1 `layers {}` entries");
  }
  for (const auto& v1 : net->layers()) {
    caffe::LayerParameter* l = net->add_layer();
    const char* type = V1TypeToName(v1.type());
    if (type == nullptr && require_types) {
      return Unsupported(origin + ": V1 layer '" + v1.name() + "' has layer type number " +
                         std::to_string(static_cast<int>(v1.type())) + ", which qcal does not know");
    }
    l->set_name(v1.name());
    l->set_type(type ? type : "");
    *l->mutable_bottom() = v1.bottom();
    *l->mutable_top() = v1.top();
    *l->mutable_include() = v1.include();
    *l->mutable_exclude() = v1.exclude();
    *l->mutable_blobs() = v1.blobs();
    *l->mutable_loss_weight() = v1.loss_weight();
    CopyV1Params(v1, l);
  }
  net->clear_layers();
  return Status::Ok();
}

void NameUnnamedLayers(caffe::NetParameter* net) {
  for (int i = 0; i < net->layer_size(); ++i) {
    caffe::LayerParameter* l = net->mutable_layer(i);
    if (l->name().empty()) l->set_name(l->type() + "_" + std::to_string(i));
  }
}

}  // namespace qcal::caffe_import
