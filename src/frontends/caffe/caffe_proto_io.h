// Parsing Caffe NetParameter files (text prototxt and binary caffemodel) and
// upgrading legacy V1 layers to the current LayerParameter form.
#pragma once

#include <string>
#include <string_view>

#include "caffe.pb.h"
#include "qcal/status.h"

namespace qcal::caffe_import {

// Parses protobuf text. Syntax errors report "origin:line:column: message".
Result<caffe::NetParameter> ParseNetText(std::string_view text, const std::string& origin);
// Parses binary protobuf (no 64 MB limit).
Result<caffe::NetParameter> ParseNetBinary(std::string_view bytes, const std::string& origin);

// Moves V1 `layers` into `layer` (type names, params and blobs carried over).
// With `require_types` (network definitions) a V1 type qcal cannot name is an
// error naming the layer; weights files only need names and blobs.
Status UpgradeV1Layers(caffe::NetParameter* net, const std::string& origin, bool require_types);

// Gives unnamed layers the name "<type>_<index>" (Caffe allows empty names).
void NameUnnamedLayers(caffe::NetParameter* net);

}  // namespace qcal::caffe_import
