#include "cli/commands/data_flags.h"

#include <CLI/CLI.hpp>

#include "data/preprocess.h"

namespace qcal::cli {

void AddDataFlags(CLI::App& sub, DataFlags& f, bool labels) {
  sub.add_option("--data", f.data,
                 "Data: image folder (recursive, sorted) or list file, .npy file or folder, .bin files (with "
                 "--input-shape and --data-types), or MNIST idx images")
      ->required();
  if (labels) sub.add_option("--labels", f.labels, "CSV 'file,label' with a header row, paths relative to --data");
  sub.add_option("--data-types", f.data_types, "Element type of .bin data (float32, uint8, int8, ...)");
  sub.add_option("--resize", f.resize, "Resize images to H,W, or the shorter side to S");
  sub.add_option("--crop", f.crop, "Center crop to H,W (or S)");
  sub.add_option("--channel-order", f.channel_order, "rgb or bgr")->check(CLI::IsMember({"rgb", "bgr"}));
  sub.add_option("--scale", f.scale, "Multiply 0..255 pixel values by S (e.g. 1/255)");
  sub.add_option("--mean", f.mean, "Per-channel mean a,b,c subtracted after scaling");
  sub.add_option("--std", f.std, "Per-channel std a,b,c divided after the mean");
}

Result<std::unique_ptr<data::DataSource>> OpenData(const DataFlags& f, const Graph& graph) {
  if (graph.inputs.size() != 1) {
    return Unsupported("--data feeds one model input; this model has " + std::to_string(graph.inputs.size()));
  }
  // The preprocessing flags map onto the data layer's spec language, in the fixed order.
  std::string spec;
  auto add = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) spec += key + " " + value + "; ";
  };
  add("resize", f.resize);
  add("crop", f.crop);
  if (f.channel_order == "bgr") spec += "bgr; ";
  add("scale", f.scale);
  add("mean", f.mean);
  add("std", f.std);
  data::DataOptions opts;
  opts.path = f.data;
  opts.labels_path = f.labels;
  QCAL_ASSIGN_OR_RETURN(opts.bin_dtype, DataTypeFromName(f.data_types));
  QCAL_ASSIGN_OR_RETURN(opts.preprocess, data::ParsePreprocessSpec(spec));
  data::FitToModelInput(graph.inputs[0], &opts);
  return data::OpenDataSource(opts);
}

}  // namespace qcal::cli
