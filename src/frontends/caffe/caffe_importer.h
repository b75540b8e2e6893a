// Caffe (.prototxt + .caffemodel) -> qcal IR.
//
// The prototxt may use the current `layer {}` or the legacy V1 `layers {}` form,
// and the .caffemodel either form independently; weights are matched to
// prototxt layers by layer name. Layers become ONNX-style nodes (opset 13); the
// main node of each layer keeps the layer's name. In-place layers are renamed
// into SSA values: the LAST version of a Caffe blob keeps the blob's name (as
// Caffe's net.blobs shows it after Forward), earlier versions are named
// "<blob>/<writing layer>".
#pragma once

#include <string>
#include <string_view>

#include "ir/graph.h"

namespace qcal {

// Reads and converts a network definition and its trained weights.
Result<Graph> ImportCaffeFiles(const std::string& prototxt_path, const std::string& caffemodel_path);

// Same, from memory: `prototxt` is protobuf text, `caffemodel` binary NetParameter
// bytes. The origins name the sources in error messages.
Result<Graph> ImportCaffeBuffers(std::string_view prototxt, const std::string& prototxt_origin,
                                 std::string_view caffemodel, const std::string& caffemodel_origin);

}  // namespace qcal
