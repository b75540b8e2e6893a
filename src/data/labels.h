// Label files: CSV with a header row, then "file,label" rows.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "qcal/status.h"

namespace qcal::data {

// Reads `csv_path`: the first non-blank line is a header (skipped), then one
// "file,label" row per sample; file paths are relative to `data_root` (stored
// lexically normalized), labels are non-negative integers. Blank lines are
// ignored. Errors name the CSV and line: a bad label, a missing comma, a file
// that does not exist under data_root, a file listed twice.
Result<std::map<std::string, int64_t>> ReadLabelsCsv(const std::string& csv_path, const std::string& data_root);

}  // namespace qcal::data
