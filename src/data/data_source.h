// Calibration / evaluation data: sources that yield samples in a deterministic
// order, and a batcher that stacks them into batch-major tensors.
//
// A source is chosen from the `--data` path by what the path is (see OpenDataSource):
//   folder of images (.jpg/.jpeg/.png/.bmp, recursive, sorted paths)   -> decoded + preprocessed
//   list file (.txt/.lst/.list: one path per line, '#' comments)       -> entries of one kind
//   one .npy (batch-major array [N, ...])                               -> N samples
//   folder of .npy files (each one sample or one batch; sorted)         -> samples in file order
//   .bin file / folder of .bin (raw, needs input_shape + bin_dtype)      -> each file 1 sample or 1 batch
//   MNIST idx (*-images-idx3-ubyte[.gz], labels from *-labels-idx1-*)   -> [1,H,W] samples
// Images and idx images go through Preprocess (preprocess.h) and give float32 [C,H,W];
// .npy / .bin samples are returned as stored (already preprocessed, their own dtype).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "ir/graph.h"
#include "ir/tensor.h"

namespace qcal::data {

// One sample: no batch dim (e.g. [C,H,W] for an image).
struct Sample {
  Tensor data;
  std::optional<int64_t> label;  // set when the source has labels
  std::string origin;            // file it came from, "file[i]" for an element of a batch file
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  // Number of samples; Get(i) is valid for 0 <= i < size().
  virtual int64_t size() const = 0;
  // Sample i. The order is deterministic (sorted paths / list order / array order);
  // the same index always gives the same sample. Thread-safe.
  virtual Result<Sample> Get(int64_t index) const = 0;
  // True when every sample carries a label.
  virtual bool has_labels() const = 0;
  // One line for logs: "image folder /x (5000 images, labels from /x/labels.csv)".
  virtual std::string Describe() const = 0;
};

struct DataOptions {
  std::string path;         // --data: file or folder
  std::string labels_path;  // --labels: CSV "file,label" (header row) relative to the data folder; optional
  // --input-shape of the model input, batch dim first (e.g. {1,3,224,224} or {-1,3,224,224}).
  // Required for .bin data; for .npy folders it tells a one-sample file ([C,H,W]) from a batch
  // file ([N,C,H,W]). Without it every .npy is read as batch-major.
  Shape input_shape;
  DataType bin_dtype = DataType::kFloat32;  // --data-types: element type of .bin files
  PreprocessOptions preprocess;             // images and idx only
};

// Fills in what the model input it feeds tells: input_shape (batch dim -1) and,
// for a 4-D input with a known channel dim, preprocess.channels when unset.
void FitToModelInput(const ValueInfo& input, DataOptions* options);

// Opens the source `options.path` designates. Errors name the offending file.
Result<std::unique_ptr<DataSource>> OpenDataSource(const DataOptions& options);

// A batch: data is [n, ...sample shape] (dtype of the samples), n <= batch_size.
struct Batch {
  Tensor data;
  std::vector<int64_t> labels;       // one per sample when the source has labels, else empty
  std::vector<std::string> origins;  // one per sample
  int64_t first_index = 0;           // index of the first sample in the source
};

// Stacks consecutive samples of a source into batches. The last batch may be
// smaller unless drop_last is set (then it is skipped). All samples of a batch
// must have the same shape and dtype (else an error naming both files).
class Batcher {
 public:
  Batcher(const DataSource& source, int64_t batch_size, bool drop_last = false);
  int64_t batch_size() const { return batch_size_; }
  int64_t num_batches() const;
  // Batch b (0 <= b < num_batches()).
  Result<Batch> GetBatch(int64_t b) const;

 private:
  const DataSource& source_;
  int64_t batch_size_;
  bool drop_last_;
};

}  // namespace qcal::data
