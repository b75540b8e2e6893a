// Flags shared by commands that read calibration / evaluation data:
// --data, --labels, --data-types and the image preprocessing chain
// (--resize, --crop, --channel-order, --scale, --mean, --std), applied in that order.
#pragma once

#include <memory>
#include <string>

#include "data/data_source.h"
#include "ir/graph.h"

namespace CLI {
class App;
}

namespace qcal::cli {

struct DataFlags {
  std::string data;
  std::string labels;
  std::string data_types = "float32";
  std::string resize;         // "H,W" or "S"
  std::string crop;           // "H,W" or "S"
  std::string channel_order = "rgb";
  std::string scale;          // number or fraction "1/255"
  std::string mean, std;      // "a,b,c" or one value
};

void AddDataFlags(CLI::App& sub, DataFlags& flags, bool labels);

// Opens the data source for `graph`'s (single) input.
Result<std::unique_ptr<data::DataSource>> OpenData(const DataFlags& flags, const Graph& graph);

}  // namespace qcal::cli
