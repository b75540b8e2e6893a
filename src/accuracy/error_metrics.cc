#include "accuracy/error_metrics.h"

#include <cmath>
#include <limits>

namespace qcal::accuracy {

void ErrorAccumulator::Add(const float* ref, const float* test, int64_t n) {
  double dot = 0, rr = 0, tt = 0, ee = 0, mx = max_abs_;
  for (int64_t i = 0; i < n; ++i) {
    double r = ref[i], t = test[i], e = r - t;
    dot += r * t;
    rr += r * r;
    tt += t * t;
    ee += e * e;
    mx = std::max(mx, std::fabs(e));
  }
  dot_ += dot;
  ref2_ += rr;
  test2_ += tt;
  err2_ += ee;
  max_abs_ = mx;
  count_ += n;
}

double ErrorAccumulator::Cosine() const {
  if (ref2_ == 0 && test2_ == 0) return 1.0;
  if (ref2_ == 0 || test2_ == 0) return 0.0;
  return dot_ / (std::sqrt(ref2_) * std::sqrt(test2_));
}

double ErrorAccumulator::SqnrDb() const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (err2_ == 0) return kInf;
  if (ref2_ == 0) return -kInf;
  return 10.0 * std::log10(ref2_ / err2_);
}

}  // namespace qcal::accuracy
