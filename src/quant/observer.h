// Activation observers: runtime hooks that stream statistics of one tensor.
//
// One observer per observed tensor; every quantized layer reading that tensor
// shares it (and the statistics it collects: the union of what the layers'
// algorithms need). Raw values are kept only for IFMR, in a store whose size is
// fixed and checked against a memory limit before calibration starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/tensor.h"
#include "quant/algorithms/registry.h"
#include "quant/algorithms/statistics.h"

namespace qcal {

struct ObservedLayer {
  std::string name;
  const quant::ActivationAlgorithm* algo = nullptr;
  quant::ActivationParams params;
};

class ActivationObserver {
 public:
  ActivationObserver(std::string tensor, int batch_num) : tensor_(std::move(tensor)), batch_num_(batch_num) {}

  // Adds a layer reading this tensor; its algorithm's statistic is collected.
  void AddLayer(ObservedLayer layer) { layers_.push_back(std::move(layer)); }

  // Bytes the raw-value store (IFMR) needs for `elements_per_batch` values per batch.
  uint64_t RawBytesNeeded(uint64_t elements_per_batch) const;
  // Allocates the statistics; `raw_limit` bounds the IFMR store.
  Status Prepare(uint64_t elements_per_batch, uint64_t raw_limit);

  // Streams (part of) the current batch. After batch_num batches further data
  // are ignored. Errors (NaN/Inf) name the tensor and the batch.
  Status Observe(const Tensor& t);
  // Marks the current batch as complete (a batch may arrive in several parts
  // when a model with a fixed batch of 1 is fed a larger batch).
  void EndBatch() {
    if (!complete()) ++batches_;
  }

  // After the last part of the final batch was observed (before its
  // EndBatch): computes every layer's scale/offset now and frees the
  // statistics, so the next tensor's histogram reuses this one's memory
  // (Histogram::Release). Later data are ignored; Calibrate returns these results.
  void FinishEarly();
  // Scale/offset for one of the layers; FailedPrecondition before batch_num batches.
  Result<quant::QuantParams> Calibrate(const ObservedLayer& layer) const;

  const std::string& tensor() const { return tensor_; }
  const std::vector<ObservedLayer>& layers() const { return layers_; }
  int batches() const { return batches_; }
  bool complete() const { return batches_ >= batch_num_; }
  bool prepared() const { return prepared_; }
  uint64_t bytes_held() const;
  // Keeps raw values (IFMR): its Calibrate copies and sorts them.
  bool holds_raw_values() const { return raw_.has_value(); }

 private:
  bool Needs(quant::Statistic s) const;
  int BinsFor(quant::Statistic s) const;
  // Histograms are created with their first data, not in Prepare: at
  // batch_num 1 each tensor's then takes the memory of the one finished before.
  Status CreateHistograms();
  Result<quant::QuantParams> CalibrateNow(const ObservedLayer& layer) const;

  std::string tensor_;
  int batch_num_;
  int batches_ = 0;
  bool prepared_ = false;
  std::vector<ObservedLayer> layers_;
  std::optional<quant::MinMaxStats> minmax_;
  std::optional<quant::Histogram> hist_;
  std::optional<quant::Histogram> abs_hist_;
  std::optional<quant::RawValueStore> raw_;
  bool finished_early_ = false;
  std::vector<Result<quant::QuantParams>> early_;  // FinishEarly's, per layer
};

}  // namespace qcal
