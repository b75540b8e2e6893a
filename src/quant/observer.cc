#include "quant/observer.h"

#include <algorithm>
#include <span>

namespace qcal {

using quant::Statistic;

bool ActivationObserver::Needs(Statistic s) const {
  for (const auto& l : layers_) {
    if (quant::RequiredStatistic(*l.algo, l.params).kind == s) return true;
  }
  return false;
}

int ActivationObserver::BinsFor(Statistic s) const {
  // Layers sharing a tensor but asking for different bin counts get the finest.
  int bins = 0;
  for (const auto& l : layers_) {
    auto req = quant::RequiredStatistic(*l.algo, l.params);
    if (req.kind == s) bins = std::max(bins, req.num_bins);
  }
  return bins;
}

uint64_t ActivationObserver::RawBytesNeeded(uint64_t elements_per_batch) const {
  if (!Needs(Statistic::kRawValues)) return 0;
  auto r = quant::RequiredRawBytes(elements_per_batch, static_cast<uint64_t>(batch_num_));
  return r.ok() ? *r : UINT64_MAX;
}

Status ActivationObserver::Prepare(uint64_t elements_per_batch, uint64_t raw_limit) {
  if (Needs(Statistic::kMinMax)) minmax_.emplace();
  if (Needs(Statistic::kRawValues)) {
    QCAL_ASSIGN_OR_RETURN(auto r, quant::RawValueStore::Create(elements_per_batch,
                                                               static_cast<uint64_t>(batch_num_), raw_limit));
    raw_.emplace(std::move(r));
  }
  prepared_ = true;
  return Status::Ok();
}

Status ActivationObserver::CreateHistograms() {
  if (!hist_ && Needs(Statistic::kHistogram)) {
    QCAL_ASSIGN_OR_RETURN(
        auto h, quant::Histogram::Create(BinsFor(Statistic::kHistogram), quant::Histogram::Mode::kSigned));
    hist_.emplace(std::move(h));
  }
  if (!abs_hist_ && Needs(Statistic::kAbsHistogram)) {
    QCAL_ASSIGN_OR_RETURN(auto h, quant::Histogram::Create(BinsFor(Statistic::kAbsHistogram),
                                                           quant::Histogram::Mode::kAbsolute));
    abs_hist_.emplace(std::move(h));
  }
  return Status::Ok();
}

Status ActivationObserver::Observe(const Tensor& t) {
  if (complete() || finished_early_) return Status::Ok();
  if (t.dtype() != DataType::kFloat32) {
    return Internal("tensor '" + tensor_ + "' is not float32; cannot calibrate it");
  }
  std::span<const float> data(t.data<float>(), static_cast<size_t>(t.numel()));
  std::string where = "tensor '" + tensor_ + "', calibration batch " + std::to_string(batches_ + 1);
  QCAL_RETURN_IF_ERROR(CreateHistograms().WithContext(where));
  if (minmax_) QCAL_RETURN_IF_ERROR(minmax_->Update(data).WithContext(where));
  if (hist_) QCAL_RETURN_IF_ERROR(hist_->Add(data).WithContext(where));
  if (abs_hist_) QCAL_RETURN_IF_ERROR(abs_hist_->Add(data).WithContext(where));
  if (raw_) QCAL_RETURN_IF_ERROR(raw_->Append(data).WithContext(where));
  return Status::Ok();
}

void ActivationObserver::FinishEarly() {
  if (complete() || finished_early_) return;
  early_.clear();
  for (const auto& l : layers_) early_.push_back(CalibrateNow(l));
  if (hist_) quant::Histogram::Release(std::move(*hist_));
  if (abs_hist_) quant::Histogram::Release(std::move(*abs_hist_));
  hist_.reset();
  abs_hist_.reset();
  raw_.reset();
  finished_early_ = true;
}

Result<quant::QuantParams> ActivationObserver::Calibrate(const ObservedLayer& layer) const {
  if (!complete()) {
    return FailedPrecondition("layer '" + layer.name + "' saw " + std::to_string(batches_) +
                              " of batch_num=" + std::to_string(batch_num_) + " batches");
  }
  if (finished_early_) {
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (layers_[i].name == layer.name) return early_[i];
    }
  }
  return CalibrateNow(layer);
}

Result<quant::QuantParams> ActivationObserver::CalibrateNow(const ObservedLayer& layer) const {
  quant::CollectedStatistics stats;
  const auto kind = quant::RequiredStatistic(*layer.algo, layer.params).kind;
  const std::optional<quant::Histogram>& h = kind == Statistic::kAbsHistogram ? abs_hist_ : hist_;
  switch (kind) {
    case Statistic::kMinMax:
      stats.minmax = &*minmax_;
      break;
    case Statistic::kHistogram:
    case Statistic::kAbsHistogram:
      if (!h) {
        return FailedPrecondition("layer '" + layer.name + "' (" + std::string(layer.algo->name) +
                                  "): no calibration data reached tensor '" + tensor_ + "'");
      }
      stats.histogram = &*h;
      break;
    case Statistic::kRawValues:
      stats.raw = raw_->values();
      stats.has_raw = true;
      break;
  }
  auto r = layer.algo->calibrate(stats, layer.params);
  if (!r.ok()) {
    return r.status().WithContext("layer '" + layer.name + "' (" + std::string(layer.algo->name) + ")");
  }
  return r;
}

uint64_t ActivationObserver::bytes_held() const {
  uint64_t b = raw_ ? raw_->capacity_bytes() : 0;
  if (hist_) b += hist_->counts().size() * sizeof(uint64_t);
  if (abs_hist_) b += abs_hist_->counts().size() * sizeof(uint64_t);
  return b;
}

}  // namespace qcal
