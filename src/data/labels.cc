#include "data/labels.h"

#include <charconv>
#include <filesystem>
#include <sstream>

#include "base/file.h"

namespace qcal::data {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

Result<std::map<std::string, int64_t>> ReadLabelsCsv(const std::string& csv_path, const std::string& data_root) {
  namespace fs = std::filesystem;
  QCAL_ASSIGN_OR_RETURN(std::string text, ReadFile(csv_path));
  std::map<std::string, int64_t> labels;
  std::istringstream in(text);
  std::string line;
  bool header_seen = false;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    line = Trim(line);
    if (line.empty()) continue;
    if (!header_seen) {
      header_seen = true;
      continue;
    }
    std::string where = csv_path + ":" + std::to_string(line_no);
    size_t comma = line.rfind(',');
    if (comma == std::string::npos) return InvalidArgument(where + ": expected 'file,label', got '" + line + "'");
    std::string file = Trim(line.substr(0, comma)), label_text = Trim(line.substr(comma + 1));
    int64_t label = -1;
    auto r = std::from_chars(label_text.data(), label_text.data() + label_text.size(), label);
    if (r.ec != std::errc() || r.ptr != label_text.data() + label_text.size() || label < 0) {
      return InvalidArgument(where + ": bad label '" + label_text + "' (expected a non-negative integer class index)");
    }
    std::string key = fs::path(file).lexically_normal().generic_string();
    if (file.empty() || !fs::is_regular_file(fs::path(data_root) / key)) {
      return NotFound(where + ": file '" + file + "' not found under '" + data_root + "'");
    }
    if (!labels.emplace(key, label).second) return InvalidArgument(where + ": file '" + file + "' is listed twice");
  }
  if (labels.empty()) return InvalidArgument(csv_path + ": no label rows after the header");
  return labels;
}

}  // namespace qcal::data
