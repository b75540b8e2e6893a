// Paths used by tests: shared third-party test data and the built qcal binary.
#pragma once

#include <string>

namespace qcal::testing {

inline std::string TestData(const std::string& rel) { return std::string(QCAL_TESTDATA_DIR) + "/" + rel; }
inline std::string SourceDir(const std::string& rel) { return std::string(QCAL_SOURCE_DIR) + "/" + rel; }
inline std::string QcalBinary() { return QCAL_BINARY; }

// A fresh empty directory under the system temp dir, unique per call.
std::string MakeTempDir();

// Runs a shell command, capturing stdout+stderr; returns the exit code.
int RunCommand(const std::string& cmd, std::string* output);

}  // namespace qcal::testing
