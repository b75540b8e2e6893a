#include "data/data_source.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>

#include "base/file.h"
#include "data/file_sources.h"
#include "data/labels.h"

namespace qcal::data {
namespace {

namespace fs = std::filesystem;

enum class FileKind { kImage, kNpy, kBin, kIdxImages, kList, kOther };

struct SuffixKind {
  std::string_view suffix;  // lower case
  FileKind kind;
  std::string_view name;
};
// What a file is, by the end of its name (case-insensitive).
constexpr SuffixKind kSuffixes[] = {
    {".jpg", FileKind::kImage, "image"},           {".jpeg", FileKind::kImage, "image"},
    {".png", FileKind::kImage, "image"},           {".bmp", FileKind::kImage, "image"},
    {".npy", FileKind::kNpy, ".npy"},              {".bin", FileKind::kBin, ".bin"},
    {"idx3-ubyte", FileKind::kIdxImages, "idx"},   {"idx3-ubyte.gz", FileKind::kIdxImages, "idx"},
    {".txt", FileKind::kList, "list"},             {".lst", FileKind::kList, "list"},
    {".list", FileKind::kList, "list"},
};

FileKind KindOf(const std::string& path) {
  std::string lower = fs::path(path).filename().string();
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const SuffixKind& s : kSuffixes) {
    if (lower.size() >= s.suffix.size() && lower.compare(lower.size() - s.suffix.size(), s.suffix.size(), s.suffix) == 0) {
      return s.kind;
    }
  }
  return FileKind::kOther;
}

std::string_view KindName(FileKind k) {
  for (const SuffixKind& s : kSuffixes) {
    if (s.kind == k) return s.name;
  }
  return "other";
}

using FilesOpener = std::function<Result<std::unique_ptr<DataSource>>(std::vector<std::string>, const std::string&,
                                                                      const LabelMap&, const DataOptions&)>;

// Sources made of a list of files of one kind (from a folder, a list file or one file).
const FilesOpener* OpenerFor(FileKind kind) {
  static const std::pair<FileKind, FilesOpener> kOpeners[] = {
      {FileKind::kImage, OpenImageFiles},
      {FileKind::kNpy, OpenNpyFiles},
      {FileKind::kBin, OpenBinFiles},
  };
  for (const auto& [k, opener] : kOpeners) {
    if (k == kind) return &opener;
  }
  return nullptr;
}

Result<LabelMap> LoadLabels(const DataOptions& options, const std::string& root) {
  if (options.labels_path.empty()) return LabelMap{};
  return ReadLabelsCsv(options.labels_path, root);
}

Result<std::unique_ptr<DataSource>> OpenFiles(FileKind kind, std::vector<std::string> files, const std::string& root,
                                              const DataOptions& options) {
  const FilesOpener* opener = OpenerFor(kind);
  if (!opener) return Internal("no opener for file kind " + std::string(KindName(kind)));
  QCAL_ASSIGN_OR_RETURN(LabelMap labels, LoadLabels(options, root));
  return (*opener)(std::move(files), root, labels, options);
}

Result<std::unique_ptr<DataSource>> OpenFolder(const std::string& dir, const DataOptions& options) {
  std::map<FileKind, std::vector<std::string>> by_kind;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    FileKind kind = KindOf(it->path().string());
    if (kind != FileKind::kOther && kind != FileKind::kList) by_kind[kind].push_back(it->path().string());
  }
  if (ec) return IoError("cannot list folder '" + dir + "': " + ec.message());
  if (by_kind.empty()) {
    return InvalidArgument("data folder '" + dir +
                           "' is empty: no images (.jpg .jpeg .png .bmp), .npy, .bin or *-images-idx3-ubyte[.gz] "
                           "files found (searched recursively)");
  }
  if (by_kind.size() > 1) {
    std::string found;
    for (const auto& [k, files] : by_kind) {
      found += (found.empty() ? "" : ", ") + std::to_string(files.size()) + " " + std::string(KindName(k));
    }
    return InvalidArgument("data folder '" + dir + "' mixes file kinds (" + found +
                           "); keep one kind per folder or pass a list file");
  }
  auto& [kind, files] = *by_kind.begin();
  std::sort(files.begin(), files.end());
  if (kind == FileKind::kIdxImages) {
    if (files.size() > 1) {
      return InvalidArgument("data folder '" + dir + "' holds " + std::to_string(files.size()) +
                             " idx image files; pass one of them as --data (e.g. " + files[0] + ")");
    }
    return OpenIdx(files[0], options);
  }
  return OpenFiles(kind, std::move(files), dir, options);
}

// One path per line, relative to the list's folder or absolute; '#' comments and blank lines skipped.
Result<std::unique_ptr<DataSource>> OpenListFile(const std::string& list, const DataOptions& options) {
  QCAL_ASSIGN_OR_RETURN(std::string text, ReadFile(list));
  std::string root = fs::path(list).parent_path().string();
  if (root.empty()) root = ".";
  std::vector<std::string> files;
  FileKind kind = FileKind::kOther;
  std::istringstream in(text);
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos) continue;
    line = line.substr(b, e - b + 1);
    std::string where = list + ":" + std::to_string(line_no);
    fs::path p = fs::path(line).is_absolute() ? fs::path(line) : fs::path(root) / line;
    if (!fs::is_regular_file(p)) return NotFound(where + ": '" + line + "' not found (" + p.string() + ")");
    FileKind k = KindOf(p.string());
    if (!OpenerFor(k)) {
      return InvalidArgument(where + ": '" + line + "' is not an image (.jpg .jpeg .png .bmp), .npy or .bin file");
    }
    if (kind != FileKind::kOther && k != kind) {
      return InvalidArgument(where + ": '" + line + "' is a " + std::string(KindName(k)) + " file but earlier entries are " +
                             std::string(KindName(kind)) + " files; use one kind per list");
    }
    kind = k;
    files.push_back(p.lexically_normal().string());
  }
  if (files.empty()) return InvalidArgument(list + ": list file names no files");
  return OpenFiles(kind, std::move(files), root, options);
}

Result<std::unique_ptr<DataSource>> OpenFile(const std::string& path, const DataOptions& options) {
  FileKind kind = KindOf(path);
  if (kind == FileKind::kList) return OpenListFile(path, options);
  if (kind == FileKind::kIdxImages) return OpenIdx(path, options);
  if (!OpenerFor(kind)) {
    return InvalidArgument("--data '" + path +
                           "': unknown data file type; expected a folder, an image (.jpg .jpeg .png .bmp), .npy, "
                           ".bin, a list file (.txt .lst .list) or *-images-idx3-ubyte[.gz]");
  }
  std::string root = fs::path(path).parent_path().string();
  return OpenFiles(kind, {path}, root.empty() ? "." : root, options);
}

}  // namespace

void FitToModelInput(const ValueInfo& input, DataOptions* options) {
  if (!input.shape) return;
  options->input_shape = *input.shape;
  if (!options->input_shape.empty()) options->input_shape[0] = -1;
  const Shape& s = *input.shape;
  if (s.size() == 4 && s[1] > 0 && options->preprocess.channels == 0) options->preprocess.channels = s[1];
}

Result<std::unique_ptr<DataSource>> OpenDataSource(const DataOptions& options) {
  const std::string& path = options.path;
  std::error_code ec;
  if (path.empty()) return InvalidArgument("no data given (--data FILE_OR_FOLDER)");
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFound("--data '" + path + "' does not exist");
  Result<std::unique_ptr<DataSource>> src =
      fs::is_directory(st) ? OpenFolder(path, options) : OpenFile(path, options);
  if (src.ok() && (*src)->size() == 0) return InvalidArgument("--data '" + path + "' holds no samples");
  return src;
}

Batcher::Batcher(const DataSource& source, int64_t batch_size, bool drop_last)
    : source_(source), batch_size_(std::max<int64_t>(1, batch_size)), drop_last_(drop_last) {}

int64_t Batcher::num_batches() const {
  int64_t n = source_.size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

Result<Batch> Batcher::GetBatch(int64_t b) const {
  if (b < 0 || b >= num_batches()) {
    return OutOfRange("batch " + std::to_string(b) + " out of range [0, " + std::to_string(num_batches()) + ")");
  }
  Batch batch;
  batch.first_index = b * batch_size_;
  int64_t n = std::min(batch_size_, source_.size() - batch.first_index);
  std::vector<Tensor> samples;
  for (int64_t i = 0; i < n; ++i) {
    QCAL_ASSIGN_OR_RETURN(Sample s, source_.Get(batch.first_index + i));
    if (i > 0 && (s.data.shape() != samples[0].shape() || s.data.dtype() != samples[0].dtype())) {
      return InvalidArgument(s.origin + ": sample is " + std::string(DataTypeName(s.data.dtype())) +
                             ShapeToString(s.data.shape()) + " but " + batch.origins[0] + " in the same batch is " +
                             std::string(DataTypeName(samples[0].dtype())) + ShapeToString(samples[0].shape()) +
                             "; add resize/crop steps so every sample has one shape");
    }
    if (s.label) batch.labels.push_back(*s.label);
    batch.origins.push_back(std::move(s.origin));
    samples.push_back(std::move(s.data));
  }
  Shape shape = samples[0].shape();
  shape.insert(shape.begin(), n);
  batch.data = Tensor(samples[0].dtype(), shape);
  size_t bytes = samples[0].nbytes();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(static_cast<uint8_t*>(batch.data.raw()) + bytes * static_cast<size_t>(i), samples[i].raw(), bytes);
  }
  return batch;
}

}  // namespace qcal::data
