// Helpers for Caffe frontend tests: build small .caffemodel files with the
// generated caffe.pb.h classes and import them together with a prototxt text.
#pragma once

#include <string>
#include <vector>

#include "caffe.pb.h"
#include "frontends/caffe/caffe_importer.h"

namespace qcal::testing {

// A blob with the modern `shape {dim}` or (legacy) num/channels/height/width,
// the legacy shape right-aligned into 4 dims as old Caffe wrote it.
inline caffe::BlobProto MakeBlob(const std::vector<int64_t>& shape, const std::vector<float>& data,
                                 bool legacy = false) {
  caffe::BlobProto b;
  if (legacy) {
    std::vector<int64_t> s4(4, 1);
    for (size_t i = 0; i < shape.size(); ++i) s4[4 - shape.size() + i] = shape[i];
    b.set_num(static_cast<int32_t>(s4[0]));
    b.set_channels(static_cast<int32_t>(s4[1]));
    b.set_height(static_cast<int32_t>(s4[2]));
    b.set_width(static_cast<int32_t>(s4[3]));
  } else {
    for (int64_t d : shape) b.mutable_shape()->add_dim(d);
  }
  for (float v : data) b.add_data(v);
  return b;
}

// Adds a (new-style) weights layer with the given blobs.
inline caffe::LayerParameter* AddWeights(caffe::NetParameter* net, const std::string& name,
                                         const std::vector<caffe::BlobProto>& blobs) {
  caffe::LayerParameter* l = net->add_layer();
  l->set_name(name);
  for (const auto& b : blobs) *l->add_blobs() = b;
  return l;
}

inline Result<Graph> ImportText(const std::string& prototxt, const caffe::NetParameter& weights) {
  std::string bytes;
  weights.SerializeToString(&bytes);
  return ImportCaffeBuffers(prototxt, "test.prototxt", bytes, "test.caffemodel");
}

inline std::vector<float> Iota(size_t n, float start = 0.f, float step = 1.f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>(i);
  return v;
}

}  // namespace qcal::testing
