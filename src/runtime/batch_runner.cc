#include "runtime/batch_runner.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace qcal {

int64_t BatchSize(const TensorMap& batch) {
  return batch.empty() || batch.begin()->second.rank() == 0 ? 1 : batch.begin()->second.dim(0);
}

std::map<std::string, Shape> InputShapes(const TensorMap& batch, bool per_sample) {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, t] : batch) {
    Shape s = t.shape();
    if (per_sample && !s.empty()) s[0] = 1;
    shapes[name] = s;
  }
  return shapes;
}

Tensor BatchItem(const Tensor& t, int64_t i) {
  Shape s = t.shape();
  s[0] = 1;
  Tensor out(t.dtype(), s);
  size_t bytes = out.nbytes();
  std::memcpy(out.raw(), static_cast<const uint8_t*>(t.raw()) + bytes * static_cast<size_t>(i), bytes);
  return out;
}

Result<std::unique_ptr<BatchRunner>> BatchRunner::Create(const Graph& graph, ExecutorOptions options) {
  QCAL_ASSIGN_OR_RETURN(auto executor, Executor::Create(graph, {}, std::move(options)));
  return std::unique_ptr<BatchRunner>(new BatchRunner(std::move(executor)));
}

Status BatchRunner::Prepare(const TensorMap& batch) {
  std::map<std::string, Shape> shapes = InputShapes(batch, false);
  if (shapes == batch_shapes_) return Status::Ok();
  Status whole = executor_->Reshape(shapes);
  per_sample_ = false;
  if (!whole.ok()) {
    if (BatchSize(batch) <= 1) return whole;
    if (!executor_->Reshape(InputShapes(batch, true)).ok()) return whole;
    per_sample_ = true;
    if (!logged_) LogInfo("model has a fixed batch size; running it one sample at a time");
    logged_ = true;
  }
  batch_shapes_ = std::move(shapes);
  return Status::Ok();
}

Status BatchRunner::Run(const TensorMap& batch, TensorMap* outputs) {
  QCAL_RETURN_IF_ERROR(Prepare(batch));
  if (!per_sample_) return executor_->Run(batch, outputs);
  return RunPerSample(batch, outputs);
}

Status BatchRunner::RunPerSample(const TensorMap& batch, TensorMap* outputs) {
  const int64_t n = BatchSize(batch);
  outputs->clear();
  for (int64_t i = 0; i < n; ++i) {
    TensorMap part, out;
    for (const auto& [name, t] : batch) part[name] = BatchItem(t, i);
    QCAL_RETURN_IF_ERROR(
        executor_->Run(part, &out).WithContext("sample " + std::to_string(i) + " of the batch"));
    for (const auto& [name, t] : out) {
      if (t.rank() == 0 || t.dim(0) != 1) {
        return Unsupported("output '" + name + "' has shape " + ShapeToString(t.shape()) +
                           " for one sample; cannot stack it into a batch of " + std::to_string(n));
      }
      if (i == 0) {
        Shape s = t.shape();
        s[0] = n;
        (*outputs)[name] = Tensor(t.dtype(), s);
      }
      Tensor& whole = outputs->at(name);
      std::memcpy(static_cast<uint8_t*>(whole.raw()) + t.nbytes() * static_cast<size_t>(i), t.raw(),
                  t.nbytes());
    }
  }
  return Status::Ok();
}

}  // namespace qcal
