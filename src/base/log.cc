#include "base/log.h"

#include <atomic>
#include <cstdio>

namespace qcal {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
const char* kPrefix[] = {"[qcal] error: ", "[qcal] warning: ", "[qcal] ", "[qcal] debug: "};
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void Log(LogLevel level, const std::string& message) {
  if (static_cast<int>(level) > g_level.load()) return;
  std::fprintf(stderr, "%s%s\n", kPrefix[static_cast<int>(level)], message.c_str());
}

}  // namespace qcal
