// QuantSession: calibration batches and the record they produce.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "base/log.h"
#include "kernels/threads.h"
#include "quant/record/record.h"
#include "quant/session.h"
#include "runtime/batch_runner.h"

namespace qcal {
namespace {

uint64_t DefaultRawLimit() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t{4} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 2;
}

std::string MiB(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

}  // namespace

Status QuantSession::PrepareObservers(const TensorMap& batch) {
  Status st = executor_->Reshape(InputShapes(batch, false));
  split_batches_ = false;
  if (!st.ok()) {
    // A model whose batch is fixed (e.g. Reshape to [1, -1]) still calibrates
    // with any batch size: run it one sample at a time.
    if (BatchSize(batch) <= 1) return st.WithContext("calibration batch");
    QCAL_RETURN_IF_ERROR(executor_->Reshape(InputShapes(batch, true)).WithContext("calibration batch"));
    split_batches_ = true;
    LogInfo("model has a fixed batch size; running calibration batches one sample at a time");
  }
  uint64_t per_batch_factor = split_batches_ ? static_cast<uint64_t>(BatchSize(batch)) : 1;
  uint64_t limit = options_.ifmr_memory_limit ? options_.ifmr_memory_limit : DefaultRawLimit();
  uint64_t total = 0;
  std::vector<std::pair<uint64_t, std::string>> users;
  for (const auto& [tensor, obs] : observers_) {
    auto it = executor_->value_types().find(tensor);
    if (it == executor_->value_types().end()) return Internal("no shape known for tensor '" + tensor + "'");
    uint64_t n = static_cast<uint64_t>(NumElements(it->second.shape)) * per_batch_factor;
    uint64_t b = obs->RawBytesNeeded(n);
    total += b;
    if (b) users.push_back({b, tensor});
  }
  if (total > limit) {
    std::sort(users.rbegin(), users.rend());
    std::string top;
    for (size_t i = 0; i < users.size() && i < 3; ++i)
      top += "\n  " + users[i].second + ": " + MiB(users[i].first);
    return OutOfRange(
        "IFMR keeps every calibration value: batch_num=" + std::to_string(config_.batch_num) +
        " batches of " + std::to_string(BatchSize(batch)) + " would need " + MiB(total) +
        ", more than the limit of " + MiB(limit) + ". Largest:" + top +
        "\nFix: lower batch_num or the batch size, or use act_algo \"hfmg\" (histogram, fixed memory)");
  }
  for (const auto& [tensor, obs] : observers_) {
    uint64_t n =
        static_cast<uint64_t>(NumElements(executor_->value_types().at(tensor).shape)) * per_batch_factor;
    QCAL_RETURN_IF_ERROR(obs->Prepare(n, limit));
  }
  if (total) LogInfo("IFMR holds " + MiB(total) + " of raw activations (limit " + MiB(limit) + ")");
  return Status::Ok();
}

Status QuantSession::ObserveOne(ActivationObserver& obs, const Tensor& t) {
  QCAL_RETURN_IF_ERROR(obs.Observe(t));
  if (finish_on_observe_) obs.FinishEarly();
  return Status::Ok();
}

Status QuantSession::RunBatch(const TensorMap& batch) {
  TensorMap outputs;
  auto observe_inputs = [&](const TensorMap& part) -> Status {
    for (const auto& [name, t] : part) {
      auto it = observers_.find(name);  // a layer reading a graph input directly
      if (it != observers_.end()) QCAL_RETURN_IF_ERROR(ObserveOne(*it->second, t));
    }
    return Status::Ok();
  };
  if (!split_batches_) {
    // The final batch: each observer computes its layers' results right after
    // its tensor, and the next tensor's histogram reuses the memory.
    finish_on_observe_ = batches_ + 1 == config_.batch_num;
    Status st = observe_inputs(batch);
    if (st.ok()) st = executor_->Run(batch, &outputs);
    finish_on_observe_ = false;
    return st;
  }
  for (int64_t i = 0; i < BatchSize(batch); ++i) {
    TensorMap part;
    for (const auto& [name, t] : batch) part[name] = BatchItem(t, i);
    QCAL_RETURN_IF_ERROR(observe_inputs(part));
    QCAL_RETURN_IF_ERROR(executor_->Run(part, &outputs));
  }
  return Status::Ok();
}

Status QuantSession::Calibrate(const TensorMap& batch) {
  if (!quantized_) return FailedPrecondition("Calibrate called before QuantizeModel");
  if (batches_ == 0) QCAL_RETURN_IF_ERROR(PrepareObservers(batch));
  if (batches_ >= config_.batch_num) {
    LogWarning("batch " + std::to_string(batches_ + 1) + " ignored: all layers already have batch_num=" +
               std::to_string(config_.batch_num) + " batches");
    ++batches_;
    return Status::Ok();
  }
  QCAL_RETURN_IF_ERROR(RunBatch(batch).WithContext("calibration batch " + std::to_string(batches_ + 1)));
  ++batches_;
  for (auto& [tensor, obs] : observers_) {
    obs->EndBatch();
    for (const auto& l : obs->layers()) {
      LogInfo("Doing layer: \"" + l.name + "\" calibration, already store " + std::to_string(obs->batches()) +
              "/" + std::to_string(config_.batch_num) + " data.");
    }
  }
  QCAL_RETURN_IF_ERROR(FinishLayers());
  const bool complete =
      std::all_of(layer_done_.begin(), layer_done_.end(), [](const auto& l) { return l.second; });
  if (complete) return WriteRecord(/*sync=*/true);
  // Until every layer is calibrated the record only shows progress: written at
  // most once per kProgressRecordInterval (formatting, writing and renaming it
  // took ~0.7 ms, 3.5 % of a ResNet-56 batch of 32 at 2 threads), without fsync.
  record_stale_ = true;
  if (std::chrono::steady_clock::now() - record_written_ < kProgressRecordInterval) return Status::Ok();
  return WriteRecord(/*sync=*/false);
}

Status QuantSession::FlushRecord() const {
  return record_stale_ ? WriteRecord(/*sync=*/false) : Status::Ok();
}

Status QuantSession::FinishLayers() {
  struct Job {
    const ActivationObserver* obs;
    const ObservedLayer* layer;
  };
  std::vector<Job> jobs;
  bool raw = false;
  for (auto& [tensor, obs] : observers_) {
    if (!obs->complete()) continue;
    for (const auto& l : obs->layers()) {
      if (layer_done_[l.name]) continue;
      jobs.push_back({obs.get(), &l});
      raw = raw || obs->holds_raw_values();
    }
  }
  // The layers' searches are independent pure functions (HFMG: ~45 us each on
  // ResNet-56): one per thread, applied in order below, so the record is the
  // same at any thread count. Not with raw values (IFMR sorts a copy of each).
  std::vector<std::optional<Result<quant::QuantParams>>> results(jobs.size());
  const int threads = raw ? 1 : options_.threads > 0 ? options_.threads : ResolvedNumThreads();
  const int64_t n = static_cast<int64_t>(jobs.size());
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (threads > 1 && n > 1)
  for (int64_t i = 0; i < n; ++i) results[i] = jobs[i].obs->Calibrate(*jobs[i].layer);
  for (size_t i = 0; i < jobs.size(); ++i) {
    QCAL_ASSIGN_OR_RETURN(quant::QuantParams p, std::move(*results[i]));
    const std::string& name = jobs[i].layer->name;
    plans_[name].act = {p.scale, p.offset};
    layer_done_[name] = true;
    LogInfo("Do layer: \"" + name + "\" activation calibration success!");
  }
  return Status::Ok();
}

Status QuantSession::WriteRecord(bool sync) const {
  quant::ScaleOffsetRecord rec;
  rec.header.tool_version = QCAL_VERSION;
  rec.header.algorithm = options_.algorithm_summary;
  rec.header.batch_num = config_.batch_num;
  for (const auto& l : layers_) {
    quant::LayerRecord& r = rec.Upsert(l.name);
    const LayerPlan& plan = plans_.at(l.name);
    auto done = layer_done_.find(l.name);
    if (done != layer_done_.end() && done->second) {
      r.scale_d = plan.act.scale;
      r.offset_d = plan.act.offset;
    }
    r.scale_w = plan.scale_w.empty() ? std::vector<float>{1.f} : plan.scale_w;
    r.offset_w.assign(r.scale_w.size(), 0);
    for (const auto& [tensor, obs] : observers_) {
      for (const auto& ol : obs->layers()) {
        if (ol.name == l.name) rec.header.layer_batches.push_back({l.name, obs->batches()});
      }
    }
  }
  QCAL_RETURN_IF_ERROR(quant::WriteRecordFile(record_path_, rec, sync));
  record_stale_ = false;
  record_written_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

}  // namespace qcal
