// File helpers: whole-file reads and atomic (temp file + rename) writes.
#pragma once

#include <string>
#include <string_view>

#include "qcal/status.h"

namespace qcal {

// Reads a whole file. Errors name the path and the OS reason.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically: a temp file in the same directory is
// written, flushed and renamed over `path`. On failure no partial file is left
// and any previous `path` is intact.
Status WriteFileAtomic(const std::string& path, std::string_view data);

}  // namespace qcal
