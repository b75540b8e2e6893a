// Internal: the concrete data sources behind OpenDataSource (data_source.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/data_source.h"

namespace qcal::data {

// Labels keyed by path relative to the data root (see ReadLabelsCsv); empty = unlabeled.
using LabelMap = std::map<std::string, int64_t>;

// One sample per image file, decoded and preprocessed.
Result<std::unique_ptr<DataSource>> OpenImageFiles(std::vector<std::string> files, const std::string& root,
                                                   const LabelMap& labels, const DataOptions& options);
// .npy files, each one sample or one batch (see DataOptions::input_shape).
Result<std::unique_ptr<DataSource>> OpenNpyFiles(std::vector<std::string> files, const std::string& root,
                                                 const LabelMap& labels, const DataOptions& options);
// Raw .bin files of options.bin_dtype, each one sample or one batch of options.input_shape.
Result<std::unique_ptr<DataSource>> OpenBinFiles(std::vector<std::string> files, const std::string& root,
                                                 const LabelMap& labels, const DataOptions& options);
// An idx3 images file; labels from the matching idx1 file when it exists.
Result<std::unique_ptr<DataSource>> OpenIdx(const std::string& images_path, const DataOptions& options);

}  // namespace qcal::data
