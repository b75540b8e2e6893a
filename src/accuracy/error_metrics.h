// Streaming error metrics between a reference signal (FP32) and a test signal
// (fake-quant): cosine similarity, SQNR and max abs error. Sums are kept in
// double so batches can be added one at a time without storing activations;
// the result equals treating all added values as one long vector.
#pragma once

#include <cstdint>

namespace qcal::accuracy {

class ErrorAccumulator {
 public:
  // Adds n paired values.
  void Add(const float* ref, const float* test, int64_t n);

  int64_t count() const { return count_; }
  // dot(ref, test) / (|ref| |test|); 1 when both are all zero, 0 when only one is.
  double Cosine() const;
  // Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2).
  // +inf when the signals are identical; -inf when ref is all zero but test is not.
  double SqnrDb() const;
  double MaxAbsError() const { return max_abs_; }

 private:
  double dot_ = 0, ref2_ = 0, test2_ = 0, err2_ = 0, max_abs_ = 0;
  int64_t count_ = 0;
};

}  // namespace qcal::accuracy
