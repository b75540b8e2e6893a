// File helpers: whole-file reads and atomic (temp file + rename) writes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qcal/status.h"

namespace qcal {

// Reads a whole file. Errors name the path and the OS reason.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically: a temp file in the same directory is
// written, flushed (fsync, unless `sync` is false: a file soon replaced, such
// as a progress record) and renamed over `path`. On failure no partial file is
// left and any previous `path` is intact.
Status WriteFileAtomic(const std::string& path, std::string_view data, bool sync = true);

// Creates the directories leading to `path` (like mkdir -p of its parent).
Status CreateParentDirectories(const std::string& path);

// Writes several files all-or-nothing as far as the OS allows: every file is
// first written to a temp file next to its target; only when all succeeded are
// they renamed into place. On failure no temp file and no new output remains.
Status WriteFilesAtomic(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace qcal
