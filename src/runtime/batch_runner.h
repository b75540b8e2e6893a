// Running a graph on batches of any size, including models whose batch size is
// fixed inside the graph (e.g. an opset-1 Reshape to [1,256], as in the ONNX
// Model Zoo MNIST model): those cannot be prepared for [n,...] inputs, so they
// run one sample at a time and their outputs are stacked back into a batch.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "runtime/executor.h"

namespace qcal {

// Batch size of a map of batch-major inputs (dim 0 of the first; 1 for scalars).
int64_t BatchSize(const TensorMap& batch);
// Shapes of the inputs; `per_sample` sets each batch dim to 1.
std::map<std::string, Shape> InputShapes(const TensorMap& batch, bool per_sample);
// Sample i of a batch-major tensor, as a batch of one ([1, ...]).
Tensor BatchItem(const Tensor& t, int64_t i);

class BatchRunner {
 public:
  static Result<std::unique_ptr<BatchRunner>> Create(const Graph& graph, ExecutorOptions options = {});

  // Runs `batch` (every graph input, same batch size); outputs are batch-major with
  // the batch's size. Prepares on the first batch and whenever its shape changes:
  // when the model rejects the batch size but takes one sample, it switches to
  // running sample by sample (logged once).
  Status Run(const TensorMap& batch, TensorMap* outputs);

  // True once the model is being run one sample at a time.
  bool per_sample() const { return per_sample_; }
  Executor& executor() { return *executor_; }

 private:
  explicit BatchRunner(std::unique_ptr<Executor> executor) : executor_(std::move(executor)) {}
  Status Prepare(const TensorMap& batch);
  Status RunPerSample(const TensorMap& batch, TensorMap* outputs);

  std::unique_ptr<Executor> executor_;
  std::map<std::string, Shape> batch_shapes_;  // shapes Prepare last saw
  bool per_sample_ = false;
  bool logged_ = false;
};

}  // namespace qcal
