#include "data/file_sources.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "base/file.h"
#include "base/limits.h"
#include "data/idx_reader.h"
#include "data/image_decode.h"
#include "ir/npy.h"

namespace qcal::data {
namespace {

namespace fs = std::filesystem;

std::string Relative(const std::string& file, const std::string& root) {
  return fs::path(file).lexically_relative(root).lexically_normal().generic_string();
}

// Samples stored in a list of files; file k holds counts[k] samples (in order).
// Subclasses load sample j of file k. Labels are per file (only for one-sample files).
class FileSource : public DataSource {
 public:
  FileSource(std::string kind, std::vector<std::string> files, std::vector<int64_t> counts)
      : kind_(std::move(kind)), files_(std::move(files)), counts_(std::move(counts)) {
    int64_t total = 0;
    for (int64_t c : counts_) {
      starts_.push_back(total);
      total += c;
    }
    size_ = total;
  }

  int64_t size() const override { return size_; }
  bool has_labels() const override { return !labels_.empty(); }

  Result<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size_) {
      return OutOfRange("sample index " + std::to_string(index) + " out of range [0, " + std::to_string(size_) + ")");
    }
    size_t k = static_cast<size_t>(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin() - 1);
    int64_t j = index - starts_[k];
    QCAL_ASSIGN_OR_RETURN(Sample s, Load(k, j));
    if (s.origin.empty()) s.origin = counts_[k] == 1 ? files_[k] : files_[k] + "[" + std::to_string(j) + "]";
    if (!labels_.empty()) s.label = labels_[k];
    return s;
  }

  std::string Describe() const override {
    return kind_ + " (" + std::to_string(files_.size()) + " file(s), " + std::to_string(size_) + " samples" +
           (labels_.empty() ? "" : ", labeled") + ")";
  }

  // Attaches labels: every file must have one and hold exactly one sample.
  Status AttachLabels(const LabelMap& labels, const std::string& root) {
    if (labels.empty()) return Status::Ok();
    for (size_t k = 0; k < files_.size(); ++k) {
      if (counts_[k] != 1) {
        return InvalidArgument(files_[k] + " holds " + std::to_string(counts_[k]) +
                               " samples; a labels file needs one sample per file");
      }
      auto it = labels.find(Relative(files_[k], root));
      if (it == labels.end()) {
        return NotFound("no label for '" + Relative(files_[k], root) + "' (" + files_[k] + ") in the labels file");
      }
      labels_.push_back(it->second);
    }
    return Status::Ok();
  }

 protected:
  virtual Result<Sample> Load(size_t file, int64_t j) const = 0;
  const std::string& file(size_t k) const { return files_[k]; }
  int64_t count(size_t k) const { return counts_[k]; }

 private:
  std::string kind_;
  std::vector<std::string> files_;
  std::vector<int64_t> counts_, starts_;
  std::vector<int64_t> labels_;
  int64_t size_ = 0;
};

class ImageFileSource : public FileSource {
 public:
  ImageFileSource(std::vector<std::string> files, PreprocessOptions pre)
      : FileSource("images", files, std::vector<int64_t>(files.size(), 1)), pre_(std::move(pre)) {}

 protected:
  Result<Sample> Load(size_t k, int64_t) const override {
    QCAL_ASSIGN_OR_RETURN(Image img, ReadImageFile(file(k)));
    QCAL_ASSIGN_OR_RETURN(Tensor t, Preprocess(img, pre_, file(k)));
    return Sample{std::move(t), std::nullopt, ""};
  }

 private:
  PreprocessOptions pre_;
};

// Files whose content is a tensor of `count` samples of one shape, loaded whole;
// the last loaded file is cached (sequential reads touch each file once).
class TensorFileSource : public FileSource {
 public:
  using Loader = Result<Tensor> (*)(const std::string& path, const DataOptions& options);
  TensorFileSource(std::string kind, std::vector<std::string> files, std::vector<int64_t> counts, Shape sample_shape,
                   Loader loader, DataOptions options)
      : FileSource(std::move(kind), std::move(files), std::move(counts)),
        sample_shape_(std::move(sample_shape)),
        loader_(loader),
        options_(std::move(options)) {}

 protected:
  Result<Sample> Load(size_t k, int64_t j) const override {
    Tensor whole;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_file_ != k || cached_.empty()) {
        QCAL_ASSIGN_OR_RETURN(cached_, loader_(file(k), options_));
        cached_file_ = k;
      }
      whole = cached_;
    }
    Tensor s(whole.dtype(), sample_shape_);
    if (whole.nbytes() != s.nbytes() * static_cast<size_t>(count(k))) {
      return Corrupt(file(k) + ": changed while reading (size differs from when it was opened)");
    }
    std::memcpy(s.raw(), static_cast<const uint8_t*>(whole.raw()) + s.nbytes() * static_cast<size_t>(j), s.nbytes());
    return Sample{std::move(s), std::nullopt, ""};
  }

 private:
  Shape sample_shape_;
  Loader loader_;
  DataOptions options_;
  mutable std::mutex mu_;
  mutable size_t cached_file_ = 0;
  mutable Tensor cached_;
};

Result<Tensor> LoadNpy(const std::string& path, const DataOptions&) { return ReadNpyFile(path); }

Result<Tensor> LoadBin(const std::string& path, const DataOptions& options) {
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  QCAL_RETURN_IF_ERROR(CheckTensorBytes(path, static_cast<int64_t>(bytes.size())));
  size_t elem = DataTypeSize(options.bin_dtype);
  Tensor t(options.bin_dtype, {static_cast<int64_t>(bytes.size() / elem)});
  if (t.nbytes() != bytes.size()) return Corrupt(path + ": size is not a multiple of the element size");
  std::memcpy(t.raw(), bytes.data(), bytes.size());
  return t;
}

// Sample shape and count of a .npy of `shape`, given the model input shape (may be empty).
Status NpySamples(const std::string& path, const Shape& shape, const Shape& input_shape, Shape* sample,
                  int64_t* count) {
  size_t r = shape.size();
  if (input_shape.empty()) {
    if (r == 0) return InvalidArgument(path + ": .npy holds a scalar; expected a batch-major array [N, ...]");
    *count = shape[0];
    sample->assign(shape.begin() + 1, shape.end());
    return Status::Ok();
  }
  size_t k = input_shape.size() - 1;
  Shape want(input_shape.begin() + 1, input_shape.end());
  if (r == k) {
    *count = 1;
    *sample = shape;
  } else if (r == k + 1) {
    *count = shape[0];
    sample->assign(shape.begin() + 1, shape.end());
  } else {
    return InvalidArgument(path + ": .npy has shape " + ShapeToString(shape) + " (rank " + std::to_string(r) +
                           "); for input shape " + ShapeToString(input_shape) + " expected rank " +
                           std::to_string(k) + " (one sample) or " + std::to_string(k + 1) + " (a batch)");
  }
  for (size_t i = 0; i < k; ++i) {
    if (want[i] > 0 && (*sample)[i] != want[i]) {
      return InvalidArgument(path + ": .npy sample shape " + ShapeToString(*sample) +
                             " does not match input shape " + ShapeToString(input_shape));
    }
  }
  return Status::Ok();
}

Status CheckSameSamples(const std::string& first, const Shape& first_shape, DataType first_dtype,
                        const std::string& path, const Shape& shape, DataType dtype) {
  if (shape == first_shape && dtype == first_dtype) return Status::Ok();
  return InvalidArgument(path + ": samples are " + std::string(DataTypeName(dtype)) + ShapeToString(shape) +
                         " but " + first + " has " + std::string(DataTypeName(first_dtype)) +
                         ShapeToString(first_shape) + "; all files must hold samples of one shape and type");
}

Result<std::unique_ptr<DataSource>> Finish(std::unique_ptr<FileSource> src, const LabelMap& labels,
                                           const std::string& root) {
  QCAL_RETURN_IF_ERROR(src->AttachLabels(labels, root));
  return std::unique_ptr<DataSource>(std::move(src));
}

// idx images, each preprocessed like a grayscale image.
class IdxSource : public DataSource {
 public:
  IdxSource(std::string path, Tensor images, Tensor labels, std::string labels_path, PreprocessOptions pre)
      : path_(std::move(path)),
        images_(std::move(images)),
        labels_(std::move(labels)),
        labels_path_(std::move(labels_path)),
        pre_(std::move(pre)) {}

  int64_t size() const override { return images_.dim(0); }
  bool has_labels() const override { return !labels_.empty(); }
  std::string Describe() const override {
    return "idx images " + path_ + " (" + std::to_string(size()) + " samples" +
           (labels_.empty() ? "" : ", labels from " + labels_path_) + ")";
  }
  Result<Sample> Get(int64_t index) const override {
    if (index < 0 || index >= size()) {
      return OutOfRange("sample index " + std::to_string(index) + " out of range [0, " + std::to_string(size()) + ")");
    }
    int64_t h = images_.dim(1), w = images_.dim(2);
    const uint8_t* px = images_.data<uint8_t>() + index * h * w;
    Image img{h, w, 1, std::vector<float>(px, px + h * w)};
    std::string origin = path_ + "[" + std::to_string(index) + "]";
    QCAL_ASSIGN_OR_RETURN(Tensor t, Preprocess(img, pre_, origin));
    Sample s{std::move(t), std::nullopt, origin};
    if (!labels_.empty()) s.label = labels_.data<uint8_t>()[index];
    return s;
  }

 private:
  std::string path_;
  Tensor images_, labels_;
  std::string labels_path_;
  PreprocessOptions pre_;
};

}  // namespace

Result<std::unique_ptr<DataSource>> OpenImageFiles(std::vector<std::string> files, const std::string& root,
                                                   const LabelMap& labels, const DataOptions& options) {
  return Finish(std::make_unique<ImageFileSource>(std::move(files), options.preprocess), labels, root);
}

Result<std::unique_ptr<DataSource>> OpenNpyFiles(std::vector<std::string> files, const std::string& root,
                                                 const LabelMap& labels, const DataOptions& options) {
  std::vector<int64_t> counts;
  Shape first_sample;
  DataType first_dtype = DataType::kUndefined;
  for (const std::string& f : files) {
    QCAL_ASSIGN_OR_RETURN(Tensor t, ReadNpyFile(f));
    Shape sample;
    int64_t count = 0;
    QCAL_RETURN_IF_ERROR(NpySamples(f, t.shape(), options.input_shape, &sample, &count));
    if (count == 0) return InvalidArgument(f + ": .npy holds no samples (shape " + ShapeToString(t.shape()) + ")");
    if (counts.empty()) {
      first_sample = sample;
      first_dtype = t.dtype();
    }
    QCAL_RETURN_IF_ERROR(CheckSameSamples(files[0], first_sample, first_dtype, f, sample, t.dtype()));
    counts.push_back(count);
  }
  return Finish(std::make_unique<TensorFileSource>(".npy", std::move(files), std::move(counts), first_sample, LoadNpy,
                                                   options),
                labels, root);
}

Result<std::unique_ptr<DataSource>> OpenBinFiles(std::vector<std::string> files, const std::string& root,
                                                 const LabelMap& labels, const DataOptions& options) {
  const Shape& in = options.input_shape;
  if (in.empty()) {
    return InvalidArgument(files[0] + ": raw .bin data needs --input-shape (e.g. 1,3,224,224) and --data-types");
  }
  Shape sample(in.begin() + 1, in.end());
  if (!ShapeIsStatic(sample) || (in[0] == 0)) {
    return InvalidArgument("--input-shape " + ShapeToString(in) + " must be static apart from the batch dim for .bin data");
  }
  QCAL_RETURN_IF_ERROR(CheckTensorAllocation(options.bin_dtype, sample, "--input-shape sample"));
  size_t sample_bytes = static_cast<size_t>(NumBytes(options.bin_dtype, sample));
  std::string type(DataTypeName(options.bin_dtype));
  std::vector<int64_t> counts;
  for (const std::string& f : files) {
    std::error_code ec;
    uintmax_t size = fs::file_size(f, ec);
    if (ec) return NotFound("cannot read '" + f + "': " + ec.message());
    QCAL_RETURN_IF_ERROR(CheckTensorBytes(f, size > INT64_MAX ? -1 : static_cast<int64_t>(size)));
    int64_t count = 0;
    if (sample_bytes > 0 && in[0] > 0 && size / sample_bytes == static_cast<uintmax_t>(in[0]) &&
        size % sample_bytes == 0) {
      count = in[0];
    } else if (size == sample_bytes) {
      count = 1;
    } else if (in[0] < 0 && sample_bytes > 0 && size > 0 && size % sample_bytes == 0) {
      count = static_cast<int64_t>(size / sample_bytes);
    } else {
      return InvalidArgument(f + ": " + std::to_string(size) + " bytes does not match --input-shape " +
                             ShapeToString(in) + " with --data-types " + type + ": expected " +
                             (in[0] > 0 && static_cast<uint64_t>(in[0]) < UINT64_MAX / (sample_bytes + 1)
                                  ? std::to_string(sample_bytes * in[0]) + " (one batch) or "
                                  : "") +
                             std::to_string(sample_bytes) + " (one sample)" +
                             (in[0] < 0 ? " or a multiple of it" : "") + " bytes");
    }
    counts.push_back(count);
  }
  return Finish(std::make_unique<TensorFileSource>("raw .bin " + type, std::move(files), std::move(counts),
                                                   std::move(sample), LoadBin, options),
                labels, root);
}

Result<std::unique_ptr<DataSource>> OpenIdx(const std::string& images_path, const DataOptions& options) {
  if (!options.labels_path.empty()) {
    return InvalidArgument("--labels is not used with idx data (" + images_path +
                           "): labels come from the matching *-labels-idx1-ubyte file");
  }
  QCAL_ASSIGN_OR_RETURN(Tensor images, ReadIdxFile(images_path, 3));
  if (images.dim(0) == 0) return InvalidArgument(images_path + ": idx file holds no images");
  Tensor labels;
  std::string labels_path = IdxLabelsPathFor(images_path);
  if (!labels_path.empty()) {
    QCAL_ASSIGN_OR_RETURN(labels, ReadIdxFile(labels_path, 1));
    if (labels.dim(0) != images.dim(0)) {
      return Corrupt(labels_path + ": holds " + std::to_string(labels.dim(0)) + " labels but " + images_path +
                     " holds " + std::to_string(images.dim(0)) + " images");
    }
  }
  return std::unique_ptr<DataSource>(std::make_unique<IdxSource>(images_path, std::move(images), std::move(labels),
                                                                 labels_path, options.preprocess));
}

}  // namespace qcal::data
