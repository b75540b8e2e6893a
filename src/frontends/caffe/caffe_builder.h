// Internal to the Caffe frontend: the graph under construction (NetBuilder) and
// the view a layer converter gets of one layer (LayerContext).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caffe.pb.h"
#include "ir/graph.h"

namespace qcal::caffe_import {

// Shared state of one import: the Graph, name allocation and the static shape
// of every value (shapes use the batch size the prototxt declares).
class NetBuilder {
 public:
  Graph& graph() { return graph_; }

  // Caffe blob names: SSA values other than a blob's own version never take them.
  void ReserveName(const std::string& name) { reserved_.insert(name); }
  // Claims `name` exactly (it must be free); used for blob versions named like the blob.
  void ClaimValueName(const std::string& name) { used_.insert(name); }
  // A fresh value/initializer name derived from `base`.
  std::string UniqueValueName(const std::string& base);
  std::string UniqueNodeName(const std::string& base);

  void SetShape(const std::string& value, Shape shape) { shapes_[value] = std::move(shape); }
  const Shape* FindShape(const std::string& value) const;

 private:
  Graph graph_;
  std::unordered_set<std::string> reserved_;
  std::unordered_set<std::string> used_;
  std::unordered_set<std::string> node_names_;
  std::unordered_map<std::string, Shape> shapes_;
};

using BlobList = std::vector<const caffe::BlobProto*>;

// Converts a BlobProto (modern `shape` or legacy num/channels/height/width,
// float or double data) to a float32 tensor. `what` names it in errors.
Result<Tensor> BlobToTensor(const caffe::BlobProto& blob, const std::string& what);

// One layer being converted. Bottom/top value names are already resolved to
// SSA names by the importer; the converter emits nodes and sets top shapes.
class LayerContext {
 public:
  LayerContext(NetBuilder& net, const caffe::LayerParameter& layer, std::vector<std::string> bottoms,
               std::vector<std::string> tops, BlobList blobs)
      : net_(net),
        layer_(layer),
        bottoms_(std::move(bottoms)),
        tops_(std::move(tops)),
        blobs_(std::move(blobs)) {}

  const caffe::LayerParameter& layer() const { return layer_; }
  const std::string& name() const { return layer_.name(); }

  size_t num_bottoms() const { return bottoms_.size(); }
  const std::string& bottom(size_t i) const { return bottoms_[i]; }
  const Shape& bottom_shape(size_t i) const;
  int64_t bottom_rank(size_t i) const { return static_cast<int64_t>(bottom_shape(i).size()); }
  size_t num_tops() const { return tops_.size(); }
  const std::string& top(size_t i) const { return tops_[i]; }
  void SetTopShape(size_t i, Shape shape) { net_.SetShape(tops_[i], std::move(shape)); }

  // Emits a node. An empty `suffix` names it exactly like the layer (the main
  // node); helper nodes are named "<layer>/<suffix>".
  Node& AddNode(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                std::string_view suffix = {});
  // Adds an initializer named "<layer>/<suffix>" (made unique); returns its name.
  std::string AddConstant(std::string_view suffix, Tensor value);
  std::string AddInt64Constant(std::string_view suffix, const std::vector<int64_t>& values);
  // A fresh intermediate value name "<layer>/<suffix>", with its shape recorded.
  std::string NewValue(std::string_view suffix, Shape shape);

  size_t num_blobs() const { return blobs_.size(); }
  // Trained blob `i` as a float tensor reshaped to `expected`; errors name the
  // layer and blob when it is missing or has the wrong number of elements.
  Result<Tensor> Blob(size_t i, const Shape& expected, std::string_view what) const;
  // Blob `i` with the shape stored in the file.
  Result<Tensor> BlobAsStored(size_t i, std::string_view what) const;

  // "<Type> layer '<name>': <message>" as InvalidArgument / Unsupported.
  Status Error(const std::string& message) const;
  Status NotSupported(const std::string& message) const;
  // Normalizes a Caffe axis (negative counts from the end) against `rank`.
  Result<int64_t> Axis(int64_t axis, int64_t rank, std::string_view what) const;

  // Set when a following Scale layer is folded into this BatchNorm.
  void SetFusedScale(const caffe::LayerParameter* scale, BlobList blobs) {
    fused_scale_ = scale;
    fused_scale_blobs_ = std::move(blobs);
  }
  const caffe::LayerParameter* fused_scale() const { return fused_scale_; }
  // Blob `i` of the folded Scale layer, like Blob().
  Result<Tensor> FusedScaleBlob(size_t i, const Shape& expected, std::string_view what) const;

 private:
  std::string Prefix() const;
  static Result<Tensor> BlobFrom(const BlobList& blobs, size_t i, const Shape& expected,
                                 const std::string& where);

  NetBuilder& net_;
  const caffe::LayerParameter& layer_;
  std::vector<std::string> bottoms_;
  std::vector<std::string> tops_;
  BlobList blobs_;
  const caffe::LayerParameter* fused_scale_ = nullptr;
  BlobList fused_scale_blobs_;
};

}  // namespace qcal::caffe_import
