#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace qcal {

Result<std::string> ReadFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return NotFound("cannot open '" + path + "': " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return InvalidArgument("'" + path + "' is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("error reading '" + path + "'");
  return ss.str();
}

namespace {

// Writes `data` to a fresh temp file beside `path` and returns its name.
Result<std::string> WriteTemp(const std::string& path, std::string_view data, bool sync = true) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return InvalidArgument("output path '" + path + "' is a directory");
  }
  // "<path>.tmp.<pid>.<n>", created exclusively: concurrent writers of the same
  // path (other processes or threads) never share or clobber a temp file.
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return IoError("cannot write '" + path + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return IoError("cannot write '" + path + "': " + why);
    }
    done += static_cast<size_t>(n);
  }
  if ((sync && fsync(fd) != 0) || close(fd) != 0) {
    unlink(tmp.c_str());
    return IoError("cannot flush '" + path + "': " + std::strerror(errno));
  }
  return tmp;
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view data, bool sync) {
  QCAL_ASSIGN_OR_RETURN(std::string tmp, WriteTemp(path, data, sync));
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    unlink(tmp.c_str());
    return IoError("cannot rename temp file to '" + path + "': " + why);
  }
  return Status::Ok();
}

Status CreateParentDirectories(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return IoError("cannot create directory '" + parent.string() + "': " + ec.message());
  return Status::Ok();
}

Status WriteFilesAtomic(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<std::string> temps;
  for (const auto& [path, data] : files) {
    auto tmp = WriteTemp(path, data);
    if (!tmp.ok()) {
      for (const auto& t : temps) unlink(t.c_str());
      return tmp.status();
    }
    temps.push_back(*tmp);
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (rename(temps[i].c_str(), files[i].first.c_str()) != 0) {
      std::string why = std::strerror(errno);
      for (size_t j = i; j < temps.size(); ++j) unlink(temps[j].c_str());
      return IoError("cannot rename temp file to '" + files[i].first + "': " + why);
    }
  }
  return Status::Ok();
}

}  // namespace qcal
